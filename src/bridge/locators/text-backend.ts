import { VNCStateError } from '../../errors.js';
import type { BridgeContext } from '../context.js';
import type { TextBackend } from './text-finder.js';

/** The OCR layer behind getByText, loaded on first use only. */
export function defaultTextBackend(context: BridgeContext): () => Promise<TextBackend> {
  void context;
  return () => Promise.reject(new VNCStateError('getByText needs the OCR engine, which this build does not include yet.'));
}
