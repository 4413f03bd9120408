import { VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { BYTES_PER_PIXEL, type Framebuffer } from '../framebuffer.js';
import type { Decoder, RectangleInProgress } from './decoder.js';
import { InflateStream, MAX_INFLATE_BYTES, compressedLengthBound } from './inflate-stream.js';
import { paintBits1Block, paintBits2Block, pairsOf, PairTable } from './palette-rows.js';
import { copyRgbRow, dataViewOf, fillRows, fillRun, LITTLE_ENDIAN, pixelsOf, rgbPixel } from './pixel-rows.js';

const TILE_SIDE = 64;
/** A CPIXEL: the pixel format we ask for (32 bpp, depth 24) travels as its three colour bytes R, G, B. */
const CPIXEL_BYTES = 3;
/** Most bytes one tile of `area` pixels can take: 1 + the larger of plain RLE (4 per pixel) and palette RLE (127 colours, 2 per pixel). */
const TILE_OVERHEAD = 1 + 127 * CPIXEL_BYTES;

const Subencoding = {
  Raw: 0,
  Solid: 1,
  /** 2–16: packed palette of that many colours. */
  PackedPaletteMax: 16,
  PlainRLE: 128,
  /** 130–255: palette RLE of (subencoding − 128) colours. */
  PaletteRLEMin: 130,
} as const;

/** The byte of a 32-bit pixel that a CPIXEL never sets (the framebuffer's fourth byte). */
const PADDING = LITTLE_ENDIAN ? 0xff000000 | 0 : 0xff;
/** What palette entries past the palette's colours hold. */
const INVALID = PADDING >>> 0;

/** The CPIXEL at `offset` as a 32-bit value whose bytes in memory are R, G, B, 0 (the framebuffer's layout). */
const readCPixel = rgbPixel;

/**
 * ZRLE (encoding 16, rfbproto "ZRLE Encoding"): a u32 length, then that many bytes of the
 * connection's one zlib stream, which inflate to the rectangle's 64×64 tiles, left to right, top
 * to bottom (the last column and row narrower). Each tile starts with a subencoding byte: 0 raw
 * CPIXELs, 1 one colour, 2–16 a palette and packed indices (1, 2 or 4 bits, each row padded to a
 * byte), 128 plain RLE, 130–255 palette RLE; runs may continue onto the next rows of the tile but
 * never past its end. The payload is framed first (a length beyond what the rectangle could need
 * is refused before any of it is buffered), inflated in one call, then painted tile by tile;
 * everything read from the inflated data is bounds-checked, and data left over after the last
 * tile is an error too. Sent by Xvnc, x11vnc and QEMU.
 */
class ZRLEDecoder implements Decoder {
  readonly name = 'ZRLE';
  private readonly stream = new InflateStream('ZRLE');
  private readonly palette = new Uint32Array(128);
  /** Where a tile is assembled when the framebuffer cannot be written as 32-bit pixels directly. */
  private readonly tile = new Uint32Array(TILE_SIDE * TILE_SIDE);
  /** The framebuffer as pixel pairs, while a rectangle is painted into it. */
  private pairs: Float64Array | undefined;
  private readonly pairTable = new PairTable();
  /** The inflated data of the rectangle being painted, for 32-bit reads. */
  private words: DataView | undefined;

  decode(rect: RectangleInProgress, queue: ByteQueue, framebuffer: Framebuffer): boolean {
    if (!queue.has(4)) return false;
    const length = queue.peekU32();
    const maxBytes = Math.min(maxInflatedLength(rect.width, rect.height), MAX_INFLATE_BYTES);
    if (length > compressedLengthBound(maxBytes)) {
      throw new VNCProtocolError(
        `${describe(rect)}: ${length} bytes of zlib data is more than its tiles can need (at most ${compressedLengthBound(maxBytes)}).`,
      );
    }
    if (!queue.has(4 + length)) return false;
    queue.skip(4);
    const data = this.stream.inflateAll(queue.view(length), maxBytes, describe(rect));
    this.paint(rect, data, framebuffer);
    return true;
  }

  private paint(rect: RectangleInProgress, data: Buffer, framebuffer: Framebuffer): void {
    const pixels = pixelsOf(framebuffer.data);
    this.pairs = pixels ? pairsOf(framebuffer.data) : undefined;
    this.words = dataViewOf(data);
    let offset = 0;
    const stride = framebuffer.width;
    for (let tileY = 0; tileY < rect.height; tileY += TILE_SIDE) {
      const height = Math.min(TILE_SIDE, rect.height - tileY);
      const y = rect.y + tileY;
      // Solid tiles of one colour side by side are filled as one span (fewer, longer fills).
      let spanStart = 0;
      let spanWidth = 0;
      let spanPixel = 0;
      for (let tileX = 0; tileX < rect.width; tileX += TILE_SIDE) {
        const width = Math.min(TILE_SIDE, rect.width - tileX);
        const x = rect.x + tileX;
        if (pixels && data[offset] === Subencoding.Solid && offset + 1 + CPIXEL_BYTES <= data.length) {
          const pixel = readCPixel(data, offset + 1);
          offset += 1 + CPIXEL_BYTES;
          if (spanWidth > 0 && pixel === spanPixel) {
            spanWidth += width;
            continue;
          }
          if (spanWidth > 0) fillRows(pixels, spanPixel, y * stride + spanStart, spanWidth, height, stride);
          spanStart = x;
          spanWidth = width;
          spanPixel = pixel;
        } else if (pixels) {
          offset = this.paintTile(rect, tileX, tileY, width, height, data, offset, pixels, y * stride + x, stride);
        } else {
          offset = this.paintTile(rect, tileX, tileY, width, height, data, offset, this.tile, 0, width);
          const tileBytes = new Uint8Array(this.tile.buffer, 0, width * height * BYTES_PER_PIXEL);
          framebuffer.putRows(x, y, width, height, tileBytes);
        }
      }
      if (spanWidth > 0 && pixels) fillRows(pixels, spanPixel, y * stride + spanStart, spanWidth, height, stride);
    }
    if (offset !== data.length) {
      throw new VNCProtocolError(`${describe(rect)}: ${data.length - offset} bytes of data are left over after the last tile.`);
    }
  }

  /**
   * Paints one tile whose data starts at `offset` into `target` (pixel `base` is the tile's top
   * left, `stride` pixels per row); returns the offset after the tile.
   */
  private paintTile(
    rect: RectangleInProgress,
    tileX: number,
    tileY: number,
    width: number,
    height: number,
    data: Buffer,
    offset: number,
    target: Uint32Array,
    base: number,
    stride: number,
  ): number {
    const end = data.length;
    if (offset >= end) throw tileError(rect, tileX, tileY, width, height, 'the data ends before the subencoding');
    const subencoding = data[offset++];
    const area = width * height;

    if (subencoding === Subencoding.Solid) {
      if (offset + CPIXEL_BYTES > end) throw tileError(rect, tileX, tileY, width, height, 'the data ends inside the colour');
      fillRows(target, readCPixel(data, offset), base, width, height, stride);
      return offset + CPIXEL_BYTES;
    }

    if (subencoding === Subencoding.Raw) {
      if (offset + area * CPIXEL_BYTES > end) throw tileError(rect, tileX, tileY, width, height, `the data ends inside the ${area} raw pixels`);
      const words = this.words!;
      for (let row = 0, at = base; row < height; row++, at += stride, offset += width * CPIXEL_BYTES) copyRgbRow(data, words, offset, width, target, at);
      return offset;
    }

    if (subencoding <= Subencoding.PackedPaletteMax) {
      const colours = subencoding;
      offset = this.readPalette(data, offset, colours, rect, tileX, tileY, width, height);
      const bits = colours === 2 ? 1 : colours <= 4 ? 2 : 4;
      const rowBytes = Math.ceil((width * bits) / 8);
      if (offset + rowBytes * height > end) throw tileError(rect, tileX, tileY, width, height, 'the data ends inside the packed pixels');
      // Indices the palette does not have read INVALID, whose padding byte no CPIXEL has: one OR per pixel finds them.
      const palette = this.palette;
      palette.fill(INVALID, colours, 1 << bits);
      if (bits < 4 && this.pairs && target !== this.tile) {
        const three = this.paintPackedPairs(data, offset, bits, rowBytes, width, height, target, this.pairs, base, stride);
        if (three && colours === 3) throw this.badIndex(rect, tileX, tileY, width, height, data, offset, bits, colours);
        return offset + rowBytes * height;
      }
      const start = offset;
      const bad = paintPacked(data, offset, bits, width, height, palette, target, base, stride);
      if (bad & PADDING) throw this.badIndex(rect, tileX, tileY, width, height, data, start, bits, colours);
      return offset + rowBytes * height;
    }

    if (subencoding === Subencoding.PlainRLE || subencoding >= Subencoding.PaletteRLEMin) {
      const paletted = subencoding !== Subencoding.PlainRLE;
      const colours = subencoding - 128;
      if (paletted) offset = this.readPalette(data, offset, colours, rect, tileX, tileY, width, height);
      const palette = this.palette;
      // Runs continue across rows: (column, at) is where the next pixel goes.
      let done = 0;
      let column = 0;
      let at = base;
      while (done < area) {
        let pixel: number;
        let long: boolean;
        if (paletted) {
          if (offset >= end) throw tileError(rect, tileX, tileY, width, height, `the data ends before the run at pixel ${done}`);
          const code = data[offset++];
          const index = code & 0x7f;
          if (index >= colours) throw tileError(rect, tileX, tileY, width, height, `the run at pixel ${done} is palette index ${index} of a ${colours}-colour palette`);
          pixel = palette[index];
          long = code >= 0x80;
        } else {
          if (offset + CPIXEL_BYTES > end) throw tileError(rect, tileX, tileY, width, height, `the data ends before the run at pixel ${done}`);
          pixel = readCPixel(data, offset);
          offset += CPIXEL_BYTES;
          long = true;
        }
        let run = 1;
        let unfinished = false;
        if (long) {
          // The length: bytes of 255 add 255 and go on; the last byte (< 255) adds itself.
          for (;;) {
            if (offset >= end) throw tileError(rect, tileX, tileY, width, height, `the data ends inside the length of the run at pixel ${done}`);
            const byte = data[offset++];
            run += byte;
            if (byte !== 255) break;
            // Already longer than the tile: no need to read the rest of the length.
            if (run > area) {
              unfinished = true;
              break;
            }
          }
        }
        if (run > area - done) throw tileError(rect, tileX, tileY, width, height, `the run of ${run}${unfinished ? ' or more' : ''} pixels at pixel ${done} goes past the tile's ${area} pixels`);
        done += run;
        while (run > 0) {
          const count = Math.min(run, width - column);
          fillRun(target, pixel, at, count);
          at += count;
          run -= count;
          column += count;
          if (column === width) {
            column = 0;
            at += stride - width;
          }
        }
      }
      return offset;
    }

    throw tileError(rect, tileX, tileY, width, height, `subencoding ${subencoding} is not defined by ZRLE`);
  }

  /** Packed 1- or 2-bit indices, two pixels per store (palette-rows.ts); returns whether a 2-bit index was 3. */
  private paintPackedPairs(data: Buffer, offset: number, bits: number, rowBytes: number, width: number, height: number, target: Uint32Array, pairs: Float64Array, base: number, stride: number): boolean {
    const table = this.pairTable;
    table.fillChunks(this.palette, bits * 2);
    if (bits === 1) {
      paintBits1Block(data, offset, rowBytes, width, height, table.pairs, this.palette, target, pairs, base, stride);
      return false;
    }
    return paintBits2Block(data, offset, rowBytes, width, height, table.pairs, this.palette, target, pairs, base, stride);
  }

  private readPalette(data: Buffer, offset: number, colours: number, rect: RectangleInProgress, tileX: number, tileY: number, width: number, height: number): number {
    if (offset + colours * CPIXEL_BYTES > data.length) throw tileError(rect, tileX, tileY, width, height, `the data ends inside the ${colours}-colour palette`);
    for (let i = 0; i < colours; i++, offset += CPIXEL_BYTES) this.palette[i] = readCPixel(data, offset);
    return offset;
  }

  /** The error for the first packed pixel of a tile whose palette index is out of range. */
  private badIndex(rect: RectangleInProgress, tileX: number, tileY: number, width: number, height: number, data: Buffer, offset: number, bits: number, colours: number): VNCProtocolError {
    const rowBytes = Math.ceil((width * bits) / 8);
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++) {
        const bit = column * bits;
        const index = (data[offset + row * rowBytes + (bit >> 3)] >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
        if (index >= colours) return tileError(rect, tileX, tileY, width, height, `packed pixel (${column},${row}) is palette index ${index} of a ${colours}-colour palette`);
      }
    }
    return tileError(rect, tileX, tileY, width, height, 'a packed pixel is outside the palette');
  }
}

