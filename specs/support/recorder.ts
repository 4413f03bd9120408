/**
 * Recorded RFB sessions: a VNCConnection wrapper that keeps every byte a real server sends, and a
 * replayer that feeds those bytes to a fresh RFBClient over a FakeTransport in any chunking.
 *
 * A recording is three files in specs/data/recordings/: NAME.rfb (the server's bytes from the
 * banner on, exactly as received), NAME.json (what was recorded, and the client options to replay
 * it with) and NAME.png (the screen the replay must end with: a Raw capture of the same server
 * state, checked at recording time against the recording client's own framebuffer).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

import type { VNCConnection } from '../../src/bridge/connection.js';
import { RFBClient } from '../../src/rfb/client.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { Encoding } from '../../src/rfb/constants.js';
import type { Decoder } from '../../src/rfb/encodings/decoder.js';
import { chooseEncodings, createDecoders } from '../../src/rfb/encodings/index.js';
import { Framebuffer, type Frame } from '../../src/rfb/framebuffer.js';
import { ServerMessageParser } from '../../src/rfb/server-messages.js';
import type { Credentials } from '../../src/rfb/security/security.js';
import type { Transport, TransportEvents } from '../../src/transport/transport.js';
import { FakeTransport, type Chunking, split } from './rfb-bytes.js';
import { ignoringHandler } from './parser-handler.js';

export const RECORDINGS_DIR = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'data', 'recordings');

/** NAME.json. */
export interface RecordingInfo {
  name: string;
  /** What the session shows, and how it was made. */
  description: string;
  /** The server and its version, e.g. "Xvnc (TigerVNC 1.12.0)". */
  server: string;
  /** The `encodings` option the recording client used (replay with the same). */
  encodings: string[];
  /** Final framebuffer size. */
  width: number;
  height: number;
  /** Bytes in NAME.rfb. */
  bytes: number;
  /** Rectangles per encoding number seen in the recording (pseudo-encodings included). */
  rectangles: Record<string, number>;
  recordedAt: string;
}

/** Wraps a VNCConnection: every transport it opens copies the server's bytes into `bytes`. */
export class RecordingConnection implements VNCConnection {
  readonly remote: string;
  readonly credentials: Credentials;
  readonly tls: VNCConnection['tls'];
  private readonly inner: VNCConnection;
  private chunks: Buffer[] = [];
  private recording = true;

  constructor(inner: VNCConnection) {
    this.inner = inner;
    this.remote = inner.remote;
    this.credentials = inner.credentials;
    this.tls = inner.tls;
  }

  /** Everything received so far (one connection per recorder: a second open() is refused). */
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Stops recording: bytes received from now on are not kept. Call it in the same tick as the capture it must match. */
  stop(): Buffer {
    this.recording = false;
    return this.bytes;
  }

  async open(options: { timeoutMs: number; signal?: AbortSignal }): Promise<Transport> {
    if (this.chunks.length > 0) throw new Error('RecordingConnection records one connection only');
    const transport = await this.inner.open(options);
    const keep = (chunk: Uint8Array) => {
      if (this.recording) this.chunks.push(Buffer.from(chunk));
    };
    const wrapped: Transport = {
      remote: transport.remote,
      start: (events: TransportEvents) =>
        transport.start({
          data: (chunk) => {
            keep(chunk);
            events.data(chunk);
          },
          closed: (error) => events.closed(error),
        }),
      write: (bytes) => transport.write(bytes),
      close: (timeoutMs) => transport.close(timeoutMs),
      destroy: () => transport.destroy(),
    };
    if (transport.startTls) wrapped.startTls = (tlsOptions) => transport.startTls!(tlsOptions);
    return wrapped;
  }
}

export interface Recording {
  info: RecordingInfo;
  bytes: Buffer;
  expected: Frame;
}

export async function loadRecording(name: string): Promise<Recording> {
  const [json, bytes, png] = await Promise.all([
    readFile(join(RECORDINGS_DIR, `${name}.json`), 'utf8'),
    readFile(join(RECORDINGS_DIR, `${name}.rfb`)),
    readFile(join(RECORDINGS_DIR, `${name}.png`)),
  ]);
  const image = PNG.sync.read(png);
  for (let i = 3; i < image.data.length; i += 4) image.data[i] = 255;
  return { info: JSON.parse(json) as RecordingInfo, bytes, expected: { width: image.width, height: image.height, data: image.data } };
}

