/**
 * Property-based fuzzing (fast-check) of everything a server's bytes reach: the handshake (every
 * version, security types None, VNC Authentication and VeNCrypt with all its sub-types, over a
 * transport with and without TLS), the server-message parser and every decoder (Raw, CopyRect,
 * RRE, Hextile, zlib, ZRLE, Tight incl. JPEG rectangles), fed
 *   (a) recorded sessions of real servers (specs/data/recordings), mutated: bit flips, byte and
 *       u32 replacements (4 GB lengths among them), truncations, insertions, deletions, duplicated
 *       ranges; and
 *   (b) random bytes after a valid handshake (and rectangle header),
 * each in a random chunking. Property: every input ends in a completed/ongoing session or a
 * VNCError (closed event or rejected start) — never an escaping exception, a non-VNCError or a
 * hang — and the ArrayBuffer memory a run holds stays under 64 MiB beyond its framebuffer.
 * Targeted properties: a declared length above the documented limits is refused with
 * VNCProtocolError before its bytes arrive, without allocating it.
 *
 * Fixed seed (FUZZ_SEED to change it); `FUZZ_RUNS=1000 npm run fuzz` runs 10× the CI size.
 */
import { expect, test } from '@playwright/test';
import fc from 'fast-check';

import { VNCError, VNCProtocolError } from '../../src/errors.js';
import { RFBClient } from '../../src/rfb/client.js';
import { Limits } from '../../src/rfb/constants.js';
import { compressedLengthBound } from '../../src/rfb/encodings/inflate-stream.js';
import { imageLengthBound } from '../../src/rfb/encodings/tight.js';
import { maxInflatedLength } from '../../src/rfb/encodings/zrle.js';
import {
  FUZZ_SEED,
  FuzzStats,
  RECORDING_NAMES,
  applyMutations,
  chunkingArb,
  cut,
  describeMutations,
  judgeError,
  loadRecordingBytes,
  mutationArb,
  runSession,
  runs,
  scaledTimeout,
  type LoadedRecording,
} from '../support/fuzz.js';
import {
  FakeTransport,
  banner,
  challenge,
  concat,
  framebufferUpdate,
  padding,
  patternPixels,
  rawRect,
  rectHeader,
  s32,
  securityResult,
  securityTypes,
  securityTypes33,
  serverInit,
  u16,
  u32,
  u8,
  vencryptSubtypeStatus,
  vencryptSubtypes,
  vencryptVersion,
  vencryptVersionStatus,
} from '../support/rfb-bytes.js';

const TLS_SUBTYPES = new Set([257, 258, 259, 260, 261, 262, 263, 264]);
const VNC_AUTH_SUBTYPES = new Set([2, 258, 261]);

function params(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: runs(numRuns), endOnFailure: false, interruptAfterTimeLimit: Number(process.env.FUZZ_TIME_LIMIT_MS ?? 600_000) };
}

/** Runs a property; on failure fast-check reports the shrunk counterexample and the seed/path to replay it. */
async function check<T>(stats: FuzzStats, arb: fc.Arbitrary<T>, numRuns: number, body: (value: T) => Promise<string | undefined>): Promise<void> {
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (value) => {
        const problem = await body(value);
        if (problem) throw new Error(problem);
      }),
      params(numRuns) as fc.Parameters<[T]>,
    );
  } finally {
    await stats.finish();
  }
}

// ---------------------------------------------------------------------------------------------
// (a) Handshakes: every version and security type, built from the spec, then mutated

interface HandshakeCase {
  version: string;
  path: 'none' | 'vnc' | 'vencrypt' | 'refuse';
  extraTypes: number[];
  subtypes: number[];
  vencryptVersion: [number, number];
  ok: boolean;
  width: number;
  height: number;
  tls: boolean;
  password: boolean;
  username: boolean;
  allowPlain: boolean;
  mutations: ReturnType<typeof mutationArb> extends fc.Arbitrary<infer M> ? M[] : never;
  chunking: number[];
}

