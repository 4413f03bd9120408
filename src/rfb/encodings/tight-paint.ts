/**
 * Painting Tight's pixel data (copy, palette and gradient filters; decoded JPEG and PNG images)
 * into the framebuffer. Where the framebuffer can be viewed as 32-bit pixels (little-endian hosts),
 * each pixel is one write, and palettes are kept as ready 32-bit pixels.
 */
import { VNCProtocolError } from '../../errors.js';
import { BYTES_PER_PIXEL, type Framebuffer, type Rect } from '../framebuffer.js';
import { copyRgbRow, dataViewOf, pixelsOf } from './pixel-rows.js';

/** TPIXEL: R, G, B (the client asks for 32 bpp, depth 24 true colour). */
export const TPIXEL_BYTES = 3;

/** A palette entry past the palette's colours: its fourth byte is one no TPIXEL sets. */
const INVALID = 0xff000000;

/** The framebuffer as 32-bit pixels (bytes R, G, B, x), or undefined on a big-endian host or an unaligned buffer. */
function pixelsOfFramebuffer(framebuffer: Framebuffer): Uint32Array | undefined {
  return pixelsOf(framebuffer.data);
}

/** Paints tightly packed R, G, B pixels. */
export function paintRgb(rect: Rect, pixels: Uint8Array, framebuffer: Framebuffer): void {
  const view = pixelsOfFramebuffer(framebuffer);
  const { width, height } = rect;
  if (view) {
    const words = dataViewOf(pixels);
    const rowBytes = width * TPIXEL_BYTES;
    for (let row = 0, at = rect.y * framebuffer.width + rect.x, source = 0; row < height; row++, at += framebuffer.width, source += rowBytes) {
      copyRgbRow(pixels, words, source, width, view, at);
    }
    return;
  }
  const out = framebuffer.data;
  const stride = framebuffer.width * BYTES_PER_PIXEL;
  let source = 0;
  for (let row = 0; row < height; row++) {
    let target = (rect.y + row) * stride + rect.x * BYTES_PER_PIXEL;
    for (let column = 0; column < width; column++, source += TPIXEL_BYTES, target += BYTES_PER_PIXEL) {
      out[target] = pixels[source];
      out[target + 1] = pixels[source + 1];
      out[target + 2] = pixels[source + 2];
    }
  }
}

/** Paints decoded image pixels with `channels` bytes each: grey, RGB or RGBA (alpha ignored). */
export function paintPixels(rect: Rect, pixels: Uint8Array, channels: number, framebuffer: Framebuffer): void {
  if (channels === TPIXEL_BYTES) {
    paintRgb(rect, pixels, framebuffer);
    return;
  }
  const out = framebuffer.data;
  const stride = framebuffer.width * BYTES_PER_PIXEL;
  let source = 0;
  for (let row = 0; row < rect.height; row++) {
    let target = (rect.y + row) * stride + rect.x * BYTES_PER_PIXEL;
    for (let column = 0; column < rect.width; column++, source += channels, target += BYTES_PER_PIXEL) {
      if (channels === 1) {
        out[target] = out[target + 1] = out[target + 2] = pixels[source];
      } else {
        out[target] = pixels[source];
        out[target + 1] = pixels[source + 1];
        out[target + 2] = pixels[source + 2];
      }
    }
  }
}

/**
 * The palette filter: `size` colours (1–256), then one index a pixel (8 bits; 1 bit, rows padded to
 * a byte, for 2 colours or fewer). `palette` is scratch space of 256 entries. An index past the
 * palette is a VNCProtocolError naming the first such pixel.
 */
export function paintPalette(rect: Rect, size: number, colours: Uint8Array, indices: Uint8Array, framebuffer: Framebuffer, palette: Uint32Array, where: string): void {
  for (let i = 0, at = 0; i < size; i++, at += TPIXEL_BYTES) palette[i] = colours[at] | (colours[at + 1] << 8) | (colours[at + 2] << 16);
  palette.fill(INVALID, size);
  const view = pixelsOfFramebuffer(framebuffer);
  // The pixels go to the framebuffer directly, or through one row of scratch (big-endian hosts).
  const row32 = view ? undefined : new Uint32Array(rect.width);
  const target = view ?? (row32 as Uint32Array);
  const { width, height } = rect;
  const oneBit = size <= 2;
  const rowBytes = oneBit ? (width + 7) >> 3 : width;
  const words = dataViewOf(indices);
  let seen = 0;
  for (let row = 0; row < height; row++) {
    const at = view ? (rect.y + row) * framebuffer.width + rect.x : 0;
    seen |= oneBit ? paletteRow1(indices, row * rowBytes, width, palette, target, at) : paletteRow8(indices, words, row * rowBytes, width, palette, target, at);
    if (row32) paintRow32(framebuffer, rect.x, rect.y + row, row32);
  }
  if (seen & INVALID) throw badIndex(rect, size, indices, rowBytes, oneBit, where);
}

