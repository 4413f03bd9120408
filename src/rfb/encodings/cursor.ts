import { VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { Limits } from '../constants.js';
import { BYTES_PER_PIXEL, type Rect } from '../framebuffer.js';

/** The pointer's shape as the server draws it: RGBA with alpha from the mask, hotspot inside. */
export interface CursorImage {
  width: number;
  height: number;
  hotspotX: number;
  hotspotY: number;
  data: Buffer;
}

function cursorBytes(width: number, height: number): { pixels: number; mask: number } {
  return { pixels: width * height * BYTES_PER_PIXEL, mask: Math.ceil(width / 8) * height };
}

/**
 * Reads a Cursor pseudo-encoding rectangle (x, y = hotspot). Returns undefined while its bytes
 * have not all arrived, null for an empty (hidden) cursor.
 */
export function readCursor(rect: Rect, queue: ByteQueue): CursorImage | null | undefined {
  const { width, height } = rect;
  if (width > Limits.maxCursorSide || height > Limits.maxCursorSide) {
    throw new VNCProtocolError(
      `Cursor image ${width}x${height} is larger than the ${Limits.maxCursorSide}x${Limits.maxCursorSide} limit.`,
    );
  }
  const sizes = cursorBytes(width, height);
  if (!queue.has(sizes.pixels + sizes.mask)) return undefined;
  if (width === 0 || height === 0) return null;
  const data = queue.take(sizes.pixels);
  const mask = queue.view(sizes.mask);
  const maskStride = Math.ceil(width / 8);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const visible = (mask[y * maskStride + (x >> 3)] >> (7 - (x & 7))) & 1;
      data[(y * width + x) * BYTES_PER_PIXEL + 3] = visible ? 255 : 0;
    }
  }
  // Servers do send hotspots outside the image (x11vnc: (0,2) on a 1x2 cursor); keep them inside.
  return { width, height, hotspotX: Math.min(rect.x, width - 1), hotspotY: Math.min(rect.y, height - 1), data };
}
