/**
 * Security type 30, Apple Remote Desktop ("Diffie-Hellman Authentication", macOS Screen Sharing):
 * noVNC's known answer, then a test server written from rfbproto that does its side with
 * node:crypto (Diffie-Hellman, MD5, AES-128-ECB) and checks what the client sent.
 */
import { createDecipheriv, createDiffieHellman, createHash, getDiffieHellman } from 'node:crypto';

import { expect, test } from '@playwright/test';

import { VNCAuthenticationError, VNCProtocolError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { RFBClient } from '../../src/rfb/client.js';
import { AppleDHSecurity } from '../../src/rfb/security/apple-dh.js';
import { chooseSecurityType } from '../../src/rfb/security/choice.js';
import { banner, concat, framebufferUpdate, hex, patternPixels, rawRect, securityResult, securityTypes, serverInit, u16, unhex } from '../support/rfb-bytes.js';
import { InteractiveTransport, inEveryChunking } from '../support/security-run.js';
import { expectNoSecret, expectStartFailure } from '../support/start-outcome.js';

const pad = (bytes: Buffer, length: number) => Buffer.concat([Buffer.alloc(length - bytes.length), bytes]);
const INIT = serverInit({ width: 8, height: 4, name: 'macOS' });
const FIRST_FRAME = framebufferUpdate([rawRect(0, 0, 8, 4, patternPixels(8, 4))]);

test.describe('Apple Remote Desktop (30)', () => {
  test('known answer (noVNC tests/test.rfb.js, "ARD authentication (type 30) handler"): every random byte 0…127', () => {
    // noVNC's case: generator 0x7fff, "prime" = the bytes 0…127, and both private keys = the bytes
    // 0…127 (so the client's public key equals the server's); the credentials fill = 0…127 too.
    const counting = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
    const serverDh = createDiffieHellman(counting, Buffer.from([0x7f, 0xff]));
    serverDh.setPrivateKey(counting);
    serverDh.generateKeys();
    const serverPublic = pad(serverDh.getPublicKey(), 128);
    const queue = new ByteQueue();
    queue.push(concat(unhex('7fff'), u16(128), counting, serverPublic));
    const sent: Uint8Array[] = [];
    const security = new AppleDHSecurity({ username: 'user', password: 'password' }, (size) => counting.subarray(0, size));
    expect(security.process(queue, (bytes) => sent.push(bytes))).toBe(true);
    expect(queue.length).toBe(0);
    const expectedEncrypted = Buffer.from([
      199, 39, 204, 95, 190, 70, 127, 66, 5, 106, 153, 228, 123, 236, 150, 206, 62, 107, 11, 4, 21, 242, 92, 184, 9, 81, 35, 125, 56, 167, 1, 215,
      182, 145, 183, 75, 245, 197, 47, 19, 122, 94, 64, 76, 77, 163, 222, 143, 186, 174, 84, 39, 244, 179, 227, 114, 83, 231, 42, 106, 205, 43, 159, 110,
      209, 240, 157, 246, 237, 206, 134, 153, 195, 112, 92, 60, 28, 234, 91, 66, 131, 38, 187, 195, 110, 167, 212, 241, 32, 250, 212, 213, 202, 89, 180, 21,
      71, 217, 209, 81, 42, 61, 118, 248, 65, 123, 98, 78, 139, 111, 202, 137, 50, 185, 37, 173, 58, 99, 187, 53, 42, 125, 13, 165, 232, 163, 151, 42, 0,
    ]);
    expect(sent).toHaveLength(1);
    // noVNC lists 129 bytes and lets the public key overwrite the last one (a 0): 128 count.
    expect(hex(sent[0])).toBe(expectedEncrypted.subarray(0, 128).toString('hex') + serverPublic.toString('hex'));
  });

  /** A test server: RFC 3526 group 2 (1024 bits) from node:crypto; decrypts and checks the credentials. */
  function appleServer(expected: { username: string; password: string }, seen: { username?: string; password?: string }) {
    const dh = getDiffieHellman('modp2');
    dh.generateKeys();
    const prime = dh.getPrime();
    const challenge = concat(u16(2), u16(prime.length), prime, pad(dh.getPublicKey(), prime.length));
    let stage = 0;
    return new InteractiveTransport((written) => {
      stage++;
      if (stage === 1) {
        expect(hex(written)).toBe('524642203030332e3030380a'); // "RFB 003.008\n"
        return undefined;
      }
      if (stage === 2) {
        expect(hex(written)).toBe('1e');
        return challenge;
      }
      if (stage === 3) {
        expect(written.length).toBe(128 + prime.length);
        const key = createHash('md5').update(pad(dh.computeSecret(Buffer.from(written.subarray(128))), prime.length)).digest();
        const decipher = createDecipheriv('aes-128-ecb', key, null);
        decipher.setAutoPadding(false);
        const block = Buffer.concat([decipher.update(written.subarray(0, 128)), decipher.final()]);
        seen.username = block.subarray(0, block.indexOf(0)).toString('utf8');
        seen.password = block.subarray(64, block.indexOf(0, 64)).toString('utf8');
        const ok = seen.username === expected.username && seen.password === expected.password;
        return ok ? concat(securityResult(0), INIT, FIRST_FRAME) : securityResult(1, 'Authentication failed');
      }
      return undefined;
    });
  }

  test('against a server doing its side with node:crypto: the credentials arrive, the session starts', async () => {
    const seen: { username?: string; password?: string } = {};
    const transport = appleServer({ username: 'jürgen', password: 'pässwörd ✓' }, seen);
    const starting = RFBClient.start(transport, { credentials: { username: 'jürgen', password: 'pässwörd ✓' }, timeoutMs: 5000 });
    // The banner goes out first: the server speaks first in RFB.
    transport.deliver(concat(banner('3.889'), securityTypes([30, 2])));
    const client = await starting;
    expect(seen).toEqual({ username: 'jürgen', password: 'pässwörd ✓' });
    expect(client.info.securityType).toBe(30);
    expect(client.info.securityName).toBe('Apple Remote Desktop (Diffie-Hellman) (30)');
    expect(client.info.serverVersion).toBe('3.889');
    await client.close();
  });

  test('a wrong password → VNCAuthenticationError with the reason and what to check, no password in it', async () => {
    const seen: { username?: string; password?: string } = {};
    const transport = appleServer({ username: 'jürgen', password: 'right-one' }, seen);
    const starting = RFBClient.start(transport, { credentials: { username: 'jürgen', password: 'wrong-one' }, timeoutMs: 5000 });
    transport.deliver(concat(banner('3.889'), securityTypes([30, 2])));
    const error = await starting.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VNCAuthenticationError);
    expect((error as Error).message).toContain('Authentication failed: Authentication failed.');
    expect((error as Error).message).toContain('macOS wants a user account allowed to use Screen Sharing');
    expectNoSecret(error, ['wrong-one', 'right-one']);
    expect(seen.password).toBe('wrong-one');
  });

  test('only a password: VNC Authentication is chosen from [30, 2]; only [30] → says to pass a username', async () => {
    expect(chooseSecurityType([30, 2], { credentials: { password: 'p' }, tlsAvailable: true })).toBe(2);
    expect(chooseSecurityType([30, 2], { credentials: { username: 'u', password: 'p' }, tlsAvailable: true })).toBe(30);
    const dh = getDiffieHellman('modp2');
    dh.generateKeys();
    const stream = concat(banner('3.889'), securityTypes([30]), u16(2), u16(128), dh.getPrime(), pad(dh.getPublicKey(), 128));
    await inEveryChunking(stream, { password: 'only-a-password' }, (outcome) =>
      expectStartFailure(outcome, ['only-a-password'], VNCAuthenticationError, 'EAUTH', 'needs a username and a password', 'no username', '`username`'),
    );
  });

  test('fields over 63 bytes, bad key lengths and weak public keys are refused', async () => {
    const dh = getDiffieHellman('modp2');
    dh.generateKeys();
    const prime = dh.getPrime();
    const long = 'x'.repeat(64);
    const good = concat(banner('3.8'), securityTypes([30]), u16(2), u16(128), prime, pad(dh.getPublicKey(), 128));
    await inEveryChunking(good, { username: long, password: 'pw-secret-1' }, (outcome) => expectStartFailure(outcome, [long, 'pw-secret-1'], VNCAuthenticationError, 'EAUTH', 'username of at most 63 bytes', 'is 64 bytes'));
    await inEveryChunking(concat(banner('3.8'), securityTypes([30]), u16(2), u16(4096)), { username: 'u', password: 'pw-secret-1' }, (outcome) =>
      expectStartFailure(outcome, ['pw-secret-1'], VNCProtocolError, 'EPROTOCOL', '4096-byte Diffie-Hellman key length', '64 to 1024'),
    );
    const one = Buffer.alloc(128);
    one[127] = 1;
    await inEveryChunking(concat(banner('3.8'), securityTypes([30]), u16(2), u16(128), prime, one), { username: 'u', password: 'pw-secret-1' }, (outcome) =>
      expectStartFailure(outcome, ['pw-secret-1'], VNCProtocolError, 'EPROTOCOL', 'outside 2 … prime − 2'),
    );
  });
});
