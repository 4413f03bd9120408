/**
 * VeNCrypt (security type 19) against real TigerVNC Xvnc servers, one per sub-type: X509* with a
 * self-signed certificate (trusted through certificatePem, refused without it, accepted with
 * verification off), TLS* with anonymous TLS, the *Plain types checked by PAM against a Unix user
 * made for this file, and the sub-types without TLS. Each successful session is checked on the X
 * server: the corner pixel of a screenshot is the root colour and a pointer move lands.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';

import {
  TCPVNCConnection,
  VNCAgentBridge,
  VNCAuthenticationError,
  VNCConnectionError,
  type TCPVNCConnectionOptions,
  type VNCConnection,
  VNCError,
  decodePng,
} from '../../src/index.js';
import { RFBClient } from '../../src/rfb/client.js';
import { TCPTransportOpener } from '../../src/transport/tcp.js';
import type { Transport } from '../../src/transport/transport.js';
import { hexToRgb, pointerLocation } from '../support/desktop.js';
import { run, runChecked } from '../support/processes.js';
import { DEFAULT_BACKGROUND, startXvnc, type XvncServer } from '../support/xvnc.js';

const VNC_PASSWORD = 'vEnC-9k2';
const UNIX_USER = `vae${randomBytes(4).toString('hex')}`;
const UNIX_PASSWORD = `Pl41n-${randomBytes(6).toString('hex')}`;
const SECRETS = [VNC_PASSWORD, UNIX_PASSWORD, 'wrong-pw-7'];

let certDir: string;
let certPath: string;
let keyPath: string;
let certPem: string;
let userCreated = false;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'vnc-agent-vencrypt-'));
  certPath = join(certDir, 'cert.pem');
  keyPath = join(certDir, 'key.pem');
  await runChecked('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyPath, '-out', certPath,
  ], { timeoutMs: 20_000 });
  certPem = await readFile(certPath, 'utf8');
  // The *Plain sub-types are checked by PAM (service "tigervnc") against a real Unix account.
  await runChecked('useradd', ['-M', '-s', '/usr/sbin/nologin', UNIX_USER], { timeoutMs: 10_000 });
  userCreated = true;
  await runChecked('chpasswd', [], { input: `${UNIX_USER}:${UNIX_PASSWORD}\n`, timeoutMs: 10_000 });
});

test.afterAll(async () => {
  if (userCreated) await run('userdel', [UNIX_USER], { timeoutMs: 10_000 });
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

/** Starts Xvnc offering `securityTypes`, with the certificate, the VNC password and PAM for Plain. */
function startServer(securityTypes: string): Promise<XvncServer> {
  return startXvnc({
    geometry: '800x600',
    password: VNC_PASSWORD,
    extraArgs: ['-SecurityTypes', securityTypes, '-X509Cert', certPath, '-X509Key', keyPath, '-PlainUsers', UNIX_USER, '-PAMService', 'tigervnc'],
  });
}

function bridgeFor(server: XvncServer, options: Omit<TCPVNCConnectionOptions, 'host' | 'port'> = {}): VNCAgentBridge {
  return new VNCAgentBridge({ connection: new TCPVNCConnection({ host: server.host, port: server.port, ...options }), timeoutMs: 10_000 });
}

/** A connection that verifies nothing, under a server name no other test uses (the warning is once per name). */
function unverifiedConnection(server: XvncServer, credentials: { password?: string; username?: string }): VNCConnection & { servername: string } {
  const opener = new TCPTransportOpener({ host: server.host, port: server.port });
  const servername = `vencrypt-${randomBytes(4).toString('hex')}.invalid`;
  return { remote: opener.remote, credentials, tls: { servername, trust: { verify: false } }, servername, open: (options) => opener.open(options) };
}

function expectNoSecret(error: unknown): void {
  const texts = [String(error), error instanceof Error ? (error.stack ?? '') : '', error instanceof Error ? String(error.cause ?? '') : ''];
  for (const secret of SECRETS) for (const text of texts) expect(text, 'no password in an error').not.toContain(secret);
}

async function connectError(vnc: VNCAgentBridge): Promise<VNCError> {
  const error = await vnc.connect().then(
    () => undefined,
    (e: unknown) => e,
  );
  await vnc.disconnect();
  expect(error, 'connect() must fail').toBeInstanceOf(VNCError);
  expectNoSecret(error);
  return error as VNCError;
}

