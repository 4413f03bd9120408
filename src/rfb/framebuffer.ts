/** A rectangle in framebuffer coordinates. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A picture of (part of) the screen: RGBA, 4 bytes per pixel, rows top to bottom. */
/** Whether two rectangles share at least one pixel. */
export function intersects(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

export interface Frame {
  width: number;
  height: number;
  data: Buffer;
}

export const BYTES_PER_PIXEL = 4;

/**
 * The client's copy of the server's screen, stored as R, G, B, x bytes (the pixel format every
 * server is asked for). Decoders write into it; captures copy out of it with alpha set to 255.
 */
export class Framebuffer {
  width: number;
  height: number;
  data: Buffer;

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.data = Buffer.alloc(width * height * BYTES_PER_PIXEL);
  }

  /** Changes the size; the content is cleared (the server sends a full update after a resize). */
  resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.data = Buffer.alloc(width * height * BYTES_PER_PIXEL);
  }

  contains(rect: Rect): boolean {
    return rect.x + rect.width <= this.width && rect.y + rect.height <= this.height;
  }

  /** Copies `rows` rows of `width` pixels, tightly packed in `pixels`, to (x, y). */
  putRows(x: number, y: number, width: number, rows: number, pixels: Uint8Array): void {
    const rowBytes = width * BYTES_PER_PIXEL;
    const stride = this.width * BYTES_PER_PIXEL;
    if (x === 0 && width === this.width) {
      this.data.set(pixels.subarray(0, rows * rowBytes), y * stride);
      return;
    }
    for (let row = 0; row < rows; row++) {
      this.data.set(pixels.subarray(row * rowBytes, (row + 1) * rowBytes), (y + row) * stride + x * BYTES_PER_PIXEL);
    }
  }

  /** Copies a rectangle of this framebuffer to another place in it (CopyRect); overlap is safe. */
  copyWithin(sourceX: number, sourceY: number, target: Rect): void {
    const stride = this.width * BYTES_PER_PIXEL;
    const rowBytes = target.width * BYTES_PER_PIXEL;
    const copyRow = (row: number) => {
      const from = (sourceY + row) * stride + sourceX * BYTES_PER_PIXEL;
      this.data.copyWithin((target.y + row) * stride + target.x * BYTES_PER_PIXEL, from, from + rowBytes);
    };
    // Rows are copied in the order that never overwrites a source row before it is read.
    if (target.y > sourceY) for (let row = target.height - 1; row >= 0; row--) copyRow(row);
    else for (let row = 0; row < target.height; row++) copyRow(row);
  }

  /** Fills a rectangle with one colour (R, G, B). */
  fill(rect: Rect, red: number, green: number, blue: number): void {
    const stride = this.width * BYTES_PER_PIXEL;
    const first = rect.y * stride + rect.x * BYTES_PER_PIXEL;
    const rowBytes = rect.width * BYTES_PER_PIXEL;
    if (rowBytes === 0 || rect.height === 0) return;
    for (let offset = first; offset < first + rowBytes; offset += BYTES_PER_PIXEL) {
      this.data[offset] = red;
      this.data[offset + 1] = green;
      this.data[offset + 2] = blue;
    }
    // Every further row is a copy of the first.
    for (let row = 1; row < rect.height; row++) this.data.copyWithin(first + row * stride, first, first + rowBytes);
  }

  /** A copy of `region` (default: all of it) as RGBA with alpha 255. */
  capture(region: Rect = { x: 0, y: 0, width: this.width, height: this.height }): Frame {
    const { x, y, width, height } = region;
    const out = Buffer.allocUnsafe(width * height * BYTES_PER_PIXEL);
    const stride = this.width * BYTES_PER_PIXEL;
    const rowBytes = width * BYTES_PER_PIXEL;
    for (let row = 0; row < height; row++) {
      const from = (y + row) * stride + x * BYTES_PER_PIXEL;
      this.data.copy(out, row * rowBytes, from, from + rowBytes);
    }
    for (let i = 3; i < out.length; i += BYTES_PER_PIXEL) out[i] = 255;
    return { width, height, data: out };
  }
}
