/**
 * The trace format, recorder and viewer page without a server: the zip container (checked by
 * Python's zipfile too), reading traces back with clear errors, and the recorder's rules —
 * actions with their details and errors, de-duplicated and bounded filmstrip and images, the
 * "after" screen — on a stand-in bridge whose screen the test sets. The real thing, end to end
 * against Xvnc and in Chromium, is specs/e2e/trace.spec.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { expect, test } from '@playwright/test';
import { ActionDetails } from '../../src/bridge/action-details.js';
import type { VNCAgentBridge } from '../../src/bridge/bridge.js';
import { decodePng } from '../../src/bridge/png.js';
import { VNCInputError } from '../../src/errors.js';
import type { Frame } from '../../src/rfb/framebuffer.js';
import { readTrace, renderTraceViewer, TraceRecorder, type TraceRecorderOptions } from '../../src/trace/index.js';
import { readZip, writeZip } from '../../src/trace/zip.js';

/** A screen of one colour with a stripe at `stripe`, so frames differ. */
function screenOf(stripe: number, width = 64, height = 40): Frame {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const on = x === stripe % width;
      data[i] = on ? 255 : 32;
      data[i + 1] = on ? 255 : 64;
      data[i + 2] = (x * 7 + y * 3) & 0xff;
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

/** What the recorder uses of a bridge: screen, session events, action details, pointer. */
function standIn() {
  const session = new EventEmitter();
  const details = new ActionDetails();
  const state = { frame: screenOf(0), pointer: { x: 0, y: 0 } };
  const bridge = {
    isConnected: true,
    remote: '127.0.0.1:5999',
    actionDetails: details,
    session: () => session,
    screen: {
      get width() {
        return state.frame.width;
      },
      get height() {
        return state.frame.height;
      },
      capture: () => ({ ...state.frame, data: Buffer.from(state.frame.data) }),
    },
    mouse: {
      get position() {
        return { ...state.pointer };
      },
    },
  };
  return {
    bridge: bridge as unknown as VNCAgentBridge,
    details,
    state,
    /** Shows `frame` and tells the recorder the screen changed. */
    show(frame: Frame) {
      state.frame = frame;
      session.emit('update', [{ x: 0, y: 0, width: frame.width, height: frame.height }]);
    },
  };
}

function recorder(bridge: VNCAgentBridge, options: TraceRecorderOptions = {}): TraceRecorder {
  const r = new TraceRecorder(bridge, { sampleIntervalMs: 0, settleMs: 10_000, ...options });
  r.start();
  return r;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

test.describe('the zip container', () => {
  test('entries come back byte for byte, and standard zip tools read it (CRCs, sizes, UTF-8 names)', () => {
    const entries = [
      { name: 'trace.json', body: Buffer.from('{"a":1}') },
      { name: 'frames/ü.png', body: Buffer.from([0, 1, 2, 255]) },
      { name: 'empty', body: Buffer.alloc(0) },
    ];
    const zip = writeZip(entries);
    expect(readZip(zip).map((e) => [e.name, e.body.toString('hex')])).toEqual(entries.map((e) => [e.name, e.body.toString('hex')]));
    const dir = mkdtempSync(join(tmpdir(), 'vnc-zip-'));
    try {
      writeFileSync(join(dir, 't.zip'), zip);
      const check = 'import zipfile,sys,json; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps([[i.filename, i.file_size, z.read(i).hex()] for i in z.infolist()]))';
      const listed = JSON.parse(execFileSync('python3', ['-c', check, join(dir, 't.zip')], { encoding: 'utf8' })) as unknown;
      expect(listed).toEqual(entries.map((e) => [e.name, e.body.length, e.body.toString('hex')]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('what is not a trace is refused with what is wrong and what to pass', () => {
    expect(() => readTrace(Buffer.from('hello, not a zip'))).toThrow(VNCInputError);
    expect(() => readTrace(Buffer.from('hello, not a zip'))).toThrow(/not a VNC trace \(no zip directory found\)\. Pass the vnc-trace\.zip/);
    expect(() => readTrace(writeZip([{ name: 'other.txt', body: Buffer.from('x') }]))).toThrow('it has no trace.json');
    expect(() => readTrace(writeZip([{ name: 'trace.json', body: Buffer.from('{') }]))).toThrow(/not valid JSON/);
    expect(() => readTrace(writeZip([{ name: 'trace.json', body: Buffer.from('{"format":"x"}') }]))).toThrow('does not say format "vnc-agent-trace"');
    expect(() => readTrace(writeZip([{ name: 'trace.json', body: Buffer.from('{"format":"vnc-agent-trace","version":2}') }]))).toThrow(
      'This trace is format version 2; this vnc-agent-bridge reads version 1',
    );
    const zip = writeZip([{ name: 'trace.json', body: Buffer.from('{}') }]);
    expect(() => readTrace(zip.subarray(0, zip.length - 30))).toThrow(/not a VNC trace/);
  });
});

test.describe('the recorder', () => {
  test('records each action: title, kind, keys, timing, pointer, details, nesting, and errors that pass through', async () => {
    const { bridge, details, state } = standIn();
    const r = recorder(bridge);
    await r.action('mouse.click(10, 20)', async () => {
      state.pointer = { x: 10, y: 20 };
      details.emit({ point: { x: 10, y: 20 }, label: 'click left' });
    });
    await r.action('keyboard.type(***)', async () => undefined);
    await r.action('keyboard.hold("shift", ƒ)', () => r.action('keyboard.press("a")', async () => undefined));
    const failure = new VNCInputError('\u001b[31mUnknown key "nope"\u001b[39m: use a key name.');
    await expect(r.action('keyboard.press("nope")', () => Promise.reject(failure))).rejects.toBe(failure);
    await r.action('screen.waitForStable()', async () => undefined);
    // Reported outside any recorded action (a locator driving the bridge itself): one action of its own.
    details.emit({ box: { x: 5, y: 6, width: 30, height: 10 }, point: { x: 20, y: 11 }, label: 'getByText("Save")' });
    details.emit({ point: { x: 20, y: 11 }, label: 'click left' });
    const { trace } = readTrace(await r.finish({ status: 'failed', error: 'boom' }));
    expect(trace.actions.map((a) => [a.id, a.parentId, a.title, a.kind, a.keys])).toEqual([
      [1, undefined, 'mouse.click(10, 20)', 'mouse', undefined],
      [2, undefined, 'keyboard.type(***)', 'keyboard', '***'],
      [3, undefined, 'keyboard.hold("shift", ƒ)', 'keyboard', '"shift", ƒ'],
      [4, 3, 'keyboard.press("a")', 'keyboard', '"a"'],
      [5, undefined, 'keyboard.press("nope")', 'keyboard', '"nope"'],
      [6, undefined, 'screen.waitForStable()', 'wait', undefined],
      [7, undefined, 'getByText("Save")', 'locator', undefined],
    ]);
    expect(trace.actions[0]).toMatchObject({ pointerBefore: { x: 0, y: 0 }, pointerAfter: { x: 10, y: 20 }, details: [{ point: { x: 10, y: 20 }, label: 'click left' }] });
    expect(trace.actions[4].error).toBe('Unknown key "nope": use a key name.');
    expect(trace.actions[6].details.map((d) => d.label)).toEqual(['getByText("Save")', 'click left']);
    expect(trace.actions[6].details[0].box).toEqual({ x: 5, y: 6, width: 30, height: 10 });
    expect(trace.actions.flatMap((a) => a.details)).toHaveLength(3);
    expect(trace).toMatchObject({ status: 'failed', error: 'boom', remote: '127.0.0.1:5999', screen: { width: 64, height: 40 } });
    for (const a of trace.actions) expect(a.start + a.duration).toBeLessThanOrEqual(trace.duration);
  });

  test('images are lossless PNGs of the screen, stored once however often they are seen', async () => {
    const { bridge, show } = standIn();
    const r = recorder(bridge);
    await r.action('mouse.move(1, 1)', async () => undefined);
    await r.action('mouse.move(2, 2)', async () => show(screenOf(5)));
    await r.action('mouse.move(3, 3)', async () => undefined);
    const { trace, frames } = readTrace(await r.finish());
    const [a, b, c] = trace.actions;
    // "after" is the screen when the next action starts (it came before settleMs).
    expect(a.before).toBe(a.after);
    expect(b.before).toBe(a.after);
    expect(b.after).not.toBe(b.before);
    expect(c.before).toBe(b.after);
    expect(frames.size).toBe(2);
    expect(Object.keys(trace.frames).sort()).toEqual([...frames.keys()].sort());
    expect(decodePng(frames.get(b.before!)!).data.equals(screenOf(0).data)).toBe(true);
    expect(decodePng(frames.get(b.after!)!).data.equals(screenOf(5).data)).toBe(true);
    expect(trace.frames[b.after!]).toEqual({ width: 64, height: 40, bytes: frames.get(b.after!)!.length });
  });

  test('"after" is taken settleMs after the action when nothing else happens', async () => {
    const { bridge, show } = standIn();
    const r = recorder(bridge, { settleMs: 30 });
    await r.action('mouse.click(1, 1)', async () => undefined);
    show(screenOf(9)); // the server's answer arrives after the action returned
    await new Promise((resolve) => setTimeout(resolve, 80));
    show(screenOf(10)); // later changes are not this action's
    const { trace, frames } = readTrace(await r.finish());
    expect(decodePng(frames.get(trace.actions[0].after!)!).data.equals(screenOf(9).data)).toBe(true);
  });

  test('the filmstrip samples changes, skips repeats, and stops at its count and byte bounds', async () => {
    const { bridge, show } = standIn();
    const r = recorder(bridge, { maxFilmstripFrames: 4 });
    for (const stripe of [1, 1, 2, 2, 2, 3, 4, 5, 6]) {
      show(screenOf(stripe));
      await tick();
    }
    const { trace } = readTrace(await r.finish());
    const ids = trace.filmstrip.map((f) => f.frame);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    expect(trace.limits.filmstripDropped).toBeGreaterThanOrEqual(3);

    const small = standIn();
    const bounded = recorder(small.bridge, { maxFilmstripBytes: 1 });
    await tick();
    for (const stripe of [1, 2, 3]) {
      small.show(screenOf(stripe));
      await tick();
    }
    const { trace: limited } = readTrace(await bounded.finish());
    expect(limited.filmstrip).toHaveLength(1);
    expect(limited.limits.filmstripDropped).toBeGreaterThanOrEqual(3);
  });

  test('past maxActionBytes, actions are still recorded, without images, and the drop is counted', async () => {
    const { bridge, show } = standIn();
    // No filmstrip samples in between: a screen the filmstrip already stored costs an action nothing.
    const r = recorder(bridge, { maxActionBytes: 1, sampleIntervalMs: 60_000 });
    await r.action('mouse.move(1, 1)', async () => show(screenOf(50)));
    await r.action('mouse.move(2, 2)', async () => undefined); // takes the first one's "after": the first action image
    await tick();
    for (const stripe of [1, 2, 3]) await r.action(`mouse.move(${stripe}, 0)`, async () => show(screenOf(stripe + 20)));
    const { trace } = readTrace(await r.finish());
    expect(trace.actions).toHaveLength(5);
    expect(trace.actions[0].after).toBeTruthy();
    expect(trace.actions.slice(2).map((a) => a.after)).toEqual([undefined, undefined, undefined]);
    expect(trace.limits.actionFramesDropped).toBeGreaterThanOrEqual(3);
  });

  test('an action still running when the trace ends (a test timeout) is ended, saying so', async () => {
    const { bridge } = standIn();
    const r = recorder(bridge);
    void r.action('screen.waitForChange()', () => new Promise(() => undefined));
    await tick();
    const { trace } = readTrace(await r.finish({ status: 'timedOut' }));
    expect(trace.actions[0]).toMatchObject({ title: 'screen.waitForChange()', error: expect.stringContaining('still running when the trace ended') });
    expect(trace.actions[0].duration).toBeGreaterThan(0);
    expect(trace.actions[0].after).toBeTruthy();
  });

  test('matcher calls carry expected, actual and diff images', async () => {
    const { bridge } = standIn();
    const r = recorder(bridge);
    const done = r.expectation('expect.toHaveScreen("login.png")');
    done({ pass: false, error: 'The screen did not match', expected: screenOf(1), actual: screenOf(2), diff: screenOf(3) });
    const { trace, frames } = readTrace(await r.finish());
    const [action] = trace.actions;
    expect(action).toMatchObject({ kind: 'expect', error: 'The screen did not match', expectation: { pass: false } });
    for (const [key, stripe] of [['expected', 1], ['actual', 2], ['diff', 3]] as const) {
      expect(decodePng(frames.get(action.expectation![key]!)!).data.equals(screenOf(stripe).data), key).toBe(true);
    }
  });
});

test.describe('the viewer page', () => {
  test('is one self-contained file: nothing to fetch, a policy that forbids fetching, the title escaped', async () => {
    const { bridge } = standIn();
    const r = new TraceRecorder(bridge, { title: 'a </title><script>alert(1)</script> test' });
    r.start();
    await r.action('mouse.click(1, 2)', async () => undefined);
    const zip = await r.finish();
    const html = renderTraceViewer(zip);
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?(?:https?:|\/\/)/i);
    expect(html.replace('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    expect(html).toContain('a &lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; test — VNC trace');
    expect(html.match(/<script/g)).toHaveLength(2);
    const embedded = /<script type="application\/octet-stream" id="vnc-trace-data">([A-Za-z0-9+/=]+)<\/script>/.exec(html)?.[1];
    expect(Buffer.from(embedded!, 'base64').equals(zip)).toBe(true);
    expect(() => renderTraceViewer(Buffer.from('not a trace'))).toThrow(VNCInputError);
  });
});
