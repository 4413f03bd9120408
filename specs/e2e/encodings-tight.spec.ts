/**
 * Tight against real servers: TigerVNC Xvnc, x11vnc on Xvfb and QEMU. The same screen captured
 * through a client that asked only for Tight and one that asked only for Raw must be the same,
 * pixel for pixel, when the Tight client is lossless (the default); with a JPEG quality level the
 * picture must be close. QEMU sends its gradient filter and JPEG only when started with
 * `lossy=on`; a photo-like SeaBIOS boot splash gives it something smooth to send them for.
 *
 * With VNC_RECORD=1 the Tight sessions are also saved to specs/data/recordings (for the replays in
 * specs/unit/tight.spec.ts): `VNC_RECORD=1 npx playwright test specs/e2e/encodings-tight.spec.ts`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, test } from '@playwright/test';

import { VNCAgentBridge, type VNCAgentBridgeOptions } from '../../src/bridge/bridge.js';
import { TCPVNCConnection } from '../../src/bridge/connection.js';
import { encodePng } from '../../src/bridge/png.js';
import { VNCTimeoutError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { Encoding } from '../../src/rfb/constants.js';
import { chooseEncodings, createDecoders } from '../../src/rfb/encodings/index.js';
import { Framebuffer, type Frame } from '../../src/rfb/framebuffer.js';
import { ServerMessageParser } from '../../src/rfb/server-messages.js';
import { startXterm, xdotool, type Xterm } from '../support/desktop.js';
import { animatedBootSector, photoBmp, showPhoto } from '../support/photo.js';
import { delay, startProcess, stopProcess, type StartedProcess } from '../support/processes.js';
import { startQemu, type QemuServer } from '../support/qemu.js';
import { RecordingConnection, saveRecording, splitHandshake } from '../support/record-session.js';
import { startX11vnc, type X11vncServer } from '../support/x11vnc.js';
import { startXvnc, type XvncServer } from '../support/xvnc.js';
import { ignoringHandler } from '../support/parser-handler.js';

const RECORD = process.env.VNC_RECORD === '1';

test.describe.configure({ mode: 'serial' });
test.setTimeout(90_000);

// ---------------------------------------------------------------------------------------------
// Helpers

interface Client {
  vnc: VNCAgentBridge;
  recorder: RecordingConnection;
}

async function connect(port: number, options: Omit<VNCAgentBridgeOptions, 'host' | 'port' | 'connection'>): Promise<Client> {
  const recorder = new RecordingConnection(new TCPVNCConnection({ host: '127.0.0.1', port }));
  const vnc = await new VNCAgentBridge({ connection: recorder, timeoutMs: 20_000, ...options }).connect();
  return { vnc, recorder };
}

interface Difference {
  /** Pixels whose R, G or B differ. */
  pixels: number;
  /** Mean absolute difference per channel (R, G, B) over the whole frame. */
  mean: number;
  max: number;
}

function difference(a: Frame, b: Frame): Difference {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let pixels = 0;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    let differs = false;
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(a.data[i + c] - b.data[i + c]);
      if (d) differs = true;
      sum += d;
      if (d > max) max = d;
    }
    if (differs) pixels++;
  }
  return { pixels, mean: sum / ((a.data.length / 4) * 3), max };
}

/**
 * Captures the screen through both clients once both have been still for a while. The screen may
 * change between the two captures (a clock ticking, QEMU's text cursor blinking, so never quite
 * still), so when the pictures differ it waits and tries again; a decoding error differs every time.
 */
async function capturePair(a: Client, b: Client, accept: (d: Difference) => boolean): Promise<{ a: Frame; b: Frame; difference: Difference }> {
  const settle = (client: Client) => client.vnc.screen.waitForStable({ stillMs: 500, timeoutMs: 3000 }).catch((error: unknown) => {
    if (!(error instanceof VNCTimeoutError)) throw error;
  });
  let last: { a: Frame; b: Frame; difference: Difference } | undefined;
  for (let attempt = 0; attempt < 15; attempt++) {
    await Promise.all([settle(a), settle(b)]);
    const frameA = a.vnc.screen.capture();
    const frameB = b.vnc.screen.capture();
    if (frameA.width === frameB.width && frameA.height === frameB.height) {
      last = { a: frameA, b: frameB, difference: difference(frameA, frameB) };
      if (accept(last.difference)) return last;
    }
    await delay(100 + 37 * attempt);
  }
  return last ?? { a: a.vnc.screen.capture(), b: b.vnc.screen.capture(), difference: { pixels: -1, mean: -1, max: -1 } };
}