const handshakeArb: fc.Arbitrary<HandshakeCase> = fc.record({
  version: fc.constantFrom('3.3', '3.7', '3.8', '3.889', '4.1', '3.5', '3.2', 'RFB 003.00\n', 'XYZ'),
  path: fc.constantFrom('none' as const, 'vnc' as const, 'vencrypt' as const, 'refuse' as const),
  // Distractors: None, VNC Authentication and types this client does not implement (Ultra, TLS, SASL, xvp, SSPI).
  extraTypes: fc.subarray([1, 2, 7, 17, 18, 19, 20, 22]),
  subtypes: fc.shuffledSubarray([1, 2, 256, 257, 258, 259, 260, 261, 262, 263, 264, 9999], { minLength: 1 }),
  vencryptVersion: fc.constantFrom<[number, number]>([0, 2], [0, 2], [0, 1], [0, 3], [1, 0]),
  ok: fc.boolean(),
  width: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(0, 16384, 16385, 65535)),
  height: fc.oneof(fc.integer({ min: 1, max: 48 }), fc.constantFrom(0, 16385, 65535)),
  tls: fc.boolean(),
  password: fc.boolean(),
  username: fc.boolean(),
  allowPlain: fc.boolean(),
  mutations: fc.array(mutationArb(160), { maxLength: 3 }),
  chunking: chunkingArb,
});

/** The server's bytes for a case: the clear part and (after a TLS sub-type was accepted) the rest. */
function handshakeBytes(c: HandshakeCase): { clear: Uint8Array; inner: Uint8Array } {
  const v33 = c.version === '3.3';
  const v38 = !v33 && c.version !== '3.7';
  const result = (ok: boolean) => (ok ? securityResult(0) : v38 ? securityResult(1, 'no, thanks') : securityResult(1));
  const w = Math.min(c.width, 64);
  const h = Math.min(c.height, 48);
  const init = concat(serverInit({ width: c.width, height: c.height, name: 'fuzz ☃' }), framebufferUpdate([rawRect(0, 0, w, h, patternPixels(w, h))]));
  const kat = challenge('00112233445566778899aabbccddeeff');
  const clear: Uint8Array[] = [banner(c.version)];
  let inner: Uint8Array[] = [];
  const types = (first: number) => (v33 ? securityTypes33(first, 'refused') : securityTypes([first, ...c.extraTypes.filter((t) => t !== first)]));
  switch (c.path) {
    case 'refuse':
      clear.push(v33 ? securityTypes33(0, 'go away') : securityTypes([], 'go away'));
      break;
    case 'none':
      clear.push(types(1));
      if (v38) clear.push(result(c.ok));
      clear.push(init);
      break;
    case 'vnc':
      clear.push(types(2), kat, result(c.ok), init);
      break;
    case 'vencrypt': {
      clear.push(types(19), vencryptVersion(...c.vencryptVersion), vencryptVersionStatus(c.vencryptVersion[0] === 0 && c.vencryptVersion[1] === 2), vencryptSubtypes(c.subtypes));
      const chosen = c.subtypes[0];
      const innerParts = [VNC_AUTH_SUBTYPES.has(chosen) ? kat : new Uint8Array(0), result(c.ok), init];
      if (TLS_SUBTYPES.has(chosen)) {
        clear.push(vencryptSubtypeStatus(c.ok || c.tls));
        inner = innerParts;
      } else {
        clear.push(...innerParts);
      }
    }
  }
  return { clear: concat(...clear), inner: concat(...inner) };
}

