/**
 * wayvnc (neatvnc) on a headless sway with VeNCrypt X509Plain (a wayvnc config with a certificate,
 * key, username and password): connecting, what a wrong password looks like, and how the server
 * copes with a client that disconnected cleanly (it does not: wayvnc 0.5.0 dies of SIGPIPE).
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

import { expect, test } from '@playwright/test';

import { VNCAgentBridge } from '../../src/bridge/bridge.js';
import { VNCAuthenticationError } from '../../src/errors.js';
import { hex } from '../support/rfb-bytes.js';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/certs.js';
import { startWayvnc, type WayvncServer } from '../support/wayvnc.js';

test.describe.configure({ mode: 'serial', timeout: 90_000 });

const USERNAME = 'tester';
const PASSWORD = 'wayvnc-pass-1';

let cert: SelfSignedCert;
let server: WayvncServer;

test.beforeAll(async () => {
  cert = await makeSelfSignedCert();
  server = await startWayvnc({ auth: { username: USERNAME, password: PASSWORD, certPath: cert.certPath, keyPath: cert.keyPath } });
});

test.afterAll(async () => {
  await server?.stop();
  await cert?.cleanup();
});

function bridge(password: string): VNCAgentBridge {
  return new VNCAgentBridge({ host: '127.0.0.1', port: server.port, username: USERNAME, password, certificatePem: cert.certPem, timeoutMs: 15_000 });
}

test('X509Plain with the right credentials: connected, the certificate verified', async () => {
  const vnc = await bridge(PASSWORD).connect();
  try {
    expect(vnc.info.securityTypeName).toBe('VeNCrypt X509Plain (262)');
    expect(vnc.info.name).toBe('WayVNC');
    expect(vnc.info.canResize).toBe(false);
  } finally {
    await vnc.disconnect();
  }
});

async function changeScreen(on: WayvncServer): Promise<void> {
  // A new background colour: the whole output changes, so wayvnc writes an update to every client.
  const colour = `#${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, '0')}`;
  const result = await on.runAsUser('swaymsg', ['output', 'HEADLESS-1', 'bg', colour, 'solid_color']);
  expect(result.code, result.stderr).toBe(0);
}

test('a wrong password (neatvnc answers "OK", then garbage) → VNCAuthenticationError saying what that means', async () => {
  const error = await bridge('not-the-password').connect().catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(VNCAuthenticationError);
  const message = (error as Error).message;
  expect(message).toContain('The server said it accepted the credentials (VeNCrypt X509Plain (262)), then sent an impossible ServerInit');
  expect(message).toContain('rejected the credentials without saying so');
  expect(message).toContain('wayvnc (neatvnc 0.5)');
  expect(message).toContain('Check the username and password');
  expect(message).not.toContain('not-the-password');
  expect(message).not.toContain(PASSWORD);
});

/** A TCP relay in front of wayvnc that records what the client sent last and how it closed. */
async function relay(port: number): Promise<{ port: number; last: () => Buffer; ended: Promise<'fin' | 'reset'>; close: () => void }> {
  let lastChunk: Buffer = Buffer.alloc(0);
  let settleEnded: (how: 'fin' | 'reset') => void = () => undefined;
  const ended = new Promise<'fin' | 'reset'>((resolve) => (settleEnded = resolve));
  const sockets: Socket[] = [];
  const listener = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.push(client, upstream);
    client.on('data', (chunk: Buffer) => {
      lastChunk = chunk;
      upstream.write(chunk);
    });
    client.on('end', () => settleEnded('fin'));
    client.on('error', () => settleEnded('reset'));
    upstream.on('data', (chunk: Buffer) => (client.writable ? client.write(chunk) : undefined));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    port: (listener.address() as AddressInfo).port,
    last: () => lastChunk,
    ended,
    close: () => {
      for (const socket of sockets) socket.destroy();
      listener.close();
    },
  };
}

test('disconnect is clean (TLS close_notify, then FIN), and wayvnc 0.5.0 still dies of SIGPIPE at the next screen change', async () => {
  // A server of its own: this test ends it.
  const own = await startWayvnc({ auth: { username: USERNAME, password: PASSWORD, certPath: cert.certPath, keyPath: cert.keyPath } });
  const proxy = await relay(own.port);
  try {
    const vnc = await new VNCAgentBridge({ host: '127.0.0.1', port: proxy.port, username: USERNAME, password: PASSWORD, certificatePem: cert.certPem, timeoutMs: 15_000 }).connect();
    await vnc.disconnect();
    expect(await proxy.ended).toBe('fin');
    // The client's last TLS record before its FIN: in TLS 1.3 close_notify is one encrypted record
    // of 19 bytes (alert 2 + type 1 + tag 16); in TLS 1.2 an alert record.
    // Split the client's last chunk into TLS records (5-byte header: type, version, u16 length).
    const last = proxy.last();
    const records: string[] = [];
    for (let at = 0; at + 5 <= last.length; at += 5 + last.readUInt16BE(at + 3)) records.push(hex(last.subarray(at, at + 5)));
    const final = records.at(-1);
    if (final?.startsWith('17')) expect(final, 'TLS 1.3 close_notify: one encrypted record of 19 bytes').toBe('1703030013');
    else expect(final?.slice(0, 2), 'TLS 1.2: an alert record').toBe('15');
    expect(own.wayvncAlive()).toBe(true);
    // The server keeps the dead connection and writes the next update into it.
    await changeScreen(own);
    const exit = await Promise.race([own.wayvncExit(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000))]);
    expect(exit, 'wayvnc 0.5.0 (neatvnc 0.5.4) dies here; if it no longer does, update the README server notes').toEqual({ code: null, signal: 'SIGPIPE' });
  } finally {
    proxy.close();
    await own.stop();
  }
});