/** Connects, checks the sub-type in `info`, the root colour in a screenshot and a pointer move. */
async function expectWorkingSession(vnc: VNCAgentBridge, server: XvncServer, subtype: number, name: string): Promise<void> {
  await vnc.connect();
  try {
    expect(vnc.info).toMatchObject({ securityType: 19, securitySubtype: subtype, securityTypeName: `VeNCrypt ${name} (${subtype})`, width: 800, height: 600 });
    const png = decodePng(await vnc.screen.screenshot({ region: { x: 0, y: 0, width: 4, height: 4 } }));
    expect([...png.data.subarray(0, 3)]).toEqual(hexToRgb(DEFAULT_BACKGROUND));
    const x = 300 + Math.floor(Math.random() * 200);
    await vnc.mouse.move(x, 222);
    await expect.poll(() => pointerLocation(server)).toEqual({ x, y: 222 });
  } finally {
    await vnc.disconnect();
  }
}

test.describe('X509 sub-types: TLS verified against the certificate', () => {
  let server: XvncServer;
  test.beforeAll(async () => {
    server = await startServer('X509Plain,X509Vnc,X509None');
  });
  test.afterAll(async () => {
    await server?.stop();
  });

  test('X509Plain (262): certificate trusted with certificatePem, Unix user checked by PAM', async () => {
    await expectWorkingSession(bridgeFor(server, { certificatePem: certPem, username: UNIX_USER, password: UNIX_PASSWORD }), server, 262, 'X509Plain');
  });

  test('X509Vnc (261): trusted certificate, VNC password — also through the bridge\'s own options', async () => {
    await expectWorkingSession(bridgeFor(server, { certificatePem: certPem, password: VNC_PASSWORD }), server, 261, 'X509Vnc');
    const direct = new VNCAgentBridge({ host: server.host, port: server.port, certificatePem: certPem, password: VNC_PASSWORD, timeoutMs: 10_000 });
    await expectWorkingSession(direct, server, 261, 'X509Vnc');
  });

  test('X509None (260): trusted certificate, no credentials', async () => {
    await expectWorkingSession(bridgeFor(server, { certificatePem: certPem }), server, 260, 'X509None');
  });

  test('without certificatePem → VNCConnectionError: self-signed, not trusted, and how to fix it', async () => {
    for (const credentials of [{ password: VNC_PASSWORD }, { username: UNIX_USER, password: UNIX_PASSWORD }, {}]) {
      const error = await connectError(bridgeFor(server, credentials));
      expect(error).toBeInstanceOf(VNCConnectionError);
      expect(error.message).toContain('self-signed and not trusted');
      expect(error.message).toContain('certificatePem');
      expect(error.message).toContain('verifySsl: false');
    }
  });

  test('a certificate for another host → VNCConnectionError naming the host-name mismatch', async () => {
    const connection = new TCPVNCConnection({ host: server.host, port: server.port, password: VNC_PASSWORD, certificatePem: certPem });
    const wrongName: VNCConnection = { remote: connection.remote, credentials: connection.credentials, tls: { servername: 'other.example', trust: { certificatePem: certPem } }, open: (o) => connection.open(o) };
    const error = await connectError(new VNCAgentBridge({ connection: wrongName }));
    expect(error).toBeInstanceOf(VNCConnectionError);
    expect(error.message).toContain('another host name');
  });

  test('verifySsl: false → connects, and warns once per host', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'VNC_TLS_VERIFY_OFF') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      const connection = unverifiedConnection(server, { password: VNC_PASSWORD });
      await expectWorkingSession(new VNCAgentBridge({ connection }), server, 261, 'X509Vnc');
      await expectWorkingSession(new VNCAgentBridge({ connection }), server, 261, 'X509Vnc');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes(connection.servername))).toHaveLength(1);
      // The TCP connection option does the same.
      await expectWorkingSession(bridgeFor(server, { password: VNC_PASSWORD, verifySsl: false }), server, 261, 'X509Vnc');
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('wrong VNC password inside TLS → VNCAuthenticationError, no password in it', async () => {
    // Only X509Vnc can be chosen: no username for X509Plain, and the password rules out nothing else.
    const vncOnly = await startServer('X509Vnc');
    try {
      const error = await connectError(bridgeFor(vncOnly, { certificatePem: certPem, password: 'wrong-pw-7' }));
      expect(error).toBeInstanceOf(VNCAuthenticationError);
      expect(error.message).toContain('VeNCrypt X509Vnc (261)');
      expect(error.message).toContain('Check the password');
    } finally {
      await vncOnly.stop();
    }
  });

  test('wrong Unix password with X509Plain → VNCAuthenticationError', async () => {
    const error = await connectError(bridgeFor(server, { certificatePem: certPem, username: UNIX_USER, password: 'wrong-pw-7' }));
    expect(error).toBeInstanceOf(VNCAuthenticationError);
    expect(error.message).toContain('VeNCrypt X509Plain (262)');
    expect(error.message).toContain('username and password');
  });
});

