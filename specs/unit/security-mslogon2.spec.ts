/**
 * Security type 113, MS-Logon II (UltraVNC): noVNC's known answer, then a test server written
 * from UltraVNC's description that does its side (a 64-bit Diffie-Hellman, in this file) and
 * decrypts the fields with node:crypto's DES-CBC.
 */
import { createDecipheriv } from 'node:crypto';

import { expect, test } from '@playwright/test';

import { VNCAuthenticationError, VNCProtocolError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { RFBClient } from '../../src/rfb/client.js';
import { chooseSecurityType } from '../../src/rfb/security/choice.js';
import { MsLogonIISecurity } from '../../src/rfb/security/mslogon2.js';
import { banner, concat, framebufferUpdate, hex, patternPixels, rawRect, securityResult, securityTypes, serverInit, unhex } from '../support/rfb-bytes.js';
import { InteractiveTransport, inEveryChunking } from '../support/security-run.js';
import { expectNoSecret, expectStartFailure } from '../support/start-outcome.js';

const u64 = (value: bigint) => Buffer.from(value.toString(16).padStart(16, '0'), 'hex');
function power(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  for (let b = base % modulus, e = exponent; e > 0n; e >>= 1n, b = (b * b) % modulus) if (e & 1n) result = (result * b) % modulus;
  return result;
}
const reversed = (key: Buffer) => Buffer.from(Array.from(key, (byte) => parseInt(byte.toString(2).padStart(8, '0').split('').reverse().join(''), 2)));

test('known answer (noVNC tests/test.rfb.js, "MSLogonII authentication (type 113) handler")', () => {
  // g = 65537, p = 0x25182617, server public 0x0e12d0f5; private key 00000000 05060708; zero fills.
  const queue = new ByteQueue();
  queue.push(concat(u64(65537n), u64(0x25182617n), u64(0x0e12d0f5n)));
  const random = (size: number) => (size === 8 ? unhex('0000000005060708') : new Uint8Array(size));
  const sent: Uint8Array[] = [];
  expect(new MsLogonIISecurity({ username: 'username', password: 'password123456' }, random).process(queue, (bytes) => sent.push(bytes))).toBe(true);
  const expected =
    '000000000abc7cfd5834d2244460f0d1a373320207cec13f1053f1dd99ad4418a1c4acc11c1311853a6fcbc6b16c68478501bbfa238c59476747566e6f9f07762e901edc80c44b72d2d5cd4b14ff058b8df19be0ffa53b56b96f843e1584314e100b56f4100502c7050bc9667532d374fc8ccfbd2d53d7a7ca8212cebb33093fff767cdf2c2f4d9586e41007751a6ddb059170345c12bc4e5ed02139252b621929a5e6937bf83fcfd73f0cd2682d1e011a31c1590406f63bec38ef1b5b3988d3e05bb9efc382fadf04f765568277fd6310d7ab0b5ed907819dce26fb5da8592ad9b8accd6e6107399f8ddf5344ab2801864d078a5bddc11829aaa2bee29c9eb0b32b2c933e8207a6ef212ca7f065bada13e44187361ca581aef33eda0309634bb52949fabba6313cc815fbfcd6ff049256bc66f178fb147948d2cf876023cfdb1bad42324e6d1f49';
  expect(sent).toHaveLength(1);
  expect(hex(sent[0])).toBe(expected);
});

/** A test server: its own Diffie-Hellman (a 61-bit prime), node:crypto DES-CBC to read the fields. */
function ultraServer(expected: { username: string; password: string }, seen: { username?: string; password?: string }): InteractiveTransport {
  const prime = 2305843009213693951n; // 2^61 − 1
  const generator = 37n;
  const serverPrivate = 0x1234567890abcn;
  const serverPublic = power(generator, serverPrivate, prime);
  let stage = 0;
  return new InteractiveTransport((written) => {
    stage++;
    if (stage === 2) {
      expect(hex(written)).toBe('71');
      return concat(u64(generator), u64(prime), u64(serverPublic));
    }
    if (stage === 3) {
      expect(written.length).toBe(8 + 256 + 64);
      const secret = u64(power(BigInt(`0x${hex(written.subarray(0, 8))}`), serverPrivate, prime));
      const key = reversed(secret);
      const decrypt = (bytes: Uint8Array) => {
        const decipher = createDecipheriv('des-ede3-cbc', Buffer.concat([key, key, key]), secret);
        decipher.setAutoPadding(false);
        const plain = Buffer.concat([decipher.update(bytes), decipher.final()]);
        return plain.subarray(0, plain.indexOf(0)).toString('utf8');
      };
      seen.username = decrypt(written.subarray(8, 264));
      seen.password = decrypt(written.subarray(264));
      const ok = seen.username === expected.username && seen.password === expected.password;
      return ok ? concat(securityResult(0), serverInit({ width: 8, height: 4, name: 'ultra' }), framebufferUpdate([rawRect(0, 0, 8, 4, patternPixels(8, 4))])) : securityResult(1, 'Authentication failed');
    }
    return undefined;
  });
}

test('against a server doing its side independently: the fields decrypt, the session starts', async () => {
  const seen: { username?: string; password?: string } = {};
  const transport = ultraServer({ username: 'DOMAIN\\Jürgen', password: 'Pässwort-42' }, seen);
  const starting = RFBClient.start(transport, { credentials: { username: 'DOMAIN\\Jürgen', password: 'Pässwort-42' }, timeoutMs: 5000 });
  transport.deliver(concat(banner('3.8'), securityTypes([113, 2])));
  const client = await starting;
  expect(seen).toEqual({ username: 'DOMAIN\\Jürgen', password: 'Pässwort-42' });
  expect(client.info.securityName).toBe('MSLogonII (113)');
  await client.close();
});

test('a wrong password → VNCAuthenticationError naming MS-Logon II and what to check, no password in it', async () => {
  const seen: { username?: string; password?: string } = {};
  const transport = ultraServer({ username: 'bob', password: 'right-one' }, seen);
  const starting = RFBClient.start(transport, { credentials: { username: 'bob', password: 'wrong-one' }, timeoutMs: 5000 });
  transport.deliver(concat(banner('3.8'), securityTypes([113])));
  const error = await starting.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(VNCAuthenticationError);
  expect((error as Error).message).toContain('Windows account');
  expectNoSecret(error, ['wrong-one', 'right-one']);
});

test('choice: with a username and password over VNC Authentication; without a username, VNC Authentication', () => {
  expect(chooseSecurityType([2, 113], { credentials: { username: 'u', password: 'p' }, tlsAvailable: true })).toBe(113);
  expect(chooseSecurityType([2, 113], { credentials: { password: 'p' }, tlsAvailable: true })).toBe(2);
});

test('missing username, a password over 63 bytes, out-of-range numbers: refused', async () => {
  const numbers = concat(u64(5n), u64(2305843009213693951n), u64(123456789n));
  await inEveryChunking(concat(banner('3.8'), securityTypes([113]), numbers), { password: 'pw-secret-1' }, (outcome) =>
    expectStartFailure(outcome, ['pw-secret-1'], VNCAuthenticationError, 'EAUTH', 'needs a username and a password', 'no username'),
  );
  const long = 'p'.repeat(64);
  await inEveryChunking(concat(banner('3.8'), securityTypes([113]), numbers), { username: 'u', password: long }, (outcome) =>
    expectStartFailure(outcome, [long], VNCAuthenticationError, 'EAUTH', 'password of at most 63 bytes'),
  );
  await inEveryChunking(concat(banner('3.8'), securityTypes([113]), u64(5n), u64(2305843009213693951n), u64(1n)), { username: 'u', password: 'pw-secret-1' }, (outcome) =>
    expectStartFailure(outcome, ['pw-secret-1'], VNCProtocolError, 'EPROTOCOL', 'unusable Diffie-Hellman values'),
  );
});
