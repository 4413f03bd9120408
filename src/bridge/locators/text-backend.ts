import { closestText, findText } from '../../ocr/match.js';
import type { BridgeContext } from '../context.js';
import { readWords } from '../text-reading.js';
import type { TextBackend } from './text-finder.js';

/** The OCR layer behind getByText: the session's incremental reader (the engine loads on the first read). */
export function defaultTextBackend(context: BridgeContext): () => Promise<TextBackend> {
  const backend: TextBackend = {
    readWords: (region) => readWords(context, region),
    findText: (words, query, options) => findText(words, query, options),
    closestText: (words, query, count) => closestText(words, query, count),
  };
  return () => Promise.resolve(backend);
}
