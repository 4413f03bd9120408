/**
 * Full-frame capture per encoding on a busy 1920×1080 TigerVNC desktop, side by side with the C
 * reference client (vncsnapshot) on the same server in the same run; bytes on the wire per frame;
 * and decoder throughput from the streams captured here and from the stored recordings, with the
 * speed of plain inflate on the same zlib data for reference. Run with `npm run bench`; prints one
 * table (and writes it to reports/bench.md) and asserts nothing about time.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { test } from '@playwright/test';

import { TCPVNCConnection, VNCAgentBridge, type VNCConnection } from '../../src/index.js';
import { Encoding } from '../../src/rfb/constants.js';
import { InflateStream } from '../../src/rfb/encodings/inflate-stream.js';
import type { Quality } from '../../src/rfb/quality.js';
import { run } from '../support/processes.js';
import { handshakeLength } from '../support/recorder.js';
import { startXvnc, type XvncServer } from '../support/xvnc.js';
import { busyDesktop } from './busy-desktop.js';
import { loadStream, MeteredConnection, median, throughput, type Throughput } from './replay.js';

/** Runs of each live case (connect, vncsnapshot, refresh) and passes over each captured stream. */
const RUNS = 9;
const REPLAY_PASSES = 9;
const RECORDING_PASSES = 15;
/** Frames of each live stream kept for the offline decoder replay (first frame + refreshes). */
const FRAMES_KEPT = 3;
/** strace runs of vncsnapshot for the time after its last read. */
const TAIL_RUNS = 5;

interface Column {
  label: string;
  encodings: string[];
  quality?: Quality;
  /** vncsnapshot's `-encodings` value, where it can capture with that encoding. */
  snapshot?: string;
  /** The encoding number whose decoder the throughput rows time. */
  number: number;
  /** Stored recordings (specs/data/recordings) of this encoding. */
  recordings: string[];
}

const COLUMNS: Column[] = [
  { label: 'Raw', encodings: ['raw'], snapshot: 'raw', number: Encoding.Raw, recordings: [] },
  { label: 'Hextile', encodings: ['hextile'], snapshot: 'hextile', number: Encoding.Hextile, recordings: ['xvnc-hextile', 'qemu-hextile'] },
  { label: 'ZRLE', encodings: ['zrle'], snapshot: 'zrle', number: Encoding.ZRLE, recordings: ['xvnc-zrle', 'x11vnc-zrle', 'qemu-zrle'] },
  { label: 'Tight lossless', encodings: ['tight'], number: Encoding.Tight, recordings: ['xvnc-tight', 'x11vnc-tight', 'qemu-tight', 'qemu-tight-gradient'] },
  { label: 'Tight q5 (JPEG)', encodings: ['tight'], quality: 5, number: Encoding.Tight, recordings: ['xvnc-tight-jpeg', 'qemu-tight-jpeg'] },
];

// ---------------------------------------------------------------------------------------------
// Small helpers

async function timeIt(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

const ms = (value: number | undefined, digits = 1): string => (value === undefined ? '–' : `${value.toFixed(digits)} ms`);
const rate = (value: number | undefined): string => (value === undefined ? '–' : `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} MB/s`);
const ratio = (value: number | undefined): string => (value === undefined ? '–' : `${value.toFixed(2)}×`);

/** CPU time a process has used so far, in ms (all its threads, from /proc/PID/task/TID/schedstat). */
function processCpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'latin1').split(' ')[0]);
  return ns / 1e6;
}

/** Our own process's CPU time so far (user + system, all threads), in ms. */
function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

// ---------------------------------------------------------------------------------------------
// The desktop and the two clients

