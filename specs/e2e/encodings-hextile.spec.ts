/**
 * Hextile and RRE against the real servers that send them: Xvnc (both), QEMU (Hextile only) and
 * x11vnc (both). For each, clients that offer only that encoding (Raw is always advertised too)
 * see exactly the picture a Raw-only client sees, and the server's own pixels (xwd, QEMU's
 * screendump) — on a still screen and after the screen moved. A recording of each session
 * proves the server really sent the encoding under test.
 *
 * With VNC_RECORD=1 the last describe block re-records specs/data/recordings/{xvnc-hextile,
 * xvnc-rre,qemu-hextile}, which specs/unit/hextile-rre.spec.ts replays.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { TCPVNCConnection, VNCAgentBridge, decodePng, encodePng, type Frame, type Rect } from '../../src/index.js';
import { rootPixels, startXterm, xdotool, type DisplayTarget, type RgbaImage, type Xterm } from '../support/desktop.js';
import { expect, test, XVNC_PASSWORD } from '../support/fixtures.js';
import { delay, run, startProcess, stopProcess, type StartedProcess } from '../support/processes.js';
import { startQemu, type QemuServer } from '../support/qemu.js';
import { analyseSession, RecordingConnection, saveRecording, splitHandshake } from '../support/record-session.js';
import { startXvnc } from '../support/xvnc.js';

/** A picture: a client's capture or the server's own. */
type Picture = Pick<Frame, 'width' | 'height' | 'data'>;

/** Up to 5 pixels (outside `masks`) where two same-sized pictures differ, and how many differ. */
function compare(a: Picture, b: Picture, masks: readonly Rect[] = []): { count: number; first: string[] } {
  if (a.width !== b.width || a.height !== b.height) return { count: Infinity, first: [`size ${a.width}x${a.height} vs ${b.width}x${b.height}`] };
  const first: string[] = [];
  let count = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (masks.some((m) => x >= m.x && x < m.x + m.width && y >= m.y && y < m.y + m.height)) continue;
      const i = (y * a.width + x) * 4;
      if (a.data[i] === b.data[i] && a.data[i + 1] === b.data[i + 1] && a.data[i + 2] === b.data[i + 2]) continue;
      count++;
      if (first.length < 5) first.push(`${x},${y}: ${a.data.subarray(i, i + 3).toString('hex')} vs ${b.data.subarray(i, i + 3).toString('hex')}`);
    }
  }
  return { count, first };
}

interface Viewer {
  /** The encodings it offered ('raw' for the reference). */
  encoding: string;
  vnc: VNCAgentBridge;
  recorder: RecordingConnection;
}

async function connectViewer(server: { host: string; port: number; password?: string }, encoding: string): Promise<Viewer> {
  const recorder = new RecordingConnection(new TCPVNCConnection({ host: server.host, port: server.port, password: server.password }));
  const vnc = await new VNCAgentBridge({ connection: recorder, encodings: [encoding], timeoutMs: 20_000 }).connect();
  return { encoding, vnc, recorder };
}

/** Rectangles per encoding the server sent this viewer so far (parsing its recorded stream). */
function rectanglesSent(viewer: Viewer): Record<string, number> {
  const analysis = analyseSession(splitHandshake(viewer.recorder.bytes(), viewer.vnc.info.securityType));
  return Object.fromEntries(Object.entries(analysis.encodings).map(([name, stats]) => [name, stats.rectangles]));
}

interface CompareOptions {
  /** Areas left out of the comparison (a pointer, a blinking text cursor). */
  masks?: Rect[];
  /** The server's own picture. */
  truth?: () => Promise<Picture>;
  /** How long the screen must be still before comparing (default 400 ms). */
  stillMs?: number;
  /** The part of the screen that must be still (default all of it). */
  stableRegion?: Rect;
}

/**
 * Waits until every viewer is still, then compares each with the Raw viewer (and with the
 * server's own picture, when given) outside `masks`. The pictures are read one after the other,
 * so a program still drawing can make them differ: try again (up to 6 times) and fail only on a
 * difference that persists.
 */
