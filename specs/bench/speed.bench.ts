/**
 * Where users wait (issue 13), each row next to the C client vncsnapshot on the same busy 1080p
 * TigerVNC screen in the same run: connect + first frame in-process, screen.screenshot(),
 * `vnc-agent screenshot FILE` as a whole process, `vnc-agent --help` against bare Node, ZRLE and
 * Tight decoders against inflate alone (live 1080p frames and the stored recordings), and the RSS
 * of one 1080p connection. Medians; prints figures and ratios, asserts nothing about time.
 * Set VNC_BENCH_KEEP=DIR to keep the live ZRLE/Tight streams there (for offline decoder work).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { test } from '@playwright/test';

import { decodePng, TCPVNCConnection, VNCAgentBridge } from '../../src/index.js';
import { Encoding } from '../../src/rfb/constants.js';
import { run } from '../support/processes.js';
import { handshakeLength } from '../support/recorder.js';
import { startXvnc } from '../support/xvnc.js';
import { busyDesktop } from './busy-desktop.js';
import { DECODER_CASES, loadStream, MeteredConnection, median, throughput, type Throughput } from './replay.js';

const RUNS = 9;
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PHASES = fileURLToPath(new URL('./cli-phases.mjs', import.meta.url));

async function timeIt(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

async function checked(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  const result = await run(command, args, { timeoutMs: 30_000, env });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.timedOut ? 'timed out' : `exit ${result.code}`}): ${result.stderr}`);
}

/** Medians of `runs` alternating runs of two actions (after one warm-up each). */
async function sideBySide(runs: number, ours: () => Promise<unknown>, theirs: () => Promise<unknown>): Promise<[number, number]> {
  const a: number[] = [];
  const b: number[] = [];
  await ours();
  await theirs();
  for (let i = 0; i < runs; i++) {
    a.push(await timeIt(ours));
    b.push(await timeIt(theirs));
  }
  return [median(a), median(b)];
}

