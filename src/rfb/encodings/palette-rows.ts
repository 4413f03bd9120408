/**
 * Painting blocks of packed palette indices (ZRLE's 1- and 2-bit packed palettes) two pixels per
 * store: the framebuffer is also viewed as a Float64Array, and a small table holds, for every
 * pair of indices a chunk of the row can hold, the two 32-bit pixels as one 64-bit value. That
 * halves the stores, which bound these loops. The 64-bit values are only moved, never computed
 * with, so their bits survive: a pixel's fourth byte is 0, so a pair is never a NaN (whose bit
 * pattern an engine may change); INVALID palette entries (fourth byte 0xff) are not NaNs either.
 * A pair starts at an even pixel: a row starting at an odd one paints its first pixel alone.
 * Each function paints a whole block (`height` rows of `width` pixels from pixel `at`, `stride`
 * pixels apart; `rowBytes` bytes of indices a row from `source`): no call per row.
 * Measured on the live 1080p streams: a few % faster than 32-bit stores once optimised, but code
 * not yet optimised (a fresh process's first frame) boxes every 64-bit value it loads; for Tight's
 * palettes that cost more than it saved, so they keep 32-bit stores (tight-paint.ts).
 */
import { LITTLE_ENDIAN, lastView } from './pixel-rows.js';

/** Scratch for one decoder: the pair table, as 64-bit pairs and as their 32-bit halves. */
export class PairTable {
  readonly pairs = new Float64Array(16);
  readonly halves = new Uint32Array(this.pairs.buffer);

  /** Entries for chunks of `bits` (2 or 4) bits: each chunk is two indices of bits / 2 bits, first in the high bits. */
  fillChunks(palette: Uint32Array, bits: number): void {
    const half = bits >> 1;
    const mask = (1 << half) - 1;
    for (let chunk = 0, at = 0; chunk < 1 << bits; chunk++, at += 2) {
      this.halves[at] = palette[chunk >> half];
      this.halves[at + 1] = palette[chunk & mask];
    }
  }
}

/** The framebuffer's bytes as pixel pairs, or undefined where they cannot be (a big-endian host, a buffer not 8-byte aligned). */
export const pairsOf = lastView((bytes) => (LITTLE_ENDIAN && bytes.byteOffset % 8 === 0 ? new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 3) : undefined));

/**
 * 1-bit indices (most significant bit first). `table` holds the 2-bit chunks (`fillChunks(palette,
 * 2)`); `single` is the palette. Returns whether a painted index is 1.
 */
export function paintBits1Block(
  bytes: Uint8Array,
  source: number,
  rowBytes: number,
  width: number,
  height: number,
  table: Float64Array,
  single: Uint32Array,
  pixels: Uint32Array,
  pairs: Float64Array,
  at: number,
  stride: number,
): boolean {
  let ones = 0;
  for (let row = 0; row < height && width > 0; row++, at += stride, source += rowBytes) {
    let i = source;
    let x = at;
    const end = at + width;
    let b: number;
    let bit: number;
    if ((x & 1) === 0) {
      let pair = x >> 1;
      for (const stop = x + (width & ~7); x < stop; x += 8, pair += 4) {
        const byte = bytes[i++];
        ones |= byte;
        pairs[pair] = table[byte >> 6];
        pairs[pair + 1] = table[(byte >> 4) & 3];
        pairs[pair + 2] = table[(byte >> 2) & 3];
        pairs[pair + 3] = table[byte & 3];
      }
      b = bytes[i];
      bit = 7;
    } else {
      // Pixel 0 alone; then each byte's pixels 1–7 and the next byte's pixel 0, as four pairs.
      b = bytes[i];
      ones |= b & 0x80;
      pixels[x++] = single[b >> 7];
      let pair = x >> 1;
      for (const stop = end - 8; x <= stop; x += 8, pair += 4) {
        const next = bytes[++i];
        ones |= b | (next & 0x80);
        pairs[pair] = table[(b >> 5) & 3];
        pairs[pair + 1] = table[(b >> 3) & 3];
        pairs[pair + 2] = table[(b >> 1) & 3];
        pairs[pair + 3] = table[((b & 1) << 1) | (next >> 7)];
        b = next;
      }
      bit = 6;
    }
    for (; x < end; x++, bit--) {
      if (bit < 0) {
        b = bytes[++i];
        bit = 7;
      }
      const index = (b >> bit) & 1;
      ones |= index;
      pixels[x] = single[index];
    }
  }
  return ones !== 0;
}

/**
 * 2-bit indices (most significant first). `table` holds the 4-bit chunks (`fillChunks(palette,
 * 4)`); `single` is the palette. Returns whether a painted index is 3 (for 3-colour palettes).
 */
export function paintBits2Block(
  bytes: Uint8Array,
  source: number,
  rowBytes: number,
  width: number,
  height: number,
  table: Float64Array,
  single: Uint32Array,
  pixels: Uint32Array,
  pairs: Float64Array,
  at: number,
  stride: number,
): boolean {
  // Bit 0 of an index's two bits is set in `both` when that index is 3.
  let both = 0;
  for (let row = 0; row < height && width > 0; row++, at += stride, source += rowBytes) {
    let i = source;
    let x = at;
    const end = at + width;
    let b: number;
    let bit: number;
    if ((x & 1) === 0) {
      let pair = x >> 1;
      for (const stop = x + (width & ~3); x < stop; x += 4, pair += 2) {
        const byte = bytes[i++];
        both |= byte & (byte >> 1);
        pairs[pair] = table[byte >> 4];
        pairs[pair + 1] = table[byte & 15];
      }
      b = bytes[i];
      bit = 6;
    } else {
      // Pixel 0 alone; then each byte's pixels 1–3 and the next byte's pixel 0, as two pairs.
      b = bytes[i];
      both |= b & (b >> 1) & 0x40;
      pixels[x++] = single[b >> 6];
      let pair = x >> 1;
      for (const stop = end - 4; x <= stop; x += 4, pair += 2) {
        const next = bytes[++i];
        both |= (b & (b >> 1)) | (next & (next >> 1) & 0x40);
        pairs[pair] = table[(b >> 2) & 15];
        pairs[pair + 1] = table[((b & 3) << 2) | (next >> 6)];
        b = next;
      }
      bit = 4;
    }
    for (; x < end; x++, bit -= 2) {
      if (bit < 0) {
        b = bytes[++i];
        bit = 6;
      }
      const index = (b >> bit) & 3;
      both |= index & (index >> 1);
      pixels[x] = single[index];
    }
  }
  return (both & 0x55) !== 0;
}
