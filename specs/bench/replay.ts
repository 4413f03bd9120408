/**
 * Decoder throughput from recorded or captured server messages, replayed offline through the real
 * parser and decoders, with the speed of plain inflate on the same zlib data for reference. Shared
 * by encodings.bench.ts and speed.bench.ts.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import type { VNCConnection } from '../../src/bridge/connection.js';
import type { Transport } from '../../src/transport/transport.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { Encoding } from '../../src/rfb/constants.js';
import type { Decoder } from '../../src/rfb/encodings/decoder.js';
import { chooseEncodings, createDecoders } from '../../src/rfb/encodings/index.js';
import { InflateStream } from '../../src/rfb/encodings/inflate-stream.js';
import { Framebuffer } from '../../src/rfb/framebuffer.js';
import { ServerMessageParser } from '../../src/rfb/server-messages.js';
import { readRecording, RECORDINGS_DIR, splitHandshake } from '../support/record-session.js';
import { handshakeLength } from '../support/recorder.js';
import { ignoringHandler } from '../support/parser-handler.js';

// ---------------------------------------------------------------------------------------------
// A connection that counts (and, while asked to, keeps) the bytes the server sends

export class MeteredConnection implements VNCConnection {
  readonly remote: string;
  readonly credentials: VNCConnection['credentials'];
  readonly tls: VNCConnection['tls'];
  /** Bytes received on the transport opened last. */
  received = 0;
  /** Whether to keep a copy of what arrives (for the offline replay). */
  keeping = false;
  readonly kept: Buffer[] = [];

  constructor(private readonly inner: VNCConnection) {
    this.remote = inner.remote;
    this.credentials = inner.credentials;
    this.tls = inner.tls;
  }

  async open(options: { timeoutMs: number; signal?: AbortSignal }): Promise<Transport> {
    const transport = await this.inner.open(options);
    this.received = 0;
    this.kept.length = 0;
    return {
      remote: transport.remote,
      start: (events) =>
        transport.start({
          data: (chunk) => {
            this.received += chunk.length;
            // The receiver owns the chunk and may change it: copy first.
            if (this.keeping) this.kept.push(Buffer.from(chunk));
            events.data(chunk);
          },
          closed: (error) => events.closed(error),
        }),
      write: (bytes) => transport.write(bytes),
      close: (timeoutMs) => transport.close(timeoutMs),
      destroy: () => transport.destroy(),
    };
  }
}


/** The zlib-based decoders measured against inflate, with their stored recordings. */
export const DECODER_CASES = [
  { label: 'ZRLE', number: Encoding.ZRLE, recordings: ['xvnc-zrle', 'x11vnc-zrle', 'qemu-zrle'] },
  { label: 'Tight lossless', number: Encoding.Tight, recordings: ['xvnc-tight', 'x11vnc-tight', 'qemu-tight', 'qemu-tight-gradient'] },
];

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// ---------------------------------------------------------------------------------------------
// Inflate instrumentation: time spent inside InflateStream, and its input kept for a reference run

interface InflateLog {
  ms: number;
  /** Compressed input per stream, cut where the stream was reset (a new zlib stream starts). */
  segments: Map<InflateStream, Buffer[][]> | undefined;
}

let inflateLog: InflateLog | undefined;

function keepInput(stream: InflateStream, input: Uint8Array): void {
  const segments = inflateLog?.segments;
  if (!segments) return;
  let list = segments.get(stream);
  if (!list) segments.set(stream, (list = [[]]));
  list[list.length - 1].push(Buffer.from(input));
}

{
  const proto = InflateStream.prototype as unknown as Record<'inflate' | 'inflateView' | 'inflateAll' | 'reset', (this: InflateStream, ...args: unknown[]) => unknown>;
  for (const method of ['inflate', 'inflateView', 'inflateAll'] as const) {
    const original = proto[method];
    proto[method] = function (this: InflateStream, ...args: unknown[]) {
      if (!inflateLog) return original.apply(this, args);
      keepInput(this, args[0] as Uint8Array);
      const start = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        inflateLog.ms += performance.now() - start;
      }
    };
  }
  const reset = proto.reset;
  proto.reset = function (this: InflateStream, ...args: unknown[]) {
    const list = inflateLog?.segments?.get(this);
    if (list && list[list.length - 1].length > 0) list.push([]);
    return reset.apply(this, args);
  };
}

// ---------------------------------------------------------------------------------------------
// Offline replay of server messages through the real parser and decoders

interface Replay {
  /** Pixels of `number` rectangles decoded, and time inside that decoder. */
  pixels: number;
  decodeMs: number;
  /** Time inside InflateStream during the pass. */
  inflateMs: number;
  updates: number;
  segments?: Map<InflateStream, Buffer[][]>;
}

const PSEUDO = new Set<number>(Object.values(Encoding).filter((number) => number < 0));

