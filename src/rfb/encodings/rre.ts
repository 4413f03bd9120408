import { VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { BYTES_PER_PIXEL, type Framebuffer } from '../framebuffer.js';
import type { Decoder, RectangleInProgress } from './decoder.js';

/** Whether this machine stores a Uint32 little-endian, so a wire pixel (R, G, B, x) reads as one u32. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Paints wire pixels (R, G, B, x) into a framebuffer: solid rectangles and rows copied as they are. Bind it to the
 * framebuffer at the start of each `decode` call: the framebuffer's buffer changes on a resize.
 * Writes whole pixels as 32-bit numbers when it can (little-endian machine, aligned buffer) and
 * byte by byte otherwise. Coordinates are not checked here: callers check them against the
 * rectangle, which the parser has checked against the framebuffer.
 */
export class PixelPainter {
  /** The framebuffer as 32-bit pixels, or undefined when it cannot be viewed that way. */
  private pixels: Uint32Array | undefined;
  private bytes: Buffer = Buffer.alloc(0);
  /** Pixels per framebuffer row. */
  private stride = 0;

  bind(framebuffer: Framebuffer): void {
    const { data } = framebuffer;
    this.stride = framebuffer.width;
    if (this.bytes === data) return;
    this.bytes = data;
    this.pixels = LITTLE_ENDIAN && data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2) : undefined;
  }

  /** Fills width × height pixels at (x, y) with `pixel` (as `readPixel` returns it). */
  fill(x: number, y: number, width: number, height: number, pixel: number): void {
    const pixels = this.pixels;
    const stride = this.stride;
    if (pixels) {
      let start = y * stride + x;
      if (width <= 8) {
        // Short runs (text strokes): a loop beats a native call per row.
        for (let row = 0; row < height; row++, start += stride) {
          for (let at = start, end = start + width; at < end; at++) pixels[at] = pixel;
        }
      } else {
        for (let row = 0; row < height; row++, start += stride) pixels.fill(pixel, start, start + width);
      }
      return;
    }
    const bytes = this.bytes;
    const red = pixel & 0xff;
    const green = (pixel >>> 8) & 0xff;
    const blue = (pixel >>> 16) & 0xff;
    const extra = pixel >>> 24;
    for (let row = 0; row < height; row++) {
      let at = ((y + row) * stride + x) * BYTES_PER_PIXEL;
      for (let col = 0; col < width; col++, at += BYTES_PER_PIXEL) {
        bytes[at] = red;
        bytes[at + 1] = green;
        bytes[at + 2] = blue;
        bytes[at + 3] = extra;
      }
    }
  }

  /** Copies `rows` rows of `width` wire pixels, packed in `source` from `offset`, to (x, y). */
  copy(x: number, y: number, width: number, rows: number, source: Buffer, offset: number): void {
    const rowBytes = width * BYTES_PER_PIXEL;
    let to = (y * this.stride + x) * BYTES_PER_PIXEL;
    const step = this.stride * BYTES_PER_PIXEL;
    for (let row = 0; row < rows; row++, offset += rowBytes, to += step) source.copy(this.bytes, to, offset, offset + rowBytes);
  }
}

/** The wire pixel (R, G, B, x bytes) at `offset`, as the number PixelPainter.fill takes (R in the low byte). */
export function readPixel(bytes: Buffer, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

/** RRE header: u32 subrectangle count, background pixel. */
const HEADER_BYTES = 4 + BYTES_PER_PIXEL;
/** One RRE subrectangle: pixel, u16 x, y, width, height. */
const SUBRECT_BYTES = BYTES_PER_PIXEL + 8;

function describe(rect: RectangleInProgress): string {
  return `RRE rectangle ${rect.width}x${rect.height} at (${rect.x},${rect.y})`;
}

/**
 * RRE (rise-and-run-length, encoding 2): a background pixel for the whole rectangle, then solid
 * subrectangles, each painted as soon as its 12 bytes are in, so a rectangle with many
 * subrectangles needs no large buffer. `progress` is 0 before the header, then 1 + the number
 * of subrectangles painted.
 */
class RREDecoder implements Decoder {
  readonly name = 'RRE';
  private readonly painter = new PixelPainter();
  /** Subrectangles of the rectangle in hand not yet painted. */
  private remaining = 0;

  decode(rect: RectangleInProgress, queue: ByteQueue, framebuffer: Framebuffer): boolean {
    if (rect.progress === 0) {
      if (!queue.has(4)) return false;
      // The count bounds the work a rectangle may ask for: no more subrectangles than pixels.
      const count = queue.peekU32();
      if (count > rect.width * rect.height) {
        throw new VNCProtocolError(`${describe(rect)} announces ${count} subrectangles, more than its ${rect.width * rect.height} pixels.`);
      }
      if (!queue.has(HEADER_BYTES)) return false;
      queue.skip(4);
      const background = readPixel(queue.view(BYTES_PER_PIXEL), 0);
      this.painter.bind(framebuffer);
      this.painter.fill(rect.x, rect.y, rect.width, rect.height, background);
      this.remaining = count;
      rect.progress = 1;
    }
    const available = Math.min(this.remaining, Math.floor(queue.length / SUBRECT_BYTES));
    if (available > 0) {
      const bytes = queue.view(available * SUBRECT_BYTES);
      this.painter.bind(framebuffer);
      for (let offset = 0; offset < bytes.length; offset += SUBRECT_BYTES) {
        const x = bytes.readUInt16BE(offset + 4);
        const y = bytes.readUInt16BE(offset + 6);
        const width = bytes.readUInt16BE(offset + 8);
        const height = bytes.readUInt16BE(offset + 10);
        if (x + width > rect.width || y + height > rect.height) {
          const index = rect.progress - 1 + offset / SUBRECT_BYTES;
          throw new VNCProtocolError(`${describe(rect)}: subrectangle ${index} (${width}x${height} at (${x},${y})) lies outside the rectangle.`);
        }
        this.painter.fill(rect.x + x, rect.y + y, width, height, readPixel(bytes, offset));
      }
      this.remaining -= available;
      rect.progress += available;
    }
    return this.remaining === 0;
  }
}

/** A fresh RRE decoder for one connection. */
export function createRREDecoder(): Decoder {
  return new RREDecoder();
}
