/**
 * The RFB byte stream over a WebSocket (ws:// or wss://). Each binary message carries an arbitrary
 * slice of the stream in either direction: pveproxy cuts at 128 KiB, websockify sends one message
 * per read. Knows nothing of RFB.
 */
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { ConnectionOptions } from 'node:tls';
import type WebSocket from 'ws';
import { VNCConnectionError, VNCProtocolError, VNCTimeoutError } from '../errors.js';
import { describeSocketError } from './tcp.js';
import { describeTlsError, isTlsVerificationError, tlsOptions, type TlsTrust } from './tls.js';
import { closeWithin, EventRelay, type Transport, type TransportEvents, type TransportOpener } from './transport.js';

export interface WebSocketTransportOptions {
  url: URL;
  /** The URL as it may be printed (see maskUrl). */
  remote: string;
  /** Extra HTTP headers on the upgrade request (e.g. Proxmox's Authorization or Cookie). */
  headers?: Readonly<Record<string, string>>;
  /** Subprotocols offered; [] offers none. Default ['binary']. */
  subprotocols?: readonly string[];
  trust?: TlsTrust;
}

/** The largest WebSocket message accepted (a slice of the RFB stream; servers send far less). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

function describeUpgradeStatus(status: number, remote: string): string {
  const head = `The WebSocket upgrade to ${remote} was answered with HTTP ${status}`;
  switch (status) {
    case 401:
    case 403:
      return `${head}: the server refused the credentials. A ticket may have expired (Proxmox VNC tickets live 40 s: fetch one right before connecting) or an API token/cookie header is missing or lacks permission.`;
    case 404:
      return `${head}: there is no WebSocket endpoint at this path. Check the URL (QEMU's path is exactly "/"; Proxmox's ends in /vncwebsocket).`;
    case 400:
      return `${head}: the server rejected the request. Check the subprotocols offered (websockify refuses "base64" alone) and the URL's parameters.`;
    case 426:
      return `${head}: the server wants another WebSocket version.`;
    default:
      return `${head}. Check the URL and that the server is a WebSocket VNC endpoint.`;
  }
}

function describeOpenError(error: NodeJS.ErrnoException, remote: string): VNCConnectionError {
  if (isTlsVerificationError(error)) return describeTlsError(error, remote);
  if (error.code === 'ECONNRESET' || /socket hang up/i.test(error.message)) {
    return new VNCConnectionError(
      `${remote} closed the connection before answering the WebSocket upgrade. With websockify's token plugin this means the token is unknown or expired; otherwise check that the port speaks WebSocket (and ws:// vs wss://).`,
      { cause: error },
    );
  }
  if (/wrong version number|packet length too long|EPROTO/i.test(`${error.code} ${error.message}`)) {
    return new VNCConnectionError(`TLS with ${remote} failed: the server does not speak TLS there. Use ws:// instead of wss://.`, { cause: error });
  }
  if (error.code) return new VNCConnectionError(describeSocketError(error, remote), { cause: error });
  return new VNCConnectionError(`The WebSocket connection to ${remote} failed: ${error.message}`, { cause: error });
}

class WebSocketTransport implements Transport {
  readonly remote: string;
  // websockify drops data it has not written to the server when the WebSocket closes.
  readonly mayDropOnClose = true;
  private readonly socket: WebSocket;
  private readonly relay = new EventRelay();
  private closing = false;

  constructor(socket: WebSocket, remote: string) {
    this.socket = socket;
    this.remote = remote;
    let failure: Error | undefined;
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        failure = new VNCProtocolError(
          `${remote} sent a text WebSocket message; VNC over WebSocket uses binary messages. Offer the "binary" subprotocol (or none), not "base64".`,
        );
        socket.terminate();
        return;
      }
      this.relay.data(data);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= new VNCConnectionError(`The WebSocket connection to ${remote} failed: ${error.message}`, { cause: error, code: 'ECLOSED' });
    });
    socket.on('close', (code: number, reason: Buffer) => {
      const why = reason.length ? `: ${reason.toString('utf8').slice(0, 200)}` : '';
      const error = this.closing
        ? undefined
        : (failure ?? new VNCConnectionError(`${remote} closed the WebSocket connection (code ${code}${why}).`, { code: 'ECLOSED' }));
      this.relay.closed(error);
    });
  }

  start(events: TransportEvents): void {
    this.relay.start(events);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.relay.isClosed || this.socket.readyState !== this.socket.OPEN) {
      return Promise.reject(new VNCConnectionError(`Cannot send to ${this.remote}: the connection is closed.`, { code: 'ECLOSED' }));
    }
    return new Promise((resolve, reject) => {
      this.socket.send(bytes, { binary: true }, (error) => {
        if (error) reject(new VNCConnectionError(`Sending to ${this.remote} failed: ${error.message}`, { cause: error, code: 'ECLOSED' }));
        else resolve();
      });
    });
  }

  close(timeoutMs = 2000): Promise<void> {
    this.closing = true;
    if (this.relay.isClosed) return Promise.resolve();
    return closeWithin(this.socket, timeoutMs, () => this.socket.close(1000), () => this.socket.terminate());
  }

  destroy(): void {
    this.closing = true;
    this.socket.terminate();
  }
}

let webSocketClass: typeof WebSocket | undefined;

/** The ws package's WebSocket, loaded on the first WebSocket connection (plain TCP users never load it). */
function webSocket(): typeof WebSocket {
  return (webSocketClass ??= createRequire(import.meta.url)('ws') as typeof WebSocket);
}

