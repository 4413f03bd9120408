/**
 * Proves the peer-server helpers on real processes: websockify (ws, wss, tokens) in front of Xvnc,
 * QEMU's VNC server (TCP and WebSocket), x11vnc on Xvfb, and the test certificates. Each test also
 * pins down what a raw `ws` client sees in the failure cases our transport has to explain (wrong
 * token, wrong path, untrusted/expired/mismatched certificate, subprotocols), and checks that every
 * `stop()` leaves no process behind.
 */
import { X509Certificate } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { test, expect } from '../support/fixtures.js';
import { makeSelfSignedCert, makeWrongHostCert, WRONG_HOST, type SelfSignedCert } from '../support/certs.js';
import { startWebsockify, type Websockify } from '../support/websockify.js';
import { startQemu } from '../support/qemu.js';
import { startX11vnc } from '../support/x11vnc.js';
import { RFB_BANNER, readBanner } from '../support/xvnc.js';
import { hexToRgb, pixelAt, rootPixels } from '../support/desktop.js';
import { childPids, isAlive } from '../support/processes.js';

/** Everything a `ws` client observed on one connection attempt. */
interface WsOutcome {
  opened: boolean;
  /** The negotiated subprotocol ('' when none). */
  protocol?: string;
  /** Bytes received until `wantBytes` arrived (concatenated binary messages). */
  received?: Buffer;
  /** Whether every message was binary. */
  allBinary?: boolean;
  messages?: number;
  errorCode?: string;
  errorMessage?: string;
  closeCode?: number;
}

interface ProbeOptions {
  protocols?: string | string[];
  ca?: string;
  rejectUnauthorized?: boolean;
  /** Origin header (x11vnc/libvncserver refuses a handshake without one). */
  origin?: string;
  /** Bytes to send once the first `sendAfter` bytes have arrived (e.g. the client version). */
  reply?: { after: number; data: Buffer };
  /** Stop reading once this many bytes arrived (default 12: the banner). */
  wantBytes?: number | ((received: Buffer) => boolean);
  timeoutMs?: number;
}

/**
 * Opens a WebSocket, collects binary data until `wantBytes`, closes, and reports what happened —
 * never rejects (errors become `errorCode`/`errorMessage`).
 */
function probeWs(url: string, options: ProbeOptions = {}): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const outcome: WsOutcome = { opened: false };
    const ws = new WebSocket(url, options.protocols ?? [], {
      ca: options.ca,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      handshakeTimeout: options.timeoutMs ?? 5000,
      origin: options.origin,
    });
    let received = Buffer.alloc(0);
    let replied = false;
    const want = options.wantBytes ?? 12;
    const enough = (): boolean => (typeof want === 'number' ? received.length >= want : want(received));
    const timer = setTimeout(() => {
      outcome.errorMessage ??= `probe timed out after ${options.timeoutMs ?? 5000} ms`;
      ws.terminate();
    }, options.timeoutMs ?? 5000);
    ws.on('open', () => {
      outcome.opened = true;
      outcome.protocol = ws.protocol;
      outcome.allBinary = true;
      outcome.messages = 0;
    });
    ws.on('message', (data, isBinary) => {
      outcome.messages! += 1;
      if (!isBinary) outcome.allBinary = false;
      received = Buffer.concat([received, Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)]);
      if (options.reply && !replied && received.length >= options.reply.after) {
        replied = true;
        ws.send(options.reply.data);
      }
      if (enough() && ws.readyState === WebSocket.OPEN) ws.close(1000);
    });
    ws.on('error', (e: Error & { code?: string }) => {
      outcome.errorCode ??= e.code;
      outcome.errorMessage ??= e.message;
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      outcome.closeCode = code;
      if (outcome.opened) outcome.received = received;
      resolve(outcome);
    });
  });
}