/**
 * Replays server bytes into a fresh RFBClient (same options as the recording), delivered as
 * `chunking` cuts them, and resolves with the client once all were delivered. The caller closes it.
 */
export async function replay(bytes: Uint8Array, encodings: readonly string[], chunking: Chunking | Uint8Array[], seed = 1): Promise<RFBClient> {
  const transport = new FakeTransport('recording:5900');
  const starting = RFBClient.start(transport, { credentials: {}, encodings, timeoutMs: 5000 });
  const chunks = Array.isArray(chunking) && chunking[0] instanceof Uint8Array ? (chunking as Uint8Array[]) : split(bytes, chunking as Chunking, seed);
  let escaped: unknown;
  try {
    transport.deliverChunks(chunks);
  } catch (error) {
    escaped = error;
  }
  const client = await starting;
  if (escaped) {
    await client.close();
    throw escaped;
  }
  return client;
}

/** Where the server's handshake ends in a recording made with security type None (RFB 3.8): banner, types, result, ServerInit. */
export function handshakeLength(bytes: Uint8Array): { length: number; width: number; height: number } {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (view.subarray(0, 12).toString('latin1') !== 'RFB 003.008\n') throw new Error('recording does not start with the RFB 3.8 banner');
  const types = view[12];
  if (types === 0 || !view.subarray(13, 13 + types).includes(1)) throw new Error('recording was not made with security type None');
  let at = 13 + types;
  if (view.readUInt32BE(at) !== 0) throw new Error('recording has a failed SecurityResult');
  at += 4;
  const width = view.readUInt16BE(at);
  const height = view.readUInt16BE(at + 2);
  const nameLength = view.readUInt32BE(at + 20);
  return { length: at + 24 + nameLength, width, height };
}

export interface ParsedRecording {
  framebuffer: Framebuffer;
  /** Rectangles per encoding number. */
  rectangles: Record<string, number>;
  updates: number;
  /** Bytes left unparsed at the end (a message cut off when recording stopped). */
  leftover: number;
}

// Fence and ContinuousUpdates too: a recording of Xvnc holds its fence requests and EndOfContinuousUpdates.
const PSEUDO_ENCODINGS = [
  Encoding.Cursor,
  Encoding.DesktopSize,
  Encoding.ExtendedDesktopSize,
  Encoding.LastRect,
  Encoding.ExtendedClipboard,
  Encoding.Fence,
  Encoding.ContinuousUpdates,
];

/**
 * Parses a recording's server messages (after the handshake) with the real parser and decoders,
 * fed in `chunks` of the post-handshake bytes (default: whole), counting rectangles by encoding.
 */
export function parseRecording(bytes: Uint8Array, encodings: readonly string[], cut: (body: Uint8Array) => Uint8Array[] = (body) => [body]): ParsedRecording {
  const { length, width, height } = handshakeLength(bytes);
  const framebuffer = new Framebuffer(width, height);
  const rectangles: Record<string, number> = {};
  const seen = new WeakSet<object>();
  const decoders = new Map<number, Decoder>();
  for (const [number, decoder] of createDecoders(chooseEncodings(encodings))) {
    decoders.set(number, {
      name: decoder.name,
      decode(rect, queue, target) {
        if (!seen.has(rect)) {
          seen.add(rect);
          rectangles[number] = (rectangles[number] ?? 0) + 1;
        }
        return decoder.decode(rect, queue, target);
      },
    });
  }
  let updates = 0;
  const count = (encoding: number) => () => {
    rectangles[encoding] = (rectangles[encoding] ?? 0) + 1;
  };
  const parser = new ServerMessageParser(
    framebuffer,
    ignoringHandler({ updateEnded: () => updates++, resized: count(Encoding.DesktopSize), cursorChanged: count(Encoding.Cursor) }),
    { advertised: new Set(PSEUDO_ENCODINGS), decoders },
  );
  const queue = new ByteQueue();
  for (const chunk of cut(bytes.subarray(length))) {
    queue.push(chunk);
    parser.parse(queue);
  }
  return { framebuffer, rectangles, updates, leftover: queue.length };
}
