import type { ByteQueue } from '../byte-queue.js';

/** What the caller of the library supplied to authenticate with. */
export interface Credentials {
  password?: string;
  username?: string;
}

/**
 * One security type's exchange, run after the type is chosen and before SecurityResult.
 * `process` consumes bytes from the queue; it returns true when its exchange is complete and
 * false when it needs more bytes (the caller then restores the queue and calls again later).
 */
export interface SecurityHandler {
  readonly type: number;
  process(queue: ByteQueue, send: (bytes: Uint8Array) => void): boolean;
}