/** Like `probeWs` but to read the banner and the security types (sends the 3.8 client version). */
function probeSecurityTypes(url: string, origin?: string): Promise<WsOutcome> {
  return probeWs(url, {
    origin,
    reply: { after: 12, data: Buffer.from(RFB_BANNER, 'latin1') },
    wantBytes: (b) => b.length >= 13 && b.length >= 13 + b[12],
  });
}

/** The security types in a `probeSecurityTypes` outcome. */
function typesOf(outcome: WsOutcome): number[] {
  const b = outcome.received ?? Buffer.alloc(0);
  return [...b.subarray(13, 13 + (b[12] ?? 0))];
}

/** Sends the client version over TCP and returns the security types the server offers. */
function tcpSecurityTypes(port: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no security types within 3 s'));
    }, 3000);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 12 && !socket.writableEnded) socket.end(RFB_BANNER);
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
 * Sends a hand-written WebSocket upgrade request and returns exactly what came back within
 * `timeoutMs` (the raw head, or '' if the server closed without a byte) and how the connection ended.
 */
function rawUpgrade(port: number, path: string, options: { tls?: boolean; protocol?: string; timeoutMs?: number } = {}): Promise<{ text: string; ended: string }> {
  return new Promise((resolve) => {
    const socket = options.tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : tcpConnect({ port, host: '127.0.0.1' });
    let data = Buffer.alloc(0);
    let ended = 'still open';
    const request = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      ...(options.protocol !== undefined ? [`Sec-WebSocket-Protocol: ${options.protocol}`] : []),
      '',
      '',
    ].join('\r\n');
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString('latin1');
      const head = text.includes('\r\n\r\n') ? text.slice(0, text.indexOf('\r\n\r\n')) : text;
      resolve({ text: head, ended });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 2000);
    socket.once(options.tls ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
    socket.on('error', (e: Error & { code?: string }) => (ended = `error ${e.code ?? e.message}`));
    socket.on('end', () => (ended = ended === 'still open' ? 'FIN' : ended));
    socket.on('close', finish);
  });
}

/** Records an observation in the report and on stdout. */
function observe(label: string, value: unknown): void {
  const description = `${label}: ${JSON.stringify(value)}`;
  test.info().annotations.push({ type: 'observed', description });
  console.log(`[observed] ${description}`);
}

/** The outcome without the received bytes (for the report). */
function summary(outcome: WsOutcome): Omit<WsOutcome, 'received'> & { received?: string } {
  return { ...outcome, received: outcome.received?.subarray(0, 12).toString('latin1') };
}

/** Asserts the pids (and websockify's children) are gone. */
function expectGone(...pids: number[]): void {
  for (const pid of pids) expect(isAlive(pid), `pid ${pid} should be gone`).toBe(false);
}

