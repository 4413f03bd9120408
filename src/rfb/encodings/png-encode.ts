/**
 * The PNG encoder for screenshots, traces and matcher files: 8-bit RGB (screens have no
 * transparency), the Up filter on every row, deflate level 1 with zlib's run-length strategy.
 *
 * The filtered rows are cut into bands of whole rows (~384 KiB each); each band is compressed as
 * its own raw deflate stream (the last one finished, the others ending on a sync flush, so their
 * concatenation is one valid deflate stream) and the Adler-32 the zlib wrapper needs is summed
 * while filtering. The async encoder hands each band to libuv's thread pool as soon as it is
 * filtered, so up to four bands compress in parallel while the next is filtered; the sync encoder
 * compresses each band before filtering the next. Either way a few band-sized buffers are reused
 * (and kept a few seconds for the next PNG) instead of one buffer for all rows: mapping fresh
 * memory, or memory touched again after the process forked, costs more than the filter itself on
 * some machines, and small bands stay in cache until deflate reads them.
 * specs/bench/png.bench.ts measures the choices.
 */
import zlib from 'node:zlib';
import { VNCInputError } from '../../errors.js';
import { MAX_PNG_PIXELS, PNG_SIGNATURE, pngChunk } from './png.js';

/** Which part of a larger RGBA image to encode: `x`, `y` and the stride in pixels of the source. */
export interface SourceRegion {
  x: number;
  y: number;
  /** Pixels per row of the source (its full width). */
  stride: number;
}

const DEFLATE_OPTIONS: zlib.ZlibOptions = { level: 1, memLevel: 8, strategy: zlib.constants.Z_RLE };
/** Filtered bytes a band holds (whole rows, at least one): small enough to stay in cache while deflate reads it. */
const BAND_BYTES = 384 * 1024;
/** Bands compressing at once: libuv's four pool threads. */
const IN_FLIGHT = 4;
const FILTER_UP = 2;
const ADLER_MOD = 65521;
/** Pixels between two reductions of the Adler sums: keeps them within 32 bits. */
const ADLER_RUN = 256;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** How long idle band buffers are kept for the next PNG. */
const SPARE_IDLE_MS = 5000;

function checkSize(width: number, height: number, data: Uint8Array, source: SourceRegion): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width * height > MAX_PNG_PIXELS) {
    throw new VNCInputError(`Cannot write a ${width}x${height} PNG: width and height must be whole numbers from 1, at most ${MAX_PNG_PIXELS} pixels in all.`);
  }
  const needed = ((source.y + height - 1) * source.stride + source.x + width) * 4;
  if (data.length < needed) {
    throw new VNCInputError(`Cannot write a ${width}x${height} PNG from ${data.length} bytes: RGBA needs ${needed}.`);
  }
}

/** The running Adler-32 of the filtered rows. */
interface Adler {
  a: number;
  b: number;
}

/**
 * Writes rows `from` to `to` (exclusive) of the image as RGB with the Up filter into `out` from
 * offset 0, adding their bytes to `adler`. The Up filter works on whole 32-bit pixels: each pixel
 * minus the one above, byte by byte modulo 256 in one go (the high bit of each byte handled apart,
 * so no borrow crosses into the next byte).
 */
function filterRows32(pixels: Uint32Array, width: number, from: number, to: number, source: SourceRegion, out: Uint8Array, adler: Adler): void {
  let o = 0;
  let a = adler.a;
  let b = adler.b;
  for (let y = from; y < to; y++) {
    out[o++] = FILTER_UP;
    a += FILTER_UP;
    b = (b + a) % ADLER_MOD;
    let i = (source.y + y) * source.stride + source.x;
    const end = i + width;
    // Up against the row above the image, which is all zeros: the pixels themselves.
    const above = y === 0 ? -1 : source.stride;
    while (i < end) {
      const stop = Math.min(end, i + ADLER_RUN);
      for (; i < stop; i++, o += 3) {
        const pixel = pixels[i];
        const up = above < 0 ? 0 : pixels[i - above];
        const d = ((pixel | 0x80808080) - (up & 0x7f7f7f7f)) ^ ((pixel ^ ~up) & 0x80808080);
        const r = d & 0xff;
        const g = (d >>> 8) & 0xff;
        const bl = (d >>> 16) & 0xff;
        out[o] = r;
        out[o + 1] = g;
        out[o + 2] = bl;
        b = (b + 3 * a + 3 * r + 2 * g + bl) | 0;
        a = (a + r + g + bl) | 0;
      }
      a %= ADLER_MOD;
      b %= ADLER_MOD;
    }
  }
  adler.a = a;
  adler.b = b;
}

/** filterRows32 a byte at a time (big-endian hosts, unaligned buffers). */
function filterRowsBytes(data: Uint8Array, width: number, from: number, to: number, source: SourceRegion, out: Uint8Array, adler: Adler): void {
  const stride = source.stride * 4;
  let o = 0;
  let { a, b } = adler;
  for (let y = from; y < to; y++) {
    out[o++] = FILTER_UP;
    a = (a + FILTER_UP) % ADLER_MOD;
    b = (b + a) % ADLER_MOD;
    for (let s = (source.y + y) * stride + source.x * 4, end = s + width * 4; s < end; s += 4) {
      for (let c = 0; c < 3; c++, o++) {
        out[o] = y === 0 ? data[s + c] : data[s + c] - data[s + c - stride];
        a = (a + out[o]) % ADLER_MOD;
        b = (b + a) % ADLER_MOD;
      }
    }
  }
  adler.a = a;
  adler.b = b;
}

