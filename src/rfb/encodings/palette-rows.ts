/**
 * Painting rows of palette indices (ZRLE's packed palettes, Tight's palette filter) two pixels
 * per store: the framebuffer is also viewed as a Float64Array, and a small table holds, for every
 * pair of indices a chunk of the row can hold, the two 32-bit pixels as one 64-bit value. That
 * halves the stores, which bound these loops. The 64-bit values are only moved, never computed
 * with, so their bits survive: a pixel's fourth byte is 0, so a pair is never a NaN (whose bit
 * pattern an engine may change); INVALID palette entries (fourth byte 0xff) are not NaNs either.
 * A pair starts at an even pixel: a row starting at an odd one paints its first pixel alone.
 */
import { LITTLE_ENDIAN } from './pixel-rows.js';

/** Scratch for one decoder: the pair table, as 64-bit pairs and as their 32-bit halves. */
export class PairTable {
  readonly pairs = new Float64Array(256);
  readonly halves = new Uint32Array(this.pairs.buffer);

  /** Entries for chunks of `bits` (1, 2 or 4) bits: each chunk is two indices of bits / 2 bits, first in the high bits. */
  fillChunks(palette: Uint32Array, bits: number): void {
    const half = bits >> 1;
    const mask = (1 << half) - 1;
    for (let chunk = 0, at = 0; chunk < 1 << bits; chunk++, at += 2) {
      this.halves[at] = palette[chunk >> half];
      this.halves[at + 1] = palette[chunk & mask];
    }
  }
}

let viewedBytes: Uint8Array | undefined;
let viewedPairs: Float64Array | undefined;

/** The framebuffer's bytes as pixel pairs, or undefined where they cannot be (a big-endian host, a buffer not 8-byte aligned). */
export function pairsOf(bytes: Uint8Array): Float64Array | undefined {
  if (bytes !== viewedBytes) {
    viewedBytes = bytes;
    viewedPairs = LITTLE_ENDIAN && bytes.byteOffset % 8 === 0 ? new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 3) : undefined;
  }
  return viewedPairs;
}

/**
 * One row of 1-bit indices (most significant bit first) from `source`: `width` pixels from pixel
 * `at`. `table` holds the 2-bit chunks (`fillChunks(palette, 2)`); `single` is the palette.
 * Returns the OR of the bytes' painted bits (index 1 used).
 */
export function paintBits1Row(
  bytes: Uint8Array,
  source: number,
  width: number,
  table: Float64Array,
  single: Uint32Array,
  pixels: Uint32Array,
  pairs: Float64Array,
  at: number,
): number {
  const end = at + width;
  let ones = 0;
  if (width === 0) return 0;
  if ((at & 1) === 0) {
    let pair = at >> 1;
    for (const stop = at + (width & ~7); at < stop; at += 8, pair += 4) {
      const b = bytes[source++];
      ones |= b;
      pairs[pair] = table[b >> 6];
      pairs[pair + 1] = table[(b >> 4) & 3];
      pairs[pair + 2] = table[(b >> 2) & 3];
      pairs[pair + 3] = table[b & 3];
    }
  } else {
    // Pixel 0 alone; then each byte's pixels 1–7 and the next byte's pixel 0, as four pairs.
    let b = bytes[source];
    ones |= b & 0x80;
    pixels[at++] = single[b >> 7];
    let pair = at >> 1;
    for (const stop = end - 8; at <= stop; at += 8, pair += 4) {
      const next = bytes[++source];
      ones |= b | (next & 0x80);
      pairs[pair] = table[(b >> 5) & 3];
      pairs[pair + 1] = table[(b >> 3) & 3];
      pairs[pair + 2] = table[(b >> 1) & 3];
      pairs[pair + 3] = table[((b & 1) << 1) | (next >> 7)];
      b = next;
    }
    // The loop leaves `source` at the byte holding pixel `at` (bit position 1 of it).
    for (let bit = 6; at < end; at++, bit--) {
      if (bit < 0) {
        b = bytes[++source];
        bit = 7;
      }
      const index = (b >> bit) & 1;
      ones |= index;
      pixels[at] = single[index];
    }
    return ones;
  }
  if (at < end) {
    const b = bytes[source];
    for (let bit = 7; at < end; at++, bit--) {
      const index = (b >> bit) & 1;
      ones |= index;
      pixels[at] = single[index];
    }
  }
  return ones;
}

