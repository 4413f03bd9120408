/**
 * Picture quality and compression wishes, sent to the server as pseudo-encodings after the pixel
 * encodings (rfbproto, "JPEG Quality Level" and "Compression Level Pseudo-encodings").
 */
import { VNCConfigError } from '../errors.js';
import { Encoding } from './constants.js';

export type QualityLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/**
 * 'lossless' (the default) sends no JPEG quality level, so servers send no JPEG (TigerVNC, QEMU)
 * and the client's framebuffer is pixel-exact. A level from 0 (smallest, blurriest) to 9 (best)
 * lets the server use JPEG for photo-like areas (QEMU only when started with `lossy=on`).
 */
export type Quality = 'lossless' | QualityLevel;

/** zlib effort the server should spend: 0 (fastest, least compressed) to 9 (most compressed). */
export type CompressionLevel = QualityLevel;

function isLevel(value: unknown): value is QualityLevel {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 9;
}

/** Checks a `quality` option (undefined is 'lossless'); `where` names who was given it. */
export function checkQuality(value: unknown, where: string): Quality {
  if (value === undefined || value === 'lossless') return 'lossless';
  if (isLevel(value)) return value;
  throw new VNCConfigError(
    `${where}: quality must be 'lossless' (no JPEG, the default) or a JPEG quality level, an integer from 0 (smallest) to 9 (best); got ${describe(value)}.`,
  );
}

/** Checks a `compressionLevel` option (undefined: leave it to the server). */
export function checkCompressionLevel(value: unknown, where: string): CompressionLevel | undefined {
  if (value === undefined || isLevel(value)) return value;
  throw new VNCConfigError(
    `${where}: compressionLevel must be an integer from 0 (fastest) to 9 (smallest), or left out to let the server choose; got ${describe(value)}.`,
  );
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The pseudo-encodings that ask for `quality` and `compressionLevel` (none for 'lossless' and no level). */
export function qualityPseudoEncodings(quality: Quality, compressionLevel: CompressionLevel | undefined): number[] {
  const encodings: number[] = [];
  if (quality !== 'lossless') encodings.push(Encoding.QualityLevel0 + quality);
  if (compressionLevel !== undefined) encodings.push(Encoding.CompressionLevel0 + compressionLevel);
  return encodings;
}