/** What the rectangles of a recorded session (security type None) were, Tight ones by compression type and filter. */
function tightCensus(bytes: Buffer, encodings: readonly string[]): Record<string, number> {
  const session = splitHandshake(bytes, 1);
  const queue = new ByteQueue();
  queue.push(session.messages);
  const census: Record<string, number> = {};
  const count = (kind: string) => (census[kind] = (census[kind] ?? 0) + 1);
  const decoders = createDecoders(chooseEncodings(encodings));
  for (const [number, decoder] of decoders) {
    let kind: string | undefined;
    decoders.set(number, {
      name: decoder.name,
      decode(rect, q, framebuffer) {
        const tight = number === Encoding.Tight || number === Encoding.TightPNG;
        if (tight && rect.progress === 0 && kind === undefined && q.has(2)) {
          const control = q.peekU8(0);
          const type = control >> 4;
          kind = type === 8 ? 'fill' : type === 9 ? 'jpeg' : type === 10 ? 'png' : `${['copy', 'palette', 'gradient'][control & 0x40 ? q.peekU8(1) : 0] ?? 'bad filter'}`;
        }
        const done = decoder.decode(rect, q, framebuffer);
        if (done) {
          count(tight ? `${decoder.name.toLowerCase()} ${kind}` : decoder.name.toLowerCase());
          kind = undefined;
        }
        return done;
      },
    });
  }
  const framebuffer = new Framebuffer(session.width, session.height);
  let updates = 0;
  const parser = new ServerMessageParser(
    framebuffer,
    ignoringHandler({ updateEnded: () => updates++ }),
    // Every pseudo-encoding this client may advertise: the census only counts.
    {
      advertised: new Set([
        ...Object.values(Encoding).filter((number) => number < 0),
        ...Array.from({ length: 10 }, (_, level) => Encoding.QualityLevel0 + level),
        ...Array.from({ length: 10 }, (_, level) => Encoding.CompressionLevel0 + level),
      ]),
      decoders,
    },
  );
  parser.parse(queue);
  return { updates, ...census };
}

async function record(name: string, client: Client, meta: { server: string; encodings: string[]; description: string }): Promise<void> {
  if (!RECORD) return;
  // Bytes and frame taken in the same tick: the frame is exactly what those bytes paint.
  const bytes = client.recorder.bytes();
  const frame = client.vnc.screen.capture();
  const { updates, ...rectangles } = tightCensus(bytes, meta.encodings);
  saveRecording(name, bytes, { ...meta, securityType: 1, width: frame.width, height: frame.height, updates, rectangles }, encodePng(frame));
}

function startXclock(env: NodeJS.ProcessEnv, geometry: string): StartedProcess {
  return startProcess('xclock', ['-geometry', geometry], { env });
}

// ---------------------------------------------------------------------------------------------
// TigerVNC Xvnc