test('handshakes (all versions, security types, VeNCrypt sub-types; mutated, chunked) end in a session or a VNCError', async () => {
  test.setTimeout(scaledTimeout(120_000));
  const stats = new FuzzStats('handshake');
  await check(stats, handshakeArb, 2000, async (c) => {
    const { clear, inner } = handshakeBytes(c);
    // Mutate the whole stream, then cut it back at the TLS boundary.
    const whole = applyMutations(concat(clear, inner), c.mutations);
    const boundary = Math.min(whole.length, clear.length);
    const result = await runSession({
      segments: [whole.subarray(0, boundary), whole.subarray(boundary)],
      chunking: c.chunking,
      tls: c.tls,
      password: c.password ? 'secret12' : undefined,
      username: c.username ? 'fuzzer' : undefined,
      allowPlainWithoutTls: c.allowPlain,
      timeoutMs: 1000,
    });
    const problem = stats.check(result);
    return problem && `${problem}\n  case: ${c.version} ${c.path} subtypes ${c.subtypes} mutations [${describeMutations(c.mutations)}]`;
  });
});

test('random bytes after each stage of a valid handshake end in a session or a VNCError', async () => {
  test.setTimeout(scaledTimeout(120_000));
  const stats = new FuzzStats('handshake-random-tail');
  const arb = fc.record({
    base: handshakeArb,
    keep: fc.nat(),
    tail: fc.uint8Array({ maxLength: 96 }),
  });
  await check(stats, arb, 1500, async ({ base, keep, tail }) => {
    const { clear, inner } = handshakeBytes({ ...base, mutations: [] });
    const whole = concat(clear, inner);
    const at = keep % (whole.length + 1);
    const input = concat(whole.subarray(0, at), tail);
    const boundary = Math.min(input.length, clear.length);
    const result = await runSession({
      segments: [input.subarray(0, boundary), input.subarray(boundary)],
      chunking: base.chunking,
      tls: base.tls,
      password: base.password ? 'secret12' : undefined,
      username: base.username ? 'fuzzer' : undefined,
      allowPlainWithoutTls: base.allowPlain,
    });
    return stats.check(result);
  });
});

// ---------------------------------------------------------------------------------------------
// (a) Mutated recordings of real sessions: parser and every decoder

let recordings: LoadedRecording[] = [];
/** Big recordings are cut to this many bytes (the rest holds more of the same rectangles). */
const RECORDING_PREFIX = Number(process.env.FUZZ_RECORDING_PREFIX ?? 96 * 1024);

test.beforeAll(() => {
  recordings = RECORDING_NAMES.map(loadRecordingBytes);
});

test('mutated recordings (every encoding, Tight JPEG too) in random chunkings end in a session or a VNCError', async () => {
  test.setTimeout(scaledTimeout(180_000));
  const stats = new FuzzStats('recordings');
  const perRecording = new Map<string, number>();
  const arb = fc.record({
    recording: fc.integer({ min: 0, max: RECORDING_NAMES.length - 1 }),
    start: fc.nat(),
    mutations: fc.array(mutationArb(4096), { minLength: 1, maxLength: 4 }),
    afterHandshake: fc.boolean(),
    chunking: chunkingArb,
  });
  await check(stats, arb, 2000, async ({ recording, start, mutations, afterHandshake, chunking }) => {
    const r = recordings[recording];
    // Fuzz a window of the recording: the handshake, then RECORDING_PREFIX bytes from a message-aligned start (the start of the stream, or the whole if short).
    const bytes = r.bytes.length <= RECORDING_PREFIX || start % 2 === 0 ? r.bytes.subarray(0, RECORDING_PREFIX) : r.bytes.subarray(0, RECORDING_PREFIX * 2);
    const input = applyMutations(bytes, mutations, afterHandshake ? r.handshakeEnd : 0);
    const result = await runSession({ segments: [input], chunking, encodings: r.info.encodings, timeoutMs: 2000 });
    perRecording.set(r.name, (perRecording.get(r.name) ?? 0) + 1);
    const problem = stats.check(result);
    return problem && `${problem}\n  recording ${r.name} mutations [${describeMutations(mutations)}] chunking [${chunking}]`;
  });
  console.log(`fuzz[recordings]: per recording ${JSON.stringify(Object.fromEntries(perRecording))}`);
});

