/**
 * JPEG decoding for Tight's JPEG compression type, behind one function so the codec can be swapped.
 *
 * The codec is @napi-rs/image (prebuilt native binaries from npm, synchronous, about 7× faster
 * than pure-JS jpeg-js on screen-sized images). It is loaded on the first JPEG rectangle: a
 * lossless session (the default) never asks for JPEG and never loads it.
 */
import { createRequire } from 'node:module';
import { VNCConfigError } from '../../errors.js';

type Codec = typeof import('@napi-rs/image');

let codec: Codec | undefined;

function loadCodec(): Codec {
  if (codec) return codec;
  try {
    codec = createRequire(import.meta.url)('@napi-rs/image') as Codec;
  } catch (error) {
    throw new VNCConfigError(
      `The server sent a JPEG rectangle, but the JPEG decoder (@napi-rs/image) could not be loaded on ${process.platform}-${process.arch}: ${(error as Error).message}. ` +
        "Reinstall the package's dependencies, or connect with quality: 'lossless' so the server sends no JPEG.",
      { cause: error },
    );
  }
  return codec;
}

export interface JpegFrameHeader {
  width: number;
  height: number;
  /** Colour components: 1 (grey) or 3 (YCbCr). */
  components: number;
}

/**
 * Reads the frame header (SOFn) of a JPEG without decoding it, so the size can be checked before
 * anything is allocated. Undefined when `data` is not a JPEG or ends before its frame header.
 */
export function readJpegFrameHeader(data: Uint8Array): JpegFrameHeader | undefined {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return undefined;
  let at = 2;
  while (at + 4 <= data.length) {
    if (data[at] !== 0xff) return undefined;
    const marker = data[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    // Markers without a length: TEM and RSTn.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    // The image data or its end before any frame header.
    if (marker === 0xda || marker === 0xd9 || marker === 0xd8) return undefined;
    const length = (data[at + 2] << 8) | data[at + 3];
    if (length < 2) return undefined;
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (length < 8 || at + 10 > data.length) return undefined;
      return { height: (data[at + 5] << 8) | data[at + 6], width: (data[at + 7] << 8) | data[at + 8], components: data[at + 9] };
    }
    at += 2 + length;
  }
  return undefined;
}

export interface DecodedJpeg {
  /** Rows top to bottom, `channels` bytes per pixel (1 grey, 3 RGB, 4 RGBA). */
  pixels: Buffer;
  channels: number;
}

/**
 * Decodes a JPEG whose frame header was checked to be `width` × `height`. Throws the codec's
 * error for data it cannot decode (the caller turns it into a protocol error).
 */
export function decodeJpeg(data: Uint8Array, width: number, height: number): DecodedJpeg {
  const { Transformer } = loadCodec();
  const pixels = new Transformer(data).rawPixelsSync();
  const channels = pixels.length / (width * height);
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new Error(`the decoder produced ${pixels.length} bytes for ${width}x${height} pixels`);
  }
  return { pixels, channels };
}
