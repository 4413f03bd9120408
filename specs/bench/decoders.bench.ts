/**
 * ZRLE and Tight decoders against plain inflate on the stored real sessions (specs/data/recordings):
 * megabytes of RGBA a second, and the decoder's share of inflate's throughput (the bound for a
 * decoder built on zlib). Prints figures only; `npm run bench` runs it (speed.bench.ts prints the
 * same row next to the other goals of issue 13).
 */
import { test } from '@playwright/test';
import { DECODER_CASES, loadStream, throughput } from './replay.js';

const PASSES = 15;

test('ZRLE and Tight decoders vs inflate alone on the recorded sessions', async () => {
  const lines = ['| decoder | recordings | decoder MB/s | inflate alone MB/s | share of inflate |', '|---|---|--:|--:|--:|'];
  for (const { label, number, recordings } of DECODER_CASES) {
    const result = throughput(await Promise.all(recordings.map(loadStream)), number, PASSES);
    if (!result?.inflateMBs) throw new Error(`${label}: the recordings have no rectangles of that encoding`);
    lines.push(`| ${label} | ${recordings.join(', ')} | ${result.decoderMBs.toFixed(0)} | ${result.inflateMBs.toFixed(0)} | ${(result.decoderMBs / result.inflateMBs).toFixed(2)}× |`);
  }
  console.log(`\n${lines.join('\n')}\n`);
});