/** The Tight JPEG rectangles of a recording, each cut out with its header (control 0x9_, compact length, JFIF data). */
function jpegRects(r: LoadedRecording): Uint8Array[] {
  const out: Uint8Array[] = [];
  const b = Buffer.from(r.bytes);
  for (let i = b.indexOf(Buffer.of(0xff, 0xd8, 0xff), r.handshakeEnd); i >= 0 && out.length < 8; i = b.indexOf(Buffer.of(0xff, 0xd8, 0xff), i + 3)) {
    for (let size = 1; size <= 3; size++) {
      const control = i - size - 1;
      if ((b[control] & 0xf0) !== 0x90) continue;
      let length = b[control + 1] & 0x7f;
      if (size > 1) length |= (b[control + 2] & 0x7f) << 7;
      if (size > 2) length |= b[control + 3] << 14;
      if (b.readInt32BE(control - 4) !== 7 || i + length > b.length) continue;
      out.push(new Uint8Array(b.subarray(control - 12, i + length)));
      break;
    }
  }
  return out;
}

test('mutated Tight JPEG rectangles from the recordings end in a session or a VNCError', async () => {
  test.setTimeout(scaledTimeout(120_000));
  const stats = new FuzzStats('tight-jpeg');
  const sources = recordings.filter((r) => r.name.includes('jpeg')).flatMap((r) => jpegRects(r).map((rect) => ({ r, rect })));
  expect(sources.length, 'JPEG rectangles found in the recordings').toBeGreaterThan(4);
  const arb = fc.record({
    source: fc.integer({ min: 0, max: sources.length - 1 }),
    mutations: fc.array(mutationArb(64), { minLength: 0, maxLength: 4 }),
    chunking: chunkingArb,
  });
  await check(stats, arb, 600, async ({ source, mutations, chunking }) => {
    const { r, rect } = sources[source];
    const handshake = r.bytes.subarray(0, r.handshakeEnd);
    const update = framebufferUpdate([rect]);
    const input = concat(handshake, applyMutations(update, mutations, 4));
    const result = await runSession({ segments: [input], chunking, encodings: r.info.encodings, timeoutMs: 2000 });
    const problem = stats.check(result);
    return problem && `${problem}\n  ${r.name} JPEG rect mutations [${describeMutations(mutations)}]`;
  });
});

// ---------------------------------------------------------------------------------------------
// (b) Random bytes after a valid handshake (and first frame), with or without a rectangle header

const FB_W = 64;
const FB_H = 48;
const SESSION_PREFIX = concat(banner('3.8'), securityTypes([1]), securityResult(0), serverInit({ width: FB_W, height: FB_H, name: 'fuzz' }), framebufferUpdate([rawRect(0, 0, FB_W, FB_H, patternPixels(FB_W, FB_H))]));
const ENCODINGS = { raw: 0, copyrect: 1, rre: 2, hextile: 5, zlib: 6, tight: 7, zrle: 16, cursor: -239, desktopSize: -223, extendedDesktopSize: -308, lastRect: -224, fence: -312 } as const;

