/**
 * PNG for screenshots, matcher baselines and traces: the zlib-based codec of
 * src/rfb/encodings/png-encode.ts and png.ts. The async variants compress or decompress on
 * libuv's thread pool.
 */
import { VNCInputError } from '../errors.js';
import { encodeRgbaPng, encodeRgbaPngAsync } from '../rfb/encodings/png-encode.js';
import { decodeRgbaPng, decodeRgbaPngAsync, PngFormatError } from '../rfb/encodings/png.js';
import type { Frame, Rect } from '../rfb/framebuffer.js';

/** Encodes an RGBA frame as PNG (RGB, since screens have no transparency). */
export function encodePng(frame: Frame): Buffer {
  return encodeRgbaPng(frame.width, frame.height, frame.data);
}

/**
 * encodePng, compressing off the main thread; with `region`, only that part of the frame (no copy
 * of it is made). The pixels are read until the promise settles: do not change `frame.data`
 * meanwhile (as with any buffer handed to an asynchronous write).
 */
export async function encodePngAsync(frame: Frame, region?: Rect): Promise<Buffer> {
  if (!region) return encodeRgbaPngAsync(frame.width, frame.height, frame.data);
  const { x, y, width, height } = region;
  if (![x, y].every((v) => Number.isInteger(v) && v >= 0) || x + width > frame.width || y + height > frame.height) {
    throw new VNCInputError(`Region ${JSON.stringify(region)} is not inside the ${frame.width}x${frame.height} frame.`);
  }
  return encodeRgbaPngAsync(width, height, frame.data, { x, y, stride: frame.width });
}

function readError(error: unknown): unknown {
  return error instanceof PngFormatError ? new VNCInputError(`Cannot decode the PNG: ${error.message}.`, { cause: error }) : error;
}

/** Decodes a PNG into an RGBA frame. */
export function decodePng(bytes: Buffer): Frame {
  try {
    return decodeRgbaPng(bytes);
  } catch (error) {
    throw readError(error);
  }
}

/** decodePng, decompressing off the main thread. */
export async function decodePngAsync(bytes: Buffer): Promise<Frame> {
  try {
    return await decodeRgbaPngAsync(bytes);
  } catch (error) {
    throw readError(error);
  }
}
