/**
 * RSA-AES RA2ne (6), RAne256 (130), RA256 (129): AES-EAX against the EAX paper's vectors, noVNC's
 * known answer for RA2ne byte for byte, and a test server that does its side with node:crypto
 * (RSA, SHA-256) and checks the credentials (and, for RA256, the sealed session); refusals.
 */
import { constants, createHash, generateKeyPairSync, privateDecrypt, publicEncrypt, createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { expect, test } from '@playwright/test';

import { VNCAuthenticationError, VNCProtocolError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { RFBClient } from '../../src/rfb/client.js';
import { chooseSecurityType } from '../../src/rfb/security/choice.js';
import { eaxDecrypt, eaxEncrypt } from '../../src/rfb/security/eax.js';
import { RsaAesSecurity, rsaKeyPairFromJwk } from '../../src/rfb/security/rsa-aes.js';
import type { SecurityStatus } from '../../src/rfb/security/security.js';
import { type Chunking, banner, concat, framebufferUpdate, hex, patternPixels, rawRect, securityResult, securityTypes, serverInit, u16, u32, unhex } from '../support/rfb-bytes.js';
import { InteractiveTransport, inEveryChunking } from '../support/security-run.js';
import { expectNoSecret, expectStartFailure } from '../support/start-outcome.js';

const VECTOR = JSON.parse(readFileSync(fileURLToPath(new URL('../data/novnc-ra2ne-vector.json', import.meta.url)), 'utf8')) as Record<string, string> & { clientJwk: Record<string, string> };

test.describe('AES-EAX', () => {
  // Bellare, Rogaway, Wagner, "The EAX Mode of Operation", appendix test vectors 1 and 2.
  const vectors = [
    { key: '233952DEE4D5ED5F9B9C6D6FF80FF478', nonce: '62EC67F9C3A4A407FCB2A8C49031A8B3', header: '6BFB914FD07EAE6B', plain: '', sealed: 'E037830E8389F27B025A2D6527E79D01' },
    { key: '91945D3F4DCBEE0BF45EF52255F095A4', nonce: 'BECAF043B0A23D843194BA972C66DEBD', header: 'FA3BFD4806EB53FA', plain: 'F7FB', sealed: '19DD5C4C9331049D0BDAB0277408F67967E5' },
  ];
  for (const [i, v] of vectors.entries()) {
    test(`EAX paper vector ${i + 1}: seals and opens; a changed byte fails the tag`, () => {
      const sealed = eaxEncrypt(unhex(v.key), unhex(v.nonce), unhex(v.header), unhex(v.plain));
      expect(hex(sealed)).toBe(v.sealed.toLowerCase());
      expect(hex(eaxDecrypt(unhex(v.key), unhex(v.nonce), unhex(v.header), sealed)!)).toBe(v.plain.toLowerCase());
      const tampered = Buffer.from(sealed);
      tampered[0] ^= 1;
      expect(eaxDecrypt(unhex(v.key), unhex(v.nonce), unhex(v.header), tampered)).toBeUndefined();
    });
  }
});

/** Runs the handler over `queue` until it needs more bytes or finishes. */
function drive(security: RsaAesSecurity, queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
  for (;;) {
    queue.mark();
    const status = security.process(queue, send);
    if (status === false) {
      queue.restore();
      return false;
    }
    queue.commit();
    if (status !== 'continue') return status;
  }
}

test('RA2ne known answer (noVNC tests/test.rfb.js, "RSA-AES authentication (type 6) handler"), byte for byte', () => {
  const random = (size: number) => (size === 16 ? unhex(VECTOR.random16) : unhex(VECTOR.randomOther).subarray(0, size));
  const security = new RsaAesSecurity(6, { password: '123456' }, { random, keyPair: () => rsaKeyPairFromJwk(VECTOR.clientJwk) });
  const queue = new ByteQueue();
  const sent: string[] = [];
  const send = (bytes: Uint8Array) => sent.push(hex(bytes));
  queue.push(unhex(VECTOR.serverPublicKey));
  expect(drive(security, queue, send)).toBe(false);
  expect(sent).toEqual([VECTOR.clientPublicKey + VECTOR.clientRandom]);
  queue.push(unhex(VECTOR.serverRandom));
  expect(drive(security, queue, send)).toBe(false);
  expect(sent[1]).toBe(VECTOR.clientHash);
  queue.push(concat(unhex(VECTOR.serverHash), unhex(VECTOR.subType)));
  expect(drive(security, queue, send)).toBe(true);
  expect(sent[2]).toBe(VECTOR.credentialsData);
  expect(queue.length).toBe(0);
});

/** PKCS #1 v1.5 type 2 done here, for the test server (node refuses PKCS #1 v1.5 private decryption). */
function serverRsaEncrypt(jwk: { n: string; e: string }, message: Buffer): Buffer {
  const size = Buffer.from(jwk.n, 'base64url').length;
  const padding = Buffer.from(Array.from(randomBytes(size - 3 - message.length), (byte) => byte | 1));
  return publicEncrypt({ key: createPublicKey({ key: { kty: 'RSA', ...jwk }, format: 'jwk' }), padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.of(0, 2), padding, Buffer.of(0), message]));
}

/**
 * A RAne256 server written from TigerVNC's description: node:crypto RSA (2048 bits) and SHA-256;
 * AES-EAX from src (checked above against the EAX paper's vectors).
 */
function ra256Server(
  subtype: 1 | 2,
  expected: { username: string; password: string },
  seen: { username?: string; password?: string; clientInit?: string },
  type: 129 | 130 = 130,
  options: { chunking?: Chunking; tamper?: boolean } = {},
): InteractiveTransport {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const n = Buffer.from(jwk.n, 'base64url');
  const e = Buffer.concat([Buffer.alloc(256 - 3), Buffer.from(jwk.e, 'base64url')]);
  const serverBlob = concat(u32(2048), n, e);
  const serverRandom = randomBytes(32);
  let stage = 0;
  let clientBlob = Buffer.alloc(0);
  let keys: { toClient: Buffer; fromClient: Buffer } | undefined;
  const counters = { toClient: Buffer.alloc(16), fromClient: Buffer.alloc(16) };
  const bump = (counter: Buffer) => {
    for (let i = 0; i < 16 && ++counter[i] === 256; i++) counter[i] = 0;
  };
  const seal = (message: Buffer) => {
    const sealed = concat(u16(message.length), eaxEncrypt(keys!.toClient, counters.toClient, u16(message.length), message));
    bump(counters.toClient);
    return sealed;
  };
  const open = (bytes: Uint8Array) => {
    const plain = eaxDecrypt(keys!.fromClient, counters.fromClient, bytes.subarray(0, 2), bytes.subarray(2));
    bump(counters.fromClient);
    return plain!;
  };
  return new InteractiveTransport((written) => {
    stage++;
    if (stage === 2) {
      expect(hex(written)).toBe(type.toString(16));
      return serverBlob;
    }
    if (stage === 3) {
      clientBlob = Buffer.from(written.subarray(0, 4 + 512));
      const clientJwk = { n: clientBlob.subarray(4, 260).toString('base64url'), e: clientBlob.subarray(260 + clientBlob.subarray(260).findIndex((byte) => byte !== 0)).toString('base64url') };
      const block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, Buffer.from(written.subarray(4 + 512 + 2)));
      const clientRandom = block.subarray(block.indexOf(0, 2) + 1);
      expect(clientRandom.length).toBe(32);
      const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
      keys = { toClient: sha(clientRandom, serverRandom), fromClient: sha(serverRandom, clientRandom) };
      return concat(u16(256), serverRsaEncrypt(clientJwk, serverRandom));
    }
    if (stage === 4) {
      expect(hex(open(written))).toBe(hex(createHash('sha256').update(Buffer.concat([clientBlob, serverBlob])).digest()));
      return concat(seal(createHash('sha256').update(Buffer.concat([serverBlob, clientBlob])).digest()), seal(Buffer.of(subtype)));
    }
    if (stage === 5) {
      const credentials = open(written);
      const userLength = credentials[0];
      seen.username = credentials.subarray(1, 1 + userLength).toString('utf8');
      seen.password = credentials.subarray(2 + userLength, 2 + userLength + credentials[1 + userLength]).toString('utf8');
      const ok = seen.password === expected.password && (subtype === 2 || seen.username === expected.username);
      const reply = ok ? concat(securityResult(0), serverInit({ width: 8, height: 4, name: 'tigervnc 1.13' }), framebufferUpdate([rawRect(0, 0, 8, 4, patternPixels(8, 4))])) : securityResult(1, 'Authentication failed');
      if (type === 130) return reply;
      // RA256: the rest of the session as AES-EAX messages, here cut in two.
      const sealed = concat(seal(Buffer.from(reply.subarray(0, 7))), seal(Buffer.from(reply.subarray(7))));
      if (options.tamper) sealed[30] ^= 0x01;
      return sealed;
    }
    if (type === 129 && stage >= 6) {
      // Every later write of the client is sealed too: ClientInit first.
      const plain = open(written);
      if (stage === 6) seen.clientInit = hex(plain);
    }
    return undefined;
  }, options.chunking);
}

