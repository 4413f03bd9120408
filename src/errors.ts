/**
 * The error hierarchy. Every error the library throws is a `VNCError`; the subclass says who is at
 * fault (the server, the network, the credentials, the caller, a configuration) and `code` is a
 * stable identifier listed in the README. Messages say what failed and what to do about it, and
 * never contain a password, ticket or token.
 */

export type VNCErrorCode =
  | 'ECONNECT'
  | 'ECLOSED'
  | 'EAUTH'
  | 'EPROTOCOL'
  | 'ETIMEOUT'
  | 'EINPUT'
  | 'ESTATE'
  | 'ECONFIG';

export interface VNCErrorOptions {
  cause?: unknown;
}

export class VNCError extends Error {
  readonly code: VNCErrorCode;

  constructor(code: VNCErrorCode, message: string, options?: VNCErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** Alias kept for users coming from the Python seed (`VNCException`). */
export { VNCError as VNCException };

/** The network failed: connection refused, reset, closed mid-session, unreachable. */
export class VNCConnectionError extends VNCError {
  constructor(message: string, options?: VNCErrorOptions & { code?: 'ECONNECT' | 'ECLOSED' }) {
    super(options?.code ?? 'ECONNECT', message, options);
  }
}

/** The server refused the credentials, or offers no security type this client can use. */
export class VNCAuthenticationError extends VNCError {
  constructor(message: string, options?: VNCErrorOptions) {
    super('EAUTH', message, options);
  }
}

/** The server sent bytes that break RFC 6143 (or an extension we advertised). */
export class VNCProtocolError extends VNCError {
  constructor(message: string, options?: VNCErrorOptions) {
    super('EPROTOCOL', message, options);
  }
}

/** A wait ran out of time. */
export class VNCTimeoutError extends VNCError {
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number, options?: VNCErrorOptions) {
    super('ETIMEOUT', message, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The caller passed input that cannot be sent: an unknown key name, a coordinate off screen, text the server cannot take. */
export class VNCInputError extends VNCError {
  constructor(message: string, options?: VNCErrorOptions) {
    super('EINPUT', message, options);
  }
}

/** The call does not fit the bridge's state: not connected, already connected, disconnected. */
export class VNCStateError extends VNCError {
  constructor(message: string, options?: VNCErrorOptions) {
    super('ESTATE', message, options);
  }
}

/** A configuration (options, URL template, YAML target) is wrong. */
export class VNCConfigError extends VNCError {
  constructor(message: string, options?: VNCErrorOptions) {
    super('ECONFIG', message, options);
  }
}
