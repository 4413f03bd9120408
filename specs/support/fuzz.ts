/**
 * Property-based fuzzing helpers (fast-check): arbitraries that mutate recorded sessions and cut
 * byte streams into chunks, and `runSession`, which feeds one input to a fresh RFBClient over a
 * FakeTransport (optionally one that can start TLS, for VeNCrypt) and classifies how it ended.
 *
 * The property every input must satisfy: it ends in a completed/ongoing session or a VNCError
 * (a `closed` event or a rejected start), never an exception escaping the transport callback, a
 * non-VNCError (TypeError, RangeError …, masked or not) or a hang; and the ArrayBuffer memory the
 * run holds stays bounded however large the lengths it declares.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import fc from 'fast-check';

import { VNCError } from '../../src/errors.js';
import { RFBClient } from '../../src/rfb/client.js';
import { BYTES_PER_PIXEL, Framebuffer } from '../../src/rfb/framebuffer.js';
import { Handshake } from '../../src/rfb/handshake.js';
import type { TlsUpgradeOptions } from '../../src/transport/transport.js';
import { FakeTransport, splitBySizes } from './rfb-bytes.js';
import { RECORDINGS_DIR, handshakeLength, type RecordingInfo } from './recorder.js';

/** Seed for CI (FUZZ_SEED overrides it) and a multiplier for longer runs (FUZZ_RUNS). */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_f022);
/** `FUZZ_RUNS=N` multiplies every property's default run count by N / 100 (default 100 → CI size). */
export function runs(ciRuns: number): number {
  const factor = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) / 100 : 1;
  return Math.max(1, Math.round(ciRuns * factor));
}

/** A test timeout scaled like the run counts (never below `ms`). */
export function scaledTimeout(ms: number): number {
  const factor = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) / 100 : 1;
  return Math.round(ms * Math.max(1, factor));
}

/** Growth of ArrayBuffer memory one run may hold beyond its framebuffer. */
export const MEMORY_BOUND = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Recordings

export interface LoadedRecording {
  name: string;
  info: RecordingInfo;
  bytes: Uint8Array;
  /** Where the server's handshake ends (banner … ServerInit). */
  handshakeEnd: number;
}

export const RECORDING_NAMES = [
  'qemu-hextile',
  'qemu-tight-gradient',
  'qemu-tight-jpeg',
  'qemu-tight',
  'qemu-zlib',
  'qemu-zrle',
  'x11vnc-tight',
  'x11vnc-zlib',
  'x11vnc-zrle',
  'xvnc-hextile',
  'xvnc-rre',
  'xvnc-tight-jpeg',
  'xvnc-tight',
  'xvnc-zrle',
] as const;

/** NAME.rfb or NAME.rfb.gz, with its NAME.json. */
export function loadRecordingBytes(name: string): LoadedRecording {
  const info = JSON.parse(readFileSync(join(RECORDINGS_DIR, `${name}.json`), 'utf8')) as RecordingInfo;
  const plain = join(RECORDINGS_DIR, `${name}.rfb`);
  const bytes = existsSync(plain) ? readFileSync(plain) : gunzipSync(readFileSync(`${plain}.gz`));
  return { name, info, bytes: new Uint8Array(bytes), handshakeEnd: handshakeLength(bytes).length };
}

// ---------------------------------------------------------------------------------------------
// Mutations

/** A position: near the start (handshake and first headers) or anywhere. */
export interface Position {
  head: boolean;
  value: number;
}

export type Mutation =
  | { kind: 'flip'; at: Position; bit: number }
  | { kind: 'set'; at: Position; value: number }
  | { kind: 'set32'; at: Position; value: number }
  | { kind: 'truncate'; at: Position }
  | { kind: 'insert'; at: Position; bytes: Uint8Array }
  | { kind: 'delete'; at: Position; length: number }
  | { kind: 'duplicate'; at: Position; from: Position; length: number };

const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0x81, 0xfe, 0xff];
/** Declared lengths and sizes a hostile server would send: 4 GB, 2 GB, 64 K, just above limits. */
export const INTERESTING_U32 = [0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff, 0x01000001, 0x00ffffff, 0x00400000, 0x0010001, 0xffff, 0x4001, 0x101, 0x41, 0];

export function positionArb(headBytes = 512): fc.Arbitrary<Position> {
  return fc.record({ head: fc.boolean(), value: fc.nat() }).map((p) => ({ head: p.head, value: p.head ? p.value % headBytes : p.value }));
}

export function mutationArb(headBytes = 512): fc.Arbitrary<Mutation> {
  const at = positionArb(headBytes);
  return fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at, value: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.integer({ min: 0, max: 255 })) }),
    fc.record({ kind: fc.constant('set32' as const), at, value: fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat()) }),
    fc.record({ kind: fc.constant('truncate' as const), at }),
    fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), at, from: positionArb(headBytes), length: fc.integer({ min: 1, max: 64 }) }),
  );
}

