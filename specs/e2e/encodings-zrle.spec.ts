/**
 * ZRLE and zlib against real servers: Xvnc (ZRLE; it sends no zlib), x11vnc on Xvfb (zlib and
 * ZRLE) and QEMU (zlib and ZRLE). For each server and each of those encodings, the same screen is
 * captured by a client offering only that encoding and by a client offering only Raw, and the
 * pixels must be identical; the recorded bytes prove the server really used the encoding. Then a
 * moving screen (an xterm printing lines) is followed with the encoding, and once it settles it
 * must equal a fresh Raw capture.
 *
 * With VNC_RECORD=1 the moving-screen tests also write the recordings that specs/unit/zrle.spec.ts
 * replays (specs/data/recordings/*.rfb, .json, .png):
 *   VNC_RECORD=1 npx playwright test specs/e2e/encodings-zrle.spec.ts --workers=1
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, test, type TestInfo } from '@playwright/test';

import { VNCAgentBridge } from '../../src/bridge/bridge.js';
import { TCPVNCConnection } from '../../src/bridge/connection.js';
import { encodePng } from '../../src/bridge/png.js';
import { Encoding } from '../../src/rfb/constants.js';
import type { Frame } from '../../src/rfb/framebuffer.js';
import { rootPixels, startXterm, xdotool, type DisplayTarget, type Xterm } from '../support/desktop.js';
import { delay, run, startProcess, stopProcess, type StartedProcess } from '../support/processes.js';
import { startQemu, type QemuServer } from '../support/qemu.js';
import { RECORDINGS_DIR, RecordingConnection, parseRecording, type RecordingInfo } from '../support/recorder.js';
import { startX11vnc, type X11vncServer } from '../support/x11vnc.js';
import { startXvnc, type XvncServer } from '../support/xvnc.js';

const RECORD = process.env.VNC_RECORD === '1';
const GEOMETRY = '640x480';
const ENCODING_NUMBER: Record<string, number> = { zrle: Encoding.ZRLE, zlib: Encoding.Zlib };

test.describe.configure({ mode: 'serial' });

// ---------------------------------------------------------------------------------------------
// Frames

function describeDifference(a: Frame, b: Frame): string | undefined {
  if (a.width !== b.width || a.height !== b.height) return `sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`;
  if (a.data.equals(b.data)) return undefined;
  let count = 0;
  let first = '';
  let [minX, minY, maxX, maxY] = [a.width, a.height, -1, -1];
  for (let i = 0; i < a.data.length; i += 4) {
    if (a.data[i] === b.data[i] && a.data[i + 1] === b.data[i + 1] && a.data[i + 2] === b.data[i + 2]) continue;
    const pixel = i / 4;
    const x = pixel % a.width;
    const y = (pixel - x) / a.width;
    if (count++ === 0) first = `first at (${x},${y}): ${[...a.data.subarray(i, i + 3)]} vs ${[...b.data.subarray(i, i + 3)]}`;
    [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
  }
  if (count === 0) return undefined; // only the unused fourth byte differs
  return `${count} pixels differ within (${minX},${minY})–(${maxX},${maxY}); ${first}`;
}

/** A copy of `frame` with the parked pointer's corner (x ≥ 600, y ≥ 440) blacked out. */
function maskPointer(frame: Frame): Frame {
  const data = Buffer.from(frame.data);
  for (let y = 440; y < frame.height; y++) data.fill(0, (y * frame.width + 600) * 4, (y + 1) * frame.width * 4);
  return { ...frame, data };
}

async function attachFrames(testInfo: TestInfo, frames: Record<string, Frame>): Promise<void> {
  for (const [name, frame] of Object.entries(frames)) await testInfo.attach(`${name}.png`, { body: encodePng(frame), contentType: 'image/png' });
}

// ---------------------------------------------------------------------------------------------
// Servers with something on the screen

