/**
 * Continuous updates and fences against real servers. TigerVNC's Xvnc takes them up: it asks for a
 * fence answer and sends EndOfContinuousUpdates, the client enables them and stops asking for
 * updates; everything the bridge does must work as before (typing, waitForChange, pixel-exact
 * captures, refresh, RandR resizes). QEMU and x11vnc ignore the offer: one request per update, as
 * before. What the client writes is watched through a transport wrapper; effects are checked on
 * the X server itself (an xterm writing to a file, xwd).
 *
 * A last test measures the latency from a key press to the screen update with and without
 * continuous updates (the "without" client has -312/-313 taken out of its SetEncodings on the wire,
 * so Xvnc never offers them) and reports the medians.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { TCPVNCConnection, VNCAgentBridge, type VNCConnection } from '../../src/index.js';
import type { Transport } from '../../src/transport/transport.js';
import { readFileWhenContains, startXterm, type Xterm } from '../support/desktop.js';
import { expect, test, XVNC_PASSWORD } from '../support/fixtures.js';
import { delay, run } from '../support/processes.js';
import { DEFAULT_BACKGROUND, startXvnc, type XvncServer } from '../support/xvnc.js';
import { expectCaptureMatchesServer } from '../support/compare-screens.js';

const FENCE_ENCODING = -312;
const CONTINUOUS_UPDATES_ENCODING = -313;

// ---------------------------------------------------------------------------------------------
// Watching what the client writes

interface Written {
  type: number;
  bytes: Buffer;
}

/** What one connection's client wrote after its SetEncodings, message by message (the client writes one message per write). */
class Wire {
  encodings: number[] = [];
  readonly after: Written[] = [];

  /** FramebufferUpdateRequests as [incremental, x, y, width, height]. */
  requests(): Array<[boolean, number, number, number, number]> {
    return this.of(3).map((b) => [b[1] !== 0, b.readUInt16BE(2), b.readUInt16BE(4), b.readUInt16BE(6), b.readUInt16BE(8)]);
  }

  /** EnableContinuousUpdates as [enable, x, y, width, height]. */
  enables(): Array<[boolean, number, number, number, number]> {
    return this.of(150).map((b) => [b[1] !== 0, b.readUInt16BE(2), b.readUInt16BE(4), b.readUInt16BE(6), b.readUInt16BE(8)]);
  }

  /** Fence answers as [flags, payload hex]. */
  fences(): Array<[number, string]> {
    return this.of(248).map((b) => [b.readUInt32BE(4), b.subarray(9, 9 + b[8]).toString('hex')]);
  }

  private of(type: number): Buffer[] {
    return this.after.filter((w) => w.type === type).map((w) => w.bytes);
  }
}

/**
 * A connection whose transport records the client's messages after SetEncodings into `wire`, and
 * with `withoutContinuousUpdates` takes Fence and ContinuousUpdates out of SetEncodings before it
 * reaches the server (the server then never offers them).
 */
function watched(inner: VNCConnection, wire: Wire, options: { withoutContinuousUpdates?: boolean } = {}): VNCConnection {
  return {
    remote: inner.remote,
    credentials: inner.credentials,
    tls: inner.tls,
    async open(openOptions): Promise<Transport> {
      const transport = await inner.open(openOptions);
      let previous: Uint8Array | undefined;
      let session = false;
      const write = (bytes: Uint8Array): Promise<void> => {
        let out = Buffer.from(bytes);
        // SetEncodings follows the 20-byte SetPixelFormat; before it, handshake bytes.
        if (!session && out[0] === 2 && out.length >= 4 && out.length === 4 + 4 * out.readUInt16BE(2) && previous?.length === 20 && previous[0] === 0) {
          session = true;
          const encodings = Array.from({ length: out.readUInt16BE(2) }, (_, i) => out.readInt32BE(4 + 4 * i));
          wire.encodings = encodings;
          if (options.withoutContinuousUpdates) {
            const kept = encodings.filter((e) => e !== FENCE_ENCODING && e !== CONTINUOUS_UPDATES_ENCODING);
            out = Buffer.alloc(4 + 4 * kept.length);
            out[0] = 2;
            out.writeUInt16BE(kept.length, 2);
            kept.forEach((e, i) => out.writeInt32BE(e, 4 + 4 * i));
          }
        } else if (session) {
          wire.after.push({ type: out[0], bytes: out });
        }
        previous = bytes;
        return transport.write(out);
      };
      const wrapped: Transport = {
        remote: transport.remote,
        start: (events) => transport.start(events),
        write,
        close: (timeoutMs) => transport.close(timeoutMs),
        destroy: () => transport.destroy(),
      };
      if (transport.startTls) wrapped.startTls = (tlsOptions) => transport.startTls!(tlsOptions);
      return wrapped;
    },
  };
}

