import { Encoding } from '../constants.js';
import { copyRectDecoder } from './copy-rect.js';
import type { Decoder } from './decoder.js';
import { rawDecoder } from './raw.js';

/** The pixel encodings this client decodes, in order of preference. Only these are advertised. */
export const DECODERS: ReadonlyMap<number, Decoder> = new Map<number, Decoder>([
  [Encoding.CopyRect, copyRectDecoder],
  [Encoding.Raw, rawDecoder],
]);
