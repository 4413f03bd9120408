import { VNCAuthenticationError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';

/** What the caller of the library supplied to authenticate with. */
export interface Credentials {
  password?: string;
  username?: string;
}

/**
 * The username and password a security type needs, or a VNCAuthenticationError saying which one
 * is missing. `server` names what the server asked for; `pass` says what to pass.
 */
export function requireUsernameAndPassword(credentials: Credentials, server: string, pass = 'Pass `username` and `password`.'): { username: string; password: string } {
  const { username, password } = credentials;
  if (!username || password === undefined) {
    throw new VNCAuthenticationError(
      `The server requires ${server}, which needs a username and a password; ${!username ? 'no username' : 'no password'} was given. ${pass}`,
    );
  }
  return { username, password };
}

/**
 * Encryption of the rest of the session that a security type sets up itself (RSA-AES RA2 / RA256):
 * `seal` turns bytes the client sends into what goes on the wire; `open` takes raw bytes as they
 * arrive (any chunking) and returns the plaintext complete so far, throwing a VNCError on tampering.
 */
export interface SessionCipher {
  seal(bytes: Uint8Array): Uint8Array;
  open(raw: Uint8Array): Uint8Array;
}

/** A security handler's request to wrap the connection in TLS before it goes on. */
export interface StartTlsRequest {
  startTls: {
    /**
     * Anonymous TLS (no server certificate: encrypted, the server not authenticated), or TLS
     * verified against the trusted certificates.
     */
    anonymous: boolean;
  };
}

/**
 * What one call of `SecurityHandler.process` did:
 * - `false`: it needs more bytes. It consumed nothing, sent nothing and kept its state; the caller
 *   restores the queue and calls again when more bytes have arrived.
 * - `'continue'`: it finished one stage of its exchange (bytes consumed, maybe a reply sent); the
 *   caller keeps what was consumed and calls again at once.
 * - a `StartTlsRequest`: it finished a stage that ends in a TLS handshake. Every byte it sent so
 *   far must go out in the clear, and every byte after must travel over TLS: the caller runs the
 *   handshake on the transport, then calls again with the bytes that arrive over TLS. No byte may
 *   be left in the queue at that point (the server cannot speak before the TLS handshake).
 * - `true`: its exchange is complete; the SecurityResult (or ClientInit) comes next.
 */
export type SecurityStatus = boolean | 'continue' | StartTlsRequest;

/**
 * One security type's exchange, run after the type is chosen and before SecurityResult.
 * `process` consumes bytes from the queue and writes replies through `send`; see SecurityStatus
 * for what it returns. A handler never reads past what `queue.has()` confirmed, and throws a
 * VNCError (never with a password in its message) when the exchange cannot succeed.
 *
 * Handlers stack: VeNCrypt runs TLS, then an inner handler (None, VNC Authentication, Plain) over
 * it, passing the inner handler's statuses through.
 */
export interface SecurityHandler {
  /** The security type number chosen in the handshake (19 for VeNCrypt). */
  readonly type: number;
  /** The VeNCrypt sub-type, once chosen; undefined for other types. */
  readonly subtype?: number;
  /** How it reads in messages: "VNC Authentication (2)", "VeNCrypt X509Vnc (261)". */
  readonly name: string;
  /** What to check when the server rejects the credentials (appended to the failure message). */
  readonly failureHint?: string;
  /** Set once the exchange is complete when everything after it is encrypted by the handler's own cipher. */
  readonly sessionCipher?: SessionCipher;
  process(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus;
}
