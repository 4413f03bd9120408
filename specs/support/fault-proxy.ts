/**
 * A loopback TCP proxy in front of a real VNC server that misbehaves on demand, for fault tests.
 * It listens on 127.0.0.1 only, takes a bounded number of connections, holds a bounded number of
 * bytes, and stops by itself after `lifetimeMs` (timers are unref'd, so it never keeps a worker
 * alive). The behaviour is proxy-wide and can be switched at any time with `set()`; a switch
 * applies to open connections and new ones, and byte counts in a mode (cut, reset) start at the
 * switch (or at the connection's start, for connections opened later).
 *
 * - pass: forward everything (bytes held by a stall are flushed first, in order).
 * - drop: swallow the bytes going one way or both; the sockets stay open.
 * - stall: hold the bytes (one way or both) until the mode changes.
 * - cut: forward `afterServerBytes` more bytes from the server, then close both sides — mid-message
 *   for any N that does not fall on a message boundary.
 * - drip: forward one byte at a time, `delayMs` apart (one way or both).
 * - reset: RST both sides (`socket.resetAndDestroy()`) at once, or when the client has sent more
 *   than `afterClientBytes` bytes (the chunk that crosses the line is not forwarded) — e.g. the TLS
 *   ClientHello of a VeNCrypt handshake.
 */
import net from 'node:net';

export type Direction = 'toServer' | 'toClient' | 'both';

export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'drop'; direction?: Direction }
  | { kind: 'stall'; direction?: Direction }
  | { kind: 'cut'; afterServerBytes: number }
  | { kind: 'drip'; delayMs?: number; direction?: Direction }
  | { kind: 'reset'; afterClientBytes?: number };

export interface FaultProxyOptions {
  /** The real server. */
  target: { host: string; port: number };
  /** Initial behaviour, default pass. */
  mode?: FaultMode;
  /** Connections at once; more are refused (destroyed). Default 16. */
  maxConnections?: number;
  /** Bytes a stall or drip may hold per direction before the connection is destroyed. Default 32 MiB. */
  maxHeldBytes?: number;
  /** The proxy stops itself after this long. Default 180 s. */
  lifetimeMs?: number;
}

export interface FaultProxyStats {
  connections: number;
  /** Bytes forwarded, over all connections. */
  toServer: number;
  toClient: number;
  /** Chunks written to the client (a drip writes one per byte). */
  writesToClient: number;
  cuts: number;
  resets: number;
}

export interface FaultProxy {
  host: '127.0.0.1';
  port: number;
  mode(): FaultMode;
  set(mode: FaultMode): void;
  stats(): FaultProxyStats;
  /** Closes the listener and every connection. Idempotent. */
  stop(): Promise<void>;
}

const applies = (direction: Direction | undefined, pipe: 'toServer' | 'toClient') => (direction ?? 'both') === 'both' || direction === pipe;

class Pipe {
  /** Bytes forwarded on this pipe so far; `base` is the count when the current mode began. */
  forwarded = 0;
  base = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private dripping = false;

  constructor(
    readonly name: 'toServer' | 'toClient',
    private readonly destination: net.Socket,
    private readonly link: Link,
  ) {}

  push(chunk: Buffer): void {
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > this.link.proxy.maxHeldBytes) {
      this.link.destroy();
      return;
    }
    this.pump();
  }

  private write(bytes: Buffer): void {
    this.forwarded += bytes.length;
    this.link.proxy.counted(this.name, bytes.length);
    this.destination.write(bytes);
  }

  private take(count: number): Buffer {
    const first = this.held[0];
    const part = first.subarray(0, count);
    if (part.length === first.length) this.held.shift();
    else this.held[0] = first.subarray(part.length);
    this.heldBytes -= part.length;
    return part;
  }

  pump(): void {
    while (this.held.length > 0 && !this.dripping && !this.link.closed) {
      const mode = this.link.proxy.current;
      switch (mode.kind) {
        case 'pass':
          this.write(this.take(this.held[0].length));
          break;
        case 'drop':
          if (!applies(mode.direction, this.name)) this.write(this.take(this.held[0].length));
          else this.take(this.held[0].length);
          break;
        case 'stall':
          if (!applies(mode.direction, this.name)) this.write(this.take(this.held[0].length));
          else return;
          break;
        case 'cut': {
          if (this.name === 'toServer') {
            this.write(this.take(this.held[0].length));
            break;
          }
          const left = mode.afterServerBytes - (this.forwarded - this.base);
          if (left > 0) this.write(this.take(Math.min(left, this.held[0].length)));
          if (mode.afterServerBytes - (this.forwarded - this.base) <= 0) {
            this.link.proxy.cuts++;
            // end() sends what was written, then FIN: the client sees a clean close mid-message.
            this.link.end();
            return;
          }
          break;
        }
        case 'drip':
          if (!applies(mode.direction, this.name)) {
            this.write(this.take(this.held[0].length));
            break;
          }
          this.write(this.take(1));
          this.dripping = true;
          setTimeout(() => {
            this.dripping = false;
            this.pump();
          }, mode.delayMs ?? 2).unref();
          return;
        case 'reset': {
          const limit = mode.afterClientBytes;
          if (this.name === 'toClient' || (limit !== undefined && this.forwarded - this.base + this.held[0].length <= limit)) {
            this.write(this.take(this.held[0].length));
            break;
          }
          this.link.reset();
          return;
        }
      }
    }
  }
}

