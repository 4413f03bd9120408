import type { RFBClient } from '../../rfb/client.js';
import { intersects, type Rect } from '../../rfb/framebuffer.js';

/** How long repaints are remembered; older history is summarised as "something may have changed". */
const HISTORY_MS = 10_000;
const WHOLE_SCREEN: Rect = { x: 0, y: 0, width: Number.MAX_SAFE_INTEGER, height: Number.MAX_SAFE_INTEGER };

/**
 * Which parts of one session's screen were repainted when, from the first locator use on that
 * session until it closes: so an action on a target that has long been still need not wait to see
 * it still, and a picture search can be reused while nothing repainted where it looked.
 */
export class DamageLog {
  /** Since when repaints are known: before that, nothing is. */
  readonly started = Date.now();
  private readonly repaints: { time: number; rects: Rect[] }[] = [];
  /** Repaints before this time were dropped from the history. */
  private forgottenBefore = 0;
  private readonly listeners = new Set<() => void>();

  constructor(session: RFBClient) {
    const onUpdate = (rects: Rect[]) => this.record(rects);
    const onResize = () => this.record([WHOLE_SCREEN]);
    session.on('update', onUpdate);
    session.on('resize', onResize);
    session.once('closed', () => {
      session.off('update', onUpdate);
      session.off('resize', onResize);
      logs.delete(session);
    });
  }

  private record(rects: Rect[]): void {
    const time = Date.now();
    this.repaints.push({ time, rects });
    while (this.repaints.length > 0 && this.repaints[0].time < time - HISTORY_MS) {
      this.forgottenBefore = this.repaints.shift()!.time + 1;
    }
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` after every repaint until the returned function is called. */
  onRepaint(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether anything inside `area` was (or, past the history kept, may have been) repainted at or after `time`. */
  changedSince(time: number, area: Rect): boolean {
    if (time < this.started || time < this.forgottenBefore) return true;
    return this.repaints.some((repaint) => repaint.time >= time && repaint.rects.some((rect) => intersects(rect, area)));
  }

  /** The last time `area` was repainted as far as known: at the latest when the log started. */
  lastChange(area: Rect): number {
    for (let i = this.repaints.length - 1; i >= 0; i--) {
      const repaint = this.repaints[i];
      if (repaint.rects.some((rect) => intersects(rect, area))) return repaint.time;
    }
    return Math.max(this.started, this.forgottenBefore);
  }
}

const logs = new WeakMap<RFBClient, DamageLog>();

/** The session's damage log, started on first use. */
export function damageLog(session: RFBClient): DamageLog {
  let log = logs.get(session);
  if (!log) {
    log = new DamageLog(session);
    logs.set(session, log);
  }
  return log;
}
