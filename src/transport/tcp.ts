import net from 'node:net';
import { VNCConnectionError, VNCTimeoutError } from '../errors.js';
import type { Transport, TransportEvents, TransportOpener } from './transport.js';

export interface TCPTransportOptions {
  host: string;
  port: number;
}

/** Formats host and port the way a person reads them (IPv6 in brackets). */
export function formatHostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
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
  private readonly socket: net.Socket;
  private events: TransportEvents | undefined;
  private readonly early: Uint8Array[] = [];
  private closedWith: { error?: Error } | undefined;
  private closing = false;

  constructor(socket: net.Socket, remote: string) {
    this.socket = socket;
    this.remote = remote;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.events) this.events.data(chunk);
      else this.early.push(chunk);
    });
    let lastError: Error | undefined;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      lastError = new VNCConnectionError(describeSocketError(error, remote), { cause: error, code: 'ECLOSED' });
    });
    socket.on('close', () => {
      const error = this.closing
        ? undefined
        : (lastError ?? new VNCConnectionError(`Connection to ${remote} was closed by the server.`, { code: 'ECLOSED' }));
      this.closedWith = { error };
      this.events?.closed(error);
    });
  }

  start(events: TransportEvents): void {
    this.events = events;
    for (const chunk of this.early.splice(0)) events.data(chunk);
    if (this.closedWith) events.closed(this.closedWith.error);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.closedWith || this.socket.destroyed) {
      return Promise.reject(new VNCConnectionError(`Cannot send to ${this.remote}: the connection is closed.`, { code: 'ECLOSED' }));
    }
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (error) => {
        if (error) reject(new VNCConnectionError(describeSocketError(error, this.remote), { cause: error, code: 'ECLOSED' }));
        else resolve();
      });
    });
  }

  close(timeoutMs = 2000): Promise<void> {
    this.closing = true;
    if (this.closedWith) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, timeoutMs);
      timer.unref();
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }
}

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