/** Opens WebSocket connections carrying RFB. */
export class WebSocketTransportOpener implements TransportOpener {
  readonly remote: string;
  private readonly options: WebSocketTransportOptions;
  private readonly tls: ConnectionOptions;

  constructor(options: WebSocketTransportOptions) {
    this.options = options;
    this.remote = options.remote;
    // Checked now, so a bad certificate or trust setting fails when configured, not when used.
    this.tls = options.url.protocol === 'wss:' ? tlsOptions(options.trust ?? {}, options.url.hostname) : {};
  }

  open({ timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal }): Promise<Transport> {
    const { url, headers, subprotocols = ['binary'] } = this.options;
    const remote = this.remote;
    const hasOrigin = Object.keys(headers ?? {}).some((name) => name.toLowerCase() === 'origin');
    const WebSocketClient = webSocket();
    const socket = new WebSocketClient(url, subprotocols.length ? [...subprotocols] : undefined, {
      headers: headers ? { ...headers } : undefined,
      // Some servers (x11vnc) drop an upgrade without Origin; a browser would send its own.
      origin: hasOrigin ? undefined : `${url.protocol === 'wss:' ? 'https' : 'http'}://${url.host}`,
      perMessageDeflate: false,
      maxPayload: MAX_MESSAGE_BYTES,
      followRedirects: false,
      ...this.tls,
    });
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('open', onOpen);
        socket.off('error', onError);
        socket.off('unexpected-response', onUnexpectedResponse);
        if (error) {
          socket.on('error', () => undefined);
          socket.terminate();
          reject(error);
        } else {
          resolve(new WebSocketTransport(socket, remote));
        }
      };
      const onOpen = () => finish();
      const onError = (error: NodeJS.ErrnoException) => finish(describeOpenError(error, remote));
      const onUnexpectedResponse = (_request: unknown, response: IncomingMessage) => {
        response.resume();
        finish(new VNCConnectionError(describeUpgradeStatus(response.statusCode ?? 0, remote)));
      };
      const onAbort = () => finish(new VNCConnectionError(`Connecting to ${remote} was aborted.`));
      const timer = setTimeout(
        () => finish(new VNCTimeoutError(`Timed out after ${timeoutMs} ms opening the WebSocket to ${remote}. Is the server up, and is it ws:// or wss://?`, timeoutMs)),
        timeoutMs,
      );
      socket.once('open', onOpen);
      socket.once('error', onError);
      socket.once('unexpected-response', onUnexpectedResponse);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
