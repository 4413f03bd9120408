/**
 * Reading text from real screens: an Xvnc desktop with xterms in two fonts, GTK dialogs (light and
 * dark) and an Athena xmessage (specs/support/text-screens.ts, where the X server says where each
 * word is drawn), and QEMU's SeaBIOS text console. Also: the connection keeps receiving updates
 * while a 1080p recognition runs, the engine is neither loaded nor fetched from the network by a
 * user who never reads text, and a plugged-in engine is used instead of the default.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VNCAgentBridge, VNCInputError, VNCTimeoutError, type OcrEngine, type OcrImage, type OcrReadOptions, type OcrWord, type ScreenWord } from '../../src/index.js';
import { test as base, expect } from '../support/fixtures.js';
import { startProcess, stopProcess } from '../support/processes.js';
import { showKnownText, standardScreens, type Box, type KnownWord, type ShownWindow } from '../support/text-screens.js';
import { startXvnc, type XvncServer } from '../support/xvnc.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Desktop {
  server: XvncServer;
  windows: Map<string, ShownWindow>;
}

const test = base.extend<{}, { desktop: Desktop }>({
  desktop: [
    async ({}, use) => {
      const server = await startXvnc({ geometry: '1920x1080' });
      const windows = new Map<string, ShownWindow>();
      try {
        for (const { name, screen } of standardScreens(server)) windows.set(name, await showKnownText(server, screen));
        await use({ server, windows });
      } finally {
        for (const window of windows.values()) await window.stop();
        await server.stop();
      }
    },
    { scope: 'worker', timeout: 600_000 },
  ],
});

test.describe.configure({ timeout: 180_000 });

function centre(box: Box): { x: number; y: number } {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

function inside(point: { x: number; y: number }, box: Box, slack = 2): boolean {
  return point.x >= box.x - slack && point.x <= box.x + box.width + slack && point.y >= box.y - slack && point.y <= box.y + box.height + slack;
}

/** The words read whose text contains the known word and whose middle is where the X server drew it. */
function readAt(words: readonly ScreenWord[], known: KnownWord): ScreenWord[] {
  return words.filter((w) => w.text.toLowerCase().includes(known.text.toLowerCase()) && inside(centre(w.box), known.box));
}

let vnc: VNCAgentBridge;

test.beforeAll(async ({ desktop }) => {
  vnc = await new VNCAgentBridge({ host: desktop.server.host, port: desktop.server.port, timeoutMs: 120_000 }).connect();
  await vnc.screen.waitForStable({ stillMs: 300 });
});

test.afterAll(async () => {
  await vnc?.disconnect();
});

test('the anti-aliased xterm lines are read exactly, in order; the bitmap-font words at least 90 % where drawn', async ({ desktop }) => {
  const dejavu = desktop.windows.get('xterm (DejaVu Sans Mono 14)')!;
  const text = await vnc.screen.text({ region: dejavu.geometry });
  expect(text).toBe(['Build finished: 17 passed, 2 failed', 'Press Enter to continue', 'Settings saved to config.yaml'].join('\n'));

  const fixed = desktop.windows.get('xterm (fixed 6x13)')!;
  const lines = (await vnc.screen.text({ region: fixed.geometry })).split('\n');
  expect(lines).toHaveLength(4);
  expect(lines[0]).toBe('hello world from xterm');
  expect(lines[3]).toBe('The quick brown fox jumps over the lazy dog');
  // The 6×13 bitmap font is the hardest text here (measured 91–96 % in the bench): at most 2 of its 23 words missed.
  const words = await vnc.screen.words({ region: fixed.geometry });
  const missed = fixed.words.filter((known) => readAt(words, known).length === 0).map((k) => k.text);
  expect(missed.length, `missed: ${missed.join(', ')}`).toBeLessThanOrEqual(2);
});