async function vncsnapshot(port: number, encoding: string, out: string): Promise<void> {
  // -allowblank: by default it waits for a frame that is not all black, forever.
  const result = await run('vncsnapshot', ['-quiet', '-allowblank', '-encodings', encoding, `127.0.0.1::${port}`, out], { timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`vncsnapshot -encodings ${encoding} failed (${result.timedOut ? 'timed out' : `exit ${result.code}`}): ${result.stderr}`);
}

let straceWorks: boolean | undefined;

/**
 * How long vncsnapshot runs after the last byte it reads from the server (JPEG encoding of the
 * frame, writing the file, exit), from `strace -ttt` of only read and exit_group (seccomp-bpf:
 * other syscalls run untraced), so tracing does not slow that part. Undefined without strace.
 */
async function snapshotTail(port: number, encoding: string, out: string, dir: string): Promise<number | undefined> {
  straceWorks ??= (await run('strace', ['-V']).catch(() => undefined))?.code === 0;
  if (!straceWorks) return undefined;
  const log = join(dir, 'strace.txt');
  const args = ['-f', '--seccomp-bpf', '-ttt', '-e', 'trace=read,exit_group', '-o', log];
  const result = await run('strace', [...args, 'vncsnapshot', '-quiet', '-allowblank', '-encodings', encoding, `127.0.0.1::${port}`, out], { timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`strace vncsnapshot failed (${result.timedOut ? 'timed out' : `exit ${result.code}`}): ${result.stderr}`);
  // The socket is the descriptor the RFB banner arrives on; its last read ends the transfer.
  let socket: string | undefined;
  let last: number | undefined;
  let exit: number | undefined;
  for (const line of (await readFile(log, 'latin1')).split('\n')) {
    const m = /^(\d+)\s+(\d+\.\d+) (read|exit_group)\((\d+)/.exec(line);
    if (!m) continue;
    const [, pid, time, call, fd] = m;
    if (call === 'read' && socket === undefined && line.includes('"RFB 00')) socket = `${pid}:${fd}`;
    if (call === 'read' && `${pid}:${fd}` === socket) last = Number(time);
    if (call === 'exit_group' && socket?.startsWith(`${pid}:`)) exit = Number(time);
  }
  if (last === undefined || exit === undefined) throw new Error(`could not find vncsnapshot's last read and exit in:\n${(await readFile(log, 'latin1')).slice(-2000)}`);
  return (exit - last) * 1000;
}

function bridge(server: XvncServer, column: Column, connection?: VNCConnection): VNCAgentBridge {
  const options = { encodings: column.encodings, quality: column.quality, timeoutMs: 20_000 };
  return connection ? new VNCAgentBridge({ connection, ...options }) : new VNCAgentBridge({ host: server.host, port: server.port, ...options });
}

/** Connect + handshake + first full frame, ours and vncsnapshot's, alternating (after one warm-up each). */
async function connectTimes(server: XvncServer, column: Column, out: string, dir: string, runs: number): Promise<Connects> {
  const ours: number[] = [];
  const reference: number[] = [];
  const oursServer: number[] = [];
  const referenceServer: number[] = [];
  const once = async (keep: boolean) => {
    let vnc: VNCAgentBridge | undefined;
    let cpu = processCpuMs(server.pid);
    const elapsed = await timeIt(async () => (vnc = await bridge(server, column).connect()));
    if (keep) oursServer.push(processCpuMs(server.pid) - cpu);
    await vnc!.disconnect();
    if (keep) ours.push(elapsed);
    if (column.snapshot) {
      cpu = processCpuMs(server.pid);
      const snap = await timeIt(() => vncsnapshot(server.port, column.snapshot!, out));
      if (keep) referenceServer.push(processCpuMs(server.pid) - cpu);
      if (keep) reference.push(snap);
    }
  };
  await once(false);
  for (let i = 0; i < runs; i++) await once(true);
  if (!column.snapshot) return { ours: median(ours), oursServer: median(oursServer) };
  const tails: number[] = [];
  for (let i = 0; i < TAIL_RUNS; i++) {
    const tail = await snapshotTail(server.port, column.snapshot, out, dir);
    if (tail !== undefined) tails.push(tail);
  }
  return {
    ours: median(ours),
    oursServer: median(oursServer),
    reference: median(reference),
    referenceServer: median(referenceServer),
    tail: tails.length > 0 ? median(tails) : undefined,
  };
}

// ---------------------------------------------------------------------------------------------

interface Connects {
  /** Wall time to the first full frame, and Xvnc's CPU time meanwhile. */
  ours: number;
  oursServer: number;
  /** vncsnapshot's whole process, Xvnc's CPU time meanwhile, and the part after its last read. */
  reference?: number;
  referenceServer?: number;
  tail?: number;
}

interface Figures {
  connect: Connects;
  fixed: Connects;
  refreshMs: number;
  refreshServerMs: number;
  refreshClientMs: number;
  refreshBytes: number;
  live?: Throughput;
  recorded?: Throughput;
}

test.describe.configure({ timeout: 900_000 });

test('full-frame capture per encoding on a busy 1920x1080 desktop, vs vncsnapshot', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-encodings-'));
  const out = join(dir, 'snap.jpg');
  const server = await startXvnc({ geometry: '1920x1080' });
  const tiny = await startXvnc({ geometry: '64x64' });
  const figures = new Map<Column, Figures>();
  let inflateMode = '';
  try {
    const stopDesktop = await busyDesktop(server, dir);
    try {
      for (const column of COLUMNS) {
        const connect = await connectTimes(server, column, out, dir, RUNS);
        const fixed = await connectTimes(tiny, column, out, dir, RUNS);

        // Full-frame refreshes on one live connection, counting the bytes each one brings.
        const metered = new MeteredConnection(new TCPVNCConnection({ host: server.host, port: server.port }));
        metered.keeping = true;
        const vnc = await bridge(server, column, metered).connect();
        const refreshMs: number[] = [];
        const refreshBytes: number[] = [];
        const refreshServer: number[] = [];
        const refreshClient: number[] = [];
        try {
          await vnc.screen.refresh(); // warm-up (and a second frame for the replay)
          for (let i = 0; i < RUNS; i++) {
            if (i === FRAMES_KEPT - 2) metered.keeping = false;
            const before = metered.received;
            const serverCpu = processCpuMs(server.pid);
            const clientCpu = ownCpuMs();
            refreshMs.push(await timeIt(() => vnc.screen.refresh({ timeoutMs: 20_000 })));
            refreshClient.push(ownCpuMs() - clientCpu);
            refreshServer.push(processCpuMs(server.pid) - serverCpu);
            refreshBytes.push(metered.received - before);
          }
        } finally {
          await vnc.disconnect();
        }

        // The frames just received, decoded again offline: the client's own share of a refresh.
        const bytes = Buffer.concat(metered.kept);
        const { length, width, height } = handshakeLength(bytes);
        const live = throughput([{ messages: bytes.subarray(length), width, height, encodings: column.encodings }], column.number, REPLAY_PASSES);
        const recorded = column.recordings.length > 0 ? throughput(await Promise.all(column.recordings.map(loadStream)), column.number, RECORDING_PASSES) : undefined;
        figures.set(column, { connect, fixed, refreshMs: median(refreshMs), refreshServerMs: median(refreshServer), refreshClientMs: median(refreshClient), refreshBytes: median(refreshBytes), live, recorded });
      }
      inflateMode = new InflateStream('probe').mode;
    } finally {
      await stopDesktop();
    }
  } finally {
    await Promise.all([server.stop(), tiny.stop()]);
    await rm(dir, { recursive: true, force: true });
  }

  // ---- one table
  /** vncsnapshot up to its last read: the whole process less the JPEG encoding and exit after it. */
  const received = (c: Connects) => (c.reference !== undefined && c.tail !== undefined ? c.reference - c.tail : undefined);
  const rows: Array<[string, (f: Figures) => string]> = [
    ['connect + handshake + first 1080p frame: ours', (f) => ms(f.connect.ours)],
    ['the same, vncsnapshot (C): whole process', (f) => ms(f.connect.reference)],
    ['**ratio ours / vncsnapshot** (target ≤ 1.5×)', (f) => (f.connect.reference ? `**${ratio(f.connect.ours / f.connect.reference)}**` : '–')],
    ['vncsnapshot after its last byte (JPEG q100 encoding, exit)', (f) => ms(f.connect.tail)],
    ['ratio ours / vncsnapshot up to its last byte', (f) => ratio(received(f.connect) === undefined ? undefined : f.connect.ours / received(f.connect)!)],
    ['fixed cost (same, 64×64 Xvnc): ours / vncsnapshot to last byte', (f) => `${f.fixed.ours.toFixed(1)} / ${received(f.fixed)?.toFixed(1) ?? '–'} ms`],
    ['ratio net of fixed costs and JPEG (1080p − 64×64)', (f) => {
      const theirs = received(f.connect);
      const theirsFixed = received(f.fixed);
      return theirs === undefined || theirsFixed === undefined ? '–' : ratio((f.connect.ours - f.fixed.ours) / (theirs - theirsFixed));
    }],
    ['Xvnc CPU for that first frame: ours / vncsnapshot', (f) => `${f.connect.oursServer.toFixed(1)} / ${f.connect.referenceServer?.toFixed(1) ?? '–'} ms`],
    ['full-frame refresh on a live connection: ours', (f) => ms(f.refreshMs)],
    ['  Xvnc CPU per refresh (encoding the frame)', (f) => ms(f.refreshServerMs)],
    ['  our CPU per refresh (whole process)', (f) => ms(f.refreshClientMs)],
    ['  of which decoding (same frames replayed offline)', (f) => ms(f.live?.msPerFrame)],
    ['bytes on the wire per full frame', (f) => `${(f.refreshBytes / 1e6).toFixed(2)} MB`],
    ['  vs Raw (8.29 MB)', (f) => `${((1920 * 1080 * 4) / f.refreshBytes).toFixed(1)}× smaller`],
    ['decoder throughput, 1080p frames captured above', (f) => rate(f.live?.decoderMBs)],
    ['  inflate alone on the same zlib data', (f) => rate(f.live?.inflateMBs)],
    ['  share of decoder time inside inflate', (f) => (f.live?.inflateShare === undefined ? '–' : `${(f.live.inflateShare * 100).toFixed(0)} %`)],
    ['decoder throughput, stored recordings', (f) => rate(f.recorded?.decoderMBs)],
    ['  inflate alone on the same zlib data', (f) => rate(f.recorded?.inflateMBs)],
  ];
  const header = ['case', ...COLUMNS.map((column) => column.label)];
  const body = rows.map(([name, cell]) => [name, ...COLUMNS.map((column) => cell(figures.get(column)!))]);
  const widths = header.map((_, i) => Math.max(header[i].length, ...body.map((line) => line[i].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  const table = [line(header), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)];
  const notes = [
    `Busy 1920×1080 TigerVNC Xvnc (depth 24, security None, loopback): five xterms full of text, a 640×540 photo-like picture (xwud), xclock ticking every second. 2 CPUs shared by Xvnc, the client and vncsnapshot.`,
    `Medians of ${RUNS} runs after one warm-up, ours and vncsnapshot alternating; the strace rows are medians of ${TAIL_RUNS} runs; decoder figures are medians of ${REPLAY_PASSES} passes over the live streams (first frame + one refresh, kept from the refresh connection) and ${RECORDING_PASSES} passes over the recordings.`,
    `"Ours" is in-process: new VNCAgentBridge({ encodings: [name], quality }).connect() until the first full frame is in the framebuffer (disconnect not timed). vncsnapshot is a whole process: spawn, connect, frame, then a quality-100 JPEG of the whole screen and exit. The "after its last byte" row times that last part (strace); "up to its last byte" leaves it out; the 64×64 row is each client's cost of a connection with (almost) no pixels; the net ratio leaves out both. vncsnapshot cannot capture with Tight (it hangs on LastRect): no reference there.`,
    `CPU rows: Xvnc from /proc/PID/task/TID/schedstat, ours from process.cpuUsage() (all threads: parsing, decoding, refresh bookkeeping, GC). Wall time of a refresh ≈ Xvnc CPU + our CPU where they do not overlap.`,
    `Decoder MB/s: megabytes of RGBA output (4 bytes a pixel) per second of time inside that encoding's decoder. "Inflate alone": the same pixels at the speed of one zlib.inflateSync over each zlib stream's whole data (no per-rectangle calls), the bound for a decoder built on zlib; for Tight q5 most pixels are JPEG (or fills), so that bound says little there (per-kind Tight figures: tight.bench.ts). InflateStream mode: ${inflateMode}.`,
    `Recordings (specs/data/recordings, 640×480 – 720×400, mostly small rectangles, so per-rectangle costs weigh more): ${COLUMNS.filter((c) => c.recordings.length > 0).map((c) => `${c.label}: ${c.recordings.join(', ')}`).join('; ')}. None is Raw.`,
    `Bytes on the wire: what the transport received during one refresh, incl. the odd xclock update. Tight and ZRLE keep their zlib streams across frames, so a refresh of an unchanged screen compresses a little better than a first frame.`,
  ];
  const text = `${table.join('\n')}\n\n${notes.map((note) => `- ${note}`).join('\n')}\n`;
  console.log(`\n${text}`);
  const reports = fileURLToPath(new URL('../../reports/', import.meta.url));
  mkdirSync(reports, { recursive: true });
  writeFileSync(join(reports, 'bench.md'), `# Benchmarks: full-frame capture per encoding\n\n${new Date().toISOString()}, Node ${process.version}\n\n${text}`);
});