async function expectSamePictures(viewers: readonly Viewer[], reference: Viewer, options: CompareOptions = {}): Promise<void> {
  let problems: string[] = [];
  const region = options.stableRegion;
  for (let attempt = 0; attempt < 6; attempt++) {
    problems = [];
    for (const viewer of [reference, ...viewers]) await viewer.vnc.screen.waitForStable({ region, stillMs: options.stillMs ?? 400, timeoutMs: 20_000 });
    const truth = options.truth ? await options.truth() : undefined;
    for (const viewer of [reference, ...viewers]) await viewer.vnc.screen.waitForStable({ region, stillMs: 100, timeoutMs: 20_000 });
    const raw = reference.vnc.screen.capture();
    for (const viewer of viewers) {
      const { count, first } = compare(viewer.vnc.screen.capture(), raw, options.masks);
      if (count > 0) problems.push(`${viewer.encoding} vs raw: ${count} pixels differ, e.g. ${first.join('; ')}`);
    }
    if (truth) {
      const { count, first } = compare(raw, truth, options.masks);
      if (count > 0) problems.push(`raw vs the server's own picture: ${count} pixels differ, e.g. ${first.join('; ')}`);
    }
    if (problems.length === 0) return;
    await delay(300);
  }
  expect(problems).toEqual([]);
}

/** The 32×32 square the pointer may cover when parked in the bottom-right corner. */
async function parkPointer(server: DisplayTarget, width: number, height: number): Promise<Rect> {
  await xdotool(server, ['mousemove', String(width - 1), String(height - 1)]);
  return { x: width - 32, y: height - 32, width: 32, height: 32 };
}

/** A shell loop that prints `lines` numbered lines, one every 10 ms, then stays (keeping the text up). */
function printingCommand(lines: number): string[] {
  return ['sh', '-c', `seq 1 ${lines} | while read i; do echo "line $i: The quick brown fox jumps over the lazy dog 0123456789 {[()]} <&>"; sleep 0.01; done; exec sleep 600`];
}

const STATIC_TEXT = ['sh', '-c', 'printf "%s\\n" "Hextile / RRE" "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz" "0123456789 !\\"#$%&()*+,-./:;<=>?@[]^_{|}~" "Grüße, Ünïcödé — ░▒▓█"; ls -la /usr/bin | head -20; exec sleep 600'];

/** The X-server scenes: a still screen (text and a clock), then a moving one (an xterm printing). */
async function xServerScenes(server: DisplayTarget & { host: string; port: number }, encodings: readonly string[], size: { width: number; height: number }): Promise<void> {
  const mask = await parkPointer(server, size.width, size.height);
  const truth = () => rootPixels(server);
  const windows: Array<Xterm | StartedProcess> = [];
  const viewers: Viewer[] = [];
  try {
    windows.push(await startXterm(server, { geometry: '80x30+20+20', command: STATIC_TEXT }));
    windows.push(startProcess('xclock', ['-geometry', '160x160+620+40'], { env: server.env }));
    const reference = await connectViewer(server, 'raw');
    viewers.push(reference);
    for (const encoding of encodings) viewers.push(await connectViewer(server, encoding));
    const encoded = viewers.slice(1);

    await test.step('a still screen', async () => {
      await expectSamePictures(encoded, reference, { masks: [mask], truth });
    });

    await test.step('a moving screen: an xterm printing, then still', async () => {
      const printing = await reference.vnc.screen.waitForChange(async () => {
        windows.push(await startXterm(server, { geometry: '70x20+300+250', command: printingCommand(150) }));
      });
      expect(printing.width).toBe(size.width);
      await expectSamePictures(encoded, reference, { masks: [mask], truth, stillMs: 700 });
    });

    for (const viewer of encoded) {
      const sent = rectanglesSent(viewer);
      expect(sent[viewer.encoding], `${viewer.encoding} rectangles among ${JSON.stringify(sent)}`).toBeGreaterThan(0);
    }
  } finally {
    for (const viewer of viewers) await viewer.vnc.disconnect();
    for (const window of windows) await ('windowId' in window ? window.stop() : stopProcess(window, 2000));
  }
}

