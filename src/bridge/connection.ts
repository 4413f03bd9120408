import { VNCConfigError } from '../errors.js';
import type { Credentials } from '../rfb/security/security.js';
import { TCPTransportOpener } from '../transport/tcp.js';
import type { TlsTrust } from '../transport/tls.js';
import type { Transport } from '../transport/transport.js';

/**
 * Where and how to reach a VNC server: opens a fresh transport per call and carries the
 * credentials. Implement it for a transport of your own and pass it as `{ connection }`.
 */
export interface VNCConnection {
  /** Where it connects, safe to print: no credentials, no query values. */
  readonly remote: string;
  readonly credentials: Credentials;
  /** TLS inside RFB (VeNCrypt): the name the certificate must carry and what to trust. Default: the host, system CAs. */
  readonly tls?: { servername: string; trust: TlsTrust };
  open(options: { timeoutMs: number; signal?: AbortSignal }): Promise<Transport>;
}

export interface TCPVNCConnectionOptions extends Credentials {
  host: string;
  /** Default 5900. */
  port?: number;
  /** A certificate (PEM) to trust for VeNCrypt's X509 sub-types, besides the system's CAs. */
  certificatePem?: string;
  /** Verify the VeNCrypt server certificate (default true); false warns once and accepts any. */
  verifySsl?: boolean;
}

export const DEFAULT_VNC_PORT = 5900;

export function checkPort(port: unknown, what = 'port'): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new VNCConfigError(`Invalid ${what} ${JSON.stringify(port)}: expected a whole number from 1 to 65535 (display :N is 5900+N).`);
  }
  return port;
}

/** A VNC server reached over plain TCP. */
export class TCPVNCConnection implements VNCConnection {
  readonly remote: string;
  readonly credentials: Credentials;
  readonly tls: { servername: string; trust: TlsTrust };
  private readonly opener: TCPTransportOpener;

  constructor({ host, port = DEFAULT_VNC_PORT, password, username, certificatePem, verifySsl }: TCPVNCConnectionOptions) {
    if (typeof host !== 'string' || host.trim() === '') {
      throw new VNCConfigError('Missing host: pass the VNC server\'s host name or address, e.g. { host: "127.0.0.1", port: 5901 }.');
    }
    this.opener = new TCPTransportOpener({ host, port: checkPort(port) });
    this.remote = this.opener.remote;
    this.credentials = { password, username };
    this.tls = { servername: host, trust: { certificatePem, verify: verifySsl } };
  }

  open(options: { timeoutMs: number; signal?: AbortSignal }): Promise<Transport> {
    return this.opener.open(options);
  }
}
