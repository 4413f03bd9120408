/**
 * ZRLE and Tight decoders against plain inflate, for quick offline iteration on the decoders: the
 * stored recordings always, and the live 1080p streams kept by speed.bench.ts when VNC_BENCH_KEEP
 * names the directory holding live-zrle.rfb and live-tight.rfb. Prints decoder and inflate MB/s of
 * RGBA, their ratio, the share of decoder time spent inside InflateStream, and ms per 1080p frame.
 * VNC_BENCH_PASSES sets the number of passes (medians; default 15).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { test } from '@playwright/test';

import { Encoding } from '../../src/rfb/constants.js';
import { handshakeLength } from '../support/recorder.js';
import { DECODER_CASES, loadStream, throughput, type Stream, type Throughput } from './replay.js';

const PASSES = Number(process.env.VNC_BENCH_PASSES ?? 15);

async function liveStream(number: number): Promise<Stream | undefined> {
  const dir = process.env.VNC_BENCH_KEEP;
  if (!dir) return undefined;
  const file = join(dir, `live-${number === Encoding.ZRLE ? 'zrle' : 'tight'}.rfb`);
  if (!existsSync(file)) return undefined;
  const bytes = await readFile(file);
  const { length, width, height } = handshakeLength(bytes);
  return { messages: bytes.subarray(length), width, height, encodings: [number === Encoding.ZRLE ? 'zrle' : 'tight'] };
}

function row(label: string, source: string, result: Throughput | undefined): string {
  if (!result?.inflateMBs) return `| ${label} | ${source} | no rectangles of that encoding | | | | |`;
  const share = result.inflateShare === undefined ? '' : `${(result.inflateShare * 100).toFixed(0)} %`;
  return `| ${label} | ${source} | ${result.decoderMBs.toFixed(0)} | ${result.inflateMBs.toFixed(0)} | ${(result.decoderMBs / result.inflateMBs).toFixed(2)}× | ${share} | ${result.msPerFrame.toFixed(2)} |`;
}

test.describe.configure({ timeout: 600_000 });

test('ZRLE and Tight decoders vs inflate alone: recordings, and the kept live 1080p streams', async () => {
  const lines = [
    '| decoder | stream | decoder MB/s | inflate alone MB/s | ratio | inflate share | ms per frame |',
    '|---|---|--:|--:|--:|--:|--:|',
  ];
  const notes: string[] = [];
  for (const { label, number, recordings } of DECODER_CASES) {
    const live = await liveStream(number);
    if (live) lines.push(row(label, 'live 1080p', throughput([live], number, PASSES)));
    else notes.push(`${label}: no live stream (set VNC_BENCH_KEEP to the directory speed.bench.ts kept them in).`);
    lines.push(row(label, `recordings (${recordings.length})`, throughput(await Promise.all(recordings.map(loadStream)), number, PASSES)));
  }
  console.log(`\n${lines.join('\n')}\n${notes.map((note) => `\n- ${note}`).join('')}\nMedians of ${PASSES} passes; "ms per frame" is per full frame of the stream's size.\n`);
});
