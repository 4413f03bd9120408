/**
 * Soak: a bounded long run of mixed actions — type, click, scroll, capture, screenshot, clipboard —
 * against a local desktop (Xvnc + an xterm that appends every typed line to a file), on one
 * connection. Run with `npm run soak` (VNC_SOAK_SECONDS, default 60); not part of `npm test` nor
 * of `npm run bench`. Prints actions/s, errors (must be 0), peak RSS and the handles left at the
 * end; asserts that every typed line arrived, in order, and that nothing is left open.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { VNCAgentBridge } from '../../src/index.js';
import { clipboardGet, startXterm } from '../support/desktop.js';
import { startXvnc } from '../support/xvnc.js';

const SECONDS = Number(process.env.VNC_SOAK_SECONDS ?? 60);

test.skip(!process.env.VNC_SOAK, 'soak runs only with `npm run soak` (VNC_SOAK=1)');
test.describe.configure({ timeout: (SECONDS + 120) * 1000 });

const count = (kind: string): number => process.getActiveResourcesInfo().filter((name) => name === kind).length;

test(`soak: mixed actions for ${SECONDS} s on one connection`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vnc-soak-'));
  const server = await startXvnc({ geometry: '1024x768' });
  const baseline = { TCPWRAP: count('TCPWRAP'), Timeout: count('Timeout'), all: process.getActiveResourcesInfo().length };
  let peakRss = process.memoryUsage().rss;
  const errors: string[] = [];
  const counts: Record<string, number> = {};
  const typed: string[] = [];
  try {
    const sinkFile = join(dir, 'typed.txt');
    const xterm = await startXterm(server, { geometry: '100x30+0+0', sinkFile });
    const { x, y, width, height } = xterm.geometry;
    const inside = (i: number) => ({ x: x + 20 + ((i * 37) % (width - 40)), y: y + 20 + ((i * 53) % (height - 40)) });
    const vnc = await new VNCAgentBridge({ host: server.host, port: server.port, typingDelayMs: 2, timeoutMs: 10_000 }).connect();
    const actions: [string, (i: number) => Promise<unknown>][] = [
      ['type', async (i) => {
        const line = `soak ${i} ${'abcXYZ019-_=+'.slice(0, 1 + (i % 13))}`;
        await vnc.mouse.move(inside(i).x, inside(i).y); // focus follows the pointer (no window manager)
        await vnc.keyboard.type(`${line}\n`);
        typed.push(line);
      }],
      ['click', (i) => vnc.mouse.click(inside(i).x, inside(i).y)],
      ['scroll', (i) => vnc.scroll.scroll(i % 2 ? 'up' : 'down', 1 + (i % 3), inside(i))],
      ['capture', async (i) => vnc.screen.capture(i % 2 ? undefined : { region: { x: 0, y: 0, width: 200, height: 100 } })],
      ['screenshot', () => vnc.screen.screenshot({ region: { x: 0, y: 0, width: 320, height: 200 } })],
      ['clipboard', async (i) => {
        const text = `clip ${i}`;
        await vnc.clipboard.setText(text);
        if (i % 10 === 0) {
          const seen = await clipboardGet(server);
          if (seen !== text) throw new Error(`the desktop's clipboard is ${JSON.stringify(seen)}, expected ${JSON.stringify(text)}`);
        }
      }],
    ];
    const started = Date.now();
    let i = 0;
    while (Date.now() - started < SECONDS * 1000) {
      const [name, action] = actions[i % actions.length];
      try {
        await action(i);
        counts[name] = (counts[name] ?? 0) + 1;
      } catch (error) {
        errors.push(`${name} #${i}: ${(error as Error).message}`);
      }
      if (i % 20 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
      i++;
    }
    const elapsed = (Date.now() - started) / 1000;
    await vnc.screen.waitForStable({ stillMs: 300 }).catch(() => undefined);
    await vnc.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Every typed line reached the xterm's file, in order.
    const deadline = Date.now() + 5000;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = (await readFile(sinkFile, 'utf8')).split('\n').filter(Boolean);
      if (lines.length >= typed.length) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const end = { TCPWRAP: count('TCPWRAP'), Timeout: count('Timeout'), all: process.getActiveResourcesInfo().length };
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    console.log(
      [
        `soak: ${i} actions in ${elapsed.toFixed(1)} s = ${(i / elapsed).toFixed(1)} actions/s (${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')})`,
        `errors: ${errors.length}${errors.length ? `\n  ${errors.slice(0, 10).join('\n  ')}` : ''}`,
        `typed lines: ${typed.length} sent, ${lines.length} arrived`,
        `peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MB`,
        `handles at end (Xvnc and xterm still running: their pipes and processes): ${end.all} (TCP ${baseline.TCPWRAP}→${end.TCPWRAP}, timers ${baseline.Timeout}→${end.Timeout}): ${process.getActiveResourcesInfo().join(', ')}`,
      ].join('\n'),
    );
    await xterm.stop();
    expect(errors).toEqual([]);
    expect(lines).toEqual(typed);
    expect(end.TCPWRAP).toBeLessThanOrEqual(baseline.TCPWRAP);
    expect(end.Timeout).toBeLessThanOrEqual(baseline.Timeout + 1);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