function replayOnce(messages: Uint8Array, width: number, height: number, encodings: readonly string[], number: number, keepInflateInput: boolean): Replay {
  const result: Replay = { pixels: 0, decodeMs: 0, inflateMs: 0, updates: 0 };
  const decoders = new Map<number, Decoder>();
  for (const [encoding, decoder] of createDecoders(chooseEncodings(encodings))) {
    if (encoding !== number) {
      decoders.set(encoding, decoder);
      continue;
    }
    decoders.set(encoding, {
      name: decoder.name,
      decode(rect, queue, framebuffer) {
        const start = performance.now();
        const done = decoder.decode(rect, queue, framebuffer);
        result.decodeMs += performance.now() - start;
        if (done) result.pixels += rect.width * rect.height;
        return done;
      },
    });
  }
  // A framebuffer whose memory is already mapped, as on a connection past its first frame: the
  // kernel's first-touch page faults (a few ms per 8 MB) would otherwise count as decoding.
  const framebuffer = new Framebuffer(width, height);
  framebuffer.data.fill(1);
  const parser = new ServerMessageParser(
    framebuffer,
    ignoringHandler({ updateEnded: () => result.updates++ }),
    { advertised: PSEUDO, decoders },
  );
  inflateLog = { ms: 0, segments: keepInflateInput ? new Map() : undefined };
  try {
    const queue = new ByteQueue();
    queue.push(messages);
    parser.parse(queue);
  } finally {
    result.inflateMs = inflateLog.ms;
    result.segments = inflateLog.segments;
    inflateLog = undefined;
  }
  return result;
}

export interface Throughput {
  /** MB of RGBA output per second of decoder time. */
  decoderMBs: number;
  /** Decoder time per decoded full frame (for the live 1080p streams). */
  msPerFrame: number;
  /** Share of decoder time spent inside InflateStream. */
  inflateShare?: number;
  /** The same pixels at the speed of one zlib.inflateSync per zlib stream (MB of RGBA per second). */
  inflateMBs?: number;
}

export interface Stream {
  messages: Uint8Array;
  width: number;
  height: number;
  encodings: readonly string[];
}

/** Decoder throughput over several streams of one encoding (medians of `passes`), and the inflate reference. */
export function throughput(streams: Stream[], number: number, passes: number): Throughput | undefined {
  let pixels = 0;
  let decodeMs = 0;
  let inflateMs = 0;
  let referenceMs: number | undefined;
  for (const stream of streams) {
    const first = replayOnce(stream.messages, stream.width, stream.height, stream.encodings, number, true);
    pixels += first.pixels;
    // Reference: each zlib stream's data inflated by one zlib.inflateSync call (no per-rectangle calls).
    const inputs = [...first.segments!.values()].flat().filter((segment) => segment.length > 0).map((segment) => Buffer.concat(segment));
    const inflateAlone = () => {
      const start = performance.now();
      for (const input of inputs) zlib.inflateSync(input, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      return performance.now() - start;
    };
    // Decoder and reference passes alternate, so load from other processes falls on both alike.
    const timed: Replay[] = [];
    const reference: number[] = [];
    for (let pass = 0; pass < passes; pass++) {
      timed.push(replayOnce(stream.messages, stream.width, stream.height, stream.encodings, number, false));
      if (inputs.length > 0) reference.push(inflateAlone());
    }
    decodeMs += median(timed.map((pass) => pass.decodeMs));
    inflateMs += median(timed.map((pass) => pass.inflateMs));
    if (reference.length > 0) referenceMs = (referenceMs ?? 0) + median(reference);
  }
  if (pixels === 0) return undefined;
  const frames = pixels / (streams[0].width * streams[0].height);
  return {
    decoderMBs: (pixels * 4) / 1e6 / (decodeMs / 1000),
    msPerFrame: decodeMs / frames,
    inflateShare: referenceMs === undefined ? undefined : inflateMs / decodeMs,
    inflateMBs: referenceMs === undefined ? undefined : (pixels * 4) / 1e6 / (referenceMs / 1000),
  };
}

/** A stored recording's server messages, from either recording format (.rfb.gz with JSON meta, or plain .rfb). */
export async function loadStream(name: string): Promise<Stream> {
  if (existsSync(join(RECORDINGS_DIR, `${name}.rfb.gz`))) {
    const { meta, bytes } = readRecording(name);
    const session = splitHandshake(bytes, meta.securityType);
    return { messages: session.messages, width: session.width, height: session.height, encodings: meta.encodings };
  }
  const recordings = fileURLToPath(new URL('../data/recordings/', import.meta.url));
  const bytes = await readFile(join(recordings, `${name}.rfb`));
  const meta = JSON.parse(await readFile(join(recordings, `${name}.json`), 'utf8')) as { encodings: string[] };
  const { length, width, height } = handshakeLength(bytes);
  return { messages: bytes.subarray(length), width, height, encodings: meta.encodings };
}