/**
 * Paints packed palette indices (`bits` each, most significant first, rows padded to a byte) as
 * palette colours; returns the OR of all colours painted (INVALID's padding byte shows a bad index).
 */
function paintPacked(data: Buffer, offset: number, bits: number, width: number, height: number, palette: Uint32Array, target: Uint32Array, base: number, stride: number): number {
  const perByte = 8 / bits;
  const whole = Math.floor(width / perByte);
  const rest = width - whole * perByte;
  const mask = (1 << bits) - 1;
  let seen = 0;
  for (let row = 0, at = base; row < height; row++, at += stride - width) {
    if (bits === 1) {
      for (let i = 0; i < whole; i++, at += 8) {
        const byte = data[offset++];
        const p0 = palette[byte >> 7];
        const p1 = palette[(byte >> 6) & 1];
        const p2 = palette[(byte >> 5) & 1];
        const p3 = palette[(byte >> 4) & 1];
        const p4 = palette[(byte >> 3) & 1];
        const p5 = palette[(byte >> 2) & 1];
        const p6 = palette[(byte >> 1) & 1];
        const p7 = palette[byte & 1];
        target[at] = p0;
        target[at + 1] = p1;
        target[at + 2] = p2;
        target[at + 3] = p3;
        target[at + 4] = p4;
        target[at + 5] = p5;
        target[at + 6] = p6;
        target[at + 7] = p7;
        seen |= p0 | p1 | p2 | p3 | p4 | p5 | p6 | p7;
      }
    } else if (bits === 2) {
      for (let i = 0; i < whole; i++, at += 4) {
        const byte = data[offset++];
        const p0 = palette[byte >> 6];
        const p1 = palette[(byte >> 4) & 3];
        const p2 = palette[(byte >> 2) & 3];
        const p3 = palette[byte & 3];
        target[at] = p0;
        target[at + 1] = p1;
        target[at + 2] = p2;
        target[at + 3] = p3;
        seen |= p0 | p1 | p2 | p3;
      }
    } else {
      for (let i = 0; i < whole; i++, at += 2) {
        const byte = data[offset++];
        const p0 = palette[byte >> 4];
        const p1 = palette[byte & 15];
        target[at] = p0;
        target[at + 1] = p1;
        seen |= p0 | p1;
      }
    }
    if (rest > 0) {
      const byte = data[offset++];
      for (let k = 0, shift = 8 - bits; k < rest; k++, shift -= bits, at++) {
        const pixel = palette[(byte >> shift) & mask];
        target[at] = pixel;
        seen |= pixel;
      }
    }
  }
  return seen;
}

function tileError(rect: RectangleInProgress, tileX: number, tileY: number, width: number, height: number, problem: string): VNCProtocolError {
  return new VNCProtocolError(`${describe(rect)}, tile ${width}x${height} at (${tileX},${tileY}) in the rectangle: ${problem}.`);
}

/** Most bytes the tiles of a width × height rectangle can inflate to. */
export function maxInflatedLength(width: number, height: number): number {
  const tiles = Math.ceil(width / TILE_SIDE) * Math.ceil(height / TILE_SIDE);
  return tiles * TILE_OVERHEAD + width * height * 4;
}

function describe(rect: RectangleInProgress): string {
  return `ZRLE rectangle ${rect.width}x${rect.height} at (${rect.x},${rect.y})`;
}

/** A ZRLE decoder for one connection (it owns the connection's ZRLE zlib stream). */
export function createZRLEDecoder(): Decoder {
  return new ZRLEDecoder();
}
