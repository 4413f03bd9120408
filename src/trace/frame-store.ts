/**
 * The trace's images: each distinct screen once (by content id), encoded to PNG in the
 * background, with a running byte count so the recorder can keep within its bounds.
 */
import type { Frame } from '../rfb/framebuffer.js';
import type { FrameId, TraceFrameInfo } from './format.js';
import { encodePngAsync } from '../bridge/png.js';
import { frameId } from './frame-id.js';

/** Who added a frame first: budgets are kept per purpose. */
export type FramePurpose = 'action' | 'filmstrip';

interface Stored {
  width: number;
  height: number;
  png: Promise<Buffer>;
  bytes?: number;
}

export class FrameStore {
  private readonly frames = new Map<FrameId, Stored>();
  private readonly encodedBytes = { action: 0, filmstrip: 0 };
  /** Bytes guessed for frames still being encoded: the last PNG's size, or a 20:1 ratio before any. */
  private readonly pendingGuess = { action: 0, filmstrip: 0 };
  private lastPngBytes = 0;
  private failure: unknown;

  /** Stores `frame` (unless an equal one is stored) and returns its id. */
  add(frame: Frame, purpose: FramePurpose): FrameId {
    return this.addWithId(frameId(frame), frame, purpose);
  }

  /** Like add(), with the id already computed (frameId). */
  addWithId(id: FrameId, frame: Frame, purpose: FramePurpose): FrameId {
    if (this.frames.has(id)) return id;
    const guess = this.lastPngBytes || Math.ceil((frame.width * frame.height * 3) / 20);
    this.pendingGuess[purpose] += guess;
    const stored: Stored = {
      width: frame.width,
      height: frame.height,
      png: encodePngAsync(frame).then(
        (png) => {
          stored.bytes = png.length;
          this.encodedBytes[purpose] += png.length;
          this.lastPngBytes = png.length;
          this.pendingGuess[purpose] -= guess;
          return png;
        },
        (error: unknown) => {
          this.pendingGuess[purpose] -= guess;
          this.failure ??= error;
          return Buffer.alloc(0);
        },
      ),
    };
    this.frames.set(id, stored);
    return id;
  }

  has(id: FrameId): boolean {
    return this.frames.has(id);
  }

  /** Bytes of PNG added for `purpose`, frames still being encoded counted at a guess. */
  estimatedBytes(purpose: FramePurpose): number {
    return this.encodedBytes[purpose] + this.pendingGuess[purpose];
  }

  /** Every frame's PNG and facts, once all encodings finished. */
  async entries(): Promise<{ id: FrameId; png: Buffer; info: TraceFrameInfo }[]> {
    const all = await Promise.all(
      [...this.frames.entries()].map(async ([id, stored]) => {
        const png = await stored.png;
        return { id, png, info: { width: stored.width, height: stored.height, bytes: png.length } };
      }),
    );
    if (this.failure) throw this.failure;
    return all;
  }
}
