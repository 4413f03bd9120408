/**
 * Security type 30, Apple Remote Desktop / "Diffie-Hellman Authentication" (rfbproto; macOS Screen
 * Sharing). The server sends the Diffie-Hellman parameters and its public key; the client answers
 * with the username and password encrypted under a key both sides derive, and its public key.
 *
 *   server: u16 generator, u16 key length L, L-byte prime, L-byte server public key
 *   client: 128 bytes AES-128-ECB(MD5(shared secret as L bytes), credentials), L-byte client public key
 *   then the usual SecurityResult
 *
 * The credentials block is 128 bytes: the username in the first 64, the password in the last 64,
 * each UTF-8, NUL-terminated (so at most 63 bytes) and the rest random. The session itself is not
 * encrypted.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { VNCAuthenticationError, VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { SecurityType, securityTypeName } from '../constants.js';
import { bigIntToBytes, bytesToBigInt, modPow } from './bigint.js';
import { requireUsernameAndPassword, type Credentials, type SecurityHandler } from './security.js';

/** Key lengths accepted, in bytes (macOS uses 128: a 1024-bit group). */
export const APPLE_DH_MIN_KEY_BYTES = 64;
export const APPLE_DH_MAX_KEY_BYTES = 1024;
const CREDENTIALS_BYTES = 128;
const FIELD_BYTES = 64;

/** Where the random bytes come from (the private key, the padding of the credentials). Tests pass their own. */
export type RandomSource = (size: number) => Uint8Array;

/** The 128-byte block before encryption: each field UTF-8, NUL-terminated, in its 64-byte half; the rest from `fill`. */
export function appleCredentialsBlock(username: string, password: string, fill: Uint8Array): Buffer {
  const block = Buffer.from(fill.subarray(0, CREDENTIALS_BYTES));
  if (block.length !== CREDENTIALS_BYTES) throw new RangeError('the fill must be 128 bytes');
  for (const [value, offset, what] of [[username, 0, 'username'], [password, FIELD_BYTES, 'password']] as const) {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > FIELD_BYTES - 1 || bytes.includes(0)) {
      throw new VNCAuthenticationError(
        `Apple Remote Desktop carries a ${what} of at most ${FIELD_BYTES - 1} bytes (UTF-8) without NUL characters; this ${what} is ${bytes.length} bytes. Use a shorter one.`,
      );
    }
    bytes.copy(block, offset);
    block[offset + bytes.length] = 0;
  }
  return block;
}

/** Security type 30: see the file comment. */
export class AppleDHSecurity implements SecurityHandler {
  readonly type = SecurityType.AppleRemoteDesktop;
  readonly name = securityTypeName(SecurityType.AppleRemoteDesktop);
  readonly failureHint = 'Check the username and password: macOS wants a user account allowed to use Screen Sharing (System Settings → Sharing).';
  private readonly credentials: Credentials;
  private readonly random: RandomSource;

  constructor(credentials: Credentials, random: RandomSource = randomBytes) {
    this.credentials = credentials;
    this.random = random;
  }

  process(queue: ByteQueue, send: (bytes: Uint8Array) => void): boolean {
    if (!queue.has(4)) return false;
    const generator = queue.peekU16(0);
    const keyLength = queue.peekU16(2);
    if (keyLength < APPLE_DH_MIN_KEY_BYTES || keyLength > APPLE_DH_MAX_KEY_BYTES) {
      throw new VNCProtocolError(
        `The server (Apple Remote Desktop) sent a ${keyLength}-byte Diffie-Hellman key length; this client accepts ${APPLE_DH_MIN_KEY_BYTES} to ${APPLE_DH_MAX_KEY_BYTES}.`,
      );
    }
    if (!queue.has(4 + 2 * keyLength)) return false;
    const { username, password } = requireUsernameAndPassword(this.credentials, `${this.name} (macOS Screen Sharing)`, 'Pass `username` and `password` of a macOS user account.');
    queue.skip(4);
    const prime = bytesToBigInt(queue.view(keyLength));
    const serverPublic = bytesToBigInt(queue.view(keyLength));
    if (prime < 3n || generator < 2 || BigInt(generator) >= prime) {
      throw new VNCProtocolError(`The server (Apple Remote Desktop) sent unusable Diffie-Hellman parameters (generator ${generator}).`);
    }
    if (serverPublic < 2n || serverPublic > prime - 2n) {
      throw new VNCProtocolError('The server (Apple Remote Desktop) sent a Diffie-Hellman public key outside 2 … prime − 2, which would make the shared key guessable.');
    }
    const privateKey = bytesToBigInt(this.random(keyLength));
    const clientPublic = bigIntToBytes(modPow(BigInt(generator), privateKey, prime), keyLength);
    const shared = bigIntToBytes(modPow(serverPublic, privateKey, prime), keyLength);
    const key = createHash('md5').update(shared).digest();
    const block = appleCredentialsBlock(username, password, this.random(CREDENTIALS_BYTES));
    const cipher = createCipheriv('aes-128-ecb', key, null);
    cipher.setAutoPadding(false);
    send(Buffer.concat([cipher.update(block), cipher.final(), clientPublic]));
    return true;
  }
}