/** The CLI's screenshot run in phases, marked by cli-phases.mjs preloaded into the process. */
async function cliPhases(port: number, file: string, env: NodeJS.ProcessEnv): Promise<string> {
  const phases: Record<string, number[]> = {};
  for (let i = 0; i < RUNS; i++) {
    const result = await run(process.execPath, ['--import', PHASES, CLI, '--port', String(port), 'screenshot', file], { timeoutMs: 30_000, env });
    if (result.code !== 0) throw new Error(`vnc-agent screenshot failed: ${result.stderr}`);
    const marks = JSON.parse(result.stderr.trim().split('\n').pop()!) as Record<'started' | 'connecting' | 'encoding' | 'writing' | 'exiting', number>;
    const add = (name: string, value: number) => (phases[name] ??= []).push(value);
    add('Node itself until our code runs', marks.started);
    add('loading our code, reading the command line, opening the connection', marks.connecting - marks.started);
    add('connect, handshake, first full frame decoded (and the PNG\'s first rows filtered)', marks.encoding - marks.connecting);
    add('the rest of the PNG', marks.writing - marks.encoding);
    add('writing the file, disconnecting, exiting', marks.exiting - marks.writing);
  }
  return Object.entries(phases)
    .map(([name, values]) => `${name} ${median(values).toFixed(0)} ms`)
    .join('; ');
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const ratio = (value: number) => `${value.toFixed(2)}×`;

test.describe.configure({ timeout: 900_000 });

test('where users wait: ours and vncsnapshot side by side on a busy 1080p desktop', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-speed-'));
  const snapshotFile = join(dir, 'snap.jpg');
  const server = await startXvnc({ geometry: '1920x1080' });
  const rows: string[][] = [];
  const add = (what: string, ours: string, reference: string, goal: string, r: string) => rows.push([what, ours, reference, r, goal]);
  const notes: string[] = [];
  const live = new Map<string, Throughput | undefined>();
  try {
    const stopDesktop = await busyDesktop(server, dir);
    try {
      const snapshot = () => checked('vncsnapshot', ['-quiet', '-allowblank', '-encodings', 'zrle', `127.0.0.1::${server.port}`, snapshotFile]);

      // 1. In-process connect + handshake + first full frame (ZRLE, as vncsnapshot), and with the default encodings.
      const connectZrle = () => new VNCAgentBridge({ host: server.host, port: server.port, encodings: ['zrle'], timeoutMs: 20_000 }).connect().then((vnc) => vnc.disconnect());
      const [oursConnect, snapshotMs] = await sideBySide(RUNS, connectZrle, snapshot);
      add('in-process connect + handshake + first frame (ZRLE), vs vncsnapshot -encodings zrle', ms(oursConnect), ms(snapshotMs), '≤ 0.6×', ratio(oursConnect / snapshotMs));
      const connectDefault = () => new VNCAgentBridge({ host: server.host, port: server.port, timeoutMs: 20_000 }).connect().then((vnc) => vnc.disconnect());
      const [oursDefault, snapshotAgain] = await sideBySide(RUNS, connectDefault, snapshot);
      add('  the same with the default encodings (Tight first)', ms(oursDefault), ms(snapshotAgain), '', ratio(oursDefault / snapshotAgain));

      // 2. screen.screenshot(): PNG bytes of the current frame, on one open connection.
      const vnc = await new VNCAgentBridge({ host: server.host, port: server.port, timeoutMs: 20_000 }).connect();
      let pngBytes = 0;
      try {
        const [shot, snapshotShot] = await sideBySide(RUNS, async () => (pngBytes = (await vnc.screen.screenshot()).length), snapshot);
        add('screen.screenshot() (PNG of the current 1080p frame), vs vncsnapshot', ms(shot), ms(snapshotShot), '≤ 0.4×', ratio(shot / snapshotShot));
        const frame = vnc.screen.capture();
        const back = decodePng(await vnc.screen.screenshot());
        if (!back.data.equals(Buffer.from(frame.data.map((v, i) => (i % 4 === 3 ? 255 : v))))) notes.push('WARNING: the screenshot did not read back pixel-exact');
        // The same pixels through pngjs (before) and @napi-rs/image, for the file sizes.
        const require = createRequire(import.meta.url);
        const { PNG } = require('pngjs') as typeof import('pngjs');
        const png = new PNG({ width: frame.width, height: frame.height, colorType: 2, inputColorType: 6, inputHasAlpha: true });
        png.data = frame.data;
        const pngjsStart = performance.now();
        const pngjsBytes = PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true, filterType: 1 }).length;
        const pngjsMs = performance.now() - pngjsStart;
        const { Transformer } = require('@napi-rs/image') as typeof import('@napi-rs/image');
        const napiStart = performance.now();
        const napiBytes = Transformer.fromRgbaPixels(frame.data, frame.width, frame.height).pngSync().length;
        const napiMs = performance.now() - napiStart;
        notes.push(
          `PNG of that frame: ours ${(pngBytes / 1024).toFixed(0)} KiB; pngjs (the encoder before) ${(pngjsBytes / 1024).toFixed(0)} KiB in ${pngjsMs.toFixed(0)} ms; @napi-rs/image default ${(napiBytes / 1024).toFixed(0)} KiB in ${napiMs.toFixed(0)} ms (one run each).`,
        );
      } finally {
        await vnc.disconnect();
      }

      // 3. `vnc-agent screenshot FILE`, the whole process.
      if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
      const cliFile = join(dir, 'cli.png');
      const env: NodeJS.ProcessEnv = { ...process.env, VNC_AGENT_STATE_DIR: dir };
      delete env.VNC_PASSWORD;
      const cliShot = () => checked(process.execPath, [CLI, '--port', String(server.port), 'screenshot', cliFile], env);
      const [cliMs, snapshotCli] = await sideBySide(RUNS, cliShot, snapshot);
      add('`vnc-agent screenshot FILE`, whole process, vs vncsnapshot', ms(cliMs), ms(snapshotCli), '≤ 2.0×', ratio(cliMs / snapshotCli));
      notes.push(`\`vnc-agent screenshot\` wrote ${((await stat(cliFile)).size / 1024).toFixed(0)} KiB; vncsnapshot's JPEG ${((await stat(snapshotFile)).size / 1024).toFixed(0)} KiB.`);
      notes.push(`Where \`vnc-agent screenshot\`'s time goes (medians of ${RUNS}): ${await cliPhases(server.port, cliFile, env)}.`);

      // 5. Decoders on live 1080p frames: the first frame and one refresh, replayed offline.
      for (const { label, number } of DECODER_CASES) {
        const name = number === Encoding.ZRLE ? 'zrle' : 'tight';
        const metered = new MeteredConnection(new TCPVNCConnection({ host: server.host, port: server.port }));
        metered.keeping = true;
        const viewer = await new VNCAgentBridge({ connection: metered, encodings: [name], timeoutMs: 20_000 }).connect();
        try {
          await viewer.screen.refresh({ timeoutMs: 20_000 });
        } finally {
          await viewer.disconnect();
        }
        const bytes = Buffer.concat(metered.kept);
        if (process.env.VNC_BENCH_KEEP) writeFileSync(join(process.env.VNC_BENCH_KEEP, `live-${name}.rfb`), bytes);
        const { length, width, height } = handshakeLength(bytes);
        live.set(label, throughput([{ messages: bytes.subarray(length), width, height, encodings: [name] }], number, RUNS));
      }
    } finally {
      await stopDesktop();
    }

    // 6. Memory: a fresh process, one 1080p connection (measured as before this work: right after
    // connecting), then after a screenshot.
    const probe = `import { VNCAgentBridge } from 'vnc-agent-bridge';
      const vnc = await new VNCAgentBridge({ host: '127.0.0.1', port: ${server.port} }).connect();
      const connected = process.memoryUsage().rss;
      await vnc.screen.screenshot();
      console.log(JSON.stringify({ connected, screenshot: process.memoryUsage().rss }));
      await vnc.disconnect();`;
    const memory = await run(process.execPath, ['--input-type=module', '-e', probe], { timeoutMs: 30_000, cwd: ROOT });
    if (memory.code !== 0) throw new Error(`the memory probe failed: ${memory.stderr}`);
    const { connected, screenshot } = JSON.parse(memory.stdout) as { connected: number; screenshot: number };
    const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;
    add('RSS of a fresh process with one 1080p connection', mib(connected), '68–72 MiB before', 'no growth', '');
    add('  the same after one screen.screenshot()', mib(screenshot), '', '', '');
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }

  // 4. `vnc-agent --help` against bare Node (no server involved).
  const [helpMs, bareMs] = await sideBySide(
    RUNS,
    () => checked(process.execPath, [CLI, '--help']),
    () => checked(process.execPath, ['-e', '1']),
  );
  add('`vnc-agent --help`, whole process, vs bare `node -e 1`', ms(helpMs), ms(bareMs), '≤ 2×', ratio(helpMs / bareMs));

  for (const { label, number, recordings } of DECODER_CASES) {
    const l = live.get(label);
    if (l?.inflateMBs) {
      add(`${label} decoder on live 1080p frames, vs inflate alone (MB/s of RGBA)`, `${l.decoderMBs.toFixed(0)} MB/s`, `${l.inflateMBs.toFixed(0)} MB/s`, '≥ 0.8×', ratio(l.decoderMBs / l.inflateMBs));
    }
    const recorded = throughput(await Promise.all(recordings.map(loadStream)), number, 15);
    if (recorded?.inflateMBs) {
      add(`  the same on the stored recordings (${recordings.length})`, `${recorded.decoderMBs.toFixed(0)} MB/s`, `${recorded.inflateMBs.toFixed(0)} MB/s`, '', ratio(recorded.decoderMBs / recorded.inflateMBs));
    }
  }

  const header = ['what', 'ours', 'reference', 'ratio', 'goal'];
  const widths = header.map((_, i) => Math.max(header[i].length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  const table = [line(header), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)];
  notes.unshift(
    `Busy 1920×1080 TigerVNC Xvnc (five xterms of text, a photo, a clock), loopback, Node ${process.version}; medians of ${RUNS}, ours and the reference alternating after one warm-up each. vncsnapshot is a whole process (spawn, connect, ZRLE frame, JPEG, exit). Decoder MB/s: RGBA output per second inside the decoder; "inflate alone": one zlib.inflateSync over each stream's data.`,
  );
  const text = `${table.join('\n')}\n\n${notes.map((note) => `- ${note}`).join('\n')}\n`;
  console.log(`\n${text}`);
  const reports = join(ROOT, 'reports');
  mkdirSync(reports, { recursive: true });
  writeFileSync(join(reports, 'speed.md'), `# Where users wait (issue 13)\n\n${new Date().toISOString()}\n\n${text}`);
});