test('RAne256 against a server doing RSA and SHA-256 with node:crypto: username and password arrive, the session starts', async () => {
  const seen: { username?: string; password?: string } = {};
  const transport = ra256Server(1, { username: 'ålice', password: 'pässword-256' }, seen);
  const starting = RFBClient.start(transport, { credentials: { username: 'ålice', password: 'pässword-256' }, timeoutMs: 10_000 });
  transport.deliver(concat(banner('3.8'), securityTypes([130, 2])));
  const client = await starting;
  expect(seen).toEqual({ username: 'ålice', password: 'pässword-256' });
  expect(client.info.securityName).toBe('RAne256 (130)');
  await client.close();
});

test('RAne256, sub-type 2 (password only), a wrong password → VNCAuthenticationError, no password in it', async () => {
  const seen: { username?: string; password?: string } = {};
  const transport = ra256Server(2, { username: '', password: 'right-one' }, seen);
  const starting = RFBClient.start(transport, { credentials: { password: 'wrong-one' }, timeoutMs: 10_000 });
  transport.deliver(concat(banner('3.8'), securityTypes([130])));
  const error = await starting.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(VNCAuthenticationError);
  expect((error as Error).message).toContain('Authentication failed: Authentication failed. Check the password');
  expect(seen).toEqual({ username: '', password: 'wrong-one' });
  expectNoSecret(error, ['wrong-one', 'right-one']);
});

