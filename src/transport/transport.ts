import type { TlsTrust } from './tls.js';

/**
 * A transport moves bytes between the client and a server. It knows nothing of RFB: a chunk it
 * delivers may hold part of a message, several messages, or anything in between.
 */
export interface TransportEvents {
  /** Bytes from the server, in order. The chunk is owned by the receiver from then on. */
  data(chunk: Uint8Array): void;
  /** The transport is closed; `error` says why when it was not closed by `close()`. */
  closed(error?: Error): void;
}

export interface Transport {
  /** Where this transport is connected, safe to print (no credentials, no query values). */
  readonly remote: string;
  /**
   * True when something between client and server (a WebSocket proxy such as websockify) may
   * drop bytes it has not forwarded yet once the client closes; the session then confirms with
   * the server before closing.
   */
  readonly mayDropOnClose?: boolean;
  /** Starts delivering events. Bytes that arrived before are delivered first. */
  start(events: TransportEvents): void;
  /** Queues bytes for sending, in order. Resolves when they have been handed to the OS. */
  write(bytes: Uint8Array): Promise<void>;
  /** Sends what is queued, then closes. Resolves when closed (bounded by `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
  /** Closes at once, dropping anything queued. */
  destroy(): void;
  /**
   * Wraps the connection in TLS from here on (VeNCrypt): bytes written after it resolves travel
   * encrypted, and data events carry the decrypted bytes. The caller must not write while it is
   * pending. Rejects with a VNCConnectionError when the TLS handshake fails (a certificate that
   * is not trusted included). Optional: a transport that cannot do it leaves it out.
   */
  startTls?(options: TlsUpgradeOptions): Promise<void>;
}

/** How to start TLS on an open transport. */
export interface TlsUpgradeOptions {
  /** The host name (or address) the server's certificate must name. */
  servername: string;
  /** What to trust when verifying the server's certificate (ignored when `anonymous`). */
  trust: TlsTrust;
  /**
   * Anonymous TLS (VeNCrypt TLS* sub-types): the server sends no certificate, so the session is
   * encrypted but the server is NOT authenticated — someone in the middle could pose as it.
   */
  anonymous: boolean;
}

/** Opens transports: one call, one fresh connection (so a retry asks again). */
export interface TransportOpener {
  readonly remote: string;
  open(options: { timeoutMs: number; signal?: AbortSignal }): Promise<Transport>;
}

/** What `closeWithin` needs of a connection: start a graceful close, force one, hear it close. */
export interface Closable {
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Starts a graceful close (`begin`: flush and say goodbye) and resolves once the connection has
 * closed — or, after `timeoutMs`, forces it (`force`) and resolves anyway: closing never hangs.
 */
export function closeWithin(connection: Closable, timeoutMs: number, begin: () => void, force: () => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      force();
      resolve();
    }, timeoutMs);
    timer.unref();
    connection.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    begin();
  });
}

/**
 * Holds a transport's events until `start()`: bytes that arrived before are delivered first, in
 * order, and a close that happened before is reported then. Reports a close once.
 */
export class EventRelay {
  private events: TransportEvents | undefined;
  private readonly early: Uint8Array[] = [];
  private closedWith: { error?: Error } | undefined;

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  data(chunk: Uint8Array): void {
    if (this.events) this.events.data(chunk);
    else this.early.push(chunk);
  }

  closed(error: Error | undefined): void {
    if (this.closedWith) return;
    this.closedWith = { error };
    this.events?.closed(error);
  }

  start(events: TransportEvents): void {
    this.events = events;
    for (const chunk of this.early.splice(0)) events.data(chunk);
    if (this.closedWith) events.closed(this.closedWith.error);
  }
}
