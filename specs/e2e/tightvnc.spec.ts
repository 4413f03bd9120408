/**
 * Debian's TightVNC server (tightvncserver 1.3.10, `Xtightvnc`), started by the suite on 127.0.0.1:
 * the Tight security type (16) with VNC Authentication inside, classic Tight encoding pixel-exact
 * against Raw, typing checked in an xterm sink, and its clipboard, which is CUT_BUFFER0 only.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, test } from '@playwright/test';

import { VNCAgentBridge } from '../../src/bridge/bridge.js';
import { VNCAuthenticationError } from '../../src/errors.js';
import { childPids, delay, procStat, run, startProcess, stopProcess, type StartedProcess } from '../support/processes.js';
import { startTightVnc, type TightVncServer } from '../support/tightvnc.js';

test.describe.configure({ mode: 'serial' });
test.setTimeout(60_000);

const PASSWORD = 'tight-pw';

let server: TightVncServer;
let dir: string;
let xterm: StartedProcess;
const SINK = () => join(dir, 'typed.txt');

/**
 * An xterm typing sink at +20+20. Not startXterm: Xtightvnc's old X server makes `xdotool search`
 * crash, so readiness is the `cat` child, and the pointer is moved into the window through VNC.
 */
async function startSink(): Promise<StartedProcess> {
  await writeFile(SINK(), '');
  const proc = startProcess('xterm', ['-u8', '-geometry', '60x10+20+20', '-e', 'sh', '-c', 'exec cat >> "$1"', 'sh', SINK()], { env: { ...server.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } });
  const deadline = Date.now() + 10_000;
  while (!childPids(proc.pid).some((pid) => procStat(pid)?.comm === 'cat')) {
    if (Date.now() > deadline || proc.hasExited()) throw new Error(`xterm did not start its cat: ${proc.logTail()}`);
    await delay(20);
  }
  return proc;
}

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vnc-agent-tightvnc-spec-'));
  server = await startTightVnc({ password: PASSWORD, geometry: '800x600', desktopName: 'tight test desktop' });
  xterm = await startSink();
});

test.afterAll(async () => {
  if (xterm) await stopProcess(xterm, 3000);
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function connect(options: { password?: string; encodings?: string[] } = {}): Promise<VNCAgentBridge> {
  return new VNCAgentBridge({ host: '127.0.0.1', port: server.port, password: options.password ?? PASSWORD, timeoutMs: 15_000, ...(options.encodings ? { encodings: options.encodings } : {}) }).connect();
}

test('the Tight security type with VNC Authentication inside; the desktop name and size', async () => {
  const vnc = await connect();
  try {
    expect(vnc.info.securityType).toBe(16);
    expect(vnc.info.securitySubtype).toBe(2);
    expect(vnc.info.securityTypeName).toBe('Tight (16) with VNC Authentication (2)');
    // Xtightvnc decorates the name: "root's tight test desktop desktop (host:N)".
    expect(vnc.info.name).toContain('tight test desktop');
    expect([vnc.screen.width, vnc.screen.height]).toEqual([800, 600]);
    // No ExtendedDesktopSize: setSize refuses at once, saying so.
    expect(vnc.info.canResize).toBe(false);
    await expect(vnc.screen.setSize(1024, 768)).rejects.toThrow(/does not let clients resize its desktop/);
    // The root window colour set by the launcher (#204080), far from the xterm.
    const frame = vnc.screen.capture({ region: { x: 790, y: 590, width: 1, height: 1 } });
    expect([...frame.data.subarray(0, 3)]).toEqual([0x20, 0x40, 0x80]);
  } finally {
    await vnc.disconnect();
  }
});

test('a wrong password → VNCAuthenticationError naming Tight, without the password', async () => {
  const error = await connect({ password: 'wrong-pw' }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VNCAuthenticationError);
  expect((error as Error).message).toContain('Tight (16) with VNC Authentication (2)');
  expect((error as Error).message).not.toContain('wrong-pw');
});

test('classic Tight encoding shows the same pixels as Raw', async () => {
  const tight = await connect({ encodings: ['tight'] });
  const raw = await connect({ encodings: ['raw'] });
  try {
    await tight.screen.waitForStable({ stillMs: 500, timeoutMs: 10_000 });
    await raw.screen.waitForStable({ stillMs: 500, timeoutMs: 10_000 });
    const a = tight.screen.capture();
    const b = raw.screen.capture();
    expect([a.width, a.height]).toEqual([b.width, b.height]);
    let differing = 0;
    for (let i = 0; i < a.data.length; i += 4) if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) differing++;
    expect(differing).toBe(0);
  } finally {
    await tight.disconnect();
    await raw.disconnect();
  }
});

test('typed text arrives in the xterm, byte for byte', async () => {
  const vnc = await connect();
  try {
    // No window manager: the keyboard follows the pointer into the xterm. The server handles the
    // pointer event before the keys (in order), so no wait is needed (xdotool crashes on Xtightvnc).
    await vnc.mouse.move(60, 50);
    await vnc.keyboard.type('Tight: ok 123 ~!@#\n');
    await expect.poll(() => readFile(SINK(), 'utf8'), { timeout: 10_000 }).toBe('Tight: ok 123 ~!@#\n');
  } finally {
    await vnc.disconnect();
  }
});

test('the clipboard it syncs is CUT_BUFFER0 of the root window, not the CLIPBOARD selection', async () => {
  const vnc = await connect();
  try {
    await vnc.clipboard.setText('from the client');
    await expect
      .poll(async () => (await run('xprop', ['-root', 'CUT_BUFFER0'], { env: server.env, timeoutMs: 5000 })).stdout, { timeout: 10_000 })
      .toContain('"from the client"');
    const clipboard = await run('xclip', ['-o', '-selection', 'clipboard'], { env: server.env, timeoutMs: 5000 });
    expect(clipboard.stdout).not.toContain('from the client');
  } finally {
    await vnc.disconnect();
  }
});
