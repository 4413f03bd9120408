/**
 * Many Playwright workers on one shared desktop: a user project whose single target says
 * `shared: true` (one Xvnc started here), run by the real `playwright test` with 2, 4 and 8 workers
 * (`mode: 'parallel'`). Each worker keeps its `vnc` fixture connected and runs 50 connect/disconnect
 * cycles of its own `VNCAgentBridge`; it then reports its figures (sockets and timers left over a
 * baseline taken before its first connection; live memory after GC from the 10th cycle on; RSS), which must show nothing leaked. No
 * process started by the run (Xvnc, xterm, anything) may outlive it; the shared server must.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { inlineProject } from '../support/inline-project.js';
import { isAlive, run } from '../support/processes.js';
import { startXvnc, type XvncServer } from '../support/xvnc.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLAYWRIGHT = join(ROOT, 'node_modules', '.bin', 'playwright');
const CYCLES = 50;
/** Extra timers/sockets tolerated at a worker's end over its baseline. */
const SLACK = { TCPWRAP: 0, Timeout: 1 };
/**
 * Memory: live memory (heapUsed + external, after GC) may not grow from the 10th cycle to the end —
 * 40 more cycles must keep nothing. RSS is only bounded loosely: the allocator keeps freed pages
 * (a standalone probe: RSS 69 → 98 MB over the first 100 cycles, then flat to 400; heap flat at 7.8 MB).
 */
const LIVE_GROWTH_LIMIT_MB = 4;
const RSS_GROWTH_LIMIT_MB = 128;

const CONFIG = `
import { defineConfig } from '@playwright/test';
import { vncProjects } from 'vnc-agent-bridge/test';
export default defineConfig({
  testDir: '.',
  timeout: 120_000,
  reporter: [['list']],
  outputDir: './test-results',
  projects: vncProjects({ file: 'vnc.targets.yaml' }),
});
`;

const SPEC = `
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test, expect } from 'vnc-agent-bridge/test';
import { VNCAgentBridge, resolveTarget } from 'vnc-agent-bridge';

test.describe.configure({ mode: 'parallel' });

const CYCLES = Number(process.env.PAR_CYCLES);
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const count = (kind) => process.getActiveResourcesInfo().filter((name) => name === kind).length;
const snapshot = async () => {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20)); // finalizers of freed buffers run, then collect again
  gc();
  const memory = process.memoryUsage();
  return { TCPWRAP: count('TCPWRAP'), Timeout: count('Timeout'), all: process.getActiveResourcesInfo().length, rss: memory.rss, live: memory.heapUsed + memory.external };
};
let baseline;
let cycles = 0;
let tests = 0;
let ms = 0;
let warm;
let afterCycles;

test.beforeAll(async () => {
  baseline = await snapshot();
});

test.afterAll(async ({}, workerInfo) => {
  await new Promise((resolve) => setTimeout(resolve, 200)); // let closed sockets finish closing
  const end = await snapshot();
  writeFileSync(process.env.PAR_FIGURES_DIR + '/worker-' + workerInfo.workerIndex + '-' + process.pid + '.json',
    JSON.stringify({ pid: process.pid, workerIndex: workerInfo.workerIndex, parallelIndex: workerInfo.parallelIndex, tests, cycles, ms, baseline, warm, afterCycles, end, resources: process.getActiveResourcesInfo() }));
});

for (let slot = 0; slot < Number(process.env.PAR_TESTS); slot++) {
  test('slot ' + slot, async ({ vnc, vncTargetConfig }) => {
    await vnc.mouse.move(10 + slot, 10);
    const started = Date.now();
    for (let i = 0; i < CYCLES; i++) {
      const bridge = new VNCAgentBridge(await resolveTarget(vncTargetConfig, { attempt: 0 }));
      await bridge.connect();
      expect(bridge.isConnected).toBe(true);
      if (i % 10 === 0) expect(bridge.screen.capture({ region: { x: 0, y: 0, width: 8, height: 8 } }).width).toBe(8);
      await bridge.disconnect();
      expect(bridge.isConnected).toBe(false);
      cycles++;
      if (i === 9 && warm === undefined) warm = await snapshot(); // after warm-up: what comes later is growth per cycle
    }
    ms += Date.now() - started;
    afterCycles = await snapshot(); // live memory is judged here, before Playwright's own end-of-test work
    tests++;
    // The fixture's own connection lived through all of it.
    expect(vnc.isConnected).toBe(true);
    await vnc.mouse.move(20 + slot, 20);
  });
}
`;

interface Snapshot {
  TCPWRAP: number;
  Timeout: number;
  all: number;
  rss: number;
  /** heapUsed + external after GC: the memory live objects hold. */
  live: number;
}

interface WorkerFigures {
  pid: number;
  workerIndex: number;
  parallelIndex: number;
  tests: number;
  cycles: number;
  ms: number;
  baseline: Snapshot;
  /** After the first 10 cycles. */
  warm: Snapshot;
  /** After the last cycle (the fixture's connection still open). */
  afterCycles: Snapshot;
  end: Snapshot;
  resources: string[];
}

