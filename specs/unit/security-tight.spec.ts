/**
 * Security type 16, Tight (rfbproto "Tight Security Type"), byte for byte: the tunnel list, the
 * authentication list, VNC Authentication or None inside, and the interaction capabilities a Tight
 * server sends after ServerInit. Bytes built here from the specification; the first test is what
 * Debian's tightvncserver 1.3.10 sent (captured by hand on 127.0.0.1).
 */
import { expect, test } from '@playwright/test';

import { VNCAuthenticationError, VNCProtocolError, type VNCError } from '../../src/errors.js';
import { chooseSecurityType } from '../../src/rfb/security/choice.js';
import { ascii, banner, challenge, concat, framebufferUpdate, hex, patternPixels, rawRect, securityResult, securityTypes, serverInit, u16, u32, unhex } from '../support/rfb-bytes.js';
import { inEveryChunking, type SecurityOutcome } from '../support/security-run.js';
import { expectStartFailure } from '../support/start-outcome.js';

const INIT = serverInit({ width: 8, height: 4, name: 'tight desktop' });
const FIRST_FRAME = framebufferUpdate([rawRect(0, 0, 8, 4, patternPixels(8, 4))]);
const KAT = { password: 'secret12', challenge: challenge('00112233445566778899aabbccddeeff'), response: '817402416b165d7ade9c46b5faa42370' };
const VERSION_REPLY = hex(ascii('RFB 003.008\n'));

function capability(code: number, vendor: string, signature: string): Uint8Array {
  return concat(u32(code), ascii(vendor.padEnd(4).slice(0, 4)), ascii(signature.padEnd(8).slice(0, 8)));
}
const NOTUNNEL = capability(0, 'TGHT', 'NOTUNNEL');
const AUTH_NONE = capability(1, 'STDV', 'NOAUTH__');
const AUTH_VNC = capability(2, 'STDV', 'VNCAUTH_');
const AUTH_UNIX = capability(129, 'TGHT', 'ULGNAUTH');

function list(...capabilities: Uint8Array[]): Uint8Array {
  return concat(u32(capabilities.length), ...capabilities);
}

/** Interaction capabilities after ServerInit: u16 counts for server messages, client messages, encodings; u16 padding; the lists. */
function interaction(server: Uint8Array[], client: Uint8Array[], encodings: Uint8Array[]): Uint8Array {
  return concat(u16(server.length), u16(client.length), u16(encodings.length), u16(0), ...server, ...client, ...encodings);
}
/** What tightvncserver 1.3.10 announces: some of its server messages, client messages and encodings. */
const TIGHTVNC_INTERACTION = interaction(
  [capability(130, 'TGHT', 'FTS_LSDT'), capability(131, 'TGHT', 'FTS_DNDT')],
  [capability(130, 'TGHT', 'FTC_LSRQ')],
  [capability(1, 'STDV', 'COPYRECT'), capability(7, 'TGHT', 'TIGHT___'), capability(-239 >>> 0, 'TGHT', 'X11CURSR')],
);

function expectTight(outcome: SecurityOutcome, inner: 1 | 2, written: string): void {
  expect(outcome.escaped).toBeUndefined();
  if (outcome.error) throw outcome.error;
  const info = outcome.client!.info;
  expect(info.securityType).toBe(16);
  expect(info.securitySubtype).toBe(inner);
  expect(info.securityName).toBe(inner === 2 ? 'Tight (16) with VNC Authentication (2)' : 'Tight (16) with None (1)');
  expect(info.serverInit.name).toBe('tight desktop');
  expect(hex(outcome.transport.writtenBytes).startsWith(written)).toBe(true);
  // Right after ClientInit: SetPixelFormat (type 0): the capabilities were not taken for a message.
  expect(hex(outcome.transport.writtenBytes).slice(written.length, written.length + 2)).toBe('00');
}

function expectError(outcome: SecurityOutcome, errorClass: new (...args: never[]) => VNCError, code: string, ...fragments: string[]): void {
  expectStartFailure(outcome, [KAT.password], errorClass, code, ...fragments);
}

/** The client's writes: version reply, type 16, then `rest` (hex). */
function writes(rest: string): string {
  return VERSION_REPLY + '10' + rest;
}

