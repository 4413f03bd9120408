/**
 * Figures for the core client (run with `npm run bench`; not part of `npm test`). Prints medians
 * and asserts nothing about time: compare the ratios within one run, never absolute times across
 * runs. Full-frame capture per encoding against the C reference client (vncsnapshot), bytes on the
 * wire and decoder throughput are in encodings.bench.ts.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VNCAgentBridge, WebSocketVNCConnection } from '../../src/index.js';
import { startXterm, waitForFile } from '../support/desktop.js';
import { run } from '../support/processes.js';
import { startWebsockify } from '../support/websockify.js';
import { startX11vnc } from '../support/x11vnc.js';
import { startXvnc, type XvncServer } from '../support/xvnc.js';
import { test } from '@playwright/test';

const RUNS = 9;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timeIt(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

function row(name: string, value: string, reference = '', ratio = ''): string {
  return `| ${name.padEnd(52)} | ${value.padStart(12)} | ${reference.padStart(14)} | ${ratio.padStart(7)} |`;
}

test.describe.configure({ timeout: 300_000 });

test('core figures on a 1920x1080 TigerVNC desktop', async () => {
  const server: XvncServer = await startXvnc({ geometry: '1920x1080' });
  const lines = [row('case', 'ours', 'reference', 'ratio'), `|${'-'.repeat(54)}|${'-'.repeat(14)}|${'-'.repeat(16)}|${'-'.repeat(9)}|`];
  try {
    const busy = await startXterm(server, { geometry: '200x60+0+0', command: ['sh', '-c', 'ls -laR /usr/share | head -5000; sleep 600'] });
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const ours: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(
        await timeIt(async () => {
          const vnc = await new VNCAgentBridge({ host: server.host, port: server.port, timeoutMs: 20_000 }).connect();
          await vnc.disconnect();
        }),
      );
    }
    const oursMs = median(ours);
    // Per encoding, on a busy screen and against vncsnapshot (C): encodings.bench.ts.
    lines.push(row('connect + first 1080p frame, default encodings', `${oursMs.toFixed(1)} ms`));

    const proxy = await startWebsockify({ target: { host: server.host, port: server.port } });
    try {
      const connection = new WebSocketVNCConnection({ urlTemplate: 'ws://${host}:${port}/', host: proxy.host, port: proxy.port });
      const overWebSocket: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        overWebSocket.push(
          await timeIt(async () => {
            const vnc = await new VNCAgentBridge({ connection, timeoutMs: 20_000 }).connect();
            await vnc.disconnect();
          }),
        );
      }
      const wsMs = median(overWebSocket);
      lines.push(row('the same over WebSocket (websockify 0.10, Python)', `${wsMs.toFixed(1)} ms`, `TCP ${oursMs.toFixed(1)} ms`, `${(wsMs / oursMs).toFixed(2)}×`));
    } finally {
      await proxy.stop();
    }

    // x11vnc speaks WebSocket on its RFB port itself: TCP vs WebSocket without a proxy in between.
    const x11vnc = await startX11vnc({ geometry: '1920x1080' });
    try {
      const direct = { host: x11vnc.host, port: x11vnc.port };
      const tcpTimes: number[] = [];
      const wsTimes: number[] = [];
      const connection = new WebSocketVNCConnection({ urlTemplate: 'ws://${host}:${port}/', ...direct });
      for (let i = 0; i < RUNS; i++) {
        tcpTimes.push(await timeIt(async () => (await new VNCAgentBridge({ ...direct, timeoutMs: 20_000 }).connect()).disconnect()));
        wsTimes.push(await timeIt(async () => (await new VNCAgentBridge({ connection, timeoutMs: 20_000 }).connect()).disconnect()));
      }
      const tcpMs = median(tcpTimes);
      const wsMs = median(wsTimes);
      lines.push(row('x11vnc 1080p first frame: WebSocket vs TCP (same server)', `${wsMs.toFixed(1)} ms`, `TCP ${tcpMs.toFixed(1)} ms`, `${(wsMs / tcpMs).toFixed(2)}×`));
    } finally {
      await x11vnc.stop();
    }

    // Memory in a fresh process (this one has allocated and freed many connections already).
    const probe = `import { VNCAgentBridge } from 'vnc-agent-bridge';
      const before = process.memoryUsage().rss;
      const vnc = await new VNCAgentBridge({ host: '127.0.0.1', port: ${server.port} }).connect();
      console.log(JSON.stringify({ before, after: process.memoryUsage().rss }));
      await vnc.disconnect();`;
    const memory = await run(process.execPath, ['--input-type=module', '-e', probe], { timeoutMs: 20_000 });
    const { before, after } = JSON.parse(memory.stdout) as { before: number; after: number };
    lines.push(row("RSS of a fresh node process: before → connected (1080p)", `${(before / 1048576).toFixed(0)} → ${(after / 1048576).toFixed(0)} MiB`));
    const vnc = await new VNCAgentBridge({ host: server.host, port: server.port }).connect();

    const captures: number[] = [];
    for (let i = 0; i < RUNS; i++) captures.push(await timeIt(async () => vnc.screen.capture()));
    lines.push(row('screen.capture() of 1920x1080 (copy out, RGBA)', `${median(captures).toFixed(2)} ms`));
    const pngs: number[] = [];
    for (let i = 0; i < 5; i++) pngs.push(await timeIt(() => vnc.screen.screenshot()));
    lines.push(row('screen.screenshot() of 1920x1080 (PNG)', `${median(pngs).toFixed(1)} ms`));
    await busy.stop();

    const sink = join(await mkdtemp(join(tmpdir(), 'bench-')), 'typed.txt');
    const xterm = await startXterm(server, { sinkFile: sink, geometry: '100x40+100+100' });
    await vnc.mouse.move(xterm.geometry.x + 50, xterm.geometry.y + 50);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 ';
    let text = '';
    for (let i = 0; text.length < 5000; i++) text += i % 100 === 99 ? '\n' : alphabet[i % alphabet.length];
    text += '\n';
    const elapsed = await timeIt(async () => {
      await vnc.keyboard.type(text, { delayMs: 0 });
      const received = await waitForFile(sink, (c) => c.length >= text.length, 60_000, 10);
      if (received !== text) throw new Error(`typed text arrived altered (${received.length} of ${text.length} characters)`);
    });
    lines.push(row(`keys delivered intact, full speed (${text.length} chars)`, `${Math.round(text.length / (elapsed / 1000))} keys/s`));
    const paced = `${text.slice(0, 99)}\n`;
    await run('truncate', ['-s', '0', sink]);
    const pacedElapsed = await timeIt(async () => {
      await vnc.keyboard.type(paced);
      await waitForFile(sink, (c) => c.length >= paced.length, 20_000, 10);
    });
    lines.push(row('keys/s at the default typing delay (100 chars)', `${Math.round(paced.length / (pacedElapsed / 1000))} keys/s`));
    await xterm.stop();
    await vnc.disconnect();
  } finally {
    await server.stop();
  }
  console.log(`\n${lines.join('\n')}\n`);
});
