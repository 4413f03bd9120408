/**
 * PNG on node:zlib: the decoder for TightPNG rectangles and PNG baselines, and the pieces the
 * encoder (png-encode.ts), APNG and the trace's ZIP share. It costs nothing to load (zlib is part
 * of Node).
 *
 * The decoder reads every non-interlaced 8-bit PNG (grey, grey+alpha, RGB, RGBA, palette): what
 * encoders write for screen images. Other PNGs (16-bit, 1/2/4-bit, interlaced) go to pngjs,
 * loaded only then.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { VNCInputError } from '../../errors.js';

/** RGBA pixels, row by row. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Buffer;
}

/** Most pixels a PNG may have to be encoded or decoded here (16384 × 16384: 1 GiB of RGBA). */
export const MAX_PNG_PIXELS = 16384 * 16384;

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let crcTable: Uint32Array | undefined;

/** CRC-32 as PNG and ZIP use it: zlib's own where Node has it (20.15 and later), else a table. */
export function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (native) return native(data);
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, body, CRC. */
export function pngChunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Why `bytes` is not a PNG this decoder or pngjs can read. */
export class PngFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PngFormatError';
  }
}

interface PngLayout {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
  palette: Buffer | undefined;
  transparency: Buffer | undefined;
  idat: Buffer[];
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function readLayout(bytes: Uint8Array): PngLayout {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buffer.length < 8 + 25 || !buffer.subarray(0, 8).equals(PNG_SIGNATURE)) throw new PngFormatError('the data does not start with the PNG signature');
  let at = 8;
  let layout: PngLayout | undefined;
  const idat: Buffer[] = [];
  let palette: Buffer | undefined;
  let transparency: Buffer | undefined;
  while (at + 12 <= buffer.length) {
    const length = buffer.readUInt32BE(at);
    const type = buffer.toString('latin1', at + 4, at + 8);
    const body = buffer.subarray(at + 8, at + 8 + length);
    if (body.length !== length) throw new PngFormatError(`the PNG is cut short in its ${type} chunk`);
    if (type === 'IHDR') {
      if (length !== 13) throw new PngFormatError('the PNG header (IHDR) has the wrong length');
      const colorType = body[9];
      layout = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        bitDepth: body[8],
        colorType,
        interlaced: body[12] !== 0,
        palette: undefined,
        transparency: undefined,
        idat,
      };
      if (CHANNELS[colorType] === undefined) throw new PngFormatError(`the PNG has colour type ${colorType}, which PNG does not define`);
      if (layout.width < 1 || layout.height < 1 || layout.width * layout.height > MAX_PNG_PIXELS) {
        throw new PngFormatError(`the PNG is ${layout.width}x${layout.height}: at most ${MAX_PNG_PIXELS} pixels are read`);
      }
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') transparency = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  if (!layout) throw new PngFormatError('the PNG has no header (IHDR)');
  if (idat.length === 0) throw new PngFormatError('the PNG has no image data (IDAT)');
  if (layout.colorType === 3 && !palette) throw new PngFormatError('the PNG has a palette colour type but no palette (PLTE)');
  return { ...layout, palette, transparency };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Undoes the row filters: the rows without their filter bytes. Row 0's "row above" is zeros. */
function unfilter(raw: Buffer, height: number, rowBytes: number, bpp: number): Buffer {
  const out = Buffer.allocUnsafe(rowBytes * height);
  for (let y = 0; y < height; y++) {
    const s = y * (rowBytes + 1) + 1;
    const filter = raw[s - 1];
    const o = y * rowBytes;
    const p = o - rowBytes; // the row above in `out` (y > 0)
    const first = Math.min(bpp, rowBytes);
    if (filter === 0 || (filter === 2 && y === 0)) {
      raw.copy(out, o, s, s + rowBytes);
    } else if (filter === 1) {
      raw.copy(out, o, s, s + first);
      for (let i = first; i < rowBytes; i++) out[o + i] = raw[s + i] + out[o + i - bpp];
    } else if (filter === 2) {
      for (let i = 0; i < rowBytes; i++) out[o + i] = raw[s + i] + out[p + i];
    } else if (filter === 3) {
      if (y === 0) {
        raw.copy(out, o, s, s + first);
        for (let i = first; i < rowBytes; i++) out[o + i] = raw[s + i] + (out[o + i - bpp] >> 1);
      } else {
        for (let i = 0; i < first; i++) out[o + i] = raw[s + i] + (out[p + i] >> 1);
        for (let i = first; i < rowBytes; i++) out[o + i] = raw[s + i] + ((out[o + i - bpp] + out[p + i]) >> 1);
      }
    } else if (filter === 4) {
      if (y === 0) {
        // Paeth with no row above picks the left byte: the Sub filter.
        raw.copy(out, o, s, s + first);
        for (let i = first; i < rowBytes; i++) out[o + i] = raw[s + i] + out[o + i - bpp];
      } else {
        for (let i = 0; i < first; i++) out[o + i] = raw[s + i] + out[p + i];
        for (let i = first; i < rowBytes; i++) out[o + i] = raw[s + i] + paeth(out[o + i - bpp], out[p + i], out[p + i - bpp]);
      }
    } else {
      throw new PngFormatError(`row ${y} of the PNG has filter type ${filter}, which PNG does not define`);
    }
  }
  return out;
}

/** Expands unfiltered 8-bit samples of any colour type to RGBA. */
function toRgba(layout: PngLayout, pixels: Buffer): Buffer {
  const { width, height, colorType, palette, transparency } = layout;
  const count = width * height;
  if (colorType === 6) return pixels;
  const out = Buffer.allocUnsafe(count * 4);
  if (colorType === 2) {
    const key = transparency && transparency.length >= 6 ? [transparency.readUInt16BE(0), transparency.readUInt16BE(2), transparency.readUInt16BE(4)] : undefined;
    for (let i = 0, s = 0, o = 0; i < count; i++, s += 3, o += 4) {
      const r = pixels[s];
      const g = pixels[s + 1];
      const b = pixels[s + 2];
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = key && r === key[0] && g === key[1] && b === key[2] ? 0 : 255;
    }
  } else if (colorType === 0) {
    const key = transparency && transparency.length >= 2 ? transparency.readUInt16BE(0) : -1;
    for (let i = 0, o = 0; i < count; i++, o += 4) {
      const v = pixels[i];
      out[o] = out[o + 1] = out[o + 2] = v;
      out[o + 3] = v === key ? 0 : 255;
    }
  } else if (colorType === 4) {
    for (let i = 0, s = 0, o = 0; i < count; i++, s += 2, o += 4) {
      out[o] = out[o + 1] = out[o + 2] = pixels[s];
      out[o + 3] = pixels[s + 1];
    }
  } else {
    const entries = (palette as Buffer).length / 3;
    for (let i = 0, o = 0; i < count; i++, o += 4) {
      const index = pixels[i];
      if (index >= entries) throw new PngFormatError(`a pixel of the PNG uses palette entry ${index}, but the palette has ${entries}`);
      out[o] = (palette as Buffer)[index * 3];
      out[o + 1] = (palette as Buffer)[index * 3 + 1];
      out[o + 2] = (palette as Buffer)[index * 3 + 2];
      out[o + 3] = transparency && index < transparency.length ? transparency[index] : 255;
    }
  }
  return out;
}

type PngJs = typeof import('pngjs');

/** PNGs beyond the fast path (16-bit, 1/2/4-bit, interlaced): pngjs, loaded on first use. */
function decodeWithPngJs(bytes: Uint8Array): RgbaImage {
  const { PNG } = createRequire(import.meta.url)('pngjs') as PngJs;
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  return { width: png.width, height: png.height, data: png.data };
}

function decodeLayout(layout: PngLayout, inflated: Buffer): RgbaImage {
  const { width, height } = layout;
  const bpp = CHANNELS[layout.colorType];
  const rowBytes = width * bpp;
  if (inflated.length < (rowBytes + 1) * height) {
    throw new PngFormatError(`the PNG's image data is ${inflated.length} bytes, ${(rowBytes + 1) * height} expected for ${width}x${height}`);
  }
  return { width, height, data: toRgba(layout, unfilter(inflated, height, rowBytes, bpp)) };
}

/** Filtered scanlines' size: more inflated data than this is refused (a decompression bomb). */
function expectedBytes(layout: PngLayout): number {
  return (layout.width * CHANNELS[layout.colorType] + 1) * layout.height;
}

function fastPath(layout: PngLayout): boolean {
  return layout.bitDepth === 8 && !layout.interlaced;
}

function inflateError(error: unknown): PngFormatError {
  return new PngFormatError(`the PNG's image data cannot be decompressed: ${(error as Error).message}`);
}

/** Decodes a PNG to RGBA. Throws PngFormatError when `bytes` is not a readable PNG. */
export function decodeRgbaPng(bytes: Uint8Array): RgbaImage {
  const layout = readLayout(bytes);
  if (!fastPath(layout)) return decodeWithPngJs(bytes);
  let inflated: Buffer;
  try {
    inflated = zlib.inflateSync(Buffer.concat(layout.idat), { maxOutputLength: expectedBytes(layout) });
  } catch (error) {
    throw inflateError(error);
  }
  return decodeLayout(layout, inflated);
}

/** decodeRgbaPng with the decompression on libuv's thread pool. */
export async function decodeRgbaPngAsync(bytes: Uint8Array): Promise<RgbaImage> {
  const layout = readLayout(bytes);
  if (!fastPath(layout)) return decodeWithPngJs(bytes);
  const inflated = await new Promise<Buffer>((resolve, reject) =>
    zlib.inflate(Buffer.concat(layout.idat), { maxOutputLength: expectedBytes(layout) }, (error, result) => (error ? reject(inflateError(error)) : resolve(result))),
  );
  return decodeLayout(layout, inflated);
}