test.describe('Tight security (16)', () => {
  test('tightvncserver 1.3.10: [2, 16], no tunnels, VNC Authentication inside; capabilities after ServerInit are skipped', async () => {
    // As captured: 02 02 10; after choosing 16: 00000000 (no tunnels), then 00000001 00000002 "STDVVNCAUTH_".
    const captured = unhex('020210' + '00000000' + '00000001' + '00000002' + hex(ascii('STDVVNCAUTH_')));
    const stream = concat(banner('3.8'), captured, KAT.challenge, securityResult(0), INIT, TIGHTVNC_INTERACTION, FIRST_FRAME);
    await inEveryChunking(stream, { password: KAT.password }, (outcome) => {
      // No tunnel list → no tunnel answer; the auth code 2, the DES answer, ClientInit (shared).
      expectTight(outcome, 2, writes('00000002' + KAT.response + '01'));
    });
  });

  test('tunnels offered: NOTUNNEL (0) is chosen; an empty auth list means no authentication (SecurityResult next)', async () => {
    const tunnels = list(capability(1, 'SICR', 'SCHANNEL'), NOTUNNEL);
    const stream = concat(banner('3.8'), securityTypes([16]), tunnels, list(), securityResult(0), INIT, interaction([], [], []), FIRST_FRAME);
    await inEveryChunking(stream, {}, (outcome) => expectTight(outcome, 1, writes('00000000' + '01')));
  });

  test('no password: None inside is chosen over VNC Authentication', async () => {
    const stream = concat(banner('3.8'), securityTypes([16]), list(), list(AUTH_VNC, AUTH_NONE), securityResult(0), INIT, interaction([], [], []), FIRST_FRAME);
    await inEveryChunking(stream, {}, (outcome) => expectTight(outcome, 1, writes('00000001' + '01')));
  });

  test('a password: VNC Authentication inside is chosen over None, whatever the server order', async () => {
    const stream = concat(banner('3.8'), securityTypes([16]), list(), list(AUTH_NONE, AUTH_UNIX, AUTH_VNC), KAT.challenge, securityResult(0), INIT, interaction([], [], []), FIRST_FRAME);
    await inEveryChunking(stream, { password: KAT.password }, (outcome) => expectTight(outcome, 2, writes('00000002' + KAT.response + '01')));
  });

  test('the interaction capabilities may arrive in pieces and may be large (every list non-empty)', async () => {
    const many = Array.from({ length: 40 }, (_, i) => capability(i, 'TGHT', `CAP${String(i).padStart(5, '0')}`));
    const stream = concat(banner('3.8'), securityTypes([16]), list(), list(AUTH_NONE), securityResult(0), INIT, interaction(many.slice(0, 10), many.slice(10, 15), many.slice(15)), FIRST_FRAME);
    await inEveryChunking(stream, {}, (outcome) => expectTight(outcome, 1, writes('00000001' + '01')));
  });

  test('only tunnels this client cannot use → VNCAuthenticationError naming them', async () => {
    const stream = concat(banner('3.8'), securityTypes([16]), list(capability(1, 'SICR', 'SCHANNEL')));
    await inEveryChunking(stream, {}, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', 'requires a tunnel', '1 (SICR SCHANNEL)', 'without a tunnel');
      expect(hex(outcome.transport.writtenBytes)).toBe(writes(''));
    });
  });

  test('only Unix login inside → VNCAuthenticationError naming it and what is supported', async () => {
    const stream = concat(banner('3.8'), securityTypes([16]), list(), list(AUTH_UNIX));
    await inEveryChunking(stream, { password: KAT.password }, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', '129 (TGHT ULGNAUTH)', '1 (None) and 2 (VNC Authentication)');
    });
  });

  test('VNC Authentication inside without a password → says to pass one', async () => {
    const stream = concat(banner('3.8'), securityTypes([16]), list(), list(AUTH_VNC), KAT.challenge);
    await inEveryChunking(stream, {}, (outcome) => expectError(outcome, VNCAuthenticationError, 'EAUTH', 'no password was given', '`password`'));
  });

  test('a wrong password → the failure names Tight with VNC Authentication and the reason', async () => {
    const stream = concat(banner('3.8'), securityTypes([16]), list(), list(AUTH_VNC), KAT.challenge, securityResult(1, 'Authentication failed'));
    await inEveryChunking(stream, { password: KAT.password }, (outcome) => expectError(outcome, VNCAuthenticationError, 'EAUTH', 'Authentication failed (Tight (16) with VNC Authentication (2)): Authentication failed.', 'Check the password'));
  });

  test('absurd capability counts are refused before anything is awaited', async () => {
    await inEveryChunking(concat(banner('3.8'), securityTypes([16]), u32(100_000)), {}, (outcome) =>
      expectError(outcome, VNCProtocolError, 'EPROTOCOL', '100000 tunnel types', 'limit of 1024'),
    );
    const afterInit = concat(banner('3.8'), securityTypes([16]), list(), list(), securityResult(0), INIT, u16(60000), u16(0), u16(0), u16(0));
    await inEveryChunking(afterInit, {}, (outcome) => expectError(outcome, VNCProtocolError, 'EPROTOCOL', '60000 interaction capabilities'));
  });
});

test.describe('choosing a security type', () => {
  const cases: Array<{ offered: number[]; credentials: { password?: string; username?: string }; tls: boolean; chosen: number }> = [
    { offered: [2, 16], credentials: { password: 'p' }, tls: true, chosen: 16 },
    { offered: [16, 2], credentials: {}, tls: true, chosen: 16 },
    { offered: [1, 16], credentials: {}, tls: true, chosen: 1 },
    { offered: [1, 16], credentials: { password: 'p' }, tls: true, chosen: 16 },
    { offered: [16, 19], credentials: { password: 'p' }, tls: true, chosen: 19 },
    { offered: [16, 19], credentials: { password: 'p' }, tls: false, chosen: 16 },
    { offered: [2, 19], credentials: {}, tls: false, chosen: 2 },
    { offered: [19], credentials: {}, tls: false, chosen: 19 },
  ];
  for (const { offered, credentials, tls, chosen } of cases) {
    test(`[${offered.join(', ')}] with ${Object.keys(credentials).join(' and ') || 'no credentials'}${tls ? '' : ', no TLS'} → ${chosen}`, () => {
      expect(chooseSecurityType(offered, { credentials, tlsAvailable: tls })).toBe(chosen);
    });
  }
});