async function connectWatched(
  server: { host: string; port: number },
  options: { withoutContinuousUpdates?: boolean; password?: string } = {},
): Promise<{ vnc: VNCAgentBridge; wire: Wire }> {
  const wire = new Wire();
  const connection = watched(new TCPVNCConnection({ host: server.host, port: server.port, password: options.password }), wire, options);
  const vnc = new VNCAgentBridge({ connection, timeoutMs: 15_000, typingDelayMs: 0 });
  await vnc.connect();
  return { vnc, wire };
}

// ---------------------------------------------------------------------------------------------
// Checks on the X server


function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Xvnc

test.describe('TigerVNC Xvnc: continuous updates on', () => {
  test.describe.configure({ mode: 'serial' });

  let server: XvncServer;
  let xterm: Xterm;
  let sink: string;

  test.beforeAll(async () => {
    test.setTimeout(60_000);
    server = await startXvnc({ geometry: '1024x768' });
    sink = join(await mkdtemp(join(tmpdir(), 'vnc-cu-e2e-')), 'typed.txt');
    xterm = await startXterm(server, { sinkFile: sink, geometry: '60x10+40+40' });
  });

  test.afterAll(async () => {
    await xterm?.stop();
    await server?.stop();
  });

  test('the fence is answered, continuous updates are enabled for the whole screen, and updates stream without requests', async () => {
    const { vnc, wire } = await connectWatched(server);
    try {
      const session = vnc.session();
      expect(wire.encodings).toEqual(expect.arrayContaining([FENCE_ENCODING, CONTINUOUS_UPDATES_ENCODING]));
      expect(session.continuousUpdates).toBe(true);
      // Xvnc's first fence: Request, one byte 0 — answered with flags 0 and the same byte.
      expect(wire.fences()[0]).toEqual([0, '00']);
      expect(wire.enables()).toEqual([[true, 0, 0, 1024, 768]]);
      // The only request: the first, non-incremental one (Xvnc offers continuous updates before the first frame).
      expect(wire.requests()).toEqual([[false, 0, 0, 1024, 768]]);

      const updatesBefore = session.updateCount;
      await xterm.focus();
      for (const word of ['streamed', 'without', 'requests']) {
        await vnc.screen.waitForChange(() => vnc.keyboard.type(`${word} `), { timeoutMs: 5000 });
      }
      await vnc.keyboard.type('\n');
      await readFileWhenContains(sink, 'streamed without requests \n');
      await vnc.screen.waitForStable({ stillMs: 200 });
      expect(session.updateCount).toBeGreaterThan(updatesBefore + 3);
      expect(wire.requests(), 'no request was sent while updates streamed').toEqual([[false, 0, 0, 1024, 768]]);
      expect(session.continuousUpdates).toBe(true);
    } finally {
      await vnc.disconnect();
    }
  });

  test('typed text arrives, waitForChange sees it, the capture equals the X server, refresh() still repaints everything', async () => {
    const { vnc, wire } = await connectWatched(server);
    try {
      expect(vnc.session().continuousUpdates).toBe(true);
      await xterm.focus();
      const region = { x: xterm.geometry.x, y: xterm.geometry.y, width: xterm.geometry.width, height: xterm.geometry.height };
      const before = vnc.screen.capture({ region });
      const after = await vnc.screen.waitForChange(() => vnc.keyboard.type('hello-cu\n'), { region, timeoutMs: 5000 });
      expect(after.data.equals(before.data)).toBe(false);
      expect(await readFileWhenContains(sink, 'hello-cu\n')).toContain('hello-cu\n');
      await expectCaptureMatchesServer(vnc, server);

      // A change outside any window: the root background.
      const corner = { x: 1000, y: 740, width: 20, height: 20 };
      const recoloured = await vnc.screen.waitForChange(() => run('xsetroot', ['-solid', '#aa3311'], { env: server.env }), { region: corner, timeoutMs: 5000 });
      expect([...recoloured.data.subarray(0, 3)]).toEqual([0xaa, 0x33, 0x11]);
      await run('xsetroot', ['-solid', DEFAULT_BACKGROUND], { env: server.env });
      await expectCaptureMatchesServer(vnc, server);

      // refresh(): a non-incremental request, honoured while streaming; a damaged local copy is whole again.
      const whole = vnc.screen.capture();
      vnc.session().framebuffer.data.fill(0);
      await vnc.screen.refresh({ timeoutMs: 5000 });
      expect(vnc.screen.capture().data.equals(whole.data)).toBe(true);
      expect(wire.requests().filter(([incremental]) => incremental)).toEqual([]);
      expect(wire.requests().at(-1)).toEqual([false, 0, 0, 1024, 768]);
    } finally {
      await vnc.disconnect();
    }
  });

  test('a RandR resize (smaller, then larger again) keeps streaming at the new size', async () => {
    const { vnc, wire } = await connectWatched(server);
    try {
      const session = vnc.session();
      expect(session.continuousUpdates).toBe(true);
      for (const [width, height] of [
        [800, 600],
        [1024, 768],
      ] as const) {
        const resized = new Promise<[number, number]>((resolve) => session.once('resize', (w, h) => resolve([w, h])));
        await run('xrandr', ['--fb', `${width}x${height}`], { env: server.env, timeoutMs: 5000 });
        expect(await resized).toEqual([width, height]);
        expect(vnc.screen.width).toBe(width);
        // The streamed area follows at once; the whole new screen is asked for once.
        expect(wire.enables().at(-1)).toEqual([true, 0, 0, width, height]);
        await vnc.screen.waitForStable({ stillMs: 200 });
        expect(wire.requests().at(-1)).toEqual([false, 0, 0, width, height]);
        expect(session.continuousUpdates).toBe(true);

        await xterm.focus();
        const text = `resized-${width}`;
        await vnc.screen.waitForChange(() => vnc.keyboard.type(`${text}\n`), { timeoutMs: 5000 });
        await readFileWhenContains(sink, `${text}\n`);
        // The capture matches the X server everywhere, the area the screen grew back into included.
        await expectCaptureMatchesServer(vnc, server);
      }
      expect(wire.requests().filter(([incremental]) => incremental), 'still no incremental requests').toEqual([]);
    } finally {
      await vnc.disconnect();
    }
  });

  test('latency from a key press to the screen update, with and without continuous updates (median of 20)', async ({}, testInfo) => {
    test.setTimeout(120_000);
    const SAMPLES = 20;
    const figures: Record<string, { median: number; min: number; max: number; samples: number[] }> = {};
    for (const mode of ['without', 'with', 'without again', 'with again'] as const) {
      const streaming = !mode.startsWith('without');
      const { vnc } = await connectWatched(server, { withoutContinuousUpdates: !streaming });
      try {
        expect(vnc.session().continuousUpdates).toBe(streaming);
        await xterm.focus();
        await vnc.screen.waitForStable({ stillMs: 200 });
        const region = { x: xterm.geometry.x, y: xterm.geometry.y, width: xterm.geometry.width, height: xterm.geometry.height };
        // Warm-up, then one character at a time (a new line every 40 keeps the line short).
        for (let i = 0; i < 3; i++) await vnc.screen.waitForChange(() => vnc.keyboard.type('w'), { region, timeoutMs: 5000 });
        const samples: number[] = [];
        for (let i = 0; i < SAMPLES; i++) {
          await delay(50);
          const started = performance.now();
          await vnc.screen.waitForChange(() => vnc.keyboard.type(String.fromCharCode(97 + (i % 26))), { region, timeoutMs: 5000 });
          samples.push(Math.round((performance.now() - started) * 100) / 100);
        }
        await vnc.keyboard.type('\n');
        figures[mode] = { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
      } finally {
        await vnc.disconnect();
      }
    }
    const summary = Object.entries(figures)
      .map(([mode, f]) => `${mode} continuous updates: median ${f.median.toFixed(2)} ms (min ${f.min}, max ${f.max})`)
      .join('; ');
    console.log(`key press → screen update on Xvnc, ${SAMPLES} samples each: ${summary}`);
    testInfo.annotations.push({ type: 'latency', description: summary });
    await testInfo.attach('latency.json', { body: JSON.stringify(figures, null, 2), contentType: 'application/json' });
    for (const f of Object.values(figures)) expect(f.median).toBeLessThan(500);
  });
});

// ---------------------------------------------------------------------------------------------
// Servers without continuous updates

test.describe('servers that ignore the offer keep one request per update', () => {
  test('x11vnc: no fence, no EnableContinuousUpdates, an incremental request after every update', async ({ x11vnc }) => {
    const { vnc, wire } = await connectWatched(x11vnc);
    try {
      const session = vnc.session();
      expect(wire.encodings).toEqual(expect.arrayContaining([FENCE_ENCODING, CONTINUOUS_UPDATES_ENCODING]));
      expect(session.continuousUpdates).toBe(false);
      const recoloured = await vnc.screen.waitForChange(() => run('xsetroot', ['-solid', '#11aa33'], { env: x11vnc.env }), {
        region: { x: 0, y: 0, width: 50, height: 50 },
        timeoutMs: 10_000,
      });
      expect([...recoloured.data.subarray(0, 3)]).toEqual([0x11, 0xaa, 0x33]);
      await run('xsetroot', ['-solid', DEFAULT_BACKGROUND], { env: x11vnc.env });
      await vnc.screen.waitForStable({ stillMs: 300, timeoutMs: 10_000 });
      expect(wire.fences()).toEqual([]);
      expect(wire.enables()).toEqual([]);
      // The first request, then one incremental request per completed update.
      const requests = wire.requests();
      expect(requests[0]).toEqual([false, 0, 0, 1280, 800]);
      expect(requests.slice(1)).toEqual(Array.from({ length: session.updateCount }, () => [true, 0, 0, 1280, 800]));
      expect(session.updateCount).toBeGreaterThan(1);
    } finally {
      await vnc.disconnect();
    }
  });

  test('QEMU: no fence, no EnableContinuousUpdates, a request after every update; refresh() works', async ({ qemu }) => {
    const { vnc, wire } = await connectWatched({ host: qemu.host, port: qemu.vncPort }, { password: XVNC_PASSWORD });
    try {
      const session = vnc.session();
      expect(wire.encodings).toEqual(expect.arrayContaining([FENCE_ENCODING, CONTINUOUS_UPDATES_ENCODING]));
      expect(session.continuousUpdates).toBe(false);
      await vnc.screen.refresh({ timeoutMs: 10_000 });
      await vnc.screen.waitForStable({ stillMs: 300, timeoutMs: 10_000 });
      expect(wire.fences()).toEqual([]);
      expect(wire.enables()).toEqual([]);
      // One request per completed update (non-incremental after a size change), plus refresh()'s own non-incremental one.
      const requests = wire.requests();
      expect(requests.length).toBe(1 + session.updateCount + 1);
      expect(requests.filter(([incremental]) => incremental).length).toBeGreaterThan(0);
    } finally {
      await vnc.disconnect();
    }
  });
});