test.describe('TLS sub-types: anonymous TLS (TLS 1.2, anonymous ECDH)', () => {
  let server: XvncServer;
  test.beforeAll(async () => {
    server = await startServer('TLSPlain,TLSVnc,TLSNone');
  });
  test.afterAll(async () => {
    await server?.stop();
  });

  test('TLSPlain (259): username and password over anonymous TLS', async () => {
    await expectWorkingSession(bridgeFor(server, { username: UNIX_USER, password: UNIX_PASSWORD }), server, 259, 'TLSPlain');
  });

  test('TLSVnc (258): VNC password over anonymous TLS; no certificate involved', async () => {
    await expectWorkingSession(bridgeFor(server, { password: VNC_PASSWORD }), server, 258, 'TLSVnc');
  });

  test('TLSNone (257): no credentials', async () => {
    await expectWorkingSession(bridgeFor(server), server, 257, 'TLSNone');
  });

  test('wrong VNC password → VNCAuthenticationError', async () => {
    const error = await connectError(bridgeFor(server, { password: 'wrong-pw-7' }));
    expect(error).toBeInstanceOf(VNCAuthenticationError);
    expect(error.message).toContain('VeNCrypt TLSVnc (258)');
  });

  test('wrong Unix password with TLSPlain → VNCAuthenticationError', async () => {
    const error = await connectError(bridgeFor(server, { username: UNIX_USER, password: 'wrong-pw-7' }));
    expect(error).toBeInstanceOf(VNCAuthenticationError);
    expect(error.message).toContain('VeNCrypt TLSPlain (259)');
  });
});

test.describe('sub-types without TLS, and the default', () => {
  test('TigerVNC default VncAuth,TLSVnc ([19, 2]) → VeNCrypt TLSVnc is chosen', async () => {
    const server = await startServer('VncAuth,TLSVnc');
    try {
      await expectWorkingSession(bridgeFor(server, { password: VNC_PASSWORD }), server, 258, 'TLSVnc');
    } finally {
      await server.stop();
    }
  });

  test('the server dying mid-session over TLS → the session ends with VNCConnectionError (ECLOSED)', async () => {
    const server = await startServer('TLSVnc');
    const vnc = bridgeFor(server, { password: VNC_PASSWORD });
    try {
      await vnc.connect();
      const closed = new Promise<unknown>((resolve) => vnc.session().once('closed', resolve));
      server.kill('SIGKILL');
      const error = await closed;
      expect(error).toBeInstanceOf(VNCConnectionError);
      expect((error as VNCConnectionError).code).toBe('ECLOSED');
      expect(vnc.isConnected).toBe(false);
    } finally {
      await vnc.disconnect();
      await server.stop();
    }
  });

  test('VncAuth (2) inside VeNCrypt: chosen with only a password when Plain is the alternative', async () => {
    const server = await startServer('Plain,VncAuth');
    try {
      await expectWorkingSession(bridgeFor(server, { password: VNC_PASSWORD }), server, 2, 'VncAuth');
    } finally {
      await server.stop();
    }
  });

  test('None (1) inside VeNCrypt: chosen without credentials when Plain is the alternative', async () => {
    const server = await startServer('Plain,None');
    try {
      await expectWorkingSession(bridgeFor(server), server, 1, 'None');
    } finally {
      await server.stop();
    }
  });

  test('Plain (256) alone: refused (the password would travel unencrypted) unless allowPlainWithoutTls', async () => {
    const server = await startServer('Plain');
    try {
      const error = await connectError(bridgeFor(server, { username: UNIX_USER, password: UNIX_PASSWORD }));
      expect(error).toBeInstanceOf(VNCAuthenticationError);
      expect(error.message).toContain('Plain (256)');
      expect(error.message).toContain('unencrypted');
      expect(error.message).toContain('TLSPlain or X509Plain');

      const optedIn = new VNCAgentBridge({ host: server.host, port: server.port, username: UNIX_USER, password: UNIX_PASSWORD, allowPlainWithoutTls: true });
      await optedIn.connect();
      expect(optedIn.info.securityTypeName).toBe('VeNCrypt Plain (256)');
      await optedIn.disconnect();
    } finally {
      await server.stop();
    }
  });
});

