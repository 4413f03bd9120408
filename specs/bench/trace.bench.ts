/**
 * Figures for the VNC trace (run with `VNC_BENCH=1 npx playwright test --project=bench
 * specs/bench/trace.bench.ts`; not part of `npm test`): the size of a typical trace — a 30-action
 * test on a 1280×800 desktop with a shell in an xterm (clicks, typed commands whose output scrolls,
 * waits) — against the ~5 MB goal, and the time recording adds per action against the same
 * actions unrecorded. Asserts nothing about time; compare within one run.
 */
import { test } from '@playwright/test';
import { VNCAgentBridge } from '../../src/index.js';
import { readTrace, renderTraceViewer, TraceRecorder } from '../../src/trace/index.js';
import { startXterm } from '../support/desktop.js';
import { startXvnc } from '../support/xvnc.js';

const ROUNDS = 3;
const GOAL_BYTES = 5_000_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function row(name: string, value: string, reference = ''): string {
  return `| ${name.padEnd(58)} | ${value.padStart(14)} | ${reference.padStart(22)} |`;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

test.describe.configure({ timeout: 600_000 });

test('trace size of a 30-action test at 1280x800 and recording overhead per action', async () => {
  const server = await startXvnc({ geometry: '1280x800' });
  const xterm = await startXterm(server, { geometry: '120x45+40+40' });
  const vnc = await new VNCAgentBridge({ host: server.host, port: server.port, timeoutMs: 20_000, typingDelayMs: 5 }).connect();
  const lines = [row('case', 'traced', 'reference'), `|${'-'.repeat(60)}|${'-'.repeat(16)}|${'-'.repeat(24)}|`];
  try {
    const cx = xterm.geometry.x + 200;
    const cy = xterm.geometry.y + 200;
    /** The 30 actions, each run through `step` (recorded or not). */
    const actions = async (round: number, step: (title: string, body: () => Promise<unknown>) => Promise<unknown>) => {
      for (let i = 0; i < 10; i++) {
        await step(`mouse.click(${cx}, ${cy + i})`, () => vnc.mouse.click(cx, cy + i));
        const command = `echo round ${round} line ${i}; ls -1 /usr/share | head -${3 + i}\n`;
        await step(`keyboard.type(${JSON.stringify(command)})`, () => vnc.keyboard.type(command));
        await step('screen.waitForStable({"stillMs":150})', () => vnc.screen.waitForStable({ stillMs: 150 }));
      }
    };
    const plain: number[] = [];
    const traced: number[] = [];
    const finishing: number[] = [];
    let zip: Buffer = Buffer.alloc(0);
    for (let round = 0; round < ROUNDS; round++) {
      await vnc.keyboard.type('clear\n');
      await vnc.screen.waitForStable({ stillMs: 200 });
      let started = performance.now();
      await actions(round * 2, (_title, body) => body());
      plain.push(performance.now() - started);

      await vnc.keyboard.type('clear\n');
      await vnc.screen.waitForStable({ stillMs: 200 });
      const recorder = new TraceRecorder(vnc, { title: 'bench › 30 actions' });
      started = performance.now();
      recorder.start();
      await actions(round * 2 + 1, (title, body) => recorder.action(title, body));
      traced.push(performance.now() - started);
      started = performance.now();
      zip = await recorder.finish({ status: 'passed' });
      finishing.push(performance.now() - started);
    }
    const { trace, frames } = readTrace(zip);
    const html = renderTraceViewer(zip);
    const frameBytes = [...frames.values()].reduce((sum, png) => sum + png.length, 0);
    const filmstripOnly = new Set(trace.filmstrip.map((f) => f.frame));
    for (const action of trace.actions) for (const id of [action.before, action.after]) if (id) filmstripOnly.delete(id);

    lines.push(row('trace file (vnc-trace.zip), 30 actions, 1280x800', mb(zip.length), `goal < ${mb(GOAL_BYTES)}`));
    lines.push(row('viewer page (vnc-trace.html, the trace embedded)', mb(html.length), `${(html.length / zip.length).toFixed(2)}× the trace`));
    lines.push(row('distinct screens stored (PNG, lossless, full size)', String(frames.size), `${trace.actions.length * 2} before/after refs`));
    lines.push(row('mean PNG per screen', `${(frameBytes / frames.size / 1000).toFixed(1)} kB`, `raw RGBA ${(1280 * 800 * 4) / 1e6} MB`));
    lines.push(row('filmstrip samples (of them only in the filmstrip)', `${trace.filmstrip.length} (${filmstripOnly.size})`, `≤ ${trace.limits.maxFilmstripFrames}, dropped ${trace.limits.filmstripDropped}`));
    const plainMs = median(plain);
    const tracedMs = median(traced);
    lines.push(row('30 actions, median of 3 (traced vs not)', `${tracedMs.toFixed(0)} ms`, `${plainMs.toFixed(0)} ms untraced`));
    lines.push(row('recording overhead per action', `${((tracedMs - plainMs) / 30).toFixed(1)} ms`, `${(((tracedMs - plainMs) / plainMs) * 100).toFixed(1)} % of the test`));
    lines.push(row('finish(): wait for encodes + write the zip', `${median(finishing).toFixed(0)} ms`, 'once per kept trace'));
    console.log(`\nVNC trace figures (TigerVNC Xvnc 1280x800, xterm with a shell)\n${lines.join('\n')}\n`);
  } finally {
    await vnc.disconnect();
    await xterm.stop();
    await server.stop();
  }
});