test('GTK and Athena button labels are read inside the buttons the X server drew', async ({ desktop }) => {
  const words = await vnc.screen.words();
  const names = ['GTK question', 'GTK entry', 'GTK list (dark theme)', 'GTK question (dark theme)', 'GTK coloured buttons', 'Athena xmessage', 'Athena xmessage (four buttons)'];
  for (const name of names) {
    const window = desktop.windows.get(name)!;
    for (const label of window.words.filter((w) => w.button)) {
      expect(readAt(words, label), `${name}: '${label.text}' at ${JSON.stringify(label.box)}`).toHaveLength(1);
    }
  }
  // And the dialogs' sentences, word for word, in reading order.
  const question = await vnc.screen.text({ region: desktop.windows.get('GTK question')!.geometry });
  expect(question).toBe('Do you want to save the changes to report.txt?\nDiscard Save');
  const list = await vnc.screen.text({ region: desktop.windows.get('GTK list (dark theme)')!.geometry });
  expect(list.split('\n').slice(1, 5)).toEqual(['Colour Code', 'Yellow 1001', 'Purple 2002', 'Orange 3003']);
});

test('a word is reported with its box, confidence and line; a second read of a still screen returns the same', async ({ desktop }) => {
  const entry = desktop.windows.get('GTK entry')!;
  const first = await vnc.screen.words({ region: entry.geometry });
  const again = await vnc.screen.words({ region: entry.geometry });
  expect(again).toEqual(first);
  const ok = first.find((w) => w.text === 'OK')!;
  expect(ok).toBeTruthy();
  expect(ok.confidence).toBeGreaterThan(50);
  expect(inside(centre(ok.box), entry.words.find((w) => w.text === 'OK')!.box)).toBe(true);
  expect(first.filter((w) => w.line === ok.line).map((w) => w.text)).toEqual(['Cancel', 'OK']);
});

test('text read after a window changes is the new text', async ({ desktop }) => {
  const fixed = desktop.windows.get('xterm (fixed 6x13)')!;
  const before = await vnc.screen.text();
  expect(before).toContain('hello world from xterm');
  await fixed.stop();
  await vnc.screen.waitForStable({ stillMs: 300 });
  const after = await vnc.screen.text();
  expect(after).not.toContain('hello world');
  expect(after).toContain('Press Enter to continue');
  desktop.windows.delete('xterm (fixed 6x13)');
});

test('a region outside the screen is a VNCInputError naming the screen size', async () => {
  await expect(vnc.screen.text({ region: { x: 1900, y: 0, width: 100, height: 10 } })).rejects.toThrow(VNCInputError);
  await expect(vnc.screen.words({ region: { x: 0, y: 0, width: 0, height: 10 } })).rejects.toThrow(/1920x1080 screen/);
});

