/**
 * Records a VNC trace: per action its title, timing, outcome, the screen before and after, the
 * pointer, the points it acted on and the keys it typed (as the masked step title shows them),
 * plus a filmstrip of the screen sampled while it changed. `finish()` returns the trace file
 * (format.ts). The recorder only writes data; the viewer (viewer/) only reads it.
 */
import type { ActionDetail } from '../bridge/action-details.js';
import type { VNCAgentBridge } from '../bridge/bridge.js';
import type { Frame, Rect } from '../rfb/framebuffer.js';
import { FrameStore, type FramePurpose } from './frame-store.js';
import { framePath, TRACE_FORMAT, TRACE_JSON, TRACE_VERSION, type FrameId, type TraceAction, type TraceActionKind, type TraceFile, type TraceFilmstripFrame } from './format.js';
import { frameId } from './frame-id.js';
import { writeZip } from './zip.js';

export interface TraceRecorderOptions {
  /** The test's title, shown by the viewer. */
  title?: string;
  /** At most one filmstrip sample per this many ms while the screen changes. Default 250. */
  sampleIntervalMs?: number;
  /** Filmstrip samples kept at most. Default 120. */
  maxFilmstripFrames?: number;
  /** PNG bytes of filmstrip samples kept at most. Default 3 MB. */
  maxFilmstripBytes?: number;
  /** PNG bytes of before/after/matcher images kept at most; later actions are recorded without images. Default 100 MB. */
  maxActionBytes?: number;
  /** How long after an action its "after" screen is taken, unless the next action starts first. Default 500 ms. */
  settleMs?: number;
}

/** What a matcher reports when it is done. */
export interface ExpectationOutcome {
  pass: boolean;
  error?: string;
  expected?: Frame;
  actual?: Frame;
  diff?: Frame;
}

const DEFAULTS = { sampleIntervalMs: 250, maxFilmstripFrames: 120, maxFilmstripBytes: 3_000_000, maxActionBytes: 100_000_000, settleMs: 500 };

const IMPLICIT_GAP_MS = 250;

const ANSI = new RegExp(String.raw`\u001b\[[0-9;]*m`, 'g');

/** The message of a thrown value, without terminal colours. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(ANSI, '');
}

function kindOf(title: string): TraceActionKind {
  const part = /^(\w+)\./.exec(title)?.[1];
  if (part === 'screen' && /^screen\.waitFor/.test(title)) return 'wait';
  if (part === 'mouse' || part === 'keyboard' || part === 'scroll' || part === 'clipboard' || part === 'screen') return part;
  if (/^(?:\w+\.)?getBy/.test(title)) return 'locator';
  if (/^expect[.(]/.test(title)) return 'expect';
  return 'other';
}

/** `keyboard.type("hi")` → `"hi"`; `keyboard.type(***)` → `***`. */
function keysOf(title: string): string | undefined {
  return /^keyboard\.(?:type|press|down|up|hold)\((.*)\)$/s.exec(title)?.[1];
}

function copyRect(rect: Rect): Rect {
  return { x: rect.x, y: rect.y, width: rect.width, height: rect.height };
}

export class TraceRecorder {
  private readonly bridge: VNCAgentBridge;
  private readonly options: Required<Omit<TraceRecorderOptions, 'title'>>;
  private readonly title: string;
  private readonly store = new FrameStore();
  private readonly actions: TraceAction[] = [];
  private readonly open: TraceAction[] = [];
  private readonly implicit = new WeakSet<TraceAction>();
  private readonly filmstrip: TraceFilmstripFrame[] = [];
  private filmstripDropped = 0;
  private actionFramesDropped = 0;
  private startedAt = 0;
  private startedAtIso = '';
  private screen = { width: 0, height: 0 };
  private remote = '';
  private lastSample = 0;
  private sampleTimer: NodeJS.Timeout | undefined;
  private settling: { action: TraceAction; timer: NodeJS.Timeout } | undefined;
  private removeDetails: (() => void) | undefined;
  private listening = false;
  /** Counts screen updates; a capture at an unchanged count is the screen stored last. */
  private generation = 0;
  private lastShot: { generation: number; id: FrameId } | undefined;
  private readonly onUpdate = () => {
    this.generation++;
    this.sampleSoon();
  };
  private readonly onResize = () => {
    this.generation++;
  };

