import { VNCConfigError } from '../../errors.js';
import { Encoding } from '../constants.js';
import { copyRectDecoder } from './copy-rect.js';
import type { Decoder } from './decoder.js';
import { createHextileDecoder } from './hextile.js';
import { rawDecoder } from './raw.js';
import { createRREDecoder } from './rre.js';
import { createTightDecoder, createTightPNGDecoder } from './tight.js';
import { createZlibDecoder } from './zlib.js';
import { createZRLEDecoder } from './zrle.js';

/** The pixel encodings this client decodes, by the names users write (`encodings: ['tight', …]`). */
export interface PixelEncoding {
  name: string;
  number: number;
  /** A decoder for one connection. */
  create(): Decoder;
}

/** Every pixel encoding this client decodes, best first: the default preference order. */
export const PIXEL_ENCODINGS: readonly PixelEncoding[] = [
  { name: 'copyrect', number: Encoding.CopyRect, create: () => copyRectDecoder },
  { name: 'tight', number: Encoding.Tight, create: createTightDecoder },
  // After Tight: servers that speak both keep to the first listed (QEMU); proven against QEMU's TightPNG.
  { name: 'tightpng', number: Encoding.TightPNG, create: createTightPNGDecoder },
  { name: 'zrle', number: Encoding.ZRLE, create: createZRLEDecoder },
  { name: 'hextile', number: Encoding.Hextile, create: createHextileDecoder },
  { name: 'zlib', number: Encoding.Zlib, create: createZlibDecoder },
  { name: 'rre', number: Encoding.RRE, create: createRREDecoder },
  { name: 'raw', number: Encoding.Raw, create: () => rawDecoder },
];

export type EncodingName = string;

/**
 * The encodings to advertise, in order of preference, from the names a user gave (default: all).
 * Raw is always decodable (RFC 6143 requires it) and is advertised last when not named.
 */
export function chooseEncodings(names?: readonly string[]): PixelEncoding[] {
  if (names === undefined) return [...PIXEL_ENCODINGS];
  const known = PIXEL_ENCODINGS.map((encoding) => encoding.name);
  const chosen: PixelEncoding[] = [];
  for (const raw of names) {
    const name = String(raw).trim().toLowerCase();
    const encoding = PIXEL_ENCODINGS.find((candidate) => candidate.name === name);
    if (!encoding) throw new VNCConfigError(`Unknown encoding ${JSON.stringify(raw)}: this client decodes ${known.join(', ')}.`);
    if (!chosen.includes(encoding)) chosen.push(encoding);
  }
  const raw = PIXEL_ENCODINGS.find((encoding) => encoding.number === Encoding.Raw)!;
  if (!chosen.includes(raw)) chosen.push(raw);
  return chosen;
}

/** Fresh decoders for one connection, keyed by encoding number. */
export function createDecoders(encodings: readonly PixelEncoding[]): Map<number, Decoder> {
  return new Map(encodings.map((encoding) => [encoding.number, encoding.create()]));
}