function resolve(position: Position, length: number, base = 0): number {
  if (length === 0) return 0;
  return position.head ? Math.min(length - 1, base + position.value) : position.value % length;
}

/** Applies mutations in order; `base` shifts "head" positions (e.g. to just after the handshake). */
export function applyMutations(bytes: Uint8Array, mutations: readonly Mutation[], base = 0): Uint8Array {
  let out = Buffer.from(bytes);
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = resolve(m.at, out.length, base);
    switch (m.kind) {
      case 'flip':
        out[at] ^= 1 << m.bit;
        break;
      case 'set':
        out[at] = m.value;
        break;
      case 'set32':
        if (at + 4 <= out.length) out.writeUInt32BE(m.value >>> 0, at);
        break;
      case 'truncate':
        out = out.subarray(0, at);
        break;
      case 'insert':
        out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
        break;
      case 'delete':
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]);
        break;
      case 'duplicate': {
        const from = resolve(m.from, out.length, base);
        out = Buffer.concat([out.subarray(0, at), out.subarray(from, from + m.length), out.subarray(at)]);
        break;
      }
    }
  }
  return new Uint8Array(out);
}

export function describeMutations(mutations: readonly Mutation[]): string {
  return mutations
    .map((m) => {
      const { at, ...rest } = m;
      const extra = Object.entries(rest)
        .filter(([key]) => key !== 'kind')
        .map(([key, value]) => `${key}=${value instanceof Uint8Array ? Buffer.from(value).toString('hex') : JSON.stringify(value)}`)
        .join(' ');
      return `${m.kind}@${at.head ? 'head+' : 'any:'}${at.value} ${extra}`;
    })
    .join('; ');
}

// ---------------------------------------------------------------------------------------------
// Chunkings

/** Chunk sizes, cycled: [] = whole; small (fields split everywhere) or large pieces. */
export const chunkingArb: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant([] as number[]),
  fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 8 }),
  fc.array(fc.integer({ min: 1, max: 16384 }), { minLength: 1, maxLength: 8 }),
);

/** Cuts `bytes` by `sizes` (pieces at least 1/20000 of the input, so big inputs stay quick). */
export function cut(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  if (bytes.length === 0) return [];
  if (sizes.length === 0) return [bytes];
  const floor = Math.ceil(bytes.length / 20000);
  return splitBySizes(bytes, sizes.map((size) => Math.max(size, floor)));
}

// ---------------------------------------------------------------------------------------------
// Framebuffer accounting: a desktop within the documented limits (up to 16384², 1 GiB) is a
// legitimate allocation; the memory bound applies to everything else a run holds.

let framebufferBytesAllocated = 0;
let accounting = false;

/** Counts the framebuffers the client allocates (at ServerInit and on every resize), test-side only. */
function installFramebufferAccounting(): void {
  if (accounting) return;
  accounting = true;
  const resize = Framebuffer.prototype.resize;
  Framebuffer.prototype.resize = function (this: Framebuffer, width: number, height: number) {
    framebufferBytesAllocated += width * height * BYTES_PER_PIXEL;
    return resize.call(this, width, height);
  };
  const process = Handshake.prototype.process;
  Handshake.prototype.process = function (this: Handshake, queue) {
    const result = process.call(this, queue);
    if (result && 'serverInit' in result) framebufferBytesAllocated += result.serverInit.width * result.serverInit.height * BYTES_PER_PIXEL;
    return result;
  };
}

// ---------------------------------------------------------------------------------------------
// Running one input

/** A FakeTransport that can "start TLS": the upgrade succeeds after a tick, and later bytes are the "TLS" bytes. */
export class TlsCapableFakeTransport extends FakeTransport {
  tlsRequests = 0;
  private upgrade: Promise<void> | undefined;

  startTls(_options: TlsUpgradeOptions): Promise<void> {
    this.tlsRequests++;
    this.upgrade = new Promise((resolve) => setImmediate(resolve));
    return this.upgrade;
  }

