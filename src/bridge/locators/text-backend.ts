import type { BridgeContext } from '../context.js';
import type { TextBackend } from './text-finder.js';

/**
 * The OCR layer behind getByText: the session's incremental reader. Its code loads on the first
 * look, the engine on the first read: programs that never read text load neither.
 */
export function defaultTextBackend(context: BridgeContext): () => Promise<TextBackend> {
  return async () => {
    const [{ readWords }, { closestText, findText }] = await Promise.all([import('../text-reading.js'), import('../../ocr/match.js')]);
    return {
      readWords: (region) => readWords(context, region),
      findText: (words, query, options) => findText(words, query, options),
      closestText: (words, query, count) => closestText(words, query, count),
    };
  };
}