test('random bytes after a valid handshake, raw or behind a rectangle header of each encoding, end in a session or a VNCError', async () => {
  test.setTimeout(scaledTimeout(120_000));
  const stats = new FuzzStats('random-after-handshake');
  const arb = fc.record({
    header: fc.option(
      fc.record({
        encoding: fc.constantFrom(...Object.values(ENCODINGS)),
        count: fc.constantFrom(1, 2, 3, 0xffff),
        x: fc.integer({ min: 0, max: FB_W }),
        y: fc.integer({ min: 0, max: FB_H }),
        width: fc.oneof(fc.integer({ min: 0, max: FB_W }), fc.constantFrom(65535, 16385)),
        height: fc.oneof(fc.integer({ min: 0, max: FB_H }), fc.constantFrom(65535, 16385)),
      }),
      { freq: 5 },
    ),
    lead: fc.option(fc.constantFrom(...[0x00, 0x10, 0x40, 0x50, 0x60, 0x80, 0x90, 0xa0, 0xf0].map((b) => Uint8Array.of(b)))),
    body: fc.uint8Array({ maxLength: 2048 }),
    chunking: chunkingArb,
  });
  await check(stats, arb, 3000, async ({ header, lead, body, chunking }) => {
    const head = header ? concat(u8(0), padding(1), u16(header.count), rectHeader(header.x, header.y, header.width, header.height, header.encoding)) : new Uint8Array(0);
    const input = concat(SESSION_PREFIX, head, lead ?? new Uint8Array(0), body);
    const result = await runSession({ segments: [input], chunking, timeoutMs: 1000 });
    const problem = stats.check(result);
    return problem && `${problem}\n  header ${JSON.stringify(header)} lead ${lead?.[0]} body ${Buffer.from(body.subarray(0, 64)).toString('hex')}…`;
  });
});

// ---------------------------------------------------------------------------------------------
// Targeted: lengths above the documented limits are refused before their bytes arrive

interface Declared {
  what: string;
  /** Bytes up to and including the declared length (nothing of what it announces). */
  bytes: Uint8Array;
  /** Whether it is refused during the handshake (start rejects) rather than after it (closed). */
  handshake: boolean;
}

const u32Above = (limit: number) => fc.integer({ min: limit + 1, max: 0xffffffff });
const side = fc.integer({ min: Limits.maxFramebufferSide + 1, max: 65535 });
const fbRect = fc.record({ x: fc.integer({ min: 0, max: 8 }), y: fc.integer({ min: 0, max: 8 }), width: fc.integer({ min: 1, max: FB_W - 8 }), height: fc.integer({ min: 1, max: FB_H - 8 }) });
const fbu = (rect: Uint8Array) => concat(u8(0), padding(1), u16(1), rect);

