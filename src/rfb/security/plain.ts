import type { ByteQueue } from '../byte-queue.js';
import { VeNCryptSubtype, vencryptSubtypeName } from '../constants.js';
import { requireUsernameAndPassword, type Credentials, type SecurityHandler } from './security.js';

/**
 * The Plain message (VeNCrypt sub-type 256, and inside TLSPlain / X509Plain): u32 username
 * length, u32 password length, then the username and the password, both UTF-8. The password
 * travels as it is: only ever send it inside TLS (see VeNCryptSecurity). An empty password is a
 * valid value when a username is given (accounts without a password; the server decides).
 */
export function plainMessage(username: string, password: string): Buffer {
  const user = Buffer.from(username, 'utf8');
  const pass = Buffer.from(password, 'utf8');
  const header = Buffer.alloc(8);
  header.writeUInt32BE(user.length, 0);
  header.writeUInt32BE(pass.length, 4);
  return Buffer.concat([header, user, pass]);
}

/** Plain authentication: the username and password, sent at once; the server needs nothing first. */
export class PlainSecurity implements SecurityHandler {
  readonly type = VeNCryptSubtype.Plain;
  readonly name = vencryptSubtypeName(VeNCryptSubtype.Plain);
  readonly failureHint = 'Check the username and password (the server checks them against its user accounts, e.g. with PAM).';
  private readonly credentials: Credentials;

  constructor(credentials: Credentials) {
    this.credentials = credentials;
  }

  process(_queue: ByteQueue, send: (bytes: Uint8Array) => void): boolean {
    const { username, password } = requireUsernameAndPassword(this.credentials, 'VeNCrypt Plain');
    send(plainMessage(username, password));
    return true;
  }
}