/**
 * One row of 2-bit indices (most significant first) from `source`: `width` pixels from pixel `at`.
 * `table` holds the 4-bit chunks (`fillChunks(palette, 4)`); `single` is the palette. Returns
 * whether a painted index is 3 (for 3-colour palettes).
 */
export function paintBits2Row(
  bytes: Uint8Array,
  source: number,
  width: number,
  table: Float64Array,
  single: Uint32Array,
  pixels: Uint32Array,
  pairs: Float64Array,
  at: number,
): boolean {
  const end = at + width;
  if (width === 0) return false;
  // Bit 0 of an index's two bits is set in `both` when that index is 3.
  let both = 0;
  let b: number;
  let bit: number;
  if ((at & 1) === 0) {
    let pair = at >> 1;
    for (const stop = at + (width & ~3); at < stop; at += 4, pair += 2) {
      const byte = bytes[source++];
      both |= byte & (byte >> 1);
      pairs[pair] = table[byte >> 4];
      pairs[pair + 1] = table[byte & 15];
    }
    b = bytes[source];
    bit = 6;
  } else {
    // Pixel 0 alone; then each byte's pixels 1–3 and the next byte's pixel 0, as two pairs.
    b = bytes[source];
    both |= (b & (b >> 1)) & 0x40;
    pixels[at++] = single[b >> 6];
    let pair = at >> 1;
    for (const stop = end - 4; at <= stop; at += 4, pair += 2) {
      const next = bytes[++source];
      both |= (b & (b >> 1)) | ((next & (next >> 1)) & 0x40);
      pairs[pair] = table[(b >> 2) & 15];
      pairs[pair + 1] = table[((b & 3) << 2) | (next >> 6)];
      b = next;
    }
    bit = 4;
  }
  for (; at < end; at++, bit -= 2) {
    if (bit < 0) {
      b = bytes[++source];
      bit = 6;
    }
    const index = (b >> bit) & 3;
    both |= index & (index >> 1);
    pixels[at] = single[index];
  }
  return (both & 0x55) !== 0;
}

/**
 * One row of 8-bit indices into a palette of `size` ≤ 16 colours, from `source` (`words` views
 * `bytes`): `width` pixels from pixel `at`. `table` holds index pairs (`fillChunks(palette, 8)`);
 * `single` is the palette, INVALID past its colours. Returns whether an index is `size` or more.
 */
export function paintIndex8Row(
  bytes: Uint8Array,
  words: DataView,
  source: number,
  width: number,
  size: number,
  table: Float64Array,
  single: Uint32Array,
  pixels: Uint32Array,
  pairs: Float64Array,
  at: number,
): boolean {
  const end = at + width;
  let seen = 0;
  if (width > 0 && at & 1) {
    const pixel = single[bytes[source++]];
    pixels[at++] = pixel;
    seen |= pixel;
  }
  // Four indices a word; a byte's top bit says whether that index is `size` or more.
  const sizes = size * 0x01010101;
  let over = 0;
  let pair = at >> 1;
  for (const stop = end - 4; at <= stop; at += 4, pair += 2, source += 4) {
    const four = words.getUint32(source, true);
    over |= ((four | 0x80808080) - sizes) | four;
    pairs[pair] = table[((four & 0x0f) << 4) | ((four >> 8) & 0x0f)];
    pairs[pair + 1] = table[((four >> 12) & 0xf0) | ((four >>> 24) & 0x0f)];
  }
  for (; at < end; at++, source++) {
    const pixel = single[bytes[source]];
    pixels[at] = pixel;
    seen |= pixel;
  }
  return (over & 0x80808080) !== 0 || (seen & INVALID_BYTE) !== 0;
}

/** The fourth byte of a pixel, which only INVALID palette entries set. */
const INVALID_BYTE = 0xff000000 | 0;
