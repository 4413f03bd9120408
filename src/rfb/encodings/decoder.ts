import type { ByteQueue } from '../byte-queue.js';
import type { Framebuffer, Rect } from '../framebuffer.js';

/** A rectangle being decoded; `progress` belongs to the decoder (e.g. rows done so far). */
export interface RectangleInProgress extends Rect {
  encoding: number;
  progress: number;
}

/**
 * One pixel encoding, one instance per connection (zlib-based encodings keep stream state across
 * rectangles). `decode` consumes as much of the rectangle as the queue holds, only ever whole
 * units it can paint, and returns true once the rectangle is complete. It never reads past
 * `queue.has()`, so the caller never needs to roll back. A decoder that needs more state than
 * `progress` for the rectangle in hand keeps it itself: rectangles are decoded one at a time, and
 * a new rectangle starts with `progress === 0`. Bad input is a VNCProtocolError naming the
 * encoding and the rectangle.
 */
export interface Decoder {
  readonly name: string;
  decode(rect: RectangleInProgress, queue: ByteQueue, framebuffer: Framebuffer): boolean;
}