/** QEMU's own picture of the screen (`screendump … -f png`), alpha 255. */
async function qemuScreendump(qemu: QemuServer): Promise<RgbaImage> {
  const dir = await mkdtemp(join(tmpdir(), 'vnc-hextile-qemu-'));
  try {
    const file = join(dir, 'screen.png');
    const answer = await qemu.monitor(`screendump ${file} -f png`);
    if (answer.trim() !== '') throw new Error(`screendump: ${answer.trim()}`);
    const frame = decodePng(await readFile(file));
    for (let i = 3; i < frame.data.length; i += 4) frame.data[i] = 255;
    return frame;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Waits until QEMU's screen is done drawing: text mode (720×400) where only the text cursor still
 * blinks (QEMU sends every blink). Returns the cursor's area (padded by 2 pixels), found as what
 * differs between screendumps taken over 1.6 s.
 */
async function qemuSettled(qemu: QemuServer): Promise<Rect> {
  const deadline = Date.now() + 40_000;
  let seen = '';
  while (Date.now() < deadline) {
    const dumps: RgbaImage[] = [];
    for (let i = 0; i < 8; i++) {
      dumps.push(await qemuScreendump(qemu));
      await delay(200);
    }
    const box = changedBox(dumps);
    seen = box ? JSON.stringify(box) : 'nothing changed';
    if (box && dumps[0].width === 720 && box.width <= 9 && box.height <= 16) {
      const x = Math.max(0, box.x - 2);
      const y = Math.max(0, box.y - 2);
      return { x, y, width: Math.min(720, box.x + box.width + 2) - x, height: Math.min(400, box.y + box.height + 2) - y };
    }
  }
  throw new Error(`QEMU's screen did not settle to a blinking text cursor (last change: ${seen})`);
}

/** The bounding box of every pixel that differs between the first picture and any other (all of them when sizes differ). */
function changedBox(pictures: readonly Picture[]): Rect | undefined {
  const [first] = pictures;
  let [left, top, right, bottom] = [Infinity, Infinity, -1, -1];
  for (const picture of pictures.slice(1)) {
    if (picture.width !== first.width || picture.height !== first.height) return { x: 0, y: 0, width: Math.max(first.width, picture.width), height: Math.max(first.height, picture.height) };
    for (let y = 0; y < first.height; y++) {
      for (let x = 0; x < first.width; x++) {
        const i = (y * first.width + x) * 4;
        if (first.data.readUInt32BE(i) === picture.data.readUInt32BE(i)) continue;
        [left, top, right, bottom] = [Math.min(left, x), Math.min(top, y), Math.max(right, x), Math.max(bottom, y)];
      }
    }
  }
  return right < 0 ? undefined : { x: left, y: top, width: right - left + 1, height: bottom - top + 1 };
}

/** Waits until the viewer shows the 720×400 text mode and, above the blinking `cursor`, stays still. */
async function waitForTextMode(viewer: Viewer, cursor: Rect): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (viewer.vnc.screen.width !== 720) {
    if (Date.now() > deadline) throw new Error(`the ${viewer.encoding} viewer stayed at ${viewer.vnc.screen.width}x${viewer.vnc.screen.height}`);
    await delay(100);
  }
  await viewer.vnc.screen.waitForStable({ region: aboveCursor(cursor), stillMs: 500, timeoutMs: 30_000 });
}

function aboveCursor(cursor: Rect): Rect {
  return { x: 0, y: 0, width: 720, height: cursor.y };
}

test.describe('Hextile and RRE against real servers', () => {
  test('Xvnc: Hextile and RRE show what Raw shows and what the X server has', async ({ xvnc }) => {
    test.setTimeout(90_000);
    await xServerScenes(xvnc, ['hextile', 'rre'], { width: 1280, height: 800 });
  });

  test('x11vnc: Hextile and RRE show what Raw shows and what the X server has (its pointer masked)', async ({ x11vnc }) => {
    test.setTimeout(90_000);
    await xServerScenes(x11vnc, ['hextile', 'rre'], { width: 1280, height: 800 });
  });

  test('QEMU: Hextile shows what Raw shows and what QEMU has, while the BIOS draws (a resize, text, a reset) and after', async () => {
    test.setTimeout(120_000);
    // A VM of its own, watched from power-on; SeaBIOS's boot menu prompt adds a screen that lasts 1.5 s.
    const qemu = await startQemu({ password: XVNC_PASSWORD, websocket: false, extraArgs: ['-boot', 'menu=on,splash-time=1500'] });
    const server = { host: qemu.host, port: qemu.vncPort, password: XVNC_PASSWORD };
    const reference = await connectViewer(server, 'raw');
    const hextile = await connectViewer(server, 'hextile');
    // The text cursor blinks, and each blink is an update: compare everything else.
    const compareTextMode = async (): Promise<Rect> => {
      const cursor = await qemuSettled(qemu);
      await waitForTextMode(reference, cursor);
      await waitForTextMode(hextile, cursor);
      await expectSamePictures([hextile], reference, { truth: () => qemuScreendump(qemu), masks: [cursor], stableRegion: aboveCursor(cursor) });
      return cursor;
    };
    try {
      const cursor = await test.step('from power-on (640×480, then 720×400 text) until only the cursor blinks', compareTextMode);
      await test.step('after system_reset: the BIOS clears the screen and prints again', async () => {
        await hextile.vnc.screen.waitForChange(() => qemu.monitor('system_reset'), { region: aboveCursor(cursor), timeoutMs: 20_000 });
        await compareTextMode();
      });
      const sent = rectanglesSent(hextile);
      expect(sent.hextile, JSON.stringify(sent)).toBeGreaterThan(0);
    } finally {
      await hextile.vnc.disconnect();
      await reference.vnc.disconnect();
      await qemu.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Recording (VNC_RECORD=1 only)

async function serverVersion(command: string, args: string[], pattern: RegExp): Promise<string> {
  const result = await run(command, args, { timeoutMs: 5000 });
  return pattern.exec(`${result.stdout}\n${result.stderr}`)?.[0] ?? command;
}

/** Stores the viewer's session once its picture equals the server's own (retrying while it settles). */
async function saveWhenEqual(name: string, viewer: Viewer, settle: () => Promise<void>, truth: () => Promise<Picture>, meta: { server: string; description: string }): Promise<void> {
  let problem = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    await settle();
    const picture = await truth();
    // The recorded bytes and the capture in the same tick: the replay must end on this picture.
    const bytes = viewer.recorder.bytes();
    const frame = viewer.vnc.screen.capture();
    const analysis = analyseSession(splitHandshake(bytes, viewer.vnc.info.securityType));
    const { count, first } = compare(frame, picture);
    if (count === 0 && analysis.leftover === 0) {
      expect(analysis.encodings[viewer.encoding]?.rectangles, `${viewer.encoding} rectangles recorded`).toBeGreaterThan(0);
      saveRecording(
        name,
        bytes,
        {
          ...meta,
          encodings: [viewer.encoding],
          securityType: viewer.vnc.info.securityType,
          width: frame.width,
          height: frame.height,
          updates: analysis.updates,
          rectangles: Object.fromEntries(Object.entries(analysis.encodings).map(([encoding, stats]) => [encoding, stats.rectangles])),
        },
        encodePng({ width: picture.width, height: picture.height, data: Buffer.from(picture.data) }),
      );
      return;
    }
    problem = `${count} pixels differ, e.g. ${first.join('; ')}; ${analysis.leftover} bytes of an incomplete message`;
    await delay(300);
  }
  throw new Error(`${name}: the client never matched the server's picture: ${problem}`);
}

test.describe('recordings for specs/unit/hextile-rre.spec.ts', () => {
  test.skip(!process.env.VNC_RECORD, 'set VNC_RECORD=1 to re-record specs/data/recordings');

  for (const encoding of ['hextile', 'rre']) {
    test(`xvnc-${encoding}`, async () => {
      test.setTimeout(90_000);
      const server = await startXvnc({ geometry: '640x480' });
      const windows: Array<Xterm | StartedProcess> = [];
      try {
        const viewer = await connectViewer(server, encoding);
        // The pointer where this client put it: Xvnc then leaves it out of the picture, as xwd does.
        await viewer.vnc.mouse.move(639, 479);
        windows.push(startProcess('xclock', ['-geometry', '150x150+480+10'], { env: server.env }));
        windows.push(await startXterm(server, { geometry: '60x22+10+10', command: printingCommand(40) }));
        const settle = async () => void (await viewer.vnc.screen.waitForStable({ stillMs: 1000, timeoutMs: 30_000 }));
        await saveWhenEqual(`xvnc-${encoding}`, viewer, settle, () => rootPixels(server), {
          server: await serverVersion('Xvnc', ['-version'], /TigerVNC [\d.]+/),
          description: `Xvnc 640x480, background #204080; after the first frame an xclock appears, then an xterm printing 40 lines of text (scrolling); the client offered ${encoding} (and raw) and handles the cursor itself. The PNG is xwd of the root window at the end.`,
        });
        await viewer.vnc.disconnect();
      } finally {
        for (const window of windows) await ('windowId' in window ? window.stop() : stopProcess(window, 2000));
        await server.stop();
      }
    });
  }

  test('qemu-hextile', async () => {
    test.setTimeout(90_000);
    const qemu = await startQemu({ websocket: false });
    try {
      const viewer = await connectViewer({ host: qemu.host, port: qemu.vncPort }, 'hextile');
      const cursor = await qemuSettled(qemu);
      const settle = () => waitForTextMode(viewer, cursor);
      await saveWhenEqual('qemu-hextile', viewer, settle, () => qemuScreendump(qemu), {
        server: await serverVersion('qemu-system-x86_64', ['--version'], /QEMU emulator version [\d.]+/),
        description: 'A diskless QEMU VM (-vga std) from power-on: SeaBIOS at 640x480, a desktop size change to 720x400 text mode, "No bootable device", then the blinking text cursor (every blink an update). The client offered hextile (and raw). The PNG is QEMU\'s screendump at the end, taken in the same blink phase.',
      });
      await viewer.vnc.disconnect();
    } finally {
      await qemu.stop();
    }
  });
});
