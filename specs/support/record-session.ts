/**
 * Recorded RFB sessions: every byte a real server sent, kept under specs/data/recordings so unit
 * specs can replay real traffic (through RFBClient over a FakeTransport) without the server.
 *
 * A recording NAME is three files:
 * - NAME.rfb.gz  the server's bytes from the banner on, gzipped;
 * - NAME.json    how to replay them ({@link RecordingMeta}: the encodings and password the client
 *                used, so it makes the same choices) and what they show;
 * - NAME.png     the final picture the replay must produce, taken from the server's own pixels
 *                (xwd for an X server, QEMU's `screendump`) or from a Raw capture of the same state.
 *
 * Record with a {@link RecordingConnection} in place of the usual connection:
 *
 *   const recorder = new RecordingConnection(new TCPVNCConnection({ host, port }));
 *   const vnc = await new VNCAgentBridge({ connection: recorder, encodings: ['hextile'] }).connect();
 *   … drive the screen, wait until it is still …
 *   saveRecording('xvnc-hextile', recorder.bytes(), meta, png);
 *
 * Only sessions without TLS replay (FakeTransport has no startTls); record with a password-less
 * server or VNC authentication, whose response the replay computes but nobody checks.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

import type { VNCConnection } from '../../src/bridge/connection.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { Encoding } from '../../src/rfb/constants.js';
import type { Decoder, RectangleInProgress } from '../../src/rfb/encodings/decoder.js';
import { chooseEncodings, createDecoders, PIXEL_ENCODINGS } from '../../src/rfb/encodings/index.js';
import { Framebuffer } from '../../src/rfb/framebuffer.js';
import { ServerMessageParser } from '../../src/rfb/server-messages.js';
import type { Transport, TransportEvents } from '../../src/transport/transport.js';
import { ignoringHandler } from './parser-handler.js';

export const RECORDINGS_DIR = fileURLToPath(new URL('../data/recordings/', import.meta.url));

export interface RecordingMeta {
  /** The server and its version, e.g. "TigerVNC Xvnc 1.12.0". */
  server: string;
  /** The `encodings` option the recording client used (the replay must advertise the same). */
  encodings: string[];
  /** The password the client gave, when the server asked (test servers only). */
  password?: string;
  /** The security type the client chose (1 None or 2 VNC authentication: the stream must be replayable). */
  securityType: number;
  /** Size of the final framebuffer. */
  width: number;
  height: number;
  /** What is on the screen and what happened during the session. */
  description: string;
  /** Length of the server stream (checked when reading). */
  bytes: number;
  /** FramebufferUpdates in the stream and rectangles per encoding (see {@link analyseSession}). */
  updates?: number;
  rectangles?: Record<string, number>;
}

/** A transport that hands on everything and keeps a copy of every byte the server sent. */
class RecordingTransport implements Transport {
  readonly chunks: Buffer[] = [];

  constructor(private readonly inner: Transport) {}

  get remote(): string {
    return this.inner.remote;
  }