  constructor(bridge: VNCAgentBridge, options: TraceRecorderOptions = {}) {
    this.bridge = bridge;
    this.title = options.title ?? '';
    this.options = {
      sampleIntervalMs: options.sampleIntervalMs ?? DEFAULTS.sampleIntervalMs,
      maxFilmstripFrames: options.maxFilmstripFrames ?? DEFAULTS.maxFilmstripFrames,
      maxFilmstripBytes: options.maxFilmstripBytes ?? DEFAULTS.maxFilmstripBytes,
      maxActionBytes: options.maxActionBytes ?? DEFAULTS.maxActionBytes,
      settleMs: options.settleMs ?? DEFAULTS.settleMs,
    };
  }

  private now(): number {
    return Math.round((performance.now() - this.startedAt) * 10) / 10;
  }

  /** Starts recording: the first filmstrip frame now, then one per change (bounded). Call once connected. */
  start(): void {
    this.startedAt = performance.now();
    this.startedAtIso = new Date().toISOString();
    this.remote = this.bridge.remote;
    if (this.bridge.isConnected) {
      this.screen = { width: this.bridge.screen.width, height: this.bridge.screen.height };
      this.bridge.session().on('update', this.onUpdate);
      this.bridge.session().on('resize', this.onResize);
      this.listening = true;
    }
    this.removeDetails = this.bridge.actionDetails.on((detail) => this.onDetail(detail));
    this.sample();
  }

  /** Runs `body` as one recorded action titled `title`; its result or error passes through. */
  async action<T>(title: string, body: () => Promise<T>): Promise<T> {
    const action = this.begin(title, kindOf(title));
    this.open.push(action);
    try {
      return await body();
    } catch (error) {
      action.error = errorText(error);
      throw error;
    } finally {
      this.open.splice(this.open.lastIndexOf(action), 1);
      this.end(action);
    }
  }

  /** Starts recording a matcher call; call the returned function with its outcome. */
  expectation(title: string): (outcome: ExpectationOutcome) => void {
    const action = this.begin(title, 'expect');
    return (outcome) => {
      action.expectation = {
        pass: outcome.pass,
        expected: outcome.expected && this.keep(outcome.expected),
        actual: outcome.actual && this.keep(outcome.actual),
        diff: outcome.diff && this.keep(outcome.diff),
      };
      if (outcome.error !== undefined) action.error = outcome.error.replace(ANSI, '');
      this.end(action);
    };
  }

  private begin(title: string, kind: TraceActionKind): TraceAction {
    const justSettled = this.settleNow();
    const action: TraceAction = {
      id: this.actions.length + 1,
      parentId: this.open.at(-1)?.id,
      title,
      kind,
      start: this.now(),
      duration: 0,
      before: justSettled ?? this.snapshot('action'),
      pointerBefore: this.bridge.mouse.position,
      keys: keysOf(title),
      details: [],
    };
    if (action.parentId === undefined) delete action.parentId;
    if (action.keys === undefined) delete action.keys;
    this.actions.push(action);
    return action;
  }

  private end(action: TraceAction): void {
    action.duration = Math.round((this.now() - action.start) * 10) / 10;
    action.pointerAfter = this.bridge.mouse.position;
    this.settleNow();
    const timer = setTimeout(() => this.settleNow(), this.options.settleMs);
    timer.unref();
    this.settling = { action, timer };
  }

  /** Takes the "after" screen of the action settling, if any; returns its frame. */
  private settleNow(): FrameId | undefined {
    const settling = this.settling;
    if (!settling) return undefined;
    this.settling = undefined;
    clearTimeout(settling.timer);
    settling.action.after = this.snapshot('action');
    return settling.action.after;
  }

  private onDetail(detail: ActionDetail): void {
    const action = this.open.at(-1) ?? this.implicitAction(detail);
    action.details.push({
      at: this.now(),
      ...(detail.label !== undefined && { label: detail.label }),
      ...(detail.point && { point: { x: detail.point.x, y: detail.point.y } }),
      ...(detail.drag && { drag: { from: { ...detail.drag.from }, to: { ...detail.drag.to } } }),
      ...(detail.box && { box: copyRect(detail.box) }),
    });
    if (!this.open.includes(action)) this.end(action);
  }

  /**
   * An action for details reported outside any recorded action (a locator or program driving the
   * bridge directly): details in quick succession (IMPLICIT_GAP_MS) share one, titled by the first label.
   */
  private implicitAction(detail: ActionDetail): TraceAction {
    const last = this.actions.at(-1);
    const lastDetail = last?.details.at(-1);
    if (last && this.implicit.has(last) && lastDetail && this.now() - lastDetail.at <= IMPLICIT_GAP_MS) return last;
    const action = this.begin(detail.label ?? 'action', detail.box ? 'locator' : 'other');
    this.implicit.add(action);
    return action;
  }

