/**
 * Row painters shared by the ZRLE and Tight decoders, on the framebuffer viewed as 32-bit pixels
 * (bytes R, G, B, x; little-endian hosts) or on a tile of such pixels. They are the decoders' inner
 * loops, so they favour what V8 makes fast: one 32-bit load for four bytes (DataView reads are
 * inlined and take unaligned offsets), and TypedArray#fill for long runs of one colour.
 */

export const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Bytes R, G, B as a 32-bit pixel whose bytes in memory are R, G, B, 0. */
export const rgbPixel: (bytes: Uint8Array, offset: number) => number = LITTLE_ENDIAN
  ? (bytes, offset) => bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16)
  : (bytes, offset) => ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8)) >>> 0;

/** `view(bytes)`, made again only when asked for other bytes than last time (a framebuffer's views outlive many rectangles). */
export function lastView<T>(view: (bytes: Uint8Array) => T | undefined): (bytes: Uint8Array) => T | undefined {
  let viewedBytes: Uint8Array | undefined;
  let viewed: T | undefined;
  return (bytes) => {
    if (bytes !== viewedBytes) {
      viewedBytes = bytes;
      viewed = view(bytes);
    }
    return viewed;
  };
}

/** `bytes` (a framebuffer's R, G, B, x bytes) as 32-bit pixels, or undefined on a big-endian host or an unaligned buffer. */
export const pixelsOf = lastView((bytes) => (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2) : undefined));

/** A DataView of `bytes` (cheap; made once per rectangle). */
export function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Writes `count` pixels sent as packed R, G, B (3 bytes each, from `offset` of `bytes`, which
 * `words` views) to `target` from `at`. The caller has checked that the bytes are there.
 */
export function copyRgbRow(bytes: Uint8Array, words: DataView, offset: number, count: number, target: Uint32Array, at: number): void {
  const end = at + count;
  if (LITTLE_ENDIAN) {
    // Four pixels from three little-endian words: R0 G0 B0 R1 | G1 B1 R2 G2 | B2 R3 G3 B3.
    for (const stop = at + (count & ~3); at < stop; at += 4, offset += 12) {
      const w0 = words.getUint32(offset, true);
      const w1 = words.getUint32(offset + 4, true);
      const w2 = words.getUint32(offset + 8, true);
      target[at] = w0 & 0xffffff;
      target[at + 1] = (w0 >>> 24) | ((w1 & 0xffff) << 8);
      target[at + 2] = (w1 >>> 16) | ((w2 & 0xff) << 16);
      target[at + 3] = w2 >>> 8;
    }
  }
  for (; at < end; at++, offset += 3) target[at] = rgbPixel(bytes, offset);
}

/** Short runs are cheaper as a loop than as a native call. */
const FILL_LOOP_MAX = 16;

/** Writes `count` pixels of one colour from `at`. */
export function fillRun(target: Uint32Array, pixel: number, at: number, count: number): void {
  if (count > FILL_LOOP_MAX) target.fill(pixel, at, at + count);
  else for (const stop = at + count; at < stop; at++) target[at] = pixel;
}

/** Fills `height` rows of `width` pixels from `at`, `stride` pixels apart, with one colour. */
export function fillRows(target: Uint32Array, pixel: number, at: number, width: number, height: number, stride: number): void {
  if (width === stride) {
    target.fill(pixel, at, at + width * height);
    return;
  }
  if (width <= FILL_LOOP_MAX) {
    for (let row = 0; row < height; row++, at += stride) fillRun(target, pixel, at, width);
    return;
  }
  target.fill(pixel, at, at + width);
  // Copying the first row is cheaper than filling each (measured: a native fill costs more a call).
  for (let row = 1, to = at + stride; row < height; row++, to += stride) target.copyWithin(to, at, at + width);
}
