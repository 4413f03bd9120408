/**
 * PNG encoders and decoders on a real busy 1080p frame (the desktop of busy-desktop.ts through
 * Xvnc): pngjs (the codec before), @napi-rs/image's native encoder, and node:zlib with our own row
 * filter at several levels, the choice behind src/rfb/encodings/png-encode.ts. Medians; prints figures
 * only (run with `npm run bench`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';

import { test } from '@playwright/test';

import { decodePng, encodePng, encodePngAsync, VNCAgentBridge, type Frame } from '../../src/index.js';
import { startXvnc } from '../support/xvnc.js';
import { busyDesktop } from './busy-desktop.js';
import { median } from './replay.js';

const RUNS = 7;
const require = createRequire(import.meta.url);

function timed<T>(action: () => T): { ms: number; result: T } {
  let result = action(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    result = action();
    times.push(performance.now() - started);
  }
  return { ms: median(times), result };
}

/** RGB scanlines with one filter on every row (1 Sub, 2 Up), as a PNG encoder feeds deflate. */
function filtered(frame: Frame, filter: 1 | 2): Buffer {
  const { width, height, data } = frame;
  const out = Buffer.allocUnsafe((width * 3 + 1) * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    out[o++] = filter;
    for (let x = 0, s = y * width * 4; x < width; x++, s += 4) {
      for (let c = 0; c < 3; c++) {
        const before = filter === 1 ? (x > 0 ? data[s + c - 4] : 0) : y > 0 ? data[s + c - width * 4] : 0;
        out[o++] = data[s + c] - before;
      }
    }
  }
  return out;
}

test.describe.configure({ timeout: 300_000 });

test('PNG codecs on a busy 1920x1080 frame', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-png-'));
  const server = await startXvnc({ geometry: '1920x1080' });
  let frame: Frame;
  try {
    const stop = await busyDesktop(server, dir);
    try {
      const vnc = await new VNCAgentBridge({ host: server.host, port: server.port, timeoutMs: 20_000 }).connect();
      frame = vnc.screen.capture();
      await vnc.disconnect();
    } finally {
      await stop();
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const rows: string[][] = [];
  const add = (name: string, ms: number, bytes?: number) => rows.push([name, `${ms.toFixed(1)} ms`, bytes === undefined ? '' : `${(bytes / 1024).toFixed(0)} KiB`]);

  const ours = timed(() => encodePng(frame));
  add('encode: ours (node:zlib, RGB, Up filter, level 1, RLE strategy, bands of ~384 KiB) — the choice', ours.ms, ours.result.length);
  const asyncTimes: number[] = [];
  await encodePngAsync(frame);
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await encodePngAsync(frame);
    asyncTimes.push(performance.now() - started);
  }
  add('encode: ours async (up to four bands compressing on the thread pool while the next is filtered)', median(asyncTimes));
  const { PNG } = require('pngjs') as typeof import('pngjs');
  const pngjs = timed(() => {
    const png = new PNG({ width: frame.width, height: frame.height, colorType: 2, inputColorType: 6, inputHasAlpha: true });
    png.data = frame.data;
    return PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true, filterType: 1 });
  });
  add('encode: pngjs 7 (RGB, Sub filter, its default level) — before', pngjs.ms, pngjs.result.length);
  const { Transformer, CompressionType, FilterType } = require('@napi-rs/image') as typeof import('@napi-rs/image');
  for (const [name, options] of [
    ['default (RGBA, no filter)', {}],
    ['Fast, Up', { compressionType: CompressionType.Fast, filterType: FilterType.Up }],
    ['Default, Up', { compressionType: CompressionType.Default, filterType: FilterType.Up }],
  ] as const) {
    const napi = timed(() => Transformer.fromRgbaPixels(frame.data, frame.width, frame.height).pngSync(options));
    add(`encode: @napi-rs/image ${name}`, napi.ms, napi.result.length);
  }
  for (const filter of [1, 2] as const) {
    const rowsIn = filtered(frame, filter);
    for (const level of [1, 3, 6]) {
      for (const [strategy, name] of [
        [zlib.constants.Z_DEFAULT_STRATEGY, ''],
        [zlib.constants.Z_RLE, ', RLE strategy'],
      ] as const) {
        const deflated = timed(() => zlib.deflateSync(rowsIn, { level, strategy }));
        add(`encode: node:zlib level ${level}${name}, ${filter === 1 ? 'Sub' : 'Up'} filter (deflate only)`, deflated.ms, deflated.result.length);
      }
    }
  }

  const file = ours.result;
  add('decode our file: ours (node:zlib)', timed(() => decodePng(file)).ms);
  add('decode our file: pngjs', timed(() => PNG.sync.read(file)).ms);
  add('decode our file: @napi-rs/image', timed(() => new Transformer(file).rawPixelsSync()).ms);

  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  console.log(`\n${[line(['codec', 'median', 'size']), `|${'-'.repeat(widths[0] + 2)}|${'-'.repeat(widths[1] + 1)}:|${'-'.repeat(widths[2] + 1)}:|`, ...rows.map(line)].join('\n')}\n`);
});
