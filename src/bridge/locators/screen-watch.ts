import { VNCStateError } from '../../errors.js';
import type { RFBClient } from '../../rfb/client.js';
import type { Rect } from '../../rfb/framebuffer.js';
import { damageLog, type DamageLog } from './damage-log.js';

/**
 * One wait's view of the screen's repaints (history from the session's DamageLog): "did this area
 * change since t", "has it been still for a while", and sleeps that end at the next repaint, at a
 * deadline, or when the session closes.
 */
export class ScreenWatch {
  private readonly session: RFBClient;
  private readonly log: DamageLog;
  private readonly waiters = new Set<() => void>();
  private closed: unknown;
  private readonly stopListening: () => void;
  private readonly onClosed = (error: unknown) => {
    this.closed = error ?? new VNCStateError('The bridge was disconnected while a locator was waiting.');
    this.wake();
  };

  constructor(session: RFBClient) {
    this.session = session;
    this.log = damageLog(session);
    this.stopListening = this.log.onRepaint(() => this.wake());
    session.on('closed', this.onClosed);
  }

  dispose(): void {
    this.stopListening();
    this.session.off('closed', this.onClosed);
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
    return this.log.changedSince(time, area);
  }

  /** Resolves true once `area` changed at or after `since`, false at `deadline`. */
  async changed(area: Rect, since: number, deadline: number): Promise<boolean> {
    for (;;) {
      this.throwIfClosed();
      if (this.changedSince(since, area)) return true;
      if (Date.now() >= deadline) return false;
      await this.sleepUntil(deadline);
    }
  }

  /**
   * Resolves true once `area` has not been repainted for `stillMs`, counted from `from` at the
   * earliest, false at `deadline`. Counting from now (the default) means really watching for that
   * long: repaints still queued on the socket while a long look kept the thread busy get recorded
   * before the answer, so a target that moved during the look is not taken for still.
   */
  async still(area: Rect, stillMs: number, deadline: number, from = Date.now()): Promise<boolean> {
    for (;;) {
      this.throwIfClosed();
      const quietUntil = Math.max(this.log.lastChange(area), from) + stillMs;
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