test('a read that cannot finish within timeoutMs is a VNCTimeoutError that says what to do', async ({ desktop }) => {
  const fresh = await new VNCAgentBridge({ host: desktop.server.host, port: desktop.server.port }).connect();
  try {
    const error = await fresh.screen.text({ timeoutMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VNCTimeoutError);
    expect((error as Error).message).toMatch(/longer than 1 ms.*larger timeoutMs/);
  } finally {
    await fresh.disconnect();
  }
});

test('updates keep arriving while a 1080p recognition runs (the engine works off the main thread)', async ({ desktop }) => {
  const busy = startProcess('xterm', ['-geometry', '40x5+1500+700', '-e', 'sh', '-c', 'while :; do date +%s%N; sleep 0.02; done'], { env: desktop.server.env });
  const reader = await new VNCAgentBridge({ host: desktop.server.host, port: desktop.server.port, timeoutMs: 120_000 }).connect();
  try {
    await reader.screen.waitForChange(undefined, { timeoutMs: 10_000 });
    await reader.screen.text({ region: { x: 0, y: 0, width: 64, height: 64 } }); // loads the engine
    let updates = 0;
    let ticks = 0;
    const onUpdate = () => updates++;
    const ticker = setInterval(() => ticks++, 10);
    reader.session().on('update', onUpdate);
    let done = false;
    const reading = reader.screen.text().finally(() => (done = true));
    // Count what arrives while the recognition is still running.
    let updatesDuring = 0;
    let ticksDuring = 0;
    while (!done) {
      await new Promise((r) => setTimeout(r, 20));
      if (!done) {
        updatesDuring = updates;
        ticksDuring = ticks;
      }
    }
    clearInterval(ticker);
    reader.session().off('update', onUpdate);
    const text = await reading;
    expect(text).toContain('Press Enter to continue');
    expect(updatesDuring).toBeGreaterThanOrEqual(5);
    expect(ticksDuring).toBeGreaterThanOrEqual(5);
  } finally {
    await reader.disconnect();
    await stopProcess(busy, 3000);
  }
});

test('an engine passed as `ocr` is used instead of tesseract.js: it is given the stacked text areas and its words come back in screen coordinates', async ({ desktop }) => {
  const calls: { width: number; height: number; layout?: OcrReadOptions['layout'] }[] = [];
  const engine: OcrEngine = {
    name: 'fake',
    async read(image: OcrImage, options: OcrReadOptions = {}): Promise<OcrWord[]> {
      calls.push({ width: image.width, height: image.height, layout: options.layout });
      return [{ text: 'FAKE', line: 0, confidence: 99, box: { x: 16, y: 16, width: 40, height: 10 } }];
    },
    async close() {},
  };
  const other = await new VNCAgentBridge({ host: desktop.server.host, port: desktop.server.port, ocr: engine }).connect();
  try {
    const entry = desktop.windows.get('GTK entry')!.geometry;
    const words = await other.screen.words({ region: entry });
    expect(calls).toHaveLength(1);
    expect(calls[0].layout).toBe('lines');
    // The engine's word at (16, 16) of the stack is in its first area: the dialog's first line.
    expect(words.map((w) => w.text)).toEqual(['FAKE']);
    const firstLine = desktop.windows.get('GTK entry')!.words[0].box;
    expect(words[0].box.y).toBeGreaterThanOrEqual(entry.y);
    expect(Math.abs(words[0].box.y - firstLine.y)).toBeLessThanOrEqual(6);
  } finally {
    await other.disconnect();
  }
  expect(() => new VNCAgentBridge({ host: '127.0.0.1', ocr: {} as OcrEngine })).toThrow(/`ocr` must be an OcrEngine/);
});

test('SeaBIOS text mode on QEMU is read (white on black)', async ({ qemu }) => {
  const bios = await new VNCAgentBridge({ host: qemu.host, port: qemu.vncPort, password: qemu.password, timeoutMs: 60_000 }).connect();
  try {
    await expect.poll(async () => (bios.screen.width === 720 ? bios.screen.text() : ''), { timeout: 60_000, intervals: [500] }).toContain('No bootable device');
  } finally {
    await bios.disconnect();
  }
});

test('a program that never reads text neither loads tesseract.js nor opens its data; reading opens the local data and no network', async ({ desktop }) => {
  test.skip(spawnSync('strace', ['-V']).status !== 0, 'needs strace (scripts/setup.sh installs it)');
  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-ocr-lazy-'));
  try {
    const script = (readText: boolean) => `
      const { VNCAgentBridge } = await import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
      const vnc = await new VNCAgentBridge({ host: '127.0.0.1', port: ${desktop.server.port}, timeoutMs: 60000 }).connect();
      vnc.screen.capture();
      ${readText ? `console.log(await vnc.screen.text({ region: ${JSON.stringify(desktop.windows.get('GTK entry')!.geometry)} }));` : ''}
      await vnc.disconnect();`;
    const trace = async (readText: boolean) => {
      const out = join(dir, `trace-${readText}`);
      const run = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat,connect', '-o', out, process.execPath, '--input-type=module', '-e', script(readText)], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(run.status, run.stderr).toBe(0);
      return { stdout: run.stdout, trace: await readFile(out, 'utf8') };
    };
    const engineFiles = (text: string) => text.split('\n').filter((line) => /node_modules\/(tesseract\.js|tesseract\.js-core|@tesseract\.js-data)\//.test(line));
    const idle = await trace(false);
    expect(idle.trace).toMatch(/dist\/index\.js/);
    expect(engineFiles(idle.trace)).toEqual([]);
    const reading = await trace(true);
    expect(reading.stdout).toContain('Enter the new server name');
    expect(reading.trace).toMatch(/node_modules\/tesseract\.js\//);
    expect(reading.trace).toMatch(/@tesseract\.js-data\/eng\/4\.0\.0_best_int\/eng\.traineddata\.gz/);
    // Every connection goes to the VNC server on 127.0.0.1 (no CDN, no other host).
    const inet = [...reading.trace.matchAll(/connect\(\d+, \{sa_family=AF_INET6?, [^}]*\}/g)].map((m) => m[0]);
    expect(inet.length).toBeGreaterThan(0);
    for (const call of inet) expect(call).toMatch(/127\.0\.0\.1|::1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
