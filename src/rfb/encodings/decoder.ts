import type { ByteQueue } from '../byte-queue.js';
import type { Framebuffer, Rect } from '../framebuffer.js';

/** A rectangle being decoded; `progress` belongs to the decoder (e.g. rows done so far). */
export interface RectangleInProgress extends Rect {
  encoding: number;
  progress: number;
}

/**
 * One pixel encoding. `decode` consumes as much of the rectangle as the queue holds, only ever
 * whole units it can paint, and returns true once the rectangle is complete. It never reads past
 * `queue.has()`, so the caller never needs to roll back.
 */
export interface Decoder {
  readonly name: string;
  decode(rect: RectangleInProgress, queue: ByteQueue, framebuffer: Framebuffer): boolean;
}
