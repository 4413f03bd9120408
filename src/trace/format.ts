/**
 * The VNC trace file format (version 1): what the recorder writes and the only thing the viewer
 * reads. A trace is a zip archive (stored entries, see zip.ts) holding:
 *
 *   trace.json          one TraceFile (below), UTF-8 JSON
 *   frames/<id>.png     every screen image the trace refers to, lossless RGB PNG at full
 *                       resolution; <id> is the SHA-1 of the frame's size and RGBA pixels, so a
 *                       screen seen twice is stored once
 *
 * Times are milliseconds since the trace started (`startedAt`). Coordinates are screen pixels.
 * Text typed with `{ secret: true }` and clipboard text appear as `***`; nothing secret is stored.
 */

export const TRACE_FORMAT = 'vnc-agent-trace';
export const TRACE_VERSION = 1;
export const TRACE_JSON = 'trace.json';
export const FRAMES_FOLDER = 'frames/';

export interface TracePoint {
  x: number;
  y: number;
}

export interface TraceRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A screen image: the entry `frames/<id>.png`. */
export type FrameId = string;

/** One thing an action did, as the bridge reported it (a pointer point, a drag, a locator's box). */
export interface TraceDetail {
  at: number;
  label?: string;
  point?: TracePoint;
  drag?: { from: TracePoint; to: TracePoint };
  box?: TraceRect;
}

/** What a matcher compared: baseline, screen and diff images, or a message. */
export interface TraceExpectation {
  /** Whether the matcher passed (for `.not`, whether the negated check passed). */
  pass: boolean;
  expected?: FrameId;
  actual?: FrameId;
  diff?: FrameId;
}

/** `wait` is `screen.waitFor…`; `expect` a matcher; `locator` a `getBy…` call. */
export type TraceActionKind = 'mouse' | 'keyboard' | 'scroll' | 'clipboard' | 'screen' | 'wait' | 'locator' | 'expect' | 'other';

/**
 * One bridge action or matcher call. Pointer points and locator boxes reported while no action
 * was being recorded (a locator or program driving the bridge directly) make an action of their
 * own, titled by the first detail's label.
 */
export interface TraceAction {
  /** 1, 2, 3 … in the order actions started. */
  id: number;
  /** The action that was running when this one started (e.g. inside `keyboard.hold`). */
  parentId?: number;
  /** The step title, as in Playwright's report: `mouse.click(120, 80)`, `keyboard.type(***)`. */
  title: string;
  kind: TraceActionKind;
  start: number;
  duration: number;
  /** The error message when the action failed. */
  error?: string;
  /** The screen when the action started. */
  before?: FrameId;
  /** The screen once the action's effects arrived: at the next action or 0.5 s after the end, whichever came first. */
  after?: FrameId;
  /** Where this client had put the pointer when the action started and ended ((0, 0) until it first moved it). */
  pointerBefore?: TracePoint;
  pointerAfter?: TracePoint;
  /** Keys typed or pressed, as the step title shows them (`***` for secret text). */
  keys?: string;
  /** Pointer points, drags and locator boxes the action reported, in order. */
  details: TraceDetail[];
  expectation?: TraceExpectation;
}

export interface TraceFilmstripFrame {
  at: number;
  frame: FrameId;
}

export interface TraceFrameInfo {
  width: number;
  height: number;
  /** Size of the PNG entry. */
  bytes: number;
}

export interface TraceFile {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  /** The test's title path, e.g. `login.spec.ts › logs in`. */
  title: string;
  /** Where the bridge was connected, without credentials. */
  remote: string;
  /** ISO 8601 wall-clock time the trace started. */
  startedAt: string;
  duration: number;
  /** The test's outcome and error, when it ran under the Playwright fixture. */
  status?: string;
  error?: string;
  /** The screen size when the trace started. */
  screen: { width: number; height: number };
  actions: TraceAction[];
  /** Screens sampled while the screen changed (at most one every `sampleIntervalMs`), de-duplicated. */
  filmstrip: TraceFilmstripFrame[];
  frames: Record<FrameId, TraceFrameInfo>;
  limits: {
    sampleIntervalMs: number;
    maxFilmstripFrames: number;
    maxFilmstripBytes: number;
    /** Filmstrip samples left out because a bound was reached. */
    filmstripDropped: number;
    /** Action images left out because the trace reached its byte bound. */
    actionFramesDropped: number;
  };
}

/** The zip entry name of a frame. */
export function framePath(id: FrameId): string {
  return `${FRAMES_FOLDER}${id}.png`;
}