for (const chunking of ['whole', 'bytewise'] as const) test(`RA256 (whole session, replies ${chunking}): SecurityResult, ServerInit and the frame arrive sealed, ClientInit goes out sealed`, async () => {
  const seen: { username?: string; password?: string; clientInit?: string } = {};
  const transport = ra256Server(1, { username: 'bob', password: 'whole-session-pw' }, seen, 129, { chunking });
  const starting = RFBClient.start(transport, { credentials: { username: 'bob', password: 'whole-session-pw' }, timeoutMs: 10_000 });
  transport.deliver(concat(banner('3.8'), securityTypes([129, 130])));
  const client = await starting;
  expect(client.info.securityName).toBe('RA256 (129)');
  expect(seen.clientInit).toBe('01');
  expect(client.framebuffer.width).toBe(8);
  // What the client sends now is sealed: a pointer event is 6 bytes, on the wire 2 + 6 + 16.
  const before = transport.writtenBytes.length;
  await client.sendPointer(0, 1, 1);
  expect(transport.writtenBytes.length - before).toBe(24);
  await client.close();
});

test('RA256: a sealed message that fails its tag ends the start with VNCProtocolError', async () => {
  const transport = ra256Server(1, { username: 'bob', password: 'whole-session-pw' }, {}, 129, { tamper: true });
  const starting = RFBClient.start(transport, { credentials: { username: 'bob', password: 'whole-session-pw' }, timeoutMs: 10_000 });
  transport.deliver(concat(banner('3.8'), securityTypes([129])));
  const error = await starting.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(VNCProtocolError);
  expect((error as Error).message).toContain('failed its AES-EAX check');
  expect(transport.destroyed).toBe(true);
});

test('choice: RSA-AES before the others when a password is given, whole-session variants first', () => {
  expect(chooseSecurityType([2, 6, 130, 30], { credentials: { username: 'u', password: 'p' }, tlsAvailable: true })).toBe(130);
  expect(chooseSecurityType([6, 5, 130, 129], { credentials: { password: 'p' }, tlsAvailable: true })).toBe(129);
  expect(chooseSecurityType([6, 5], { credentials: { password: 'p' }, tlsAvailable: true })).toBe(5);
  expect(chooseSecurityType([2, 6], { credentials: { password: 'p' }, tlsAvailable: true })).toBe(6);
  expect(chooseSecurityType([19, 6], { credentials: { password: 'p' }, tlsAvailable: true })).toBe(19);
  expect(chooseSecurityType([6, 1], { credentials: {}, tlsAvailable: true })).toBe(1);
  expect(() => chooseSecurityType([7, 8], { credentials: { password: 'p' }, tlsAvailable: true })).toThrow(/this client supports/);
});

test('refused: no password, a key size out of range, a tampered message', async () => {
  const key = concat(u32(2048), Buffer.alloc(512, 1));
  await inEveryChunking(concat(banner('3.8'), securityTypes([6]), key), {}, (outcome) =>
    expectStartFailure(outcome, [], VNCAuthenticationError, 'EAUTH', 'RA2ne (6) (RSA-AES), which needs a password'),
  );
  await inEveryChunking(concat(banner('3.8'), securityTypes([6]), u32(512)), { password: 'pw-secret-1' }, (outcome) =>
    expectStartFailure(outcome, ['pw-secret-1'], VNCProtocolError, 'EPROTOCOL', '512-bit RSA key', '1024 to 8192'),
  );
  const random = (size: number) => (size === 16 ? unhex(VECTOR.random16) : unhex(VECTOR.randomOther).subarray(0, size));
  const security = new RsaAesSecurity(6, { password: '123456' }, { random, keyPair: () => rsaKeyPairFromJwk(VECTOR.clientJwk) });
  const queue = new ByteQueue();
  queue.push(concat(unhex(VECTOR.serverPublicKey), unhex(VECTOR.serverRandom)));
  drive(security, queue, () => undefined);
  const hash = Buffer.from(unhex(VECTOR.serverHash));
  hash[5] ^= 0x40;
  queue.push(hash);
  expect(() => drive(security, queue, () => undefined)).toThrow(/key hash \(RA2ne \(6\)\) failed its AES-EAX check/);
});