test.describe('TCP transport startTls, against a Node TLS server', () => {
  /**
   * Says "hello" in the clear, then wraps the socket in TLS (certificate only: no anonymous suites)
   * and answers each chunk upper-cased.
   */
  async function startEchoServer(): Promise<{ port: number; close: () => Promise<void> }> {
    const key = await readFile(keyPath, 'utf8');
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.write('hello');
      const secure = new tls.TLSSocket(socket, { isServer: true, key, cert: certPem });
      secure.on('error', () => undefined);
      secure.on('data', (chunk: Buffer) => secure.write(chunk.toString('latin1').toUpperCase()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    return {
      port,
      close: () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  }

  /** Opens a transport and collects what it delivers. */
  async function open(port: number): Promise<{ transport: Transport; received: () => string; closed: Array<Error | undefined> }> {
    const transport = await new TCPTransportOpener({ host: '127.0.0.1', port }).open({ timeoutMs: 5000 });
    let text = '';
    const closed: Array<Error | undefined> = [];
    transport.start({ data: (chunk) => (text += Buffer.from(chunk).toString('latin1')), closed: (error) => closed.push(error) });
    return { transport, received: () => text, closed };
  }

  test('bytes before startTls arrive in the clear; after it, writes and data go through TLS', async () => {
    const server = await startEchoServer();
    try {
      const { transport, received, closed } = await open(server.port);
      await expect.poll(received).toBe('hello');
      await transport.startTls!({ servername: '127.0.0.1', trust: { certificatePem: certPem }, anonymous: false });
      await transport.write(Buffer.from('ping over tls'));
      await expect.poll(received).toBe('helloPING OVER TLS');
      await transport.close();
      expect(closed).toEqual([undefined]);
    } finally {
      await server.close();
    }
  });

  test('an untrusted certificate → startTls rejects with the describeTlsError message; the transport reports the same error closed', async () => {
    const server = await startEchoServer();
    try {
      const { transport, received, closed } = await open(server.port);
      await expect.poll(received).toBe('hello');
      const error = await transport.startTls!({ servername: '127.0.0.1', trust: {}, anonymous: false }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(VNCConnectionError);
      expect((error as Error).message).toContain('self-signed and not trusted');
      expect(closed).toEqual([error]);
      await expect(transport.write(Buffer.from('x'))).rejects.toThrow(/closed/);
    } finally {
      await server.close();
    }
  });

  test('anonymous TLS to a server without anonymous suites → VNCConnectionError that says so', async () => {
    const server = await startEchoServer();
    try {
      const { transport, received } = await open(server.port);
      await expect.poll(received).toBe('hello');
      const error = await transport.startTls!({ servername: '127.0.0.1', trust: {}, anonymous: true }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(VNCConnectionError);
      expect((error as Error).message).toContain('anonymous TLS');
      transport.destroy();
    } finally {
      await server.close();
    }
  });

  test('a certificatePem that is not PEM → VNCConfigError before anything is sent', async () => {
    const server = await startEchoServer();
    try {
      const { transport, received } = await open(server.port);
      await expect.poll(received).toBe('hello');
      await expect(transport.startTls!({ servername: '127.0.0.1', trust: { certificatePem: 'not a certificate' }, anonymous: false })).rejects.toThrow(
        /certificatePem is not a PEM certificate/,
      );
      transport.destroy();
    } finally {
      await server.close();
    }
  });
});
