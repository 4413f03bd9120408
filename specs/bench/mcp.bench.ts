/**
 * Figures for `vnc-agent mcp` (run with `npm run bench`; not part of `npm test`): a tool call's
 * latency over stdio with the SDK's client, screenshots of a 1080p screen scaled to 1280 wide
 * (PNG and JPEG, with their bytes), and the server's memory. Prints medians beside the goals of
 * issue 12 and beside the in-process cost of the same work; asserts nothing about time.
 */
import { readFileSync } from 'node:fs';
import { test } from '@playwright/test';
import { VNCAgentBridge, encodePng } from '../../src/index.js';
import { encodeImage, mappingFor, scaleFrame } from '../../src/mcp/image.js';
import { startXterm } from '../support/desktop.js';
import { connectStdio } from '../support/mcp-client.js';
import { startXvnc } from '../support/xvnc.js';

const RUNS = 30;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timeIt(action: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

async function medianOf(runs: number, action: () => Promise<unknown> | unknown): Promise<number> {
  await action();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeIt(action));
  return median(times);
}

function row(name: string, value: string, reference = '', note = ''): string {
  return `| ${name.padEnd(50)} | ${value.padStart(12)} | ${reference.padStart(22)} | ${note.padEnd(20)} |`;
}

/** CPU time a process has used so far, in ms (user + system, from /proc; 10 ms ticks). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The server's CPU per call over `runs` calls, in ms: robust against other load on the machine. */
async function serverCpuPerCall(pid: number, runs: number, action: () => Promise<unknown>): Promise<number> {
  const before = cpuMs(pid);
  for (let i = 0; i < runs; i++) await action();
  return (cpuMs(pid) - before) / runs;
}

/** Resident memory of a process, in MiB (from /proc). */
function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}

test.describe.configure({ timeout: 300_000 });

test('vnc-agent mcp figures on a 1920x1080 TigerVNC desktop', async () => {
  const server = await startXvnc({ geometry: '1920x1080' });
  const lines = [row('case', 'ours', 'reference', 'goal (issue 12)'), `|${'-'.repeat(52)}|${'-'.repeat(14)}|${'-'.repeat(24)}|${'-'.repeat(22)}|`];
  try {
    const xterm = await startXterm(server, { geometry: '200x60+0+0', command: ['sh', '-c', 'ls -laR /usr/share | head -3000; sleep 600'] });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const session = await connectStdio(['--host', server.host, '--port', String(server.port), '--no-auto-screenshot']);
    try {
      const idleMiB = rssMiB(session.pid!);
      await session.call('screenshot');

      // Click: request to response, no screenshot; beside the library's own click in this process.
      let x = 100;
      const click = await medianOf(RUNS, async () => {
        x = x === 100 ? 101 : 100;
        const result = await session.call('click', { x, y: 700 });
        if (result.isError) throw new Error(result.text);
      });
      const vnc = await new VNCAgentBridge({ host: server.host, port: server.port }).connect();
      const direct = await medianOf(RUNS, () => vnc.mouse.click(x, 700));
      lines.push(row('click tool call over stdio, no screenshot', `${click.toFixed(1)} ms`, `library click ${direct.toFixed(2)} ms`, '≤ 20 ms'));
      const pid = session.pid!;
      const clickCpu = await serverCpuPerCall(pid, 100, () => session.call('click', { x: 100, y: 700 }));
      lines.push(row('  server CPU per click call', `${clickCpu.toFixed(1)} ms`, '', ''));

      // Screenshot 1080p → 1280x720: the tool call, and its parts in-process.
      const png = await session.call('screenshot', { format: 'png' });
      const pngMs = await medianOf(RUNS / 3, () => session.call('screenshot', { format: 'png' }));
      const jpeg = await session.call('screenshot', { format: 'jpeg' });
      const jpegMs = await medianOf(RUNS / 3, () => session.call('screenshot', { format: 'jpeg' }));
      const frame = vnc.screen.capture();
      const { width, height } = mappingFor(frame.width, frame.height, 1280);
      const scaleMs = await medianOf(RUNS / 3, () => scaleFrame(frame, width, height));
      const scaled = scaleFrame(frame, width, height);
      const encodePngMs = await medianOf(RUNS / 3, () => encodePng(scaled));
      const encodeJpegMs = await medianOf(RUNS / 3, () => encodeImage(scaled, 'jpeg', 80));
      const fullPngMs = await medianOf(5, () => encodePng(frame));
      lines.push(row(`screenshot tool, PNG ${png.image!.width}x${png.image!.height}`, `${pngMs.toFixed(1)} ms`, `unscaled 1080p PNG ${fullPngMs.toFixed(1)} ms`, '≤ 60 ms'));
      const pngCpu = await serverCpuPerCall(pid, 20, () => session.call('screenshot', { format: 'png' }));
      const jpegCpu = await serverCpuPerCall(pid, 20, () => session.call('screenshot', { format: 'jpeg' }));
      lines.push(row('  server CPU per PNG / JPEG screenshot call', `${pngCpu.toFixed(1)} ms`, `JPEG ${jpegCpu.toFixed(1)} ms`, ''));
      lines.push(row('  its parts: scale 1920x1080 → 1280x720 (area mean)', `${scaleMs.toFixed(1)} ms`, `encodePng ${encodePngMs.toFixed(1)} ms`, ''));
      lines.push(row('  PNG bytes', `${(png.image!.bytes / 1024).toFixed(0)} KiB`, `raw RGB ${((width * height * 3) / 1024).toFixed(0)} KiB`, ''));
      lines.push(row(`screenshot tool, JPEG (quality 80) ${jpeg.image!.width}x${jpeg.image!.height}`, `${jpegMs.toFixed(1)} ms`, `JPEG encode ${encodeJpegMs.toFixed(1)} ms`, 'report'));
      lines.push(row('  JPEG bytes', `${(jpeg.image!.bytes / 1024).toFixed(0)} KiB`, `PNG ${(png.image!.bytes / 1024).toFixed(0)} KiB`, ''));
      await vnc.disconnect();

      lines.push(row('server RSS: started, not connected', `${idleMiB.toFixed(1)} MiB`, '', ''));
      lines.push(row('server RSS: one 1080p connection, after the above', `${rssMiB(session.pid!).toFixed(1)} MiB`, `frame ${((1920 * 1080 * 4) / 2 ** 20).toFixed(1)} MiB RGBA`, 'report'));
    } finally {
      await session.close();
      await xterm.stop();
    }
  } finally {
    await server.stop();
  }
  console.log(`\nvnc-agent mcp (medians; load on this machine: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})\n${lines.join('\n')}\n`);
});