/** PIDs of live processes whose environment carries `marker` (i.e. started by one run, at any depth). */
function processesWithMarker(marker: string): { pid: number; comm: string }[] {
  const found: { pid: number; comm: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) continue;
      const pid = Number(name);
      if (pid !== process.pid && isAlive(pid)) found.push({ pid, comm: readFileSync(`/proc/${name}/comm`, 'utf8').trim() });
    } catch {
      /* gone or not ours */
    }
  }
  return found;
}

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

let server: XvncServer;

test.describe.configure({ mode: 'serial', timeout: 300_000 });

test.beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run "npm run build" first');
  server = await startXvnc({ geometry: '640x480' });
});

test.afterAll(async () => {
  await server?.stop();
});

// 8 workers on 2 cores still take seconds, so they run too.
for (const workers of [2, 4, 8]) {
  test(`${workers} workers × ${CYCLES} connect/disconnect cycles on one shared server leak no socket, timer, process or memory`, async () => {
    const marker = `PAR_RUN_MARKER=${randomUUID()}`;
    const project = await inlineProject({
      'playwright.config.ts': CONFIG,
      'vnc.targets.yaml': `targets:\n  shared-desk:\n    connection: { type: tcp, host: 127.0.0.1, port: ${server.port} }\n    shared: true\n`,
      'parallel.spec.ts': SPEC,
    });
    try {
      const figuresDir = join(project.dir, 'figures');
      mkdirSync(figuresDir);
      const started = Date.now();
      const result = await run(PLAYWRIGHT, ['test', `--workers=${workers}`], {
        cwd: project.dir,
        env: { ...process.env, CI: '', FORCE_COLOR: '0', PAR_CYCLES: String(CYCLES), PAR_TESTS: String(workers), PAR_FIGURES_DIR: figuresDir, PAR_RUN_MARKER: marker.split('=')[1] },
        timeoutMs: 240_000,
      });
      const elapsed = Date.now() - started;
      const output = `${result.stdout}\n${result.stderr}`;
      expect(result.code, output).toBe(0);
      expect(output).toContain(`${workers} passed`);
      expect(output).toContain(`using ${workers} workers`);

      const figures = readdirSync(figuresDir).map((name) => JSON.parse(readFileSync(join(figuresDir, name), 'utf8')) as WorkerFigures);
      const cycles = figures.reduce((sum, f) => sum + f.cycles, 0);
      expect(cycles).toBe(workers * CYCLES);
      // Every worker ran: the slots really were spread over `workers` processes.
      expect(new Set(figures.filter((f) => f.cycles > 0).map((f) => f.pid)).size).toBe(workers);

      const problems: string[] = [];
      for (const f of figures) {
        const tcp = f.end.TCPWRAP - f.baseline.TCPWRAP;
        const timers = f.end.Timeout - f.baseline.Timeout;
        const liveMb = (f.afterCycles.live - f.warm.live) / 2 ** 20;
        const rssMb = (f.end.rss - f.baseline.rss) / 2 ** 20;
        if (liveMb > LIVE_GROWTH_LIMIT_MB) problems.push(`worker ${f.workerIndex}: live memory grew ${liveMb.toFixed(1)} MB after warm-up`);
        if (tcp > SLACK.TCPWRAP) problems.push(`worker ${f.workerIndex}: ${tcp} TCP sockets left (${f.resources.join(', ')})`);
        if (timers > SLACK.Timeout) problems.push(`worker ${f.workerIndex}: ${timers} timers left (${f.resources.join(', ')})`);
        if (rssMb > RSS_GROWTH_LIMIT_MB) problems.push(`worker ${f.workerIndex}: RSS grew ${rssMb.toFixed(1)} MB`);
      }
      expect(problems, problems.join('\n')).toEqual([]);

      // Nothing the run started is still running; the shared server is.
      const deadline = Date.now() + 3000;
      let leftovers = processesWithMarker(marker);
      while (leftovers.length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        leftovers = processesWithMarker(marker);
      }
      expect(leftovers, 'processes left by the run').toEqual([]);
      expect(isAlive(server.pid)).toBe(true);

      const lines = figures
        .sort((a, b) => a.workerIndex - b.workerIndex)
        .map(
          (f) =>
            `  worker ${f.workerIndex}: ${f.cycles} cycles in ${f.ms} ms (${((f.ms / Math.max(1, f.cycles)) | 0)} ms/cycle); ` +
            `TCP ${f.baseline.TCPWRAP}→${f.end.TCPWRAP}, timers ${f.baseline.Timeout}→${f.end.Timeout}, handles ${f.baseline.all}→${f.end.all}, ` +
            `live ${mb(f.baseline.live)}→${mb(f.warm.live)} (10 cycles)→${mb(f.afterCycles.live)} (50 cycles) MB, RSS ${mb(f.baseline.rss)}→${mb(f.warm.rss)}→${mb(f.end.rss)} MB`,
        );
      console.log(`${workers} workers × ${CYCLES} cycles = ${cycles} connections to one shared Xvnc in ${elapsed} ms (whole run)\n${lines.join('\n')}`);
    } finally {
      await project.cleanup();
    }
  });
}