const declaredArb: fc.Arbitrary<Declared> = fc.oneof(
  // ServerCutText: plain text above 16 MiB, up to 2 GB; Extended Clipboard (negative) likewise.
  fc.integer({ min: Limits.maxCutTextBytes + 1, max: 0x7fffffff }).map((n) => ({ what: `ServerCutText ${n}`, bytes: concat(u8(3), padding(3), u32(n)), handshake: false })),
  fc.integer({ min: Limits.maxCutTextBytes + 1, max: 0x80000000 }).map((n) => ({ what: `Extended ServerCutText -${n}`, bytes: concat(u8(3), padding(3), s32(-n)), handshake: false })),
  fc.integer({ min: Limits.maxFencePayloadBytes + 1, max: 255 }).map((n) => ({ what: `ServerFence ${n}`, bytes: concat(u8(248), padding(3), u32(0x80000000), u8(n)), handshake: false })),
  fc.tuple(side, fc.integer({ min: 1, max: 65535 }), fc.boolean()).map(([a, b, swap]) => {
    const [w, h] = swap ? [b, a] : [a, b];
    return { what: `DesktopSize ${w}x${h}`, bytes: fbu(rectHeader(0, 0, w, h, ENCODINGS.desktopSize)), handshake: false };
  }),
  fc.tuple(side, side).map(([w, h]) => ({ what: `ExtendedDesktopSize ${w}x${h}`, bytes: fbu(concat(rectHeader(0, 0, w, h, ENCODINGS.extendedDesktopSize), u8(1), padding(3), u32(0), u16(0), u16(0), u16(w), u16(h), u32(0))), handshake: false })),
  fc.tuple(fc.integer({ min: Limits.maxCursorSide + 1, max: 65535 }), fc.integer({ min: 1, max: 65535 })).map(([w, h]) => ({ what: `Cursor ${w}x${h}`, bytes: fbu(rectHeader(0, 0, w, h, ENCODINGS.cursor)), handshake: false })),
  fc.tuple(fc.constantFrom(0, 2, 5, 6, 7, 16), fc.constantFrom(65535, FB_W + 1), fc.constantFrom(65535, FB_H + 1)).map(([e, w, h]) => ({ what: `encoding ${e} rect ${w}x${h} (outside the framebuffer)`, bytes: fbu(rectHeader(0, 0, w, h, e)), handshake: false })),
  fbRect.chain((r) => u32Above(compressedLengthBound(r.width * r.height * 4)).map((n) => ({ what: `zlib ${r.width}x${r.height} length ${n}`, bytes: fbu(concat(rectHeader(r.x, r.y, r.width, r.height, ENCODINGS.zlib), u32(n))), handshake: false }))),
  fbRect.chain((r) => u32Above(compressedLengthBound(maxInflatedLength(r.width, r.height))).map((n) => ({ what: `ZRLE ${r.width}x${r.height} length ${n}`, bytes: fbu(concat(rectHeader(r.x, r.y, r.width, r.height, ENCODINGS.zrle), u32(n))), handshake: false }))),
  fbRect.chain((r) =>
    fc.integer({ min: imageLengthBound(r.width * r.height) + 1, max: 0x3fffff }).map((n) => ({
      what: `Tight JPEG ${r.width}x${r.height} length ${n}`,
      bytes: fbu(concat(rectHeader(r.x, r.y, r.width, r.height, ENCODINGS.tight), u8(0x90), Uint8Array.of((n & 0x7f) | 0x80, ((n >> 7) & 0x7f) | 0x80, n >> 14))),
      handshake: false,
    })),
  ),
  // Basic compression, copy filter: zlib data of at least 12 raw bytes (smaller is sent uncompressed) can grow to compressedLengthBound.
  fbRect.filter((r) => r.width * r.height >= 4).chain((r) =>
    fc.integer({ min: compressedLengthBound(r.width * r.height * 3) + 1, max: 0x3fffff }).map((n) => ({
      what: `Tight basic (copy filter) ${r.width}x${r.height} zlib length ${n}`,
      bytes: fbu(concat(rectHeader(r.x, r.y, r.width, r.height, ENCODINGS.tight), u8(0x00), Uint8Array.of((n & 0x7f) | 0x80, ((n >> 7) & 0x7f) | 0x80, n >> 14))),
      handshake: false,
    })),
  ),
  fbRect.chain((r) => u32Above(r.width * r.height).map((n) => ({ what: `RRE ${r.width}x${r.height} ${n} subrects`, bytes: fbu(concat(rectHeader(r.x, r.y, r.width, r.height, ENCODINGS.rre), u32(n))), handshake: false }))),
  // Handshake: desktop name, reason strings, desktop size.
  u32Above(Limits.maxDesktopNameBytes).map((n) => ({ what: `desktop name ${n}`, bytes: concat(banner('3.8'), securityTypes([1]), securityResult(0), serverInit({ width: 8, height: 8, name: '', nameLength: n })), handshake: true })),
  u32Above(Limits.maxReasonBytes).map((n) => ({ what: `3.8 refusal reason ${n}`, bytes: concat(banner('3.8'), u8(0), u32(n)), handshake: true })),
  u32Above(Limits.maxReasonBytes).map((n) => ({ what: `3.3 refusal reason ${n}`, bytes: concat(banner('3.3'), u32(0), u32(n)), handshake: true })),
  u32Above(Limits.maxReasonBytes).map((n) => ({ what: `3.8 SecurityResult reason ${n}`, bytes: concat(banner('3.8'), securityTypes([1]), u32(1), u32(n)), handshake: true })),
  fc.tuple(side, fc.integer({ min: 1, max: 65535 }), fc.boolean()).map(([a, b, swap]) => {
    const [w, h] = swap ? [b, a] : [a, b];
    return { what: `ServerInit ${w}x${h}`, bytes: concat(banner('3.8'), securityTypes([1]), securityResult(0), serverInit({ width: w, height: h, name: 'x' })), handshake: true };
  }),
);

