import { VNCStateError } from '../../errors.js';
import type { RFBClient } from '../../rfb/client.js';
import type { Rect } from '../../rfb/framebuffer.js';
import { intersects } from './geometry.js';

/** How long repaints are remembered: longer than any one look at the screen takes. */
const HISTORY_MS = 60_000;

/**
 * Remembers which parts of the screen were repainted when, from its creation until dispose():
 * "did this area change since t", "when did it last change", and waits for the next change.
 */
export class ScreenWatch {
  readonly started = Date.now();
  private readonly session: RFBClient;
  private readonly repaints: { time: number; rects: Rect[] }[] = [];
  private readonly waiters = new Set<() => void>();
  private closed: unknown;
  private readonly onUpdate = (rects: Rect[]) => this.record(rects);
  private readonly onResize = () => this.record([{ x: 0, y: 0, width: Number.MAX_SAFE_INTEGER, height: Number.MAX_SAFE_INTEGER }]);
  private readonly onClosed = (error: unknown) => {
    this.closed = error ?? new VNCStateError('The bridge was disconnected while a locator was waiting.');
    this.wake();
  };

  constructor(session: RFBClient) {
    this.session = session;
    session.on('update', this.onUpdate);
    session.on('resize', this.onResize);
    session.on('closed', this.onClosed);
  }

  dispose(): void {
    this.session.off('update', this.onUpdate);
    this.session.off('resize', this.onResize);
    this.session.off('closed', this.onClosed);
    this.wake();
  }

  private record(rects: Rect[]): void {
    const time = Date.now();
    this.repaints.push({ time, rects });
    while (this.repaints.length > 0 && this.repaints[0].time < time - HISTORY_MS) this.repaints.shift();
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private throwIfClosed(): void {
    if (this.closed !== undefined) throw this.closed;
  }

  /** Whether anything inside `area` was repainted at or after `time`. */
  changedSince(time: number, area: Rect): boolean {
    return this.repaints.some((repaint) => repaint.time >= time && repaint.rects.some((rect) => intersects(rect, area)));
  }

  /** The last time `area` was repainted, or when watching started (before that, nothing is known). */
  lastChange(area: Rect): number {
    for (let i = this.repaints.length - 1; i >= 0; i--) {
      const repaint = this.repaints[i];
      if (repaint.time < this.started) break;
      if (repaint.rects.some((rect) => intersects(rect, area))) return repaint.time;
    }
    return this.started;
  }

  /** Resolves true once `area` changed at or after `since`, false at `deadline`. */
  async changed(area: Rect, since: number, deadline: number): Promise<boolean> {
    return this.until(() => this.changedSince(since, area), deadline);
  }

  /** Resolves true once `area` has not been repainted for `stillMs`, false at `deadline`. */
  async still(area: Rect, stillMs: number, deadline: number): Promise<boolean> {
    for (;;) {
      this.throwIfClosed();
      const quietUntil = this.lastChange(area) + stillMs;
      if (Date.now() >= quietUntil) return true;
      if (Date.now() >= deadline) return false;
      await this.sleepUntil(Math.min(quietUntil, deadline));
    }
  }

  /** Resolves after `ms`, or earlier at `deadline`; rejects when the session closes. */
  async pause(ms: number, deadline: number): Promise<void> {
    const end = Math.min(Date.now() + ms, deadline);
    while (Date.now() < end) {
      this.throwIfClosed();
      await this.sleepUntil(end, false);
    }
    this.throwIfClosed();
  }

  private async until(condition: () => boolean, deadline: number): Promise<boolean> {
    for (;;) {
      this.throwIfClosed();
      if (condition()) return true;
      if (Date.now() >= deadline) return false;
      await this.sleepUntil(deadline);
    }
  }

  /** Sleeps until `time`, or (when `wakeOnRepaint`) until the next repaint; always until a close. */
  private sleepUntil(time: number, wakeOnRepaint = true): Promise<void> {
    return new Promise((resolve) => {
      const waiter = () => {
        if (wakeOnRepaint || this.closed !== undefined) done();
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, time - Date.now()));
      this.waiters.add(waiter);
    });
  }
}