test.describe('certificates', () => {
  test('a default cert covers 127.0.0.1 and localhost and is valid now', async () => {
    const cert = await makeSelfSignedCert();
    try {
      const x509 = new X509Certificate(cert.certPem);
      expect(x509.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
      expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(x509.ca).toBe(true);
      expect(new Date(x509.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
      expect(new Date(x509.validTo).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    } finally {
      await cert.cleanup();
    }
  });

  test('an expired cert and a wrong-host cert', async () => {
    const [expired, wrong] = await Promise.all([makeSelfSignedCert({ expired: true, days: 2 }), makeWrongHostCert()]);
    try {
      const e = new X509Certificate(expired.certPem);
      expect(new Date(e.validTo).getTime()).toBeLessThan(Date.now());
      expect(new Date(e.validTo).getTime() - new Date(e.validFrom).getTime()).toBe(2 * 86_400_000);
      expect(e.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
      expect(e.ca).toBe(true);
      const w = new X509Certificate(wrong.certPem);
      expect(w.subjectAltName).toBe(`DNS:${WRONG_HOST}`);
      expect(w.checkIP('127.0.0.1')).toBeUndefined();
    } finally {
      await Promise.all([expired.cleanup(), wrong.cleanup()]);
    }
  });
});

test.describe('websockify', () => {
  test('ws:// passes the RFB banner of Xvnc as a binary message; any path works', async ({ xvnc }) => {
    const proxy = await startWebsockify({ target: { host: '127.0.0.1', port: xvnc.port } });
    let children: number[] = [];
    try {
      expect(proxy.scheme).toBe('ws');
      expect(proxy.url()).toBe(`ws://127.0.0.1:${proxy.port}/`);
      const root = await probeWs(proxy.url());
      observe('websockify ws, no subprotocol', summary(root));
      expect(root.opened).toBe(true);
      expect(root.protocol).toBe('');
      expect(root.allBinary).toBe(true);
      expect(root.received!.subarray(0, 12).toString('latin1')).toBe(RFB_BANNER);
      expect(root.closeCode).toBe(1000);

      const any = await probeSecurityTypes(proxy.url('/some/path?x=1'));
      expect(any.received!.subarray(0, 12).toString('latin1')).toBe(RFB_BANNER);
      expect(typesOf(any)).toEqual([1]);

      // Hold one connection open so a forked per-connection child exists when we stop.
      const held = new WebSocket(proxy.url());
      await new Promise<void>((resolve, reject) => {
        held.once('message', () => resolve());
        held.once('error', reject);
      });
      children = childPids(proxy.pid);
      observe('websockify children while one client is connected', children.length);
      held.on('error', () => {});
      await proxy.stop();
      held.terminate();
    } finally {
      await proxy.stop();
    }
    expectGone(proxy.pid, ...children);
  });

  test('subprotocols: none and binary work, base64 gets HTTP 400', async ({ xvnc }) => {
    const proxy = await startWebsockify({ target: { host: '127.0.0.1', port: xvnc.port } });
    try {
      const binary = await probeWs(proxy.url(), { protocols: 'binary' });
      observe('websockify subprotocol binary', summary(binary));
      expect(binary.opened).toBe(true);
      expect(binary.protocol).toBe('binary');
      expect(binary.received!.toString('latin1')).toBe(RFB_BANNER);

      const base64 = await probeWs(proxy.url(), { protocols: 'base64' });
      observe('websockify subprotocol base64', summary(base64));
      expect(base64.opened).toBe(false);
      expect(base64.errorMessage).toBe('Unexpected server response: 400');
      expect(base64.closeCode).toBe(1006);

      const both = await probeWs(proxy.url(), { protocols: ['binary', 'base64'] });
      observe('websockify subprotocols [binary, base64]', summary(both));
      // ws sends "binary, base64"; websockify 0.10 (Python 3) accepts it and echoes binary.
      expect(both.protocol).toBe('binary');
      const raw = await rawUpgrade(proxy.port, '/', { protocol: 'base64' });
      observe('websockify raw reply to base64', raw);
      expect(raw.text).toMatch(/^HTTP\/1\.[01] 400 /);
    } finally {
      await proxy.stop();
    }
    expectGone(proxy.pid);
  });

  test('tokens: a valid token reaches its target, a wrong or missing one is closed before any HTTP reply', async ({ xvnc, xvncWithPassword }) => {
    const proxy = await startWebsockify({
      tokens: { open: { host: '127.0.0.1', port: xvnc.port }, locked: { host: '127.0.0.1', port: xvncWithPassword.port } },
    });
    try {
      expect(proxy.tokenUrl('open')).toBe(`ws://127.0.0.1:${proxy.port}/?token=open`);
      const open = await probeSecurityTypes(proxy.tokenUrl('open'));
      const locked = await probeSecurityTypes(proxy.tokenUrl('locked'));
      expect(open.received!.subarray(0, 12).toString('latin1')).toBe(RFB_BANNER);
      expect(typesOf(open)).toEqual([1]);
      expect(typesOf(locked)).toEqual([2]);

      const wrong = await probeWs(proxy.tokenUrl('nope'));
      observe('websockify wrong token (ws client)', summary(wrong));
      expect(wrong.opened).toBe(false);
      expect(wrong.errorMessage).toBe('socket hang up');
      expect(wrong.errorCode).toBe('ECONNRESET');
      expect(wrong.closeCode).toBe(1006);

      const missing = await probeWs(proxy.url('/'));
      observe('websockify missing token (ws client)', summary(missing));
      expect(missing.opened).toBe(false);
      expect(missing.errorCode).toBe('ECONNRESET');

      const raw = await rawUpgrade(proxy.port, '/?token=nope');
      observe('websockify wrong token (raw HTTP)', raw);
      expect(raw.text).toBe('');
      expect(proxy.log()).toMatch(/nope/);
    } finally {
      await proxy.stop();
    }
    expectGone(proxy.pid);
  });

  test('wss:// with a self-signed cert: trusted via ca, refused otherwise', async ({ xvnc }) => {
    const cert = await makeSelfSignedCert();
    let proxy: Websockify | undefined;
    try {
      proxy = await startWebsockify({ target: { host: '127.0.0.1', port: xvnc.port } }, { tls: { certPath: cert.certPath, keyPath: cert.keyPath, sslOnly: true } });
      expect(proxy.scheme).toBe('wss');
      expect(proxy.url()).toBe(`wss://127.0.0.1:${proxy.port}/`);

      const trusted = await probeWs(proxy.url(), { ca: cert.certPem });
      observe('websockify wss trusted via ca', summary(trusted));
      expect(trusted.opened).toBe(true);
      expect(trusted.received!.toString('latin1')).toBe(RFB_BANNER);

      const untrusted = await probeWs(proxy.url());
      observe('websockify wss untrusted self-signed', summary(untrusted));
      expect(untrusted.opened).toBe(false);
      expect(untrusted.errorCode).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(untrusted.errorMessage).toBe('self-signed certificate');

      const insecure = await probeWs(proxy.url(), { rejectUnauthorized: false });
      expect(insecure.opened).toBe(true);

      const plain = await probeWs(`ws://127.0.0.1:${proxy.port}/`);
      observe('websockify --ssl-only, plain ws:// client', summary(plain));
      expect(plain.opened).toBe(false);
      expect(plain.errorCode).toBe('ECONNRESET');
    } finally {
      await proxy?.stop();
      await cert.cleanup();
    }
    expectGone(proxy!.pid);
  });

  test('wss:// with an expired or wrong-host cert fails even when trusted; without --ssl-only ws:// works too', async ({ xvnc }) => {
    const certs: SelfSignedCert[] = await Promise.all([makeSelfSignedCert({ expired: true }), makeWrongHostCert()]);
    const [expired, wrongHost] = certs;
    const proxies: Websockify[] = [];
    try {
      const target = { target: { host: '127.0.0.1', port: xvnc.port } };
      const a = await startWebsockify(target, { tls: { certPath: expired.certPath, keyPath: expired.keyPath } });
      proxies.push(a);
      const b = await startWebsockify(target, { tls: { certPath: wrongHost.certPath, keyPath: wrongHost.keyPath, sslOnly: true } });
      proxies.push(b);

      const exp = await probeWs(a.url(), { ca: expired.certPem });
      observe('websockify wss expired cert (trusted via ca)', summary(exp));
      expect(exp.opened).toBe(false);
      expect(exp.errorCode).toBe('CERT_HAS_EXPIRED');

      const plainToo = await probeWs(`ws://127.0.0.1:${a.port}/`);
      expect(plainToo.received!.toString('latin1')).toBe(RFB_BANNER);

      const mismatch = await probeWs(b.url(), { ca: wrongHost.certPem });
      observe('websockify wss wrong-host cert (trusted via ca)', summary(mismatch));
      expect(mismatch.opened).toBe(false);
      expect(mismatch.errorCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(mismatch.errorMessage).toContain("IP: 127.0.0.1 is not in the cert's list");
    } finally {
      await Promise.all(proxies.map((p) => p.stop()));
      await Promise.all(certs.map((c) => c.cleanup()));
    }
    expectGone(...proxies.map((p) => p.pid));
  });
});

test.describe('QEMU VNC server', () => {
  test('TCP and WebSocket serve the banner and offer VncAuth; only the path / is accepted', async () => {
    const qemu = await startQemu({ password: 'secret12' });
    try {
      expect(qemu.vncPort).toBe(5900 + qemu.display);
      expect(qemu.wsUrl).toBe(`ws://127.0.0.1:${qemu.wsPort}/`);
      expect(await readBanner(qemu.vncPort)).toBe(RFB_BANNER);
      expect(await tcpSecurityTypes(qemu.vncPort)).toEqual([2]);

      const ws = await probeSecurityTypes(qemu.wsUrl!);
      observe('qemu ws / no subprotocol', summary(ws));
      expect(ws.opened).toBe(true);
      expect(ws.protocol).toBe('');
      expect(ws.allBinary).toBe(true);
      expect(ws.received!.subarray(0, 12).toString('latin1')).toBe(RFB_BANNER);
      expect(typesOf(ws)).toEqual([2]);

      const wrongPath = await probeWs(`ws://127.0.0.1:${qemu.wsPort}/websockify`);
      observe('qemu ws /websockify', summary(wrongPath));
      expect(wrongPath.opened).toBe(false);
      expect(wrongPath.errorMessage).toBe('Unexpected server response: 404');
      expect(wrongPath.closeCode).toBe(1006);
      const raw = await rawUpgrade(qemu.wsPort!, '/websockify');
      observe('qemu raw /websockify', raw);
      expect(raw.text).toMatch(/^HTTP\/1\.1 404 /);
      const query = await probeWs(`ws://127.0.0.1:${qemu.wsPort}/?token=x`);
      observe('qemu ws /?token=x', summary(query));
      expect(query.errorMessage).toBe('Unexpected server response: 404');

      const binary = await probeWs(qemu.wsUrl!, { protocols: 'binary' });
      observe('qemu ws subprotocol "binary"', summary(binary));
      expect(binary.opened).toBe(true);
      expect(binary.protocol).toBe('binary');
      expect(binary.received!.toString('latin1')).toBe(RFB_BANNER);
      // Offering only base64: QEMU drops the connection without an HTTP reply.
      const base64 = await probeWs(qemu.wsUrl!, { protocols: 'base64' });
      observe('qemu ws subprotocol "base64"', summary(base64));
      expect(base64.opened).toBe(false);
      expect(base64.errorCode).toBe('ECONNRESET');
      expect(base64.errorMessage).toBe('socket hang up');
      const both = await probeWs(qemu.wsUrl!, { protocols: ['binary', 'base64'] });
      observe('qemu ws subprotocols ["binary","base64"]', summary(both));
      expect(both.protocol).toBe('binary');

      const status = await qemu.monitor('info status');
      expect(status).toMatch(/VM status: running/);
      expect(await qemu.monitor('info vnc')).toContain(`127.0.0.1:${qemu.vncPort} (ipv4)`);
    } finally {
      await qemu.stop();
    }
    expectGone(qemu.pid);
  });

  test('without a password it offers None; websocket: false has no ws port', async () => {
    const qemu = await startQemu({ websocket: false });
    try {
      expect(qemu.wsPort).toBeUndefined();
      expect(await tcpSecurityTypes(qemu.vncPort)).toEqual([1]);
      expect(await qemu.monitor('info vnc')).not.toContain('Websocket');
    } finally {
      await qemu.stop();
    }
    expectGone(qemu.pid);
    await expect(startQemu({ password: 'ninechars' })).rejects.toThrow(/1–8 characters/);
  });
});

test.describe('worker fixtures', () => {
  test('qemu and x11vnc fixtures serve the banner', async ({ qemu, x11vnc }) => {
    expect(qemu.password).toBe('secret12');
    expect(await tcpSecurityTypes(qemu.vncPort)).toEqual([2]);
    expect(typesOf(await probeSecurityTypes(qemu.wsUrl!))).toEqual([2]);
    expect(await tcpSecurityTypes(x11vnc.port)).toEqual([1]);
    expect(isAlive(qemu.pid) && isAlive(x11vnc.pid) && isAlive(x11vnc.xvfbPid)).toBe(true);
  });
});

test.describe('x11vnc on Xvfb', () => {
  const ORIGIN = 'http://127.0.0.1';

  test('banner on TCP, a WebSocket upgrade (with an Origin header) on the same port, background colour', async () => {
    const server = await startX11vnc({ geometry: '800x600' });
    try {
      expect(server.env.DISPLAY).toBe(`:${server.display}`);
      expect(server.env.X11VNC_AVOID_WINDOWS).toBe('never');
      expect(await readBanner(server.port)).toBe(RFB_BANNER);
      expect(await tcpSecurityTypes(server.port)).toEqual([1]);

      const ws = await probeSecurityTypes(`ws://127.0.0.1:${server.port}/`, ORIGIN);
      observe('x11vnc ws with Origin, no subprotocol', summary(ws));
      expect(ws.opened).toBe(true);
      expect(ws.protocol).toBe('');
      expect(ws.allBinary).toBe(true);
      expect(ws.received!.subarray(0, 12).toString('latin1')).toBe(RFB_BANNER);
      expect(typesOf(ws)).toEqual([1]);

      // libvncserver: "webSocketsHandshake: incomplete client handshake" without Origin.
      const noOrigin = await probeWs(`ws://127.0.0.1:${server.port}/`);
      observe('x11vnc ws without Origin', summary(noOrigin));
      expect(noOrigin.opened).toBe(false);
      expect(noOrigin.errorCode).toBe('ECONNRESET');
      expect(noOrigin.errorMessage).toBe('socket hang up');
      expect(server.log()).toContain('incomplete client handshake');

      const binary = await probeWs(`ws://127.0.0.1:${server.port}/any/path`, { protocols: 'binary', origin: ORIGIN });
      observe('x11vnc ws subprotocol "binary"', summary(binary));
      expect(binary.protocol).toBe('binary');
      expect(binary.received!.toString('latin1')).toBe(RFB_BANNER);

      // It picks base64 whenever offered (even after binary) and then sends base64 text frames.
      for (const protocols of ['base64', ['binary', 'base64']]) {
        const outcome = await probeWs(`ws://127.0.0.1:${server.port}/`, { protocols, origin: ORIGIN, wantBytes: 16 });
        observe(`x11vnc ws subprotocol ${JSON.stringify(protocols)}`, { ...summary(outcome), received: outcome.received?.toString('latin1') });
        expect(outcome.protocol).toBe('base64');
        expect(outcome.allBinary).toBe(false);
        expect(Buffer.from(outcome.received!.toString('latin1'), 'base64').toString('latin1')).toBe(RFB_BANNER);
      }

      const image = await rootPixels(server);
      expect(image.width).toBe(800);
      expect(pixelAt(image, 5, 5)).toEqual(hexToRgb('#204080'));
    } finally {
      await server.stop();
    }
    expectGone(server.pid, server.xvfbPid);
  });

  test('with a password it offers VncAuth on TCP and WebSocket', async () => {
    const server = await startX11vnc({ password: 'secret12', geometry: '640x480' });
    try {
      expect(await tcpSecurityTypes(server.port)).toEqual([2]);
      expect(typesOf(await probeSecurityTypes(`ws://127.0.0.1:${server.port}/`, ORIGIN))).toEqual([2]);
    } finally {
      await server.stop();
    }
    expectGone(server.pid, server.xvfbPid);
  });
});