  start(events: TransportEvents): void {
    this.inner.start({
      data: (chunk) => {
        // The receiver owns the chunk and may change it: copy first.
        this.chunks.push(Buffer.from(chunk));
        events.data(chunk);
      },
      closed: (error) => events.closed(error),
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.inner.write(bytes);
  }

  close(timeoutMs?: number): Promise<void> {
    return this.inner.close(timeoutMs);
  }

  destroy(): void {
    this.inner.destroy();
  }
}

/** A VNCConnection that records the server's bytes of the transport it opened last. */
export class RecordingConnection implements VNCConnection {
  private last: RecordingTransport | undefined;

  constructor(private readonly inner: VNCConnection) {}

  get remote(): string {
    return this.inner.remote;
  }

  get credentials(): VNCConnection['credentials'] {
    return this.inner.credentials;
  }

  async open(options: { timeoutMs: number; signal?: AbortSignal }): Promise<Transport> {
    this.last = new RecordingTransport(await this.inner.open(options));
    return this.last;
  }

  /** Every byte the server sent on the last connection, so far. */
  bytes(): Buffer {
    if (!this.last) throw new Error('RecordingConnection: nothing recorded yet (connect first)');
    return Buffer.concat(this.last.chunks);
  }
}

/** Writes NAME.rfb.gz, NAME.json and NAME.png. */
export function saveRecording(name: string, bytes: Buffer, meta: Omit<RecordingMeta, 'bytes'>, png: Buffer): void {
  mkdirSync(RECORDINGS_DIR, { recursive: true });
  writeFileSync(join(RECORDINGS_DIR, `${name}.rfb.gz`), gzipSync(bytes, { level: 9 }));
  writeFileSync(join(RECORDINGS_DIR, `${name}.json`), `${JSON.stringify({ ...meta, bytes: bytes.length }, null, 2)}\n`);
  writeFileSync(join(RECORDINGS_DIR, `${name}.png`), png);
}

/** Reads a recording's metadata and server bytes (not the PNG). */
export function readRecording(name: string): { meta: RecordingMeta; bytes: Buffer } {
  const meta = JSON.parse(readFileSync(join(RECORDINGS_DIR, `${name}.json`), 'utf8')) as RecordingMeta;
  const bytes = gunzipSync(readFileSync(join(RECORDINGS_DIR, `${name}.rfb.gz`)));
  if (bytes.length !== meta.bytes) throw new Error(`recording ${name}: ${bytes.length} bytes, but ${name}.json says ${meta.bytes}`);
  return { meta, bytes };
}

/** The handshake of an RFB 3.8 session, as a server sent it, and where the server messages start. */
export interface SplitSession {
  width: number;
  height: number;
  /** The server messages after ServerInit. */
  messages: Buffer;
}

/**
 * Finds the end of the handshake in a server stream (RFB 3.8, security type None or VNC
 * authentication, which `securityType` says: the stream alone cannot tell which the client chose).
 */
export function splitHandshake(bytes: Buffer, securityType: number): SplitSession {
  if (bytes.subarray(0, 12).toString('latin1') !== 'RFB 003.008\n') throw new Error('splitHandshake: not an RFB 3.8 stream');
  let at = 12;
  const types = bytes[at];
  if (types === 0) throw new Error('splitHandshake: the server refused the connection');
  at += 1 + types;
  if (securityType === 2) at += 16;
  else if (securityType !== 1) throw new Error(`splitHandshake: security type ${securityType} is not replayable`);
  if (bytes.readUInt32BE(at) !== 0) throw new Error('splitHandshake: the security handshake failed');
  at += 4;
  const width = bytes.readUInt16BE(at);
  const height = bytes.readUInt16BE(at + 2);
  at += 4 + 16;
  at += 4 + bytes.readUInt32BE(at);
  return { width, height, messages: bytes.subarray(at) };
}

export interface EncodingStats {
  rectangles: number;
  /** Pixels painted (width × height summed). */
  pixels: number;
  /** Time spent in the decoder, in ms. */
  ms: number;
}

export interface SessionAnalysis {
  updates: number;
  /** Bytes at the end that do not complete a message (0 for a whole session). */
  leftover: number;
  /** By encoding name ('hextile', 'raw', …; pseudo-encodings by number). */
  encodings: Record<string, EncodingStats>;
  framebuffer: Framebuffer;
}

/**
 * Parses a session's server messages with every decoder this client has, counting the
 * rectangles of each encoding and timing their decoders. `chunks` (default: the whole stream at
 * once) says how the bytes arrive.
 */
export function analyseSession(session: SplitSession, chunks: readonly Uint8Array[] = [session.messages]): SessionAnalysis {
  const framebuffer = new Framebuffer(session.width, session.height);
  const encodings: Record<string, EncodingStats> = {};
  const names = new Map(PIXEL_ENCODINGS.map((encoding) => [encoding.number, encoding.name]));
  const decoders = new Map<number, Decoder>();
  for (const [number, decoder] of createDecoders(chooseEncodings())) {
    const stats: EncodingStats = (encodings[names.get(number) ?? String(number)] = { rectangles: 0, pixels: 0, ms: 0 });
    let last: RectangleInProgress | undefined;
    decoders.set(number, {
      name: decoder.name,
      decode(rect, queue, target) {
        if (rect !== last) {
          last = rect;
          stats.rectangles++;
          stats.pixels += rect.width * rect.height;
        }
        const start = process.hrtime.bigint();
        try {
          return decoder.decode(rect, queue, target);
        } finally {
          stats.ms += Number(process.hrtime.bigint() - start) / 1e6;
        }
      },
    });
  }
  let updates = 0;
  const pseudo = new Set<number>(Object.values(Encoding).filter((number) => number < 0));
  const parser = new ServerMessageParser(
    framebuffer,
    ignoringHandler({ updateEnded: () => updates++ }),
    { advertised: pseudo, decoders },
  );
  const queue = new ByteQueue();
  for (const chunk of chunks) {
    queue.push(chunk);
    parser.parse(queue);
  }
  for (const [name, stats] of Object.entries(encodings)) if (stats.rectangles === 0) delete encodings[name];
  return { updates, leftover: queue.length, encodings, framebuffer };
}
