/**
 * Network faults between the bridge and a real TigerVNC Xvnc, made by a loopback proxy
 * (specs/support/fault-proxy.ts): each case must end in the right typed error within its bound,
 * and a fresh connect() through the same proxy, passing again, must then work — what a Playwright
 * retry does after a failure.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { VNCAgentBridge, VNCConnectionError, VNCError, VNCStateError, VNCTimeoutError, decodePng, type VNCAgentBridgeOptions } from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { hexToRgb } from '../support/desktop.js';
import { delay, run, runChecked } from '../support/processes.js';
import { DEFAULT_BACKGROUND, startXvnc, type XvncServer } from '../support/xvnc.js';

test.describe.configure({ mode: 'serial' });

let server: XvncServer;
let proxy: FaultProxy;

test.beforeAll(async () => {
  server = await startXvnc({ geometry: '320x240' });
});

test.afterAll(async () => {
  await server?.stop();
});

test.beforeEach(async () => {
  proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
});

test.afterEach(async () => {
  await proxy?.stop();
});

function bridge(options: Partial<VNCAgentBridgeOptions> = {}): VNCAgentBridge {
  return new VNCAgentBridge({ host: proxy.host, port: proxy.port, timeoutMs: 5000, ...options });
}

/** What `promise` rejected with, and how long that took. */
async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

/** A session through the proxy, passing again, connects and shows the root colour. */
async function expectFreshConnectWorks(options: Partial<VNCAgentBridgeOptions> = {}): Promise<void> {
  proxy.set({ kind: 'pass' });
  const vnc = bridge(options);
  try {
    await vnc.connect();
    const png = decodePng(await vnc.screen.screenshot({ region: { x: 0, y: 0, width: 2, height: 2 } }));
    expect([...png.data.subarray(0, 3)]).toEqual(hexToRgb(DEFAULT_BACKGROUND));
  } finally {
    await vnc.disconnect();
  }
}

test('connecting through a proxy that drops everything times out with VNCTimeoutError', async () => {
  proxy.set({ kind: 'drop' });
  const vnc = bridge({ timeoutMs: 1500 });
  const { error, ms } = await rejection(vnc.connect());
  expect(error).toBeInstanceOf(VNCTimeoutError);
  expect((error as VNCTimeoutError).message).toMatch(/Timed out after \d+ ms connecting to 127\.0\.0\.1:\d+ \(waiting for the server to speak\)/);
  expect(ms).toBeLessThan(1500 + 1000);
  expect(vnc.isConnected).toBe(false);
  await expectFreshConnectWorks();
});

test('a connection cut in the middle of ServerInit fails with VNCConnectionError', async () => {
  // -SecurityTypes None, RFB 3.8: 12 (version) + 2 (types) + 4 (SecurityResult) bytes, then ServerInit (24 + name).
  proxy.set({ kind: 'cut', afterServerBytes: 18 + 10 });
  const vnc = bridge();
  const { error, ms } = await rejection(vnc.connect());
  expect(error).toBeInstanceOf(VNCConnectionError);
  expect((error as VNCError).code).toBe('ECLOSED');
  expect((error as Error).message).toMatch(/closed/);
  expect(proxy.stats()).toMatchObject({ cuts: 1, toClient: 28 });
  expect(ms).toBeLessThan(3000);
  await expectFreshConnectWorks();
});

test('a connection cut in the middle of a FramebufferUpdate fails the pending wait with VNCConnectionError', async () => {
  // Raw only: the full refresh of 320×240 is one 307 kB update, so 1000 bytes in is inside it.
  const vnc = bridge({ encodings: ['raw'] });
  await vnc.connect();
  try {
    const session = vnc.session();
    const closed = new Promise<VNCError | undefined>((resolve) => session.once('closed', resolve));
    proxy.set({ kind: 'cut', afterServerBytes: 1000 });
    const { error, ms } = await rejection(session.refresh(5000));
    expect(error).toBeInstanceOf(VNCConnectionError);
    expect((error as VNCError).code).toBe('ECLOSED');
    expect(await closed).toBe(error);
    expect(ms).toBeLessThan(3000);
    expect(vnc.isConnected).toBe(false);
    expect(() => vnc.screen.capture()).toThrow(VNCStateError);
  } finally {
    await vnc.disconnect();
  }
  await expectFreshConnectWorks({ encodings: ['raw'] });
});

test('one byte at a time, the handshake and a capture still complete', async () => {
  test.setTimeout(60_000);
  // Both ways, 5 ms per byte: about 170 bytes each way for a solid 320×240 screen, so about 2 s.
  proxy.set({ kind: 'drip', delayMs: 5 });
  const vnc = bridge({ timeoutMs: 40_000 });
  const started = Date.now();
  await vnc.connect();
  try {
    const png = decodePng(await vnc.screen.screenshot());
    expect([png.width, png.height]).toEqual([320, 240]);
    expect([...png.data.subarray(0, 3)]).toEqual(hexToRgb(DEFAULT_BACKGROUND));
    // The client saw every byte separately: as many writes to it as bytes.
    const stats = proxy.stats();
    expect(stats.writesToClient).toBe(stats.toClient);
    expect(stats.toClient).toBeGreaterThan(100);
    expect(Date.now() - started).toBeGreaterThan(stats.toClient * 4);
    test.info().annotations.push({ type: 'drip', description: `${stats.toClient} bytes to the client, ${stats.toServer} to the server, connected in ${Date.now() - started} ms` });
  } finally {
    await vnc.disconnect();
  }
  await expectFreshConnectWorks();
});

