import { createCipheriv } from 'node:crypto';
import { VNCAuthenticationError, VNCConfigError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { SecurityType, securityTypeName } from '../constants.js';
import type { SecurityHandler } from './security.js';

const CHALLENGE_BYTES = 16;

function reverseBits(byte: number): number {
  let reversed = 0;
  for (let bit = 0; bit < 8; bit++) reversed = (reversed << 1) | ((byte >> bit) & 1);
  return reversed;
}

/** A DES key as VNC's DES code wants it: each byte's bits reversed (VNC Authentication, MS-Logon II). */
export function reverseKeyBits(key: Uint8Array): Buffer {
  return Buffer.from(Array.from(key, reverseBits));
}

/**
 * The response to a VNC Authentication challenge: the challenge encrypted with DES, keyed by the
 * first 8 bytes of the password with each byte's bits reversed. Node's OpenSSL 3 has no plain
 * `des-ecb`; triple DES with the same key three times is the same cipher.
 */
export function vncAuthResponse(password: string, challenge: Uint8Array): Buffer {
  for (let i = 0; i < password.length; i++) {
    if (password.charCodeAt(i) > 0xff) {
      throw new VNCConfigError(
        `The VNC password has a character outside Latin-1 at position ${i}; VNC Authentication can only use Latin-1 passwords.`,
      );
    }
  }
  const key = Buffer.alloc(8);
  Buffer.from(password.slice(0, 8), 'latin1').copy(key);
  const reversed = reverseKeyBits(key);
  const cipher = createCipheriv('des-ede3-ecb', Buffer.concat([reversed, reversed, reversed]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(challenge), cipher.final()]);
}

/** Security type 2, VNC Authentication: a 16-byte challenge answered with DES. */
export class VncAuthSecurity implements SecurityHandler {
  readonly type = SecurityType.VncAuthentication;
  readonly name = securityTypeName(SecurityType.VncAuthentication);
  readonly failureHint = 'Check the password (VNC Authentication uses only its first 8 characters).';
  private readonly password: string | undefined;

  constructor(password: string | undefined) {
    this.password = password;
  }

  process(queue: ByteQueue, send: (bytes: Uint8Array) => void): boolean {
    if (!queue.has(CHALLENGE_BYTES)) return false;
    if (this.password === undefined || this.password === '') {
      throw new VNCAuthenticationError(
        'The server requires VNC Authentication but no password was given. Pass `password` (CLI: --password or VNC_PASSWORD).',
      );
    }
    send(vncAuthResponse(this.password, queue.view(CHALLENGE_BYTES)));
    return true;
  }
}
