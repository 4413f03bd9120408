/**
 * Proves the test harness itself against real Xvnc servers: start-up, readiness, isolation of
 * parallel servers, pointer, keyboard sink, clipboard, pixels, and clean shutdown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '../support/fixtures.js';
import { RFB_BANNER, readBanner, startXvnc } from '../support/xvnc.js';
import { freePort, isAlive, run } from '../support/processes.js';
import {
  clipboardGet,
  bindKeysyms,
  clipboardOwn,
  hexToRgb,
  pixelAt,
  pointerLocation,
  readFileWhenContains,
  rootPixels,
  startXterm,
  waitForFile,
  xdotool,
} from '../support/desktop.js';

/** Sends the client version and returns the security types the server offers. */
function securityTypes(port: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no security types within 3 s'));
    }, 3000);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 12 && !socket.writableEnded) socket.write(RFB_BANNER);
      if (buf.length >= 13 && buf.length >= 13 + buf[12]) {
        clearTimeout(timer);
        socket.destroy();
        resolve([...buf.subarray(13, 13 + buf[12])]);
      }
    });
    socket.on('error', reject);
  });
}

/**
 * A fresh temp directory for sink files, removed after the test. (Not testInfo.outputPath: a
 * concurrent Playwright run in the same checkout wipes reports/test-results under our feet.)
 */
function tempDir(): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), 'vnc-agent-harness-'));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

test.describe('Xvnc harness', () => {
  test('the worker server serves the RFB 3.8 banner and offers None', async ({ xvnc }) => {
    expect(xvnc.host).toBe('127.0.0.1');
    expect(xvnc.env.DISPLAY).toBe(`:${xvnc.display}`);
    expect(isAlive(xvnc.pid)).toBe(true);
    expect(await readBanner(xvnc.port)).toBe(RFB_BANNER);
    expect(await securityTypes(xvnc.port)).toEqual([1]);
  });

  test('the password server offers VncAuth only', async ({ xvncWithPassword }) => {
    expect(xvncWithPassword.password).toBe('secret12');
    expect(await readBanner(xvncWithPassword.port)).toBe(RFB_BANNER);
    expect(await securityTypes(xvncWithPassword.port)).toEqual([2]);
  });

  test('servers started in one worker get distinct displays and ports', async ({ xvnc }) => {
    const [a, b] = await Promise.all([startXvnc({ geometry: '640x480' }), startXvnc({ geometry: '640x480' })]);
    try {
      const displays = new Set([xvnc.display, a.display, b.display]);
      const ports = new Set([xvnc.port, a.port, b.port]);
      expect(displays.size).toBe(3);
      expect(ports.size).toBe(3);
      expect(await readBanner(a.port)).toBe(RFB_BANNER);
      expect(await readBanner(b.port)).toBe(RFB_BANNER);
      expect((await rootPixels(a)).width).toBe(640);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(isAlive(a.pid)).toBe(false);
    expect(isAlive(b.pid)).toBe(false);
  });

  test('pointerLocation agrees with xdotool mousemove', async ({ xvnc }) => {
    await xdotool(xvnc, ['mousemove', '--sync', '300', '200']);
    expect(await pointerLocation(xvnc)).toEqual({ x: 300, y: 200 });
    await xdotool(xvnc, ['mousemove', '--sync', '1279', '0']);
    expect(await pointerLocation(xvnc)).toEqual({ x: 1279, y: 0 });
  });

  test('an xterm sink receives typed lines', async ({ xvnc }) => {
    using dir = tempDir();
    const sink = join(dir.path, 'typed.txt');
    const xterm = await startXterm(xvnc, { sinkFile: sink });
    try {
      expect(xterm.windowId).toBeGreaterThan(0);
      expect(xterm.geometry).toMatchObject({ x: 40, y: 40 });
      expect(xterm.geometry.width).toBeGreaterThan(200);
      await xterm.focus();
      await xdotool(xvnc, ['type', '--delay', '20', 'hello\n']);
      expect(await readFileWhenContains(sink, 'hello\n', 5000)).toBe('hello\n');
      await xdotool(xvnc, ['type', '--delay', '20', 'Shifted: A~!@#$%^&*()_+{}|:"<>?\n']);
      expect(await readFileWhenContains(sink, '?\n', 5000)).toBe('hello\nShifted: A~!@#$%^&*()_+{}|:"<>?\n');
    } finally {
      await xterm.stop();
    }
    expect(isAlive(xterm.pid)).toBe(false);
  });

  test('an xterm sink writes non-ASCII input as UTF-8', async () => {
    // A private server, because bindKeysyms changes the keymap (see bindKeysyms for why it is needed).
    const server = await startXvnc({ geometry: '800x600' });
    using dir = tempDir();
    const sink = join(dir.path, 'utf8.txt');
    try {
      await bindKeysyms(server, [['udiaeresis', 'Udiaeresis'], ['idiaeresis'], ['odiaeresis'], ['eacute'], ['U2713']]);
      const xterm = await startXterm(server, { sinkFile: sink });
      try {
        await xterm.focus();
        await xdotool(server, ['type', '--delay', '20', 'Ünïcödé ✓ ü\n']);
        expect(await readFileWhenContains(sink, '\n', 5000)).toBe('Ünïcödé ✓ ü\n');
      } finally {
        await xterm.stop();
      }
    } finally {
      await server.stop();
    }
  });

  test('clipboardOwn then clipboardGet round-trips text', async ({ xvnc }) => {
    const owner = await clipboardOwn(xvnc, 'clip — ✓ 123');
    try {
      expect(await clipboardGet(xvnc)).toBe('clip — ✓ 123');
    } finally {
      await owner.stop();
    }
    expect(isAlive(owner.pid)).toBe(false);
    expect(await clipboardGet(xvnc)).toBe('');
  });

  test('rootPixels returns the screen size and the background colour', async ({ xvnc }) => {
    const image = await rootPixels(xvnc);
    expect([image.width, image.height]).toEqual([1280, 800]);
    expect(image.data.length).toBe(1280 * 800 * 4);
    const bg = hexToRgb('#204080');
    expect(pixelAt(image, 0, 0)).toEqual(bg);
    expect(pixelAt(image, 1279, 799)).toEqual(bg);
    expect(image.data[3]).toBe(255);
  });

  test('stop() and kill() leave no process behind', async () => {
    const server = await startXvnc({ geometry: '320x240', password: 'pw' });
    const xterm = await startXterm(server, { geometry: '20x5+0+0' });
    expect(isAlive(server.pid)).toBe(true);
    await xterm.stop();
    await server.stop();
    await server.stop(); // idempotent
    expect(isAlive(xterm.pid)).toBe(false);
    expect(isAlive(server.pid)).toBe(false);

    const crashed = await startXvnc({ geometry: '320x240', background: null });
    crashed.kill();
    await crashed.stop();
    expect(isAlive(crashed.pid)).toBe(false);
  });

  test('failures are bounded and explain themselves', async () => {
    const started = Date.now();
    const slow = await run('sleep', ['10'], { timeoutMs: 200 });
    expect(slow.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);

    const missing = await waitForFile('/nonexistent/never', (c) => c.length > 0, 200);
    expect(missing).toBe('');

    const error = await startXvnc({ extraArgs: ['-NoSuchOption'], timeoutMs: 5000 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('Xvnc log tail');
    expect((error as Error).message).toMatch(/NoSuchOption/);

    expect(await freePort()).toBeGreaterThan(0);
  });
});