test('with stallTimeoutMs, a server that stops answering ends the session and the pending waitForChange', async () => {
  const stallTimeoutMs = 1500;
  const vnc = bridge({ stallTimeoutMs, timeoutMs: 10_000 });
  await vnc.connect();
  try {
    proxy.set({ kind: 'stall' });
    const stalledAt = Date.now();
    const { error } = await rejection(vnc.screen.waitForChange(undefined, { timeoutMs: 10_000 }));
    const ms = Date.now() - stalledAt;
    expect(error).toBeInstanceOf(VNCConnectionError);
    expect((error as VNCError).code).toBe('ECLOSED');
    expect((error as Error).message).toMatch(/stopped answering.*stallTimeoutMs 1500/);
    expect(ms).toBeGreaterThanOrEqual(stallTimeoutMs / 2);
    expect(ms).toBeLessThan(stallTimeoutMs + 1000);
    expect(vnc.isConnected).toBe(false);
    const stateError = (() => {
      try {
        vnc.session();
      } catch (e) {
        return e;
      }
    })();
    expect(stateError).toBeInstanceOf(VNCStateError);
    expect((stateError as Error).cause).toBe(error);
    // Input after the stall fails too, with a state error naming the cause.
    await expect(vnc.mouse.move(1, 1)).rejects.toThrow(/stopped answering/);
  } finally {
    await vnc.disconnect();
  }
  await expectFreshConnectWorks({ stallTimeoutMs });
});

test('with stallTimeoutMs, an idle, unchanging screen is not a stall: the probe keeps it alive', async () => {
  const stallTimeoutMs = 800;
  const vnc = bridge({ stallTimeoutMs });
  await vnc.connect();
  try {
    const sentBefore = proxy.stats().toServer;
    await delay(stallTimeoutMs * 4);
    expect(vnc.isConnected).toBe(true);
    // Probes went out (10-byte update requests) while nothing else did.
    expect(proxy.stats().toServer - sentBefore).toBeGreaterThanOrEqual(20);
    // The session still works: a change made on the X server arrives.
    const changed = vnc.screen.waitForChange(() => runChecked('xsetroot', ['-solid', '#408020'], { env: server.env, timeoutMs: 5000 }), { timeoutMs: 5000 });
    const frame = await changed;
    expect([...frame.data.subarray(0, 3)]).toEqual(hexToRgb('#408020'));
  } finally {
    await run('xsetroot', ['-solid', DEFAULT_BACKGROUND], { env: server.env, timeoutMs: 5000 });
    await vnc.disconnect();
  }
});

test.describe('VeNCrypt', () => {
  let tlsServer: XvncServer;
  let tlsProxy: FaultProxy;
  let certDir: string;
  let certPem: string;

  test.beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'vnc-agent-faults-'));
    const certPath = join(certDir, 'cert.pem');
    const keyPath = join(certDir, 'key.pem');
    await runChecked('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyPath, '-out', certPath,
    ], { timeoutMs: 20_000 });
    certPem = await readFile(certPath, 'utf8');
    tlsServer = await startXvnc({ geometry: '320x240', extraArgs: ['-SecurityTypes', 'X509None', '-X509Cert', certPath, '-X509Key', keyPath] });
  });

  test.afterAll(async () => {
    await tlsServer?.stop();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  test.beforeEach(async () => {
    tlsProxy = await startFaultProxy({ target: { host: tlsServer.host, port: tlsServer.port } });
  });

  test.afterEach(async () => {
    await tlsProxy?.stop();
  });

  test('an RST during the TLS handshake fails with VNCConnectionError', async () => {
    // Client bytes before the ClientHello: 12 (version) + 1 (type 19) + 2 (VeNCrypt 0.2) + 4 (sub-type).
    tlsProxy.set({ kind: 'reset', afterClientBytes: 19 });
    const vnc = new VNCAgentBridge({ host: tlsProxy.host, port: tlsProxy.port, certificatePem: certPem, timeoutMs: 5000 });
    const { error, ms } = await rejection(vnc.connect());
    expect(error).toBeInstanceOf(VNCConnectionError);
    expect((error as Error).message).toMatch(/reset the connection during the TLS handshake|closed the connection during the TLS handshake/);
    expect(tlsProxy.stats().resets).toBe(1);
    expect(ms).toBeLessThan(3000);

    tlsProxy.set({ kind: 'pass' });
    const again = new VNCAgentBridge({ host: tlsProxy.host, port: tlsProxy.port, certificatePem: certPem, timeoutMs: 5000 });
    try {
      await again.connect();
      expect(again.info).toMatchObject({ securityType: 19, securitySubtype: 260 });
    } finally {
      await again.disconnect();
    }
  });
});
