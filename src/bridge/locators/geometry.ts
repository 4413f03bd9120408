import { VNCInputError } from '../../errors.js';
import type { Rect } from '../../rfb/framebuffer.js';

/** `(412, 300, 38×14)` for messages. */
export function describeBox(box: Rect): string {
  return `(${box.x}, ${box.y}, ${box.width}×${box.height})`;
}

export function intersection(a: Rect, b: Rect): Rect | undefined {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  const right = Math.min(a.x + a.width, b.x + b.width);
  const bottom = Math.min(a.y + a.height, b.y + b.height);
  return right > x && bottom > y ? { x, y, width: right - x, height: bottom - y } : undefined;
}

/** `box` grown by `margin` on every side, kept inside `bounds`. */
export function around(box: Rect, margin: number, bounds: Rect): Rect {
  const grown = { x: box.x - margin, y: box.y - margin, width: box.width + 2 * margin, height: box.height + 2 * margin };
  return intersection(grown, bounds) ?? box;
}

/** Checks a region given by the caller: whole numbers, non-empty. (Whether it fits the screen is checked when used.) */
export function checkRegion(region: unknown, what: string): Rect {
  const r = region as Partial<Rect> | null;
  const whole = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (r === null || typeof r !== 'object' || !whole(r.x) || !whole(r.y) || !whole(r.width) || !whole(r.height) || r.width === 0 || r.height === 0) {
    throw new VNCInputError(`${what}: region ${JSON.stringify(region)} is not a rectangle: pass { x, y, width, height } in whole screen pixels, width and height > 0.`);
  }
  return { x: r.x!, y: r.y!, width: r.width!, height: r.height! };
}

/** The part of `region` on a `width`×`height` screen; a VNCInputError when they do not overlap. */
export function clipToScreen(region: Rect, width: number, height: number, what: string): Rect {
  const clipped = intersection(region, { x: 0, y: 0, width, height });
  if (!clipped) {
    throw new VNCInputError(`${what}: region ${describeBox(region)} is outside the ${width}x${height} screen: pass a region that overlaps it.`);
  }
  return clipped;
}

/**
 * Reading order: rows top to bottom, left to right within a row. Two boxes are on one row when
 * they overlap vertically by at least half the lower one's height.
 */
export function readingOrder(a: Rect, b: Rect): number {
  const overlap = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (overlap * 2 >= Math.min(a.height, b.height)) return a.x - b.x || a.y - b.y;
  return a.y - b.y;
}