interface Desktop {
  name: 'xvnc' | 'x11vnc' | 'qemu';
  server: string;
  port: number;
  /** Encodings of ours this server sends. */
  encodings: string[];
  display?: DisplayTarget;
  /** Makes a screen that keeps changing by itself still (QEMU: the blinking text cursor); `watcher` is a connected client. */
  quiet?: (watcher: VNCAgentBridge) => Promise<void>;
  /**
   * Sets the screen moving: the xterm prints 120 lines (~1.5 s), or QEMU's text cursor blinks again
   * until `quiet`. Resolves once asked.
   */
  animate: () => Promise<void>;
  stop(): Promise<void>;
}

/**
 * An xterm showing some coloured text that prints 120 more lines each time `trigger` appears, and
 * an analog xclock; the pointer parked in the bottom right corner (x11vnc draws it into its frames).
 */
async function furnish(display: DisplayTarget, dir: string): Promise<{ printLines: () => Promise<void>; stop: () => Promise<void> }> {
  const trigger = join(dir, 'print-now');
  const script = [
    `printf '\\033[1;31mred \\033[32mgreen \\033[34mblue \\033[33myellow \\033[0mplain \\033[7minverse\\033[0m\\n'`,
    `for w in alpha bravo charlie delta echo foxtrot golf hotel india juliet; do printf '%-10s %s\\n' $w 'The quick brown fox jumps over the lazy dog 0123456789'; done`,
    'while :; do',
    `  while [ ! -e "$1" ]; do sleep 0.05; done; rm -f "$1"`,
    `  i=0; while [ $i -lt 120 ]; do i=$((i+1)); printf '\\033[3%dmline %03d\\033[0m: pack my box with five dozen liquor jugs\\n' $((i % 7 + 1)) $i; sleep 0.01; done`,
    'done',
  ].join('\n');
  const xterm: Xterm = await startXterm(display, { geometry: '66x22+6+6', command: ['sh', '-c', script, 'sh', trigger] });
  const clock: StartedProcess = startProcess('xclock', ['-geometry', '150x150+470+12'], { env: display.env });
  for (let i = 0; ; i++) {
    const found = await run('xdotool', ['search', '--onlyvisible', '--pid', String(clock.pid)], { env: display.env, timeoutMs: 5000 });
    if (found.code === 0 && found.stdout.trim() !== '') break;
    if (i > 200 || clock.hasExited()) throw new Error(`xclock did not map a window\n${clock.log()}`);
    await delay(50);
  }
  await xdotool(display, ['mousemove', '630', '470']);
  return {
    printLines: () => writeFile(trigger, ''),
    stop: async () => {
      await stopProcess(clock, 3000);
      await xterm.stop();
    },
  };
}

/**
 * Stops the blinking text cursor of QEMU's VGA text mode (SeaBIOS leaves it on under "No bootable
 * device"), so the screen can settle: CRTC register 0x0A (cursor start), bit 5 = cursor off.
 */
async function hideTextCursor(qemu: QemuServer): Promise<void> {
  await qemu.monitor('o /b 0x3d4 0x0a');
  await qemu.monitor('o /b 0x3d5 0x20');
}

/** Waits until SeaBIOS has given up (720×400 text mode), then hides the cursor until the screen stays still. */
async function quietQemu(qemu: QemuServer, watcher: VNCAgentBridge): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (watcher.screen.width !== 720 && Date.now() < deadline) await delay(100);
  await delay(1000); // "No bootable device." is printed within a few hundred ms of the mode change
  for (let attempt = 0; ; attempt++) {
    await hideTextCursor(qemu);
    try {
      await watcher.screen.waitForStable({ stillMs: 1200, timeoutMs: 4000 });
      return;
    } catch (error) {
      if (attempt === 4) throw error;
    }
  }
}

