/**
 * Security type 19, VeNCrypt (rfbproto "VeNCrypt"), byte for byte through RFBClient.start over a
 * FakeTransport: the version exchange, which sub-type the client picks for each set of
 * credentials, the TLS upgrade it asks of the transport (anonymous or verified), the inner
 * security over TLS (None, VNC Authentication, Plain), and every way it can fail.
 *
 * The server's stream is in two parts: what it sends in the clear, up to the sub-type status, and
 * what it sends over TLS. The fake's startTls records the request and stands in for the TLS
 * handshake; the test then delivers the second part. Each part is replayed in every chunking.
 */
import { expect, test } from '@playwright/test';

import { VNCAuthenticationError, VNCConnectionError, VNCError, VNCProtocolError, VNCTimeoutError } from '../../src/errors.js';
import { RFBClient } from '../../src/rfb/client.js';
import { chooseVeNCryptSubtype, type VeNCryptOptions } from '../../src/rfb/security/vencrypt.js';
import type { TlsUpgradeOptions } from '../../src/transport/transport.js';
import {
  FakeTransport,
  VENCRYPT,
  ascii,
  banner,
  challenge,
  chunkings,
  concat,
  framebufferUpdate,
  hex,
  parseClientMessages,
  patternPixels,
  plainCredentials,
  rawRect,
  securityResult,
  securityTypes,
  serverInit,
  u32,
  vencryptSubtypeStatus,
  vencryptSubtypes,
  vencryptVersion,
  vencryptVersionStatus,
} from '../support/rfb-bytes.js';
import { expectNoSecret, expectStartFailure } from '../support/start-outcome.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

const WIDTH = 8;
const HEIGHT = 4;
const INIT = serverInit({ width: WIDTH, height: HEIGHT, name: 'vencrypt desktop' });
const FIRST_FRAME = framebufferUpdate([rawRect(0, 0, WIDTH, HEIGHT, patternPixels(WIDTH, HEIGHT))]);

/** The VNC Authentication known answer (see handshake.spec.ts). */
const KAT = {
  password: 'secret12',
  challenge: challenge('00112233445566778899aabbccddeeff'),
  response: '817402416b165d7ade9c46b5faa42370',
};
const USERNAME = 'alice';
/** A Plain password: UTF-8 on the wire, and never in a message. */
const PLAIN_PASSWORD = 'pässwörd☃-9x';
const PASSWORDS = [KAT.password, PLAIN_PASSWORD, 'hunter2-xyzzy'];

/** The common failure checks, with this spec's passwords as the secrets that must not leak. */
function expectError(outcome: Outcome, errorClass: new (...args: never[]) => VNCError, code: string, ...fragments: Array<string | RegExp>): VNCError {
  return expectStartFailure(outcome, PASSWORDS, errorClass, code, ...fragments);
}

function expectNoPassword(error: unknown): void {
  expectNoSecret(error, PASSWORDS);
}

const VERSION_REPLY = hex(ascii('RFB 003.008\n'));
const CLIENT_INIT_SHARED = '01';

/** Sub-type → how it runs: TLS kind and the inner security. */
const SUBTYPE_TABLE = {
  [VENCRYPT.None]: { tls: 'none', auth: 'none' },
  [VENCRYPT.VncAuth]: { tls: 'none', auth: 'vnc' },
  [VENCRYPT.Plain]: { tls: 'none', auth: 'plain' },
  [VENCRYPT.TLSNone]: { tls: 'anonymous', auth: 'none' },
  [VENCRYPT.TLSVnc]: { tls: 'anonymous', auth: 'vnc' },
  [VENCRYPT.TLSPlain]: { tls: 'anonymous', auth: 'plain' },
  [VENCRYPT.X509None]: { tls: 'x509', auth: 'none' },
  [VENCRYPT.X509Vnc]: { tls: 'x509', auth: 'vnc' },
  [VENCRYPT.X509Plain]: { tls: 'x509', auth: 'plain' },
} as const;
type Subtype = keyof typeof SUBTYPE_TABLE;
const NAMES: Record<number, string> = Object.fromEntries(Object.entries(VENCRYPT).map(([name, value]) => [value, name]));