test('a declared length or size above the documented limits is refused with VNCProtocolError before its bytes arrive, without allocating it', async () => {
  test.setTimeout(scaledTimeout(120_000));
  const stats = new FuzzStats('declared-lengths');
  const arb = fc.record({ declared: declaredArb, chunking: chunkingArb });
  await check(stats, arb, 1500, async ({ declared, chunking }) => {
    const transport = new FakeTransport();
    const before = process.memoryUsage().arrayBuffers;
    const starting = RFBClient.start(transport, { credentials: {}, timeoutMs: 1000 });
    let settled: { client?: RFBClient; error?: unknown } | undefined;
    starting.then(
      (client) => (settled = { client }),
      (error: unknown) => (settled = { error }),
    );
    if (!declared.handshake) {
      transport.deliver(SESSION_PREFIX);
      await new Promise((resolve) => setImmediate(resolve));
      if (!settled?.client || settled.client.isClosed) return `the valid session did not start: ${String(settled?.error ?? settled?.client?.closeReason)}`;
    }
    transport.deliverChunks(cut(declared.bytes, chunking));
    await new Promise((resolve) => setImmediate(resolve));
    const held = process.memoryUsage().arrayBuffers - before - (settled?.client?.framebuffer.data.length ?? 0);
    stats.record({ outcome: declared.what.split(' ')[0], memory: held, framebufferBytes: 0 });
    // Refused now, with only the header delivered and the connection still open from the server's side.
    const error = declared.handshake ? settled?.error : settled?.client?.closeReason;
    if (transport.closedWith === undefined && !transport.destroyed) {
      transport.serverClose();
      await new Promise((resolve) => setImmediate(resolve));
      return `${declared.what}: not refused before its bytes arrived (still waiting for them)`;
    }
    if (!(error instanceof VNCProtocolError)) return `${declared.what}: ended with ${String(error)} (${(error as Error)?.constructor?.name}), not a VNCProtocolError`;
    const wrapped = judgeError(error);
    if (wrapped) return `${declared.what}: ${wrapped}`;
    if (held > 16 * 1024 * 1024) return `${declared.what}: held ${(held / 2 ** 20).toFixed(1)} MiB after refusing`;
    return undefined;
  });
  expect(stats.stray.map(String)).toEqual([]);
});

test('the fuzz harness itself: unmutated recordings and valid handshakes run clean', async () => {
  for (const r of recordings.slice(0, 6)) {
    const result = await runSession({ segments: [r.bytes.subarray(0, RECORDING_PREFIX)], chunking: [7, 300, 4096], encodings: r.info.encodings, timeoutMs: 2000 });
    expect(result.problem, r.name).toBeUndefined();
    expect(result.outcome, r.name).toBe('session (closed by server)');
  }
  const ok = handshakeBytes({ version: '3.8', path: 'vencrypt', extraTypes: [], subtypes: [258], vencryptVersion: [0, 2], ok: true, width: 32, height: 16, tls: true, password: true, username: false, allowPlain: false, mutations: [], chunking: [] });
  const result = await runSession({ segments: [ok.clear, ok.inner], chunking: [3], tls: true, password: 'secret12' });
  expect(result.outcome).toBe('session (closed by server)');
  // The judge flags what the property forbids: non-VNCErrors, wrapped crashes and timeouts.
  expect(judgeError(new TypeError('x'))).toContain('non-VNCError');
  expect(judgeError(new VNCProtocolError('Failed to handle data from fake: RangeError: offset out of range'))).toContain('wrapped');
  expect(judgeError(new VNCError('ETIMEOUT', 'Timed out'))).toContain('hang');
  expect(judgeError(new VNCProtocolError('bad rectangle'))).toBeUndefined();
});