  /** Waits for a pending upgrade (and the client's reaction to it). */
  async settled(): Promise<void> {
    if (this.upgrade) await this.upgrade;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export interface RunOptions {
  /** Segments delivered in order; between segments the run waits for a TLS upgrade, if one was asked for. */
  segments: readonly Uint8Array[];
  chunking: readonly number[];
  tls?: boolean;
  password?: string;
  username?: string;
  allowPlainWithoutTls?: boolean;
  encodings?: readonly string[];
  /** Bound on start(); the run as a whole must settle within `settleMs`. */
  timeoutMs?: number;
  settleMs?: number;
}

export interface RunResult {
  outcome: string;
  problem?: string;
  /** ArrayBuffer growth while the run's objects were alive, minus the framebuffers it allocated. */
  memory: number;
  framebufferBytes: number;
}

const MASKED = /^Handshake with .* failed: |^Failed to handle data from /;

/** Checks an error a run ended with: a VNCError, not a wrapped crash, not a timeout (a hang). */
export function judgeError(error: unknown): string | undefined {
  if (!(error instanceof VNCError)) return `ended with a non-VNCError: ${String(error)} (${(error as Error)?.constructor?.name})\n${(error as Error)?.stack ?? ''}`;
  if (MASKED.test(error.message)) {
    const cause = error.cause as Error | undefined;
    return `a non-VNCError escaped a parser (wrapped): ${error.message}\n${cause?.stack ?? ''}`;
  }
  if (error.code === 'ETIMEOUT') return `hang: ${error.message}`;
  return undefined;
}

/** Feeds one input to a fresh client, then closes from the server side; classifies the end. */
export async function runSession(options: RunOptions): Promise<RunResult> {
  installFramebufferAccounting();
  framebufferBytesAllocated = 0;
  const transport = options.tls ? new TlsCapableFakeTransport() : new FakeTransport();
  const before = process.memoryUsage().arrayBuffers;
  const starting = RFBClient.start(transport, {
    credentials: { password: options.password, username: options.username },
    encodings: options.encodings,
    allowPlainWithoutTls: options.allowPlainWithoutTls,
    timeoutMs: options.timeoutMs ?? 1000,
  });
  let settled: { client?: RFBClient; error?: unknown } | undefined;
  starting.then(
    (client) => (settled = { client }),
    (error: unknown) => (settled = { error }),
  );
  let escaped: unknown;
  for (const [index, segment] of options.segments.entries()) {
    if (index > 0 && transport instanceof TlsCapableFakeTransport) await transport.settled();
    try {
      transport.deliverChunks(cut(segment, options.chunking));
    } catch (error) {
      escaped = error;
    }
  }
  // Let the client react (update requests, a pending start()).
  await new Promise((resolve) => setImmediate(resolve));
  const framebufferBytes = framebufferBytesAllocated;
  const memory = process.memoryUsage().arrayBuffers - before - framebufferBytes;
  const openBeforeClose = settled?.client !== undefined && !settled.client.isClosed;
  if (escaped !== undefined) return { outcome: 'escaped', problem: `exception escaped the transport callback: ${String(escaped)}\n${(escaped as Error)?.stack ?? ''}`, memory, framebufferBytes };
  transport.serverClose();
  const deadline = Date.now() + (options.settleMs ?? 3000);
  while (!settled && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!settled) return { outcome: 'hang', problem: 'start() did not settle after the server closed', memory, framebufferBytes };
  let error = settled.error;
  if (settled.client) {
    if (!settled.client.isClosed) return { outcome: 'hang', problem: 'the client did not notice the server closing', memory, framebufferBytes };
    error = settled.client.closeReason;
  }
  const problem = judgeError(error);
  if (problem) return { outcome: 'problem', problem, memory, framebufferBytes };
  const name = (error as VNCError).name;
  return { outcome: openBeforeClose ? 'session (closed by server)' : settled.client ? `connected, then ${name}` : name, memory, framebufferBytes };
}

/** Tallies outcomes and catches stray exceptions for one property; `report()` prints the count. */
export class FuzzStats {
  tried = 0;
  maxMemory = 0;
  readonly outcomes = new Map<string, number>();
  readonly stray: unknown[] = [];
  private readonly began = Date.now();
  private readonly onStray = (error: unknown) => this.stray.push(error);

  constructor(readonly name: string) {
    process.on('uncaughtException', this.onStray);
    process.on('unhandledRejection', this.onStray);
  }

  record(result: RunResult): void {
    this.tried++;
    this.maxMemory = Math.max(this.maxMemory, result.memory);
    this.outcomes.set(result.outcome, (this.outcomes.get(result.outcome) ?? 0) + 1);
  }

  /** True when the run is within bounds (problems are returned by the property for shrinking). */
  check(result: RunResult): string | undefined {
    this.record(result);
    if (result.problem) return result.problem;
    if (result.memory > MEMORY_BOUND) return `held ${(result.memory / 2 ** 20).toFixed(1)} MiB of ArrayBuffers beyond the ${result.framebufferBytes} bytes of framebuffers it allocated (bound ${MEMORY_BOUND / 2 ** 20} MiB)`;
    if (this.stray.length > 0) return `uncaught: ${String(this.stray[0])}`;
    return undefined;
  }

  async finish(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    process.off('uncaughtException', this.onStray);
    process.off('unhandledRejection', this.onStray);
    console.log(
      `fuzz[${this.name}]: ${this.tried} inputs tried in ${Date.now() - this.began} ms; max ArrayBuffer growth ${(this.maxMemory / 2 ** 20).toFixed(1)} MiB; outcomes ${JSON.stringify(Object.fromEntries(this.outcomes))}`,
    );
  }
}