// ---------------------------------------------------------------------------------------------
// A transport that can start TLS

/** A FakeTransport with startTls: records each request and what had been written before it. */
class TlsFakeTransport extends FakeTransport {
  readonly tlsRequests: TlsUpgradeOptions[] = [];
  /** How many bytes the client had written when it asked for TLS. */
  writtenBeforeTls: number | undefined;
  /** Writes while the TLS handshake was pending (must stay 0). */
  writesDuringTls = 0;
  private pending: { resolve: () => void; reject: (error: Error) => void } | undefined;

  startTls(options: TlsUpgradeOptions): Promise<void> {
    this.tlsRequests.push(options);
    this.writtenBeforeTls = this.writtenBytes.length;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
    });
  }

  override write(bytes: Uint8Array): Promise<void> {
    if (this.pending) this.writesDuringTls++;
    return super.write(bytes);
  }

  /** The TLS handshake succeeded. */
  completeTls(): void {
    const pending = this.pending;
    if (!pending) throw new Error('completeTls: the client did not ask for TLS');
    this.pending = undefined;
    pending.resolve();
  }

  /** The TLS handshake failed: the transport rejects and reports itself closed, like the TCP transport. */
  failTls(error: Error): void {
    const pending = this.pending;
    if (!pending) throw new Error('failTls: the client did not ask for TLS');
    this.pending = undefined;
    this.serverClose(error);
    pending.reject(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Running a scenario

interface StartOptions {
  password?: string;
  username?: string;
  timeoutMs?: number;
  /** A transport without startTls (e.g. ws://). */
  noTls?: boolean;
  tls?: { servername: string; trust: { certificatePem?: string; verify?: boolean } };
  allowPlainWithoutTls?: boolean;
  remote?: string;
}

interface Outcome {
  transport: FakeTransport;
  client?: RFBClient;
  error?: unknown;
  escaped?: unknown;
  elapsedMs: number;
}

/** Lets timers and I/O callbacks run (so a pending startTls settles and the client goes on). */
const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Starts a client, delivers `clear`; when the client asks for TLS, completes the handshake (or
 * fails it with `tlsError`) and delivers `overTls`.
 */
async function run(clear: readonly Uint8Array[], overTls: readonly Uint8Array[] | undefined, options: StartOptions = {}, tlsError?: Error): Promise<Outcome> {
  const transport = options.noTls ? new FakeTransport(options.remote) : new TlsFakeTransport(options.remote);
  const began = Date.now();
  const credentials = { ...(options.password === undefined ? {} : { password: options.password }), ...(options.username === undefined ? {} : { username: options.username }) };
  const starting = RFBClient.start(transport, {
    credentials,
    timeoutMs: options.timeoutMs ?? 2000,
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.allowPlainWithoutTls ? { allowPlainWithoutTls: true } : {}),
  });
  let escaped: unknown;
  try {
    transport.deliverChunks(clear);
    if (overTls && transport instanceof TlsFakeTransport && transport.tlsRequests.length > 0) {
      await tick();
      if (tlsError) transport.failTls(tlsError);
      else {
        transport.completeTls();
        await tick();
        transport.deliverChunks(overTls);
      }
    }
  } catch (error) {
    escaped = error;
  }
  try {
    const client = await starting;
    return { transport, client, escaped, elapsedMs: Date.now() - began };
  } catch (error) {
    return { transport, error, escaped, elapsedMs: Date.now() - began };
  }
}

function summary(outcome: Outcome): unknown {
  const error = outcome.error;
  const transport = outcome.transport;
  return {
    written: hex(transport.writtenBytes),
    tls: transport instanceof TlsFakeTransport ? { requests: transport.tlsRequests, before: transport.writtenBeforeTls } : undefined,
    info: outcome.client?.info,
    error: error instanceof Error ? { class: error.constructor.name, code: (error as VNCError).code, message: error.message } : error,
  };
}

/**
 * Runs a scenario in every chunking of the clear part (the TLS part whole), then every chunking of
 * the TLS part (the clear part whole); each run must end exactly as the first.
 */
async function inEveryChunking(
  clear: Uint8Array,
  overTls: Uint8Array | undefined,
  options: StartOptions,
  check: (outcome: Outcome) => void,
): Promise<void> {
  let reference: unknown;
  const runs: Array<[string, Uint8Array[], Uint8Array[] | undefined]> = [];
  for (const { name, chunks } of chunkings(clear, { random: 4 })) runs.push([`clear part: ${name}`, chunks, overTls && [overTls]]);
  if (overTls) for (const { name, chunks } of chunkings(overTls, { random: 4, maxSplitLength: 80 })) runs.push([`TLS part: ${name}`, [clear], chunks]);
  for (const [name, clearChunks, tlsChunks] of runs) {
    const outcome = await run(clearChunks, tlsChunks, options);
    try {
      check(outcome);
      const current = summary(outcome);
      if (reference === undefined) reference = current;
      else expect(current, `chunking "${name}" ends differently`).toEqual(reference);
    } catch (error) {
      if (error instanceof Error) error.message = `[chunking: ${name}] ${error.message}`;
      throw error;
    } finally {
      await outcome.client?.close();
    }
  }
  expect(runs.length).toBeGreaterThan(4);
}



/** What the server sends in the clear for `subtypes`, choosing `chosen` (status byte included for TLS sub-types). */
function serverClear(offered: readonly number[], chosen?: Subtype, types: readonly number[] = [19]): Uint8Array {
  const parts = [banner('3.8'), securityTypes(types), vencryptVersion(), vencryptVersionStatus(true), vencryptSubtypes(offered)];
  if (chosen !== undefined && SUBTYPE_TABLE[chosen].tls !== 'none') parts.push(vencryptSubtypeStatus(true));
  return concat(...parts);
}

/** What the server sends for the inner security (over TLS for TLS sub-types), then ServerInit and a frame. */
function serverInner(subtype: Subtype, result = securityResult(0)): Uint8Array {
  const auth = SUBTYPE_TABLE[subtype].auth;
  return concat(auth === 'vnc' ? KAT.challenge : new Uint8Array(0), result, INIT, FIRST_FRAME);
}

/** What the client writes in the clear: version, type 19, VeNCrypt 0.2, the sub-type. */
function clientClear(subtype: number): string {
  return VERSION_REPLY + '13' + '0002' + hex(u32(subtype));
}

/** What the client writes for the inner security, then ClientInit. */
function clientInner(subtype: Subtype): string {
  const auth = SUBTYPE_TABLE[subtype].auth;
  const answer = auth === 'vnc' ? KAT.response : auth === 'plain' ? hex(plainCredentials(USERNAME, PLAIN_PASSWORD)) : '';
  return answer + CLIENT_INIT_SHARED;
}

/** Checks a VeNCrypt session that connected with `subtype`. */
function expectVeNCrypt(outcome: Outcome, subtype: Subtype, expected: { servername?: string; trust?: object } = {}): RFBClient {
  expect(outcome.escaped).toBeUndefined();
  if (outcome.error) throw outcome.error;
  const client = outcome.client!;
  expect(client.info.securityType).toBe(19);
  expect(client.info.securitySubtype).toBe(subtype);
  expect(client.info.securityName).toBe(`VeNCrypt ${NAMES[subtype]} (${subtype})`);
  const written = hex(outcome.transport.writtenBytes);
  const clear = clientClear(subtype);
  const inner = clientInner(subtype);
  expect(written.slice(0, clear.length + inner.length)).toBe(clear + inner);
  // After ClientInit: pixel format, encodings, a full update request, then one incremental request.
  const messages = parseClientMessages(outcome.transport.writtenBytes.subarray((clear.length + inner.length) / 2));
  expect(messages.map((message) => message.type)).toEqual(['SetPixelFormat', 'SetEncodings', 'FramebufferUpdateRequest', 'FramebufferUpdateRequest']);
  const transport = outcome.transport;
  const tls = SUBTYPE_TABLE[subtype].tls;
  if (transport instanceof TlsFakeTransport) {
    if (tls === 'none') {
      expect(transport.tlsRequests, 'no TLS for a sub-type without it').toEqual([]);
    } else {
      expect(transport.tlsRequests).toEqual([
        { servername: expected.servername ?? 'fake-server', trust: expected.trust ?? {}, anonymous: tls === 'anonymous' },
      ]);
      // Everything up to the sub-type went in the clear, everything after over TLS.
      expect(transport.writtenBeforeTls).toBe(clear.length / 2);
      expect(transport.writesDuringTls).toBe(0);
    }
  }
  return client;
}

// ---------------------------------------------------------------------------------------------
// Each sub-type, end to end

const CREDENTIALS_FOR: Record<'none' | 'vnc' | 'plain', StartOptions> = {
  none: {},
  vnc: { password: KAT.password },
  plain: { username: USERNAME, password: PLAIN_PASSWORD },
};

test.describe('each sub-type, offered alone', () => {
  for (const subtype of Object.keys(SUBTYPE_TABLE).map(Number) as Subtype[]) {
    const { tls, auth } = SUBTYPE_TABLE[subtype];
    const what = tls === 'none' ? 'no TLS' : tls === 'anonymous' ? 'anonymous TLS' : 'verified TLS';
    test(`${NAMES[subtype]} (${subtype}): ${what}, then ${auth === 'none' ? 'nothing' : auth === 'vnc' ? 'VNC Authentication' : 'Plain'}`, async () => {
      const options = { ...CREDENTIALS_FOR[auth], ...(subtype === VENCRYPT.Plain ? { allowPlainWithoutTls: true } : {}) };
      const clear = serverClear([subtype], subtype);
      const inner = serverInner(subtype);
      if (tls === 'none') {
        await inEveryChunking(concat(clear, inner), undefined, options, (outcome) => void expectVeNCrypt(outcome, subtype));
      } else {
        await inEveryChunking(clear, inner, options, (outcome) => void expectVeNCrypt(outcome, subtype));
      }
    });
  }
});

test('Plain with a username and an empty password sends a zero password length and no password bytes', async () => {
  const outcome = await run([serverClear([VENCRYPT.X509Plain], VENCRYPT.X509Plain)], [concat(securityResult(0), INIT, FIRST_FRAME)], { username: USERNAME, password: '' });
  expect(outcome.error).toBeUndefined();
  expect(outcome.client!.info.securitySubtype).toBe(VENCRYPT.X509Plain);
  const afterTls = outcome.transport.writtenBytes.subarray(clientClear(VENCRYPT.X509Plain).length / 2);
  expect(hex(afterTls.subarray(0, 8 + 5 + 1))).toBe('00000005' + '00000000' + hex(ascii('alice')) + CLIENT_INIT_SHARED);
  await outcome.client!.close();
});

test('Plain with a username but no password at all is still refused, saying what to pass', async () => {
  const outcome = await run([serverClear([VENCRYPT.X509Plain])], undefined, { username: USERNAME });
  expectError(outcome, VNCAuthenticationError, 'EAUTH', 'X509Plain (262) needs a username and a password', '`password`');
});

test('Plain sends u32 lengths, then the username and the password in UTF-8, exactly', async () => {
  const outcome = await run([serverClear([VENCRYPT.TLSPlain], VENCRYPT.TLSPlain)], [serverInner(VENCRYPT.TLSPlain)], CREDENTIALS_FOR.plain);
  expectVeNCrypt(outcome, VENCRYPT.TLSPlain);
  const password = Buffer.from(PLAIN_PASSWORD, 'utf8');
  expect(password.length).toBe(16); // ä, ö: 2 bytes each; ☃: 3 bytes
  const afterTls = outcome.transport.writtenBytes.subarray(clientClear(VENCRYPT.TLSPlain).length / 2);
  expect(hex(afterTls.subarray(0, 8 + 5 + 16))).toBe('00000005' + '00000010' + hex(ascii('alice')) + password.toString('hex'));
});

// ---------------------------------------------------------------------------------------------
// Choosing the security type and the sub-type

test.describe('choosing', () => {
  const ALL = [VENCRYPT.VncAuth, VENCRYPT.TLSVnc, VENCRYPT.X509Vnc, VENCRYPT.X509None, VENCRYPT.TLSNone, VENCRYPT.TLSPlain, VENCRYPT.X509Plain, VENCRYPT.Plain, VENCRYPT.None];
  const cases: Array<{ what: string; offered: number[]; options: VeNCryptOptions; chosen: number }> = [
    { what: 'username and password, everything offered', offered: ALL, options: { credentials: { username: 'u', password: 'p' }, tlsAvailable: true }, chosen: VENCRYPT.X509Plain },
    { what: 'password only, everything offered', offered: ALL, options: { credentials: { password: 'p' }, tlsAvailable: true }, chosen: VENCRYPT.X509Vnc },
    { what: 'no credentials, everything offered', offered: ALL, options: { credentials: {}, tlsAvailable: true }, chosen: VENCRYPT.X509None },
    { what: 'username only (no password): as no credentials', offered: ALL, options: { credentials: { username: 'u' }, tlsAvailable: true }, chosen: VENCRYPT.X509None },
    { what: 'a verified server beats using the password', offered: [VENCRYPT.TLSVnc, VENCRYPT.X509None], options: { credentials: { password: 'p' }, tlsAvailable: true }, chosen: VENCRYPT.X509None },
    { what: 'anonymous TLS beats none, whatever the server order', offered: [VENCRYPT.VncAuth, VENCRYPT.TLSVnc], options: { credentials: { password: 'p' }, tlsAvailable: true }, chosen: VENCRYPT.TLSVnc },
    { what: 'TLSPlain with both, TLSVnc with a password', offered: [VENCRYPT.TLSVnc, VENCRYPT.TLSPlain], options: { credentials: { username: 'u', password: 'p' }, tlsAvailable: true }, chosen: VENCRYPT.TLSPlain },
    { what: 'an empty password with a username is a Plain password: X509Plain', offered: ALL, options: { credentials: { username: 'u', password: '' }, tlsAvailable: true }, chosen: VENCRYPT.X509Plain },
    { what: 'an empty password with a username, Plain or VNC Authentication offered: Plain (VNC Authentication needs a password)', offered: [VENCRYPT.TLSVnc, VENCRYPT.TLSPlain], options: { credentials: { username: 'u', password: '' }, tlsAvailable: true }, chosen: VENCRYPT.TLSPlain },
    { what: 'X509Plain needs a username: with a password only, TLSVnc', offered: [VENCRYPT.X509Plain, VENCRYPT.TLSVnc], options: { credentials: { password: 'p' }, tlsAvailable: true }, chosen: VENCRYPT.TLSVnc },
    { what: 'no TLS on the transport: VNC Authentication in the clear', offered: [VENCRYPT.X509Vnc, VENCRYPT.TLSVnc, VENCRYPT.VncAuth], options: { credentials: { password: 'p' }, tlsAvailable: false }, chosen: VENCRYPT.VncAuth },
    { what: 'no TLS on the transport, no password: None', offered: [VENCRYPT.TLSNone, VENCRYPT.None], options: { credentials: {}, tlsAvailable: false }, chosen: VENCRYPT.None },
    { what: 'without TLS, VNC Authentication beats Plain even when Plain is allowed', offered: [VENCRYPT.Plain, VENCRYPT.VncAuth], options: { credentials: { username: 'u', password: 'p' }, tlsAvailable: true, allowPlainWithoutTls: true }, chosen: VENCRYPT.VncAuth },
    { what: 'Plain without TLS, allowed, beats None', offered: [VENCRYPT.None, VENCRYPT.Plain], options: { credentials: { username: 'u', password: 'p' }, tlsAvailable: true, allowPlainWithoutTls: true }, chosen: VENCRYPT.Plain },
    { what: 'Plain without TLS, not allowed: None instead', offered: [VENCRYPT.Plain, VENCRYPT.None], options: { credentials: { username: 'u', password: 'p' }, tlsAvailable: true }, chosen: VENCRYPT.None },
    { what: 'unknown sub-types are skipped', offered: [VENCRYPT.TLSSASL, 999, VENCRYPT.TLSNone], options: { credentials: {}, tlsAvailable: true }, chosen: VENCRYPT.TLSNone },
  ];
  for (const { what, offered, options, chosen } of cases) {
    test(`${what} → ${NAMES[chosen]}`, () => {
      expect(chooseVeNCryptSubtype(offered, options)).toBe(chosen);
    });
  }

  test('TigerVNC default [VeNCrypt, VNC Authentication] over a transport with TLS → VeNCrypt (TLSVnc)', async () => {
    // Xvnc's default -SecurityTypes VncAuth,TLSVnc offers [19, 2] and the sub-types [VncAuth, TLSVnc].
    const clear = serverClear([VENCRYPT.VncAuth, VENCRYPT.TLSVnc], VENCRYPT.TLSVnc, [19, 2]);
    await inEveryChunking(clear, serverInner(VENCRYPT.TLSVnc), { password: KAT.password }, (outcome) => void expectVeNCrypt(outcome, VENCRYPT.TLSVnc));
  });

  test('[VNC Authentication, VeNCrypt] (either order) → VeNCrypt', async () => {
    const clear = serverClear([VENCRYPT.TLSVnc], VENCRYPT.TLSVnc, [2, 19]);
    const outcome = await run([clear], [serverInner(VENCRYPT.TLSVnc)], { password: KAT.password });
    expectVeNCrypt(outcome, VENCRYPT.TLSVnc);
  });

  test('[None, VeNCrypt] without a password → VeNCrypt (TLSNone encrypts, None does not)', async () => {
    const clear = serverClear([VENCRYPT.TLSNone, VENCRYPT.None], VENCRYPT.TLSNone, [1, 19]);
    const outcome = await run([clear], [serverInner(VENCRYPT.TLSNone)], {});
    expectVeNCrypt(outcome, VENCRYPT.TLSNone);
  });

  test('[VeNCrypt, VNC Authentication] over a transport without TLS → VNC Authentication (2), not VeNCrypt', async () => {
    const stream = concat(banner('3.8'), securityTypes([19, 2]), KAT.challenge, securityResult(0), INIT, FIRST_FRAME);
    const outcome = await run([stream], undefined, { password: KAT.password, noTls: true });
    expect(outcome.error).toBeUndefined();
    expect(outcome.client!.info.securityType).toBe(2);
    expect(outcome.client!.info.securitySubtype).toBeUndefined();
    expect(outcome.client!.info.securityName).toBe('VNC Authentication (2)');
    expect(hex(outcome.transport.writtenBytes).startsWith(VERSION_REPLY + '02' + KAT.response + '01')).toBe(true);
  });

  test('only VeNCrypt, over a transport without TLS: its VNC Authentication sub-type still works', async () => {
    const stream = concat(serverClear([VENCRYPT.TLSVnc, VENCRYPT.VncAuth]), serverInner(VENCRYPT.VncAuth));
    await inEveryChunking(stream, undefined, { password: KAT.password, noTls: true }, (outcome) => void expectVeNCrypt(outcome, VENCRYPT.VncAuth));
  });

  test('the servername is the host of the remote by default; RFBClientOptions.tls replaces it and the trust', async () => {
    const clear = serverClear([VENCRYPT.X509Vnc], VENCRYPT.X509Vnc);
    const byDefault = await run([clear], [serverInner(VENCRYPT.X509Vnc)], { password: KAT.password, remote: 'vnc.example.com:5901' });
    expectVeNCrypt(byDefault, VENCRYPT.X509Vnc, { servername: 'vnc.example.com' });
    await byDefault.client?.close();
    const ipv6 = await run([clear], [serverInner(VENCRYPT.X509Vnc)], { password: KAT.password, remote: '[::1]:5901' });
    expectVeNCrypt(ipv6, VENCRYPT.X509Vnc, { servername: '::1' });
    await ipv6.client?.close();
    const trust = { certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' };
    const given = await run([clear], [serverInner(VENCRYPT.X509Vnc)], { password: KAT.password, tls: { servername: 'desk.internal', trust } });
    expectVeNCrypt(given, VENCRYPT.X509Vnc, { servername: 'desk.internal', trust });
    await given.client?.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Version exchange

test.describe('version exchange', () => {
  test('server 0.2 → client 0.2', async () => {
    const outcome = await run([serverClear([VENCRYPT.TLSNone], VENCRYPT.TLSNone)], [serverInner(VENCRYPT.TLSNone)]);
    expectVeNCrypt(outcome, VENCRYPT.TLSNone);
  });

  test('a newer server (0.3) gets 0.2, and a refusal of 0.2 is a clear VNCAuthenticationError', async () => {
    const clear = concat(banner('3.8'), securityTypes([19]), vencryptVersion(0, 3), vencryptVersionStatus(false));
    await inEveryChunking(clear, undefined, {}, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', 'does not accept VeNCrypt 0.2');
      expect(hex(outcome.transport.writtenBytes)).toBe(VERSION_REPLY + '13' + '0002');
    });
  });

  for (const [major, minor] of [
    [0, 1],
    [0, 0],
  ] as const) {
    test(`server ${major}.${minor} → the client answers 0.0 and fails naming both versions`, async () => {
      const clear = concat(banner('3.8'), securityTypes([19]), vencryptVersion(major, minor));
      await inEveryChunking(clear, undefined, {}, (outcome) => {
        expectError(outcome, VNCAuthenticationError, 'EAUTH', `VeNCrypt ${major}.${minor}`, '0.2');
        expect(hex(outcome.transport.writtenBytes)).toBe(VERSION_REPLY + '13' + '0000');
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Failures

test.describe('failures', () => {
  test('the server refuses the sub-type it offered → VNCAuthenticationError naming it; no TLS attempted', async () => {
    const clear = concat(serverClear([VENCRYPT.X509Vnc]), vencryptSubtypeStatus(false));
    await inEveryChunking(clear, undefined, { password: KAT.password }, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', 'refused VeNCrypt sub-type X509Vnc (261)');
      expect((outcome.transport as TlsFakeTransport).tlsRequests).toEqual([]);
    });
  });

  test('no sub-types → VNCAuthenticationError', async () => {
    await inEveryChunking(serverClear([]), undefined, {}, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', 'no VeNCrypt sub-types');
    });
  });

  test('only unsupported sub-types → VNCAuthenticationError listing what the server offers and what the client supports', async () => {
    await inEveryChunking(serverClear([VENCRYPT.TLSSASL, 300]), undefined, { password: 'hunter2-xyzzy' }, (outcome) => {
      const error = expectError(outcome, VNCAuthenticationError, 'EAUTH', 'TLSSASL (263)', 'unknown sub-type 300', 'not supported', 'This client supports');
      for (const name of Object.keys(SUBTYPE_TABLE).map((subtype) => NAMES[Number(subtype)])) expect(error.message).toContain(name);
      // Nothing chosen: the sub-type was never sent.
      expect(hex(outcome.transport.writtenBytes)).toBe(VERSION_REPLY + '13' + '0002');
    });
  });

  test('only Plain (256), without TLS → refused: it would send the password unencrypted', async () => {
    await inEveryChunking(serverClear([VENCRYPT.Plain]), undefined, CREDENTIALS_FOR.plain, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', 'Plain (256)', 'unencrypted', 'allowPlainWithoutTls', 'TLSPlain or X509Plain');
      expect(hex(outcome.transport.writtenBytes)).toBe(VERSION_REPLY + '13' + '0002');
    });
  });

  test('a TLS sub-type over a transport without TLS → "VeNCrypt needs TLS over this transport"', async () => {
    await inEveryChunking(serverClear([VENCRYPT.TLSVnc, VENCRYPT.X509Vnc]), undefined, { password: KAT.password, noTls: true }, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', 'VeNCrypt needs TLS over this transport, which it cannot do; use a TCP connection or wss://');
    });
  });

  test('sub-types that need credentials not given → says which to pass', async () => {
    const noPassword = await run([serverClear([VENCRYPT.X509Vnc, VENCRYPT.TLSVnc])], undefined, {});
    expectError(noPassword, VNCAuthenticationError, 'EAUTH', 'X509Vnc (261) needs a password', 'Pass `password`');
    const noUsername = await run([serverClear([VENCRYPT.X509Plain])], undefined, { password: PLAIN_PASSWORD });
    expectError(noUsername, VNCAuthenticationError, 'EAUTH', 'X509Plain (262) needs a username and a password', '`username`');
  });

  test('wrong password inside TLS → VNCAuthenticationError naming the sub-type, the reason and what to check', async () => {
    const clear = serverClear([VENCRYPT.TLSVnc], VENCRYPT.TLSVnc);
    await inEveryChunking(clear, concat(KAT.challenge, securityResult(1, 'Authentication failure')), { password: KAT.password }, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', 'Authentication failed (VeNCrypt TLSVnc (258)): Authentication failure.', 'Check the password');
    });
  });

  test('wrong username or password with Plain → the hint names both, neither password appears', async () => {
    const clear = serverClear([VENCRYPT.X509Plain], VENCRYPT.X509Plain);
    await inEveryChunking(clear, securityResult(1, 'Authentication failed'), CREDENTIALS_FOR.plain, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', 'X509Plain', 'username and password');
    });
  });

  test('the TLS handshake fails → start rejects with the transport\'s error; nothing more is sent', async () => {
    const untrusted = new VNCConnectionError('The TLS certificate of fake-server:5900 is self-signed and not trusted.');
    const outcome = await run([serverClear([VENCRYPT.X509Vnc], VENCRYPT.X509Vnc)], [], { password: KAT.password }, untrusted);
    expect(outcome.error).toBe(untrusted);
    expectError(outcome, VNCConnectionError, 'ECONNECT', 'self-signed');
    expect(hex(outcome.transport.writtenBytes)).toBe(clientClear(VENCRYPT.X509Vnc));
  });

  test('a TLS handshake that never ends → VNCTimeoutError naming the TLS handshake', async () => {
    const transport = new TlsFakeTransport();
    const began = Date.now();
    const starting = RFBClient.start(transport, { credentials: { password: KAT.password }, timeoutMs: 200 });
    transport.deliver(serverClear([VENCRYPT.X509Vnc], VENCRYPT.X509Vnc));
    const error = await starting.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(VNCTimeoutError);
    expect((error as Error).message).toContain('TLS handshake (verifying the certificate of fake-server)');
    expect(Date.now() - began).toBeLessThan(1500);
    expect(transport.destroyed).toBe(true);
    // A TLS handshake that completes after the failure changes nothing.
    const writtenAtFailure = hex(transport.writtenBytes);
    transport.completeTls();
    await tick();
    expect(hex(transport.writtenBytes)).toBe(writtenAtFailure);
  });

  test('bytes in the clear after the sub-type status, where TLS must begin → VNCProtocolError', async () => {
    const clear = concat(serverClear([VENCRYPT.TLSNone], VENCRYPT.TLSNone), Uint8Array.of(0x16));
    const outcome = await run([clear], undefined);
    expectError(outcome, VNCProtocolError, 'EPROTOCOL', 'TLS handshake must begin');
    expect((outcome.transport as TlsFakeTransport).tlsRequests).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// RFB 3.7

test.describe('RFB 3.7', () => {
  test('VeNCrypt None sub-type: no SecurityResult before ServerInit, as with security type None', async () => {
    const stream = concat(banner('3.7'), securityTypes([19]), vencryptVersion(), vencryptVersionStatus(true), vencryptSubtypes([VENCRYPT.None]), INIT, FIRST_FRAME);
    await inEveryChunking(stream, undefined, {}, (outcome) => {
      expect(outcome.error).toBeUndefined();
      expect(outcome.client!.info.securitySubtype).toBe(VENCRYPT.None);
      expect(hex(outcome.transport.writtenBytes).startsWith(hex(ascii('RFB 003.007\n')) + '13' + '0002' + hex(u32(1)) + '01')).toBe(true);
    });
  });

  test('TLSVnc: SecurityResult read as on 3.8', async () => {
    const clear = concat(banner('3.7'), securityTypes([19]), vencryptVersion(), vencryptVersionStatus(true), vencryptSubtypes([VENCRYPT.TLSVnc]), vencryptSubtypeStatus(true));
    await inEveryChunking(clear, concat(KAT.challenge, securityResult(0), INIT, FIRST_FRAME), { password: KAT.password }, (outcome) => {
      expect(outcome.error).toBeUndefined();
      expect(outcome.client!.info.securityName).toBe('VeNCrypt TLSVnc (258)');
    });
  });
});