/** Bytes of one filtered row of a `width`-pixel image: the filter byte and R, G, B a pixel. */
function rowBytesOf(width: number): number {
  return width * 3 + 1;
}

/** Whole rows in one band of a `width`-pixel image (at least one). */
function rowsPerBand(width: number): number {
  return Math.max(1, Math.floor(BAND_BYTES / rowBytesOf(width)));
}

/** The bands of whole rows the image is cut into: rows `from` to `to` (exclusive), and whether it is the last. */
function* bandsOf(width: number, height: number): Generator<{ from: number; to: number; last: boolean }> {
  const rows = rowsPerBand(width);
  for (let from = 0; from < height; from += rows) {
    const to = Math.min(height, from + rows);
    yield { from, to, last: to === height };
  }
}

/** Bytes of filtered rows in one band of a `width`-pixel image. */
function bandBytes(width: number): number {
  return rowsPerBand(width) * rowBytesOf(width);
}

/** A reader of the image's rows: filters rows `from` to `to` into `out` and adds them to the running Adler-32. */
function rowFilter(width: number, data: Uint8Array, source: SourceRegion): { filter: (from: number, to: number, out: Buffer) => Buffer; adler32: () => number } {
  const pixels = LITTLE_ENDIAN && data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2) : undefined;
  const adler: Adler = { a: 1, b: 0 };
  return {
    filter(from, to, out) {
      const rows = out.subarray(0, (to - from) * rowBytesOf(width));
      if (pixels) filterRows32(pixels, width, from, to, source, rows, adler);
      else filterRowsBytes(data, width, from, to, source, rows, adler);
      return rows;
    },
    adler32: () => ((adler.b << 16) | adler.a) >>> 0,
  };
}

function flushOf(last: boolean): zlib.ZlibOptions {
  return { ...DEFLATE_OPTIONS, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH };
}

/** The PNG file around the compressed bands: zlib header, the bands, the Adler-32, and the chunks. */
function assemble(width: number, height: number, bands: Buffer[], adler: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(adler);
  // 0x78 0x01: deflate with a 32 KiB window, "fastest" compression, no preset dictionary.
  const idat = Buffer.concat([Buffer.from([0x78, 0x01]), ...bands, trailer]);
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** Band buffers not in use, kept a few seconds for the next PNG (at most IN_FLIGHT of them). */
let spare: Buffer[] = [];
let spareTimer: NodeJS.Timeout | undefined;

function takeBandBuffer(bytes: number): Buffer {
  const index = spare.findIndex((buffer) => buffer.length >= bytes);
  return index >= 0 ? spare.splice(index, 1)[0] : Buffer.allocUnsafe(bytes);
}

function giveBack(buffers: Buffer[]): void {
  spare = [...buffers, ...spare].slice(0, IN_FLIGHT);
  clearTimeout(spareTimer);
  spareTimer = setTimeout(() => (spare = []), SPARE_IDLE_MS).unref();
}

/**
 * Encodes RGBA pixels as an RGB PNG (alpha is dropped): `data` holds `width` × `height` pixels, or
 * with `source`, a larger image whose part at (x, y) is encoded.
 */
export function encodeRgbaPng(width: number, height: number, data: Uint8Array, source: SourceRegion = { x: 0, y: 0, stride: width }): Buffer {
  checkSize(width, height, data, source);
  const rows = rowFilter(width, data, source);
  // Each band is compressed before the next is filtered: one band buffer serves them all.
  const buffer = takeBandBuffer(bandBytes(width));
  try {
    const bands: Buffer[] = [];
    for (const { from, to, last } of bandsOf(width, height)) bands.push(zlib.deflateRawSync(rows.filter(from, to, buffer), flushOf(last)));
    return assemble(width, height, bands, rows.adler32());
  } finally {
    giveBack([buffer]);
  }
}

/**
 * encodeRgbaPng with the compression on libuv's thread pool: the event loop stays free meanwhile,
 * and up to IN_FLIGHT bands compress at once while the next is filtered. The pixels are read until
 * the promise settles: `data` must not change meanwhile (screen.screenshot() holds the screen's
 * updates while it encodes).
 */
export async function encodeRgbaPngAsync(width: number, height: number, data: Uint8Array, source: SourceRegion = { x: 0, y: 0, stride: width }): Promise<Buffer> {
  checkSize(width, height, data, source);
  const rows = rowFilter(width, data, source);
  const buffers: Buffer[] = [];
  const bands: Array<Promise<Buffer>> = [];
  try {
    for (const { from, to, last } of bandsOf(width, height)) {
      const slot = bands.length % IN_FLIGHT;
      // The band IN_FLIGHT back used this buffer: it is free once that band is compressed.
      if (bands.length >= IN_FLIGHT) await bands[bands.length - IN_FLIGHT];
      else buffers.push(takeBandBuffer(bandBytes(width)));
      const band = rows.filter(from, to, buffers[slot]);
      bands.push(new Promise((resolve, reject) => zlib.deflateRaw(band, flushOf(last), (error, result) => (error ? reject(error) : resolve(result)))));
    }
    return assemble(width, height, await Promise.all(bands), rows.adler32());
  } finally {
    // A buffer is reused only once no band compressing from it can still be reading it.
    await Promise.allSettled(bands);
    giveBack(buffers);
  }
}