async function startDesktop(name: Desktop['name'], options: { quiet?: boolean } = {}): Promise<Desktop> {
  if (name === 'qemu') {
    const qemu: QemuServer = await startQemu({ websocket: false });
    const desktop: Desktop = {
      name,
      server: 'QEMU 7.2 (SeaBIOS 1.16.2, no disk)',
      port: qemu.vncPort,
      encodings: ['zrle', 'zlib'],
      quiet: async (watcher) => quietQemu(qemu, watcher),
      // Cursor start register back to SeaBIOS's underline (scan line 13, cursor on).
      animate: async () => {
        await qemu.monitor('o /b 0x3d4 0x0a');
        await qemu.monitor('o /b 0x3d5 0x0d');
      },
      stop: () => qemu.stop(),
    };
    if (options.quiet ?? true) {
      const watcher = new VNCAgentBridge({ host: '127.0.0.1', port: qemu.vncPort, encodings: ['raw'], timeoutMs: 20_000 });
      try {
        await watcher.connect();
        await quietQemu(qemu, watcher);
      } catch (error) {
        await qemu.stop();
        throw error;
      } finally {
        await watcher.disconnect();
      }
    }
    return desktop;
  }
  const dir = join(tmpdir(), `vnc-agent-zrle-${process.pid}-${name}`);
  await mkdir(dir, { recursive: true });
  const server: XvncServer | X11vncServer = name === 'xvnc' ? await startXvnc({ geometry: GEOMETRY }) : await startX11vnc({ geometry: GEOMETRY });
  try {
    const furnished = await furnish(server, dir);
    return {
      name,
      server: name === 'xvnc' ? 'Xvnc (TigerVNC 1.12)' : 'x11vnc 0.9.16 on Xvfb',
      port: server.port,
      encodings: name === 'xvnc' ? ['zrle'] : ['zrle', 'zlib'],
      display: server,
      animate: furnished.printLines,
      stop: async () => {
        await furnished.stop().catch(() => {});
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Clients

interface Session {
  bridge: VNCAgentBridge;
  recorder: RecordingConnection;
}

async function connect(desktop: Desktop, encodings: string[]): Promise<Session> {
  const recorder = new RecordingConnection(new TCPVNCConnection({ host: '127.0.0.1', port: desktop.port }));
  const bridge = new VNCAgentBridge({ connection: recorder, encodings, timeoutMs: 20_000 });
  await bridge.connect();
  return { bridge, recorder };
}

/** Waits until the screen has its final size (QEMU starts at 640×480) and has been still for `stillMs`. */
async function settle(session: Session, desktop: Desktop, stillMs = 1000): Promise<void> {
  if (desktop.name === 'qemu') {
    const deadline = Date.now() + 20_000;
    while (session.bridge.screen.width !== 720 && Date.now() < deadline) await delay(100);
  }
  await session.bridge.screen.waitForStable({ stillMs, timeoutMs: 30_000 });
}

/** A Raw capture of the settled screen, from a connection of its own. */
async function rawCapture(desktop: Desktop): Promise<Frame> {
  const raw = await connect(desktop, ['raw']);
  try {
    await settle(raw, desktop, 500);
    return raw.bridge.screen.capture();
  } finally {
    await raw.bridge.disconnect();
  }
}

/**
 * Compares `session`'s screen with a Raw capture; retries (the clock's minute hand may move between
 * the two captures) and fails with the difference and both frames attached.
 */
async function expectSameAsRaw(session: Session, desktop: Desktop, testInfo: TestInfo, what: string): Promise<{ frame: Frame; bytes: Buffer }> {
  let difference: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    await settle(session, desktop);
    const raw = await rawCapture(desktop);
    await settle(session, desktop, 300);
    // Capture and stop recording in one tick: the recording then ends exactly at this frame.
    const frame = session.bridge.screen.capture();
    const bytes = session.recorder.stop();
    difference = describeDifference(frame, raw);
    if (difference === undefined) return { frame, bytes };
    await attachFrames(testInfo, { [`${what}-attempt${attempt}`]: frame, [`raw-attempt${attempt}`]: raw });
    if (attempt < 2) {
      // Not comparable any more as a recording; keep comparing screens.
      await delay(500);
    }
  }
  throw new Error(`${what}: the screen differs from a Raw capture: ${difference}`);
}

async function saveRecording(name: string, description: string, desktop: Desktop, encodings: string[], bytes: Buffer, frame: Frame): Promise<void> {
  const parsed = parseRecording(bytes, encodings);
  const replayed = parsed.framebuffer.capture();
  const difference = describeDifference(replayed, frame);
  if (difference) throw new Error(`recording ${name} does not replay to the captured screen: ${difference}`);
  if (bytes.length > 2 * 1024 * 1024) throw new Error(`recording ${name} is ${bytes.length} bytes; keep recordings under 2 MB`);
  const info: RecordingInfo = {
    name,
    description,
    server: desktop.server,
    encodings,
    width: frame.width,
    height: frame.height,
    bytes: bytes.length,
    rectangles: parsed.rectangles,
    recordedAt: new Date().toISOString(),
  };
  await mkdir(RECORDINGS_DIR, { recursive: true });
  await writeFile(join(RECORDINGS_DIR, `${name}.rfb`), bytes);
  await writeFile(join(RECORDINGS_DIR, `${name}.png`), encodePng(frame));
  await writeFile(join(RECORDINGS_DIR, `${name}.json`), `${JSON.stringify(info, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// The tests

for (const name of ['xvnc', 'x11vnc', 'qemu'] as const) {
  test.describe(name, () => {
    let desktop: Desktop;

    test.beforeAll(async () => {
      test.setTimeout(60_000);
      desktop = await startDesktop(name);
    });

    test.afterAll(async () => {
      await desktop?.stop();
    });

    const encodings = name === 'xvnc' ? ['zrle'] : ['zrle', 'zlib'];
    for (const encoding of encodings) {
      test(`${encoding}: a static screen is pixel-identical to a Raw capture`, async ({}, testInfo) => {
        const session = await connect(desktop, [encoding]);
        try {
          const { frame, bytes } = await expectSameAsRaw(session, desktop, testInfo, encoding);
          const counts = parseRecording(bytes, [encoding]).rectangles;
          expect(counts[ENCODING_NUMBER[encoding]] ?? 0, `${encoding} rectangles received (${JSON.stringify(counts)})`).toBeGreaterThan(0);
          if (name === 'xvnc') {
            // Xvnc's own pixels. xwd leaves out the pointer, which both VNC pictures show at (630,470): mask it.
            const truth = await rootPixels(desktop.display!);
            const masked = maskPointer(frame);
            expect(describeDifference(masked, maskPointer({ width: truth.width, height: truth.height, data: truth.data })), 'ZRLE screen vs xwd of the root window').toBeUndefined();
          }
        } finally {
          await session.bridge.disconnect();
        }
      });

      test(`${encoding}: a moving screen settles to the same pixels as a Raw capture`, async ({}, testInfo) => {
        test.setTimeout(90_000);
        const fresh = RECORD && name === 'qemu';
        if (fresh) {
          // A fresh VM, so the recording starts with its 640x480 screen, the change to 720x400 and the blinking cursor.
          await desktop.stop();
          desktop = await startDesktop(name, { quiet: false });
        }
        const session = await connect(desktop, [encoding]);
        try {
          if (!fresh) {
            await settle(session, desktop, 300);
            const changed = session.bridge.screen.waitForChange(undefined, { timeoutMs: 10_000 });
            await desktop.animate();
            await changed;
          }
          if (desktop.quiet) {
            await delay(2500); // a few blinks
            await desktop.quiet(session.bridge);
          }
          const { frame, bytes } = await expectSameAsRaw(session, desktop, testInfo, encoding);
          const counts = parseRecording(bytes, [encoding]).rectangles;
          expect(counts[ENCODING_NUMBER[encoding]] ?? 0, `${encoding} rectangles received (${JSON.stringify(counts)})`).toBeGreaterThan(name === 'qemu' ? 2 : 10);
          if (RECORD) {
            const description =
              name === 'qemu'
                ? `QEMU's SeaBIOS screen from the first connection (640x480 text, then 720x400 "No bootable device" with a blinking text cursor, which is then switched off through the monitor), ${encoding} only. The PNG is a Raw capture of the settled screen.`
                : `${desktop.server}, ${GEOMETRY}: an xterm with coloured text and an analog xclock; then 120 coloured lines printed and scrolled; ${encoding} only. The PNG is a Raw capture of the settled screen.`;
            await saveRecording(`${name}-${encoding}`, description, desktop, [encoding], bytes, frame);
          }
        } finally {
          await session.bridge.disconnect();
        }
      });
    }
  });
}
