/**
 * Tight decoding throughput on the recorded sessions (run with `npm run bench`): megabytes of
 * output pixels (4 bytes a pixel) per second of decoder time, JPEG rectangles apart from the rest.
 * Prints figures and asserts nothing about time.
 */
import { test } from '@playwright/test';

import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { Encoding } from '../../src/rfb/constants.js';
import type { Decoder } from '../../src/rfb/encodings/decoder.js';
import { createTightDecoder } from '../../src/rfb/encodings/tight.js';
import { Framebuffer } from '../../src/rfb/framebuffer.js';
import { ServerMessageParser } from '../../src/rfb/server-messages.js';
import { readRecording, splitHandshake } from '../support/record-session.js';
import { ignoringHandler } from '../support/parser-handler.js';

const RECORDINGS = ['xvnc-tight', 'x11vnc-tight', 'qemu-tight', 'qemu-tight-gradient', 'xvnc-tight-jpeg', 'qemu-tight-jpeg'];
const RUNS = 15;

interface Totals {
  pixels: number;
  ms: number;
}

const KINDS = ['fill', 'copy', 'palette', 'gradient', 'jpeg'] as const;
type Kind = (typeof KINDS)[number];
type Figures = Record<Kind | 'lossless', Totals>;

/** The compression type (and filter) of the Tight rectangle at the head of the queue. */
function kindOf(control: number, filter: number): Kind {
  const type = control >> 4;
  if (type === 8) return 'fill';
  if (type === 9) return 'jpeg';
  if (!(control & 0x40)) return 'copy';
  return filter === 1 ? 'palette' : filter === 2 ? 'gradient' : 'copy';
}

/** One pass over a session's messages: decoder time and pixels by kind of rectangle. */
function pass(width: number, height: number, messages: Buffer): Figures {
  const figures = Object.fromEntries([...KINDS, 'lossless'].map((kind) => [kind, { pixels: 0, ms: 0 }])) as Figures;
  const tight = createTightDecoder();
  let kind: Kind | undefined;
  const timed: Decoder = {
    name: tight.name,
    decode(rect, queue, framebuffer) {
      if (rect.progress === 0 && kind === undefined && queue.has(2)) kind = kindOf(queue.peekU8(0), queue.peekU8(1));
      const start = performance.now();
      const done = tight.decode(rect, queue, framebuffer);
      const ms = performance.now() - start;
      const totals = [figures[kind ?? 'copy'], ...(kind === 'jpeg' ? [] : [figures.lossless])];
      for (const t of totals) {
        t.ms += ms;
        if (done) t.pixels += rect.width * rect.height;
      }
      if (done) kind = undefined;
      return done;
    },
  };
  const parser = new ServerMessageParser(
    new Framebuffer(width, height),
    ignoringHandler(),
    { advertised: new Set(Object.values(Encoding).filter((number) => number < 0)), decoders: new Map([[Encoding.Tight, timed]]) },
  );
  const queue = new ByteQueue();
  queue.push(messages);
  parser.parse(queue);
  return figures;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

test('Tight decoding throughput on the recordings', () => {
  const columns: (Kind | 'lossless')[] = ['lossless', ...KINDS];
  const lines = [`| recording | MPixels | ${columns.join(' | ')} |`, `|---|---|${columns.map(() => '---').join('|')}|`];
  for (const name of RECORDINGS) {
    const { meta, bytes } = readRecording(name);
    const session = splitHandshake(bytes, meta.securityType);
    const runs = Array.from({ length: RUNS }, () => pass(session.width, session.height, session.messages));
    const rate = (kind: Kind | 'lossless') => {
      const pixels = runs[0][kind].pixels;
      if (pixels === 0) return '–';
      return ((pixels * 4) / 1e6 / (median(runs.map((run) => run[kind].ms)) / 1000)).toFixed(0);
    };
    const pixels = runs[0].lossless.pixels + runs[0].jpeg.pixels;
    lines.push(`| ${name} | ${(pixels / 1e6).toFixed(2)} | ${columns.map(rate).join(' | ')} |`);
  }
  console.log(`\nTight decoder throughput: MB of RGBX output per second of decoder time (median of ${RUNS} passes)\n${lines.join('\n')}`);
});