class Link {
  closed = false;
  readonly toServer: Pipe;
  readonly toClient: Pipe;

  constructor(
    readonly proxy: Proxy,
    private readonly client: net.Socket,
    private readonly server: net.Socket,
  ) {
    this.toServer = new Pipe('toServer', server, this);
    this.toClient = new Pipe('toClient', client, this);
    for (const socket of [client, server]) {
      socket.setNoDelay(true);
      socket.on('error', () => this.destroy());
      socket.on('close', () => this.destroy());
    }
    client.on('data', (chunk: Buffer) => this.toServer.push(chunk));
    server.on('data', (chunk: Buffer) => this.toClient.push(chunk));
    if (proxy.current.kind === 'reset' && proxy.current.afterClientBytes === undefined) this.reset();
  }

  rebase(): void {
    this.toServer.base = this.toServer.forwarded;
    this.toClient.base = this.toClient.forwarded;
  }

  pump(): void {
    this.toServer.pump();
    this.toClient.pump();
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.proxy.links.delete(this);
    this.server.destroy();
    this.client.end();
    setTimeout(() => this.client.destroy(), 1000).unref();
  }

  reset(): void {
    if (this.closed) return;
    this.closed = true;
    this.proxy.links.delete(this);
    this.proxy.resets++;
    for (const socket of [this.client, this.server]) {
      if (socket.destroyed) continue;
      // resetAndDestroy() needs a connected socket; one still connecting is just destroyed.
      if (socket.connecting) socket.destroy();
      else socket.resetAndDestroy();
    }
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.proxy.links.delete(this);
    this.client.destroy();
    this.server.destroy();
  }
}

class Proxy {
  current: FaultMode;
  readonly links = new Set<Link>();
  readonly maxHeldBytes: number;
  connections = 0;
  toServer = 0;
  toClient = 0;
  writesToClient = 0;
  cuts = 0;
  resets = 0;

  constructor(options: FaultProxyOptions) {
    this.current = options.mode ?? { kind: 'pass' };
    this.maxHeldBytes = options.maxHeldBytes ?? 32 * 1024 * 1024;
  }

  counted(pipe: 'toServer' | 'toClient', bytes: number): void {
    if (pipe === 'toServer') this.toServer += bytes;
    else {
      this.toClient += bytes;
      this.writesToClient++;
    }
  }

  set(mode: FaultMode): void {
    this.current = mode;
    for (const link of [...this.links]) {
      link.rebase();
      if (mode.kind === 'reset' && mode.afterClientBytes === undefined) link.reset();
      else link.pump();
    }
  }
}

/** Starts a fault proxy on 127.0.0.1 (a free port) in front of `options.target`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new Proxy(options);
  const maxConnections = options.maxConnections ?? 16;
  const listener = net.createServer({ noDelay: true }, (client) => {
    if (proxy.links.size >= maxConnections) {
      client.destroy();
      return;
    }
    proxy.connections++;
    const server = net.connect({ host: options.target.host, port: options.target.port });
    proxy.links.add(new Link(proxy, client, server));
  });
  listener.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => {
      listener.off('error', reject);
      resolve();
    });
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      clearTimeout(lifetime);
      for (const link of [...proxy.links]) link.destroy();
      listener.close(() => resolve());
    }));
  const lifetime = setTimeout(() => void stop(), options.lifetimeMs ?? 180_000);
  lifetime.unref();
  return {
    host: '127.0.0.1',
    port: (listener.address() as net.AddressInfo).port,
    mode: () => proxy.current,
    set: (mode) => proxy.set(mode),
    stats: () => ({
      connections: proxy.connections,
      toServer: proxy.toServer,
      toClient: proxy.toClient,
      writesToClient: proxy.writesToClient,
      cuts: proxy.cuts,
      resets: proxy.resets,
    }),
    stop,
  };
}