  private capture(): Frame | undefined {
    if (!this.bridge.isConnected) return undefined;
    try {
      return this.bridge.screen.capture();
    } catch {
      return undefined;
    }
  }

  /**
   * The current screen, stored; undefined when disconnected or over the byte bound. With no
   * update since the last capture the screen is the one stored then: no copy, no hash.
   */
  private snapshot(purpose: FramePurpose): FrameId | undefined {
    const unchanged = this.unchangedShot();
    if (unchanged) return unchanged;
    const frame = this.capture();
    if (!frame) return undefined;
    const id = this.keep(frame, purpose);
    if (id) this.lastShot = { generation: this.generation, id };
    return id;
  }

  private unchangedShot(): FrameId | undefined {
    const last = this.lastShot;
    return this.listening && last && last.generation === this.generation && this.store.has(last.id) && this.bridge.isConnected ? last.id : undefined;
  }

  private keep(frame: Frame, purpose: FramePurpose = 'action'): FrameId | undefined {
    const id = frameId(frame);
    if (!this.store.has(id) && purpose === 'action' && this.store.estimatedBytes('action') >= this.options.maxActionBytes) {
      this.actionFramesDropped++;
      return undefined;
    }
    return this.store.addWithId(id, frame, purpose);
  }

  private sampleSoon(): void {
    if (this.sampleTimer) return;
    const wait = Math.max(0, this.lastSample + this.options.sampleIntervalMs - performance.now());
    this.sampleTimer = setTimeout(() => {
      this.sampleTimer = undefined;
      this.sample();
    }, wait);
    this.sampleTimer.unref();
  }

  private sample(): void {
    this.lastSample = performance.now();
    let id = this.unchangedShot();
    let frame: Frame | undefined;
    if (id === undefined) {
      frame = this.capture();
      if (!frame) return;
      id = frameId(frame);
    }
    if (this.filmstrip.at(-1)?.frame === id) return;
    const overCount = this.filmstrip.length >= this.options.maxFilmstripFrames;
    const overBytes = !this.store.has(id) && this.store.estimatedBytes('filmstrip') >= this.options.maxFilmstripBytes;
    if (overCount || overBytes) {
      this.filmstripDropped++;
      return;
    }
    if (frame) this.store.addWithId(id, frame, 'filmstrip');
    this.lastShot = { generation: this.generation, id };
    this.filmstrip.push({ at: this.now(), frame: id });
  }

  /** Stops listening to the bridge (idempotent). finish() calls it. */
  stop(): void {
    clearTimeout(this.sampleTimer);
    this.sampleTimer = undefined;
    this.removeDetails?.();
    this.removeDetails = undefined;
    if (this.listening && this.bridge.isConnected) {
      this.bridge.session().off('update', this.onUpdate);
      this.bridge.session().off('resize', this.onResize);
    }
    this.listening = false;
  }

  /** Ends the recording and returns the trace file (a zip, see format.ts). */
  async finish(outcome: { status?: string; error?: string } = {}): Promise<Buffer> {
    // Actions still running (the test timed out inside one) end here, saying so.
    for (const action of this.open.splice(0).reverse()) {
      action.error ??= 'The action was still running when the trace ended (did the test time out?).';
      this.end(action);
    }
    this.settleNow();
    this.sample();
    this.stop();
    const frames = await this.store.entries();
    const trace: TraceFile = {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      title: this.title,
      remote: this.remote,
      startedAt: this.startedAtIso,
      duration: this.now(),
      ...(outcome.status !== undefined && { status: outcome.status }),
      ...(outcome.error !== undefined && { error: outcome.error.replace(ANSI, '') }),
      screen: this.screen,
      actions: this.actions,
      filmstrip: this.filmstrip,
      frames: Object.fromEntries(frames.map(({ id, info }) => [id, info])),
      limits: {
        sampleIntervalMs: this.options.sampleIntervalMs,
        maxFilmstripFrames: this.options.maxFilmstripFrames,
        maxFilmstripBytes: this.options.maxFilmstripBytes,
        filmstripDropped: this.filmstripDropped,
        actionFramesDropped: this.actionFramesDropped,
      },
    };
    return writeZip([{ name: TRACE_JSON, body: Buffer.from(JSON.stringify(trace)) }, ...frames.map(({ id, png }) => ({ name: framePath(id), body: png }))]);
  }
}
