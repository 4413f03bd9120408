/**
 * The bytes received from the server and not yet parsed, in one contiguous buffer.
 *
 * Parsers check `has(n)` before reading n bytes and otherwise stop and wait for more; a restore
 * point (`mark` / `restore`) rolls back a message that turned out to be incomplete. Reads are not
 * bounds-checked for speed: reading past `has()` is a bug of ours, caught by `assertReadable` in
 * the few places that take lengths from the wire.
 *
 * Views returned by `view()` alias the internal buffer: they are valid until the next `push()`.
 */
const INITIAL_CAPACITY = 64 * 1024;
const SHRINK_ABOVE = 4 * 1024 * 1024;

export class ByteQueue {
  private buffer: Buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private start = 0;
  private end = 0;
  private restorePoint = -1;

  /** Bytes buffered and not yet consumed. */
  get length(): number {
    return this.end - this.start;
  }

  has(n: number): boolean {
    return this.end - this.start >= n;
  }

  push(chunk: Uint8Array): void {
    if (this.restorePoint >= 0) throw new Error('ByteQueue.push called while a restore point is set');
    const unread = this.end - this.start;
    if (unread === 0) {
      this.start = this.end = 0;
      if (this.buffer.length > SHRINK_ABOVE && chunk.length <= INITIAL_CAPACITY) this.buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
    }
    if (this.end + chunk.length > this.buffer.length) {
      const needed = unread + chunk.length;
      if (needed <= this.buffer.length / 2) {
        this.buffer.copy(this.buffer, 0, this.start, this.end);
      } else {
        const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
        this.buffer.copy(grown, 0, this.start, this.end);
        this.buffer = grown;
      }
      this.start = 0;
      this.end = unread;
    }
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Sets the point `restore()` returns to. */
  mark(): void {
    this.restorePoint = this.start;
  }

  /** Drops the restore point: what was read since `mark()` stays consumed. */
  commit(): void {
    this.restorePoint = -1;
  }

  /** Un-reads everything read since `mark()`. */
  restore(): void {
    if (this.restorePoint < 0) throw new Error('ByteQueue.restore called without a restore point');
    this.start = this.restorePoint;
    this.restorePoint = -1;
  }

  peekU8(offset = 0): number {
    return this.buffer[this.start + offset];
  }

  peekU16(offset = 0): number {
    return this.buffer.readUInt16BE(this.start + offset);
  }

  peekU32(offset = 0): number {
    return this.buffer.readUInt32BE(this.start + offset);
  }

  peekS32(offset = 0): number {
    return this.buffer.readInt32BE(this.start + offset);
  }

  u8(): number {
    return this.buffer[this.start++];
  }

  u16(): number {
    const value = this.buffer.readUInt16BE(this.start);
    this.start += 2;
    return value;
  }

  s16(): number {
    const value = this.buffer.readInt16BE(this.start);
    this.start += 2;
    return value;
  }

  u32(): number {
    const value = this.buffer.readUInt32BE(this.start);
    this.start += 4;
    return value;
  }

  s32(): number {
    const value = this.buffer.readInt32BE(this.start);
    this.start += 4;
    return value;
  }

  skip(n: number): void {
    this.start += n;
  }

  /** The next n bytes without copying; valid until the next `push()`. */
  view(n: number): Buffer {
    const view = this.buffer.subarray(this.start, this.start + n);
    this.start += n;
    return view;
  }

  /** The next n bytes as a copy the caller may keep. */
  take(n: number): Buffer {
    return Buffer.from(this.view(n));
  }
}