test.describe('Tight from Xvnc', () => {
  let server: XvncServer;
  let dir: string;
  let xterm: Xterm;
  let clock: StartedProcess;
  let photo: { stop(): Promise<void> };

  test.beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vnc-agent-tight-'));
    server = await startXvnc({ geometry: '640x480' });
    xterm = await startXterm(server, { geometry: '60x16+10+10' });
    clock = startXclock(server.env, '150x150+470+10');
    photo = await showPhoto(server, dir, 200, 120, 400, 320);
    await xdotool(server, ['mousemove', '5', '470']);
  });

  test.afterAll(async () => {
    await photo?.stop();
    if (clock) await stopProcess(clock, 2000);
    await xterm?.stop();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('lossless Tight shows the same pixels as Raw, also after the screen moved', async () => {
    const tight = await connect(server.port, { encodings: ['tight'] });
    const raw = await connect(server.port, { encodings: ['raw'] });
    try {
      const still = await capturePair(tight, raw, (d) => d.pixels === 0);
      expect(still.difference, 'a still screen').toEqual({ pixels: 0, mean: 0, max: 0 });

      // Text scrolling in the terminal, the photo window moved across it, then still again.
      await xterm.focus();
      await xdotool(server, ['type', '--delay', '5', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18; do echo line $i of the tight test; done\n']);
      for (const [x, y] of [[20, 40], [300, 250]]) {
        await xdotool(server, ['search', '--name', '^xwud: photo$', 'windowmove', String(x), String(y)]);
        await delay(150);
      }
      await xdotool(server, ['mousemove', '5', '470']);
      const settled = await capturePair(tight, raw, (d) => d.pixels === 0);
      expect(settled.difference, 'after the screen moved').toEqual({ pixels: 0, mean: 0, max: 0 });
      await record('xvnc-tight', tight, {
        server: 'TigerVNC Xvnc 1.12',
        encodings: ['tight'],
        description: 'Xvnc 640x480, lossless Tight: an xterm printing lines, an analog xclock, a photo-like xwud window moved twice.',
      });
    } finally {
      await tight.vnc.disconnect();
      await raw.vnc.disconnect();
    }
  });

  test('Tight with JPEG quality 5 is close to Raw, and lossy where the photo is', async () => {
    await xdotool(server, ['search', '--name', '^xwud: photo$', 'windowmove', '400', '320']);
    const tight = await connect(server.port, { encodings: ['tight'], quality: 5 });
    const raw = await connect(server.port, { encodings: ['raw'] });
    try {
      const pair = await capturePair(tight, raw, (d) => d.mean < 2);
      // JPEG was used (some pixels differ), and the picture is close.
      expect(pair.difference.pixels).toBeGreaterThan(0);
      expect(pair.difference.mean).toBeLessThan(2);
      // The text is not JPEG: the terminal area is exact.
      const region = { x: 10, y: 10, width: 300, height: 200 };
      expect(difference(tight.vnc.screen.capture({ region }), raw.vnc.screen.capture({ region })).pixels).toBe(0);
      await record('xvnc-tight-jpeg', tight, {
        server: 'TigerVNC Xvnc 1.12',
        encodings: ['tight'],
        description: 'Xvnc 640x480, Tight with quality 5 (JPEG quality level pseudo-encoding -27): an xterm, an analog xclock, a photo-like xwud window.',
      });
    } finally {
      await tight.vnc.disconnect();
      await raw.vnc.disconnect();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// x11vnc

test.describe('Tight from x11vnc', () => {
  let server: X11vncServer;
  let xterm: Xterm;
  let clock: StartedProcess;

  test.beforeAll(async () => {
    server = await startX11vnc({ geometry: '640x480' });
    xterm = await startXterm(server, { geometry: '60x16+10+10' });
    clock = startXclock(server.env, '150x150+470+10');
    // x11vnc draws the pointer into its framebuffer: park it in a corner, the same for both clients.
    await xdotool(server, ['mousemove', '560', '400']);
  });

  test.afterAll(async () => {
    if (clock) await stopProcess(clock, 2000);
    await xterm?.stop();
    await server?.stop();
  });

  test('lossless Tight shows the same pixels as Raw, also after the screen moved', async () => {
    const tight = await connect(server.port, { encodings: ['tight'] });
    const raw = await connect(server.port, { encodings: ['raw'] });
    try {
      const still = await capturePair(tight, raw, (d) => d.pixels === 0);
      expect(still.difference, 'a still screen').toEqual({ pixels: 0, mean: 0, max: 0 });

      // A second terminal prints a listing; the first moves. The pointer stays parked: over a
      // terminal x11vnc would send its I-beam cursor, with a hotspot our Cursor decoder rejects.
      const lister = await startXterm(server, { geometry: '70x20+60+150', command: ['sh', '-c', 'ls -la /usr/bin | head -30; seq 1 60 | paste -sd " "; exec sleep 600'] });
      try {
        await xdotool(server, ['windowmove', String(xterm.windowId), '200', '60']);
        const settled = await capturePair(tight, raw, (d) => d.pixels === 0);
        expect(settled.difference, 'after the screen changed').toEqual({ pixels: 0, mean: 0, max: 0 });
      } finally {
        await lister.stop();
      }
      const settled = await capturePair(tight, raw, (d) => d.pixels === 0);
      expect(settled.difference, 'after the listing closed').toEqual({ pixels: 0, mean: 0, max: 0 });
      await record('x11vnc-tight', tight, {
        server: 'x11vnc 0.9.16 (libvncserver 0.9.14) on Xvfb',
        encodings: ['tight'],
        description: 'Xvfb 640x480 through x11vnc, lossless Tight: an xterm listing files, an analog xclock; x11vnc draws the pointer into the framebuffer.',
      });
    } finally {
      await tight.vnc.disconnect();
      await raw.vnc.disconnect();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// QEMU

/** QEMU with `lossy=on` on its VNC display (the harness builds `-vnc`; `-set` amends it) and a photo as boot splash. */
async function startLossyQemu(dir: string, splashMs: number): Promise<QemuServer> {
  const splash = join(dir, 'splash.bmp');
  await writeFile(splash, photoBmp(640, 480));
  return startQemu({ websocket: false, extraArgs: ['-set', 'vnc.default.lossy=on', '-boot', `menu=on,splash=${splash},splash-time=${splashMs}`] });
}

test.describe('Tight from QEMU', () => {
  let dir: string;

  test.beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vnc-agent-tight-qemu-'));
  });

  test.afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('lossless Tight shows the same pixels as Raw through the resize to 720x400', async () => {
    const qemu = await startQemu({ websocket: false });
    try {
      const tight = await connect(qemu.vncPort, { encodings: ['tight'] });
      const raw = await connect(qemu.vncPort, { encodings: ['raw'] });
      try {
        // QEMU starts at 640x480 and switches to 720x400 text mode within a few seconds.
        await expect.poll(() => [tight.vnc.screen.width, raw.vnc.screen.width], { timeout: 20_000 }).toEqual([720, 720]);
        const pair = await capturePair(tight, raw, (d) => d.pixels === 0);
        expect(pair.difference).toEqual({ pixels: 0, mean: 0, max: 0 });
        await record('qemu-tight', tight, {
          server: 'QEMU 7.2 VNC server',
          encodings: ['tight'],
          description: 'A diskless QEMU VM: SeaBIOS at 640x480, then "No bootable device" in 720x400 text mode; lossless Tight.',
        });
      } finally {
        await tight.vnc.disconnect();
        await raw.vnc.disconnect();
      }
    } finally {
      await qemu.stop();
    }
  });

  test('with lossy=on and no quality level, Tight (gradient filter) is still exact', async () => {
    const qemu = await startLossyQemu(dir, 60_000);
    try {
      const tight = await connect(qemu.vncPort, { encodings: ['tight'] });
      const raw = await connect(qemu.vncPort, { encodings: ['raw'] });
      try {
        const pair = await capturePair(tight, raw, (d) => d.pixels === 0);
        expect([pair.a.width, pair.a.height], 'the splash is up').toEqual([640, 480]);
        expect(pair.difference).toEqual({ pixels: 0, mean: 0, max: 0 });
        await record('qemu-tight-gradient', tight, {
          server: 'QEMU 7.2 VNC server, lossy=on',
          encodings: ['tight'],
          description: 'A QEMU VM showing a 640x480 photo-like SeaBIOS boot splash; -vnc lossy=on, no JPEG quality level: Tight with the gradient filter.',
        });
      } finally {
        await tight.vnc.disconnect();
        await raw.vnc.disconnect();
      }
    } finally {
      await qemu.stop();
    }
  });

  test('TightPNG (asked for alone): PNG rectangles, the same pixels as Raw through the resize to 720x400', async () => {
    const qemu = await startLossyQemu(dir, 3000);
    try {
      const png = await connect(qemu.vncPort, { encodings: ['tightpng'] });
      const raw = await connect(qemu.vncPort, { encodings: ['raw'] });
      try {
        const splash = await capturePair(png, raw, (d) => d.pixels === 0);
        expect(splash.difference).toEqual({ pixels: 0, mean: 0, max: 0 });
        await expect.poll(() => [png.vnc.screen.width, raw.vnc.screen.width], { timeout: 20_000 }).toEqual([720, 720]);
        const text = await capturePair(png, raw, (d) => d.pixels === 0);
        expect(text.difference).toEqual({ pixels: 0, mean: 0, max: 0 });
        const census = tightCensus(png.recorder.bytes(), ['tightpng']);
        expect(census['tightpng png'], JSON.stringify(census)).toBeGreaterThan(0);
      } finally {
        await png.vnc.disconnect();
        await raw.vnc.disconnect();
      }
    } finally {
      await qemu.stop();
    }
  });

  test('with lossy=on and quality 5, an animated screen comes as JPEG; once still, close to Raw', async () => {
    const disk = join(dir, 'animation.img');
    await writeFile(disk, animatedBootSector());
    const qemu = await startQemu({ websocket: false, extraArgs: ['-set', 'vnc.default.lossy=on', '-drive', `file=${disk},format=raw,if=ide`] });
    try {
      const tight = await connect(qemu.vncPort, { encodings: ['tight'], quality: 5 });
      const raw = await connect(qemu.vncPort, { encodings: ['raw'] });
      try {
        // The palette cycles for about 7 s once the guest boots: JPEG rectangles arrive.
        await expect.poll(() => tightCensus(tight.recorder.bytes(), ['tight'])['tight jpeg'] ?? 0, { timeout: 20_000, intervals: [200] }).toBeGreaterThan(0);
        await delay(500);
        await record('qemu-tight-jpeg', tight, {
          server: 'QEMU 7.2 VNC server, lossy=on',
          encodings: ['tight'],
          description:
            'A QEMU VM booting a 512-byte program that cycles the palette of a smooth 320x200 picture (shown at 640x400); -vnc lossy=on and quality 5 (JPEG quality level -27): Tight with JPEG, recorded mid-animation.',
        });
        // Still again (the animation ended): what the Tight client shows is close to Raw (QEMU may
        // refresh lossy areas losslessly).
        await raw.vnc.screen.waitForStable({ stillMs: 1500, timeoutMs: 30_000 });
        const pair = await capturePair(tight, raw, (d) => d.mean < 3);
        expect([pair.a.width, pair.a.height]).toEqual([640, 400]);
        expect(pair.difference.mean).toBeLessThan(3);
      } finally {
        await tight.vnc.disconnect();
        await raw.vnc.disconnect();
      }
    } finally {
      await qemu.stop();
    }
  });
});