/** One row of 1-bit palette indices (most significant bit first); returns the OR of the colours written. */
function paletteRow1(indices: Uint8Array, source: number, width: number, palette: Uint32Array, target: Uint32Array, at: number): number {
  // The OR of the bytes read: any 1 painted palette[1] (INVALID when the palette has one colour).
  let ones = 0;
  for (const stop = at + (width & ~7); at < stop; at += 8) {
    const bits = indices[source++];
    ones |= bits;
    target[at] = palette[bits >> 7];
    target[at + 1] = palette[(bits >> 6) & 1];
    target[at + 2] = palette[(bits >> 5) & 1];
    target[at + 3] = palette[(bits >> 4) & 1];
    target[at + 4] = palette[(bits >> 3) & 1];
    target[at + 5] = palette[(bits >> 2) & 1];
    target[at + 6] = palette[(bits >> 1) & 1];
    target[at + 7] = palette[bits & 1];
  }
  const rest = width & 7;
  if (rest > 0) {
    const bits = indices[source] & ((0xff << (8 - rest)) & 0xff);
    ones |= bits;
    for (let shift = 7; shift > 7 - rest; at++, shift--) target[at] = palette[(bits >> shift) & 1];
  }
  return palette[0] | (ones === 0 ? 0 : palette[1]);
}

/** One row of 8-bit palette indices, four at a time; returns the OR of the colours written. */
function paletteRow8(indices: Uint8Array, words: DataView, source: number, width: number, palette: Uint32Array, target: Uint32Array, at: number): number {
  let seen = 0;
  const end = at + width;
  for (const stop = at + (width & ~3); at < stop; at += 4, source += 4) {
    const four = words.getUint32(source, true);
    const p0 = palette[four & 0xff];
    const p1 = palette[(four >>> 8) & 0xff];
    const p2 = palette[(four >>> 16) & 0xff];
    const p3 = palette[four >>> 24];
    target[at] = p0;
    target[at + 1] = p1;
    target[at + 2] = p2;
    target[at + 3] = p3;
    seen |= p0 | p1 | p2 | p3;
  }
  for (; at < end; at++, source++) {
    const pixel = palette[indices[source]];
    target[at] = pixel;
    seen |= pixel;
  }
  return seen;
}

/** Writes 32-bit pixels (R | G << 8 | B << 16) as bytes, for hosts where the framebuffer cannot be viewed as 32-bit. */
function paintRow32(framebuffer: Framebuffer, x: number, y: number, row: Uint32Array): void {
  const out = framebuffer.data;
  let target = (y * framebuffer.width + x) * BYTES_PER_PIXEL;
  for (let i = 0; i < row.length; i++, target += BYTES_PER_PIXEL) {
    const pixel = row[i];
    out[target] = pixel & 0xff;
    out[target + 1] = (pixel >>> 8) & 0xff;
    out[target + 2] = (pixel >>> 16) & 0xff;
  }
}

function badIndex(rect: Rect, size: number, indices: Uint8Array, rowBytes: number, oneBit: boolean, where: string): VNCProtocolError {
  for (let row = 0; row < rect.height; row++) {
    for (let column = 0; column < rect.width; column++) {
      const index = oneBit ? (indices[row * rowBytes + (column >> 3)] >> (7 - (column & 7))) & 1 : indices[row * rowBytes + column];
      if (index >= size) {
        return new VNCProtocolError(`${where}: palette index ${index} at (${column},${row}) of the rectangle, but the palette has ${size} colour${size === 1 ? '' : 's'}.`);
      }
    }
  }
  return new VNCProtocolError(`${where}: a palette index is outside the ${size}-colour palette.`);
}

/**
 * The gradient filter: each channel of each pixel is sent as the difference (mod 256) from a
 * prediction, left + up − up-left clamped to 0–255, with pixels outside the rectangle taken as 0.
 * `rows` is scratch space for two rows of RGB (2 × the widest rectangle × 3 bytes).
 */
export function paintGradient(rect: Rect, deltas: Uint8Array, framebuffer: Framebuffer, rows: Uint8Array): void {
  const { width, height } = rect;
  const half = rows.length >> 1;
  // The row above starts as zeros (above the rectangle); rows alternate between the two halves.
  rows.fill(0, 0, width * TPIXEL_BYTES);
  let above = 0;
  let current = half;
  const out = framebuffer.data;
  const stride = framebuffer.width * BYTES_PER_PIXEL;
  let source = 0;
  for (let row = 0; row < height; row++) {
    let target = (rect.y + row) * stride + rect.x * BYTES_PER_PIXEL;
    // Left and up-left neighbours; 0 left of the rectangle.
    let leftR = 0;
    let leftG = 0;
    let leftB = 0;
    let upLeftR = 0;
    let upLeftG = 0;
    let upLeftB = 0;
    for (let column = 0, i = 0; column < width; column++, i += TPIXEL_BYTES) {
      const upR = rows[above + i];
      const upG = rows[above + i + 1];
      const upB = rows[above + i + 2];
      let r = leftR + upR - upLeftR;
      let g = leftG + upG - upLeftG;
      let b = leftB + upB - upLeftB;
      r = ((r < 0 ? 0 : r > 255 ? 255 : r) + deltas[source]) & 0xff;
      g = ((g < 0 ? 0 : g > 255 ? 255 : g) + deltas[source + 1]) & 0xff;
      b = ((b < 0 ? 0 : b > 255 ? 255 : b) + deltas[source + 2]) & 0xff;
      source += TPIXEL_BYTES;
      rows[current + i] = r;
      rows[current + i + 1] = g;
      rows[current + i + 2] = b;
      out[target] = r;
      out[target + 1] = g;
      out[target + 2] = b;
      target += BYTES_PER_PIXEL;
      leftR = r;
      leftG = g;
      leftB = b;
      upLeftR = upR;
      upLeftG = upG;
      upLeftB = upB;
    }
    const swap = above;
    above = current;
    current = swap;
  }
}
