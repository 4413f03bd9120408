/**
 * Security type 113, MS-Logon II (UltraVNC on Windows: a Windows account's name and password).
 *
 *   server: u64 generator, u64 modulus, u64 server public key (Diffie-Hellman, 64-bit numbers)
 *   client: u64 client public key, 256 bytes encrypted username, 64 bytes encrypted password
 *   then the usual SecurityResult
 *
 * Each field is UTF-8, NUL-terminated and padded with random bytes to its size, then encrypted
 * with DES-CBC: the key is the 8-byte shared secret with each byte's bits reversed (as in VNC
 * Authentication), the IV the shared secret itself. A 64-bit Diffie-Hellman exchange protects
 * little: the README says so. The session is not encrypted.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { VNCAuthenticationError, VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { SecurityType, securityTypeName } from '../constants.js';
import { bigIntToBytes, bytesToBigInt, modPow } from './bigint.js';
import type { RandomSource } from './apple-dh.js';
import { requireUsernameAndPassword, type Credentials, type SecurityHandler } from './security.js';
import { reverseKeyBits } from './vnc-auth.js';

const NUMBER_BYTES = 8;
const USERNAME_BYTES = 256;
const PASSWORD_BYTES = 64;

function field(value: string, size: number, fill: Uint8Array, what: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > size - 1 || bytes.includes(0)) {
    throw new VNCAuthenticationError(`MS-Logon II carries a ${what} of at most ${size - 1} bytes (UTF-8) without NUL characters; this ${what} is ${bytes.length} bytes.`);
  }
  const block = Buffer.from(fill.subarray(0, size));
  bytes.copy(block);
  block[bytes.length] = 0;
  return block;
}

/** DES-CBC as MS-Logon II uses it (OpenSSL 3 has no single DES: triple DES with the key thrice is the same). */
function encrypt(secret: Buffer, block: Buffer): Buffer {
  const key = reverseKeyBits(secret);
  const cipher = createCipheriv('des-ede3-cbc', Buffer.concat([key, key, key]), secret);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

/** Security type 113: see the file comment. */
export class MsLogonIISecurity implements SecurityHandler {
  readonly type = SecurityType.MSLogonII;
  readonly name = securityTypeName(SecurityType.MSLogonII);
  readonly failureHint = 'Check the username and password of the Windows account (UltraVNC MS-Logon: the account must be in an allowed group).';
  private readonly credentials: Credentials;
  private readonly random: RandomSource;

  constructor(credentials: Credentials, random: RandomSource = randomBytes) {
    this.credentials = credentials;
    this.random = random;
  }

  process(queue: ByteQueue, send: (bytes: Uint8Array) => void): boolean {
    if (!queue.has(3 * NUMBER_BYTES)) return false;
    const { username, password } = requireUsernameAndPassword(this.credentials, `${this.name} (UltraVNC with Windows accounts)`);
    const generator = bytesToBigInt(queue.view(NUMBER_BYTES));
    const modulus = bytesToBigInt(queue.view(NUMBER_BYTES));
    const serverPublic = bytesToBigInt(queue.view(NUMBER_BYTES));
    if (modulus < 3n || generator < 2n || generator >= modulus || serverPublic < 2n || serverPublic > modulus - 2n) {
      throw new VNCProtocolError(`The server (${this.name}) sent unusable Diffie-Hellman values (generator, modulus or public key out of range).`);
    }
    const privateKey = bytesToBigInt(this.random(NUMBER_BYTES));
    const clientPublic = bigIntToBytes(modPow(generator, privateKey, modulus), NUMBER_BYTES);
    const secret = bigIntToBytes(modPow(serverPublic, privateKey, modulus), NUMBER_BYTES);
    const user = field(username, USERNAME_BYTES, this.random(USERNAME_BYTES), 'username');
    const pass = field(password, PASSWORD_BYTES, this.random(PASSWORD_BYTES), 'password');
    send(Buffer.concat([clientPublic, encrypt(secret, user), encrypt(secret, pass)]));
    return true;
  }
}
