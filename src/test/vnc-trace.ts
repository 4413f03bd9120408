/**
 * `use: { vncTrace }` for the fixture: when to record a trace, when to keep it, and where it goes
 * (the test's output folder, attached by path so every reporter lists it), plus the matcher hook
 * that records `expect(vnc)` calls into the running trace.
 */
import { rm, writeFile } from 'node:fs/promises';
import type { ExpectMatcherState, MatcherReturnType, TestInfo } from '@playwright/test';
import type { VNCAgentBridge } from '../bridge/bridge.js';
import { encodePng } from '../bridge/png.js';
import { VNCConfigError } from '../errors.js';
import type { Frame } from '../rfb/framebuffer.js';
import { errorText, TraceRecorder } from '../trace/recorder.js';
import { renderTraceViewer } from '../trace/viewer/html.js';
import { describeArgument } from './steps.js';

/** Like Playwright's `trace` option. */
export type VncTraceMode = 'off' | 'on' | 'retain-on-failure' | 'on-first-retry' | 'on-all-retries' | 'retain-on-first-failure';

const MODES: readonly VncTraceMode[] = ['off', 'on', 'retain-on-failure', 'on-first-retry', 'on-all-retries', 'retain-on-first-failure'];

/** The trace file and its viewer, as named in the output folder and the report. */
export const TRACE_FILE = 'vnc-trace.zip';
export const TRACE_VIEWER_FILE = 'vnc-trace.html';

function checkMode(mode: unknown): VncTraceMode {
  if (MODES.includes(mode as VncTraceMode)) return mode as VncTraceMode;
  throw new VNCConfigError(`vncTrace ${JSON.stringify(mode)} is not a trace mode: use one of ${MODES.map((m) => `'${m}'`).join(', ')} in use: { vncTrace } of playwright.config.ts.`);
}

function records(mode: VncTraceMode, retry: number): boolean {
  if (mode === 'off') return false;
  if (mode === 'on-first-retry') return retry === 1;
  if (mode === 'on-all-retries') return retry > 0;
  if (mode === 'retain-on-first-failure') return retry === 0;
  return true;
}

function keeps(mode: VncTraceMode, failed: boolean): boolean {
  return mode === 'on' || mode === 'on-first-retry' || mode === 'on-all-retries' || failed;
}

const running = new WeakMap<object, TraceRecorder>();
const matcherImages = new WeakMap<object, { expected?: Frame; actual?: Frame; diff?: Frame }>();

/** The trace of one test under the fixture. */
export class FixtureTrace {
  private readonly recorder: TraceRecorder;
  private readonly mode: VncTraceMode;

  private constructor(recorder: TraceRecorder, mode: VncTraceMode) {
    this.recorder = recorder;
    this.mode = mode;
  }

  /** A trace for this test, or undefined when `mode` does not record this attempt. Call once connected. */
  static start(bridge: VNCAgentBridge, instrumented: VNCAgentBridge, mode: unknown, testInfo: TestInfo): FixtureTrace | undefined {
    const checked = checkMode(mode);
    if (!records(checked, testInfo.retry)) return undefined;
    const recorder = new TraceRecorder(bridge, { title: testInfo.titlePath.join(' › ') });
    running.set(instrumented, recorder);
    running.set(bridge, recorder);
    recorder.start();
    return new FixtureTrace(recorder, checked);
  }

  /** Runs an action's body, recorded. */
  action<T>(title: string, body: () => Promise<T>): Promise<T> {
    return this.recorder.action(title, body);
  }

  /**
   * Ends the trace; when kept, attaches vnc-trace.zip and its viewer vnc-trace.html by path, so
   * reporters list them. Playwright copies files attached by path into the output folder's
   * attachments/; the first copies are removed so each file is stored once.
   */
  async end(testInfo: TestInfo, failed: boolean): Promise<void> {
    const error = testInfo.errors.map((e) => e.message ?? e.value ?? '').filter(Boolean).join('\n\n');
    if (!keeps(this.mode, failed)) {
      this.recorder.stop();
      return;
    }
    const zip = await this.recorder.finish({ status: testInfo.status, ...(error && { error }) });
    const zipPath = testInfo.outputPath(TRACE_FILE);
    const htmlPath = testInfo.outputPath(TRACE_VIEWER_FILE);
    await writeFile(zipPath, zip);
    await writeFile(htmlPath, renderTraceViewer(zip));
    await testInfo.attach('vnc-trace', { path: zipPath, contentType: 'application/zip' });
    await testInfo.attach(TRACE_VIEWER_FILE, { path: htmlPath, contentType: 'text/html' });
    await Promise.all([rm(zipPath), rm(htmlPath)]);
  }
}

/** Writes the screen into the output folder as screen-on-failure.png and attaches it by path. */
export async function saveScreenOnFailure(bridge: VNCAgentBridge, testInfo: TestInfo): Promise<void> {
  if (!bridge.isConnected) return;
  const path = testInfo.outputPath('screen-on-failure.png');
  await writeFile(path, encodePng(bridge.screen.capture()));
  await testInfo.attach('screen-on-failure.png', { path, contentType: 'image/png' });
}

/** For toHaveScreen: the images it compared, so the trace shows them next to the step. */
export function noteMatcherImages(vnc: unknown, images: { expected?: Frame; actual?: Frame; diff?: Frame }): void {
  if (typeof vnc === 'object' && vnc !== null && running.has(vnc)) matcherImages.set(vnc, images);
}

type Matcher = (this: ExpectMatcherState, received: unknown, ...args: never[]) => Promise<MatcherReturnType>;

/** Matcher arguments shown in the trace; clipboard text may be secret and is never shown. */
const SHOWN_ARGUMENTS: Record<string, number> = { toHaveScreen: 1, toShowImage: 1, toShowText: 1 };

/** Wraps matchers so that each call on a traced `vnc` is recorded: title, outcome, images. */
export function traceMatchers<T extends Record<string, Matcher>>(matchers: T): T {
  const wrapped: Record<string, Matcher> = {};
  for (const [name, matcher] of Object.entries(matchers)) {
    wrapped[name] = async function (this: ExpectMatcherState, received: unknown, ...args: never[]) {
      const recorder = typeof received === 'object' && received !== null ? running.get(received) : undefined;
      if (!recorder) return matcher.call(this, received, ...args);
      const shown = args.slice(0, SHOWN_ARGUMENTS[name] ?? 0).map(describeArgument).join(', ');
      const done = recorder.expectation(`expect${this.isNot ? '.not' : ''}.${name}(${shown})`);
      matcherImages.delete(received as object);
      try {
        const result = await matcher.call(this, received, ...args);
        const pass = result.pass !== this.isNot;
        const error = pass ? undefined : name in SHOWN_ARGUMENTS ? result.message() : `${name} failed (its text is not recorded: clipboard text may be secret).`;
        done({ pass, ...(error !== undefined && { error }), ...matcherImages.get(received as object) });
        return result;
      } catch (error) {
        done({ pass: false, error: errorText(error) });
        throw error;
      } finally {
        matcherImages.delete(received as object);
      }
    };
  }
  return wrapped as T;
}
