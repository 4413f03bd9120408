import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { VNCConnectionError, VNCTimeoutError } from '../errors.js';
import { anonymousTlsOptions, describeTlsError, isTlsVerificationError, tlsOptions } from './tls.js';
import { closeWithin, EventRelay, type TlsUpgradeOptions, type Transport, type TransportEvents, type TransportOpener } from './transport.js';

export interface TCPTransportOptions {
  host: string;
  port: number;
}

/**
 * Formats host and port the way a person reads them (IPv6 in brackets). Only an IPv6 address has
 * a colon; net.isIPv6 would cost ~10 ms on its first call (it compiles a large regular expression).
 */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Explains a socket error code in words a user can act on. */
export function describeSocketError(error: NodeJS.ErrnoException, remote: string): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return `Connection refused by ${remote}: no VNC server is listening there. Check the host and port (display :N listens on 5900+N).`;
    case 'ECONNRESET':
      return `Connection to ${remote} was reset by the server.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Host of ${remote} could not be resolved. Check the host name.`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${remote} is unreachable from this machine. Check the address and the network.`;
    case 'EPIPE':
      return `Connection to ${remote} was closed by the server while sending.`;
    default:
      return `Connection to ${remote} failed: ${error.message}`;
  }
}

class SocketTransport implements Transport {
  readonly remote: string;
  /** The TCP socket, or the TLS socket wrapping it once `startTls` has succeeded. */
  private socket: net.Socket;
  private readonly relay = new EventRelay();
  private closing = false;
  private lastError: Error | undefined;
  private upgrading = false;
  private secured = false;

  private readonly onData = (chunk: Buffer): void => this.relay.data(chunk);

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    this.lastError = new VNCConnectionError(describeSocketError(error, this.remote), { cause: error, code: 'ECLOSED' });
  };

  private readonly onClose = (): void => {
    const error = this.closing
      ? undefined
      : (this.lastError ?? new VNCConnectionError(`Connection to ${this.remote} was closed by the server.`, { code: 'ECLOSED' }));
    this.reportClosed(error);
  };

  constructor(socket: net.Socket, remote: string) {
    this.socket = socket;
    this.remote = remote;
    socket.setNoDelay(true);
    this.listen(socket);
  }

  private listen(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private unlisten(socket: net.Socket): void {
    socket.off('data', this.onData);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
  }

  private reportClosed(error: Error | undefined): void {
    this.relay.closed(error);
  }

  start(events: TransportEvents): void {
    this.relay.start(events);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.relay.isClosed || this.socket.destroyed) {
      return Promise.reject(new VNCConnectionError(`Cannot send to ${this.remote}: the connection is closed.`, { code: 'ECLOSED' }));
    }
    if (this.upgrading) {
      return Promise.reject(new Error(`Bug: write to ${this.remote} while its TLS handshake is in progress.`));
    }
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (error) => {
        if (error) reject(new VNCConnectionError(describeSocketError(error, this.remote), { cause: error, code: 'ECLOSED' }));
        else resolve();
      });
    });
  }

  /**
   * Runs a TLS handshake over the open socket; from then on data comes from, and writes go to, the
   * TLS socket. Bytes written before are flushed first. On failure the connection is closed, and
   * both this promise and the `closed` event carry the same VNCConnectionError.
   */
  async startTls({ servername, trust, anonymous }: TlsUpgradeOptions): Promise<void> {
    if (this.relay.isClosed || this.socket.destroyed) {
      throw new VNCConnectionError(`Cannot start TLS with ${this.remote}: the connection is closed.`, { code: 'ECLOSED' });
    }
    if (this.upgrading || this.secured) throw new Error(`Bug: startTls called twice on ${this.remote}.`);
    // May throw a VNCConfigError (a certificatePem that is not PEM) before anything changes.
    const options: ConnectionOptions = anonymous ? anonymousTlsOptions() : { ...tlsOptions(trust, servername), host: servername };
    const raw = this.socket;
    this.upgrading = true;
    try {
      // node:tls is loaded only for connections that use it (~5 ms at start-up otherwise).
      const tls = await import('node:tls');
      // What was written in the clear (the VeNCrypt sub-type) must leave before the ClientHello.
      await new Promise<void>((resolve) => raw.write(new Uint8Array(0), () => resolve()));
      if (this.relay.isClosed || raw.destroyed) {
        throw this.lastError ?? new VNCConnectionError(`Connection to ${this.remote} was closed by the server before TLS started.`, { code: 'ECLOSED' });
      }
      // During the handshake only its outcome counts: the raw socket's events are no longer ours.
      this.unlisten(raw);
      const secure = tls.connect({ ...options, socket: raw });
      this.socket = secure;
      await new Promise<void>((resolve, reject) => {
        const settle = (error?: Error) => {
          secure.off('secureConnect', onSecure);
          secure.off('error', onError);
          secure.off('close', onClose);
          if (error) reject(error);
          else resolve();
        };
        const onSecure = () => settle();
        const onError = (error: NodeJS.ErrnoException) => settle(this.describeTlsFailure(error, anonymous));
        const onClose = () =>
          settle(new VNCConnectionError(`${this.remote} closed the connection during the TLS handshake${anonymous ? HINT_ANONYMOUS : ''}.`, { code: 'ECONNECT' }));
        secure.once('secureConnect', onSecure);
        secure.once('error', onError);
        secure.once('close', onClose);
      });
      this.listen(secure);
      this.secured = true;
    } catch (error) {
      // A late error from a socket being torn down must not go unhandled.
      this.socket.on('error', () => undefined);
      this.socket.destroy();
      const failure = error instanceof Error ? error : new Error(String(error));
      this.reportClosed(failure);
      throw failure;
    } finally {
      this.upgrading = false;
    }
  }

  private describeTlsFailure(error: NodeJS.ErrnoException, anonymous: boolean): VNCConnectionError {
    if (isTlsVerificationError(error)) return describeTlsError(error, this.remote);
    const hint = anonymous ? HINT_ANONYMOUS : '';
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
      return new VNCConnectionError(`${this.remote} reset the connection during the TLS handshake${hint}.`, { cause: error });
    }
    return new VNCConnectionError(`TLS with ${this.remote} failed: ${error.message}${hint}.`, { cause: error });
  }

  close(timeoutMs = 2000): Promise<void> {
    this.closing = true;
    if (this.relay.isClosed) return Promise.resolve();
    const socket = this.socket;
    return closeWithin(socket, timeoutMs, () => socket.end(), () => socket.destroy());
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }
}

const HINT_ANONYMOUS = ' (anonymous TLS: the server may not offer the TLS 1.2 anonymous cipher suites this client asks for)';

/** Opens plain TCP connections to a VNC server. */
export class TCPTransportOpener implements TransportOpener {
  readonly remote: string;
  private readonly options: TCPTransportOptions;

  constructor(options: TCPTransportOptions) {
    this.options = options;
    this.remote = formatHostPort(options.host, options.port);
  }

  open({ timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal }): Promise<Transport> {
    const remote = this.remote;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.options.host, port: this.options.port });
      const finish = (error?: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.off('connect', onConnect);
        if (error) {
          socket.destroy();
          reject(error);
        } else {
          resolve(new SocketTransport(socket, remote));
        }
      };
      const onError = (error: NodeJS.ErrnoException) => finish(new VNCConnectionError(describeSocketError(error, remote), { cause: error }));
      const onConnect = () => finish();
      const onAbort = () => finish(new VNCConnectionError(`Connecting to ${remote} was aborted.`));
      const timer = setTimeout(
        () => finish(new VNCTimeoutError(`Timed out after ${timeoutMs} ms connecting to ${remote}. Is the server up and reachable?`, timeoutMs)),
        timeoutMs,
      );
      socket.once('error', onError);
      socket.once('connect', onConnect);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
