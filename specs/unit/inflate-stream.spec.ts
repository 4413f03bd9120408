/**
 * InflateStream: one zlib stream per connection, inflated chunk by chunk. The compressed side is
 * Node's own streaming Deflate with a sync flush after every chunk (what RFB servers do), so the
 * two sides are independent. Both of InflateStream's paths (the persistent native handle and the
 * dictionary fallback) are held to the same bytes.
 */
import zlib from 'node:zlib';

import { expect, test } from '@playwright/test';

import { VNCProtocolError } from '../../src/errors.js';
import { InflateStream, MAX_INFLATE_BYTES, compressedLengthBound } from '../../src/rfb/encodings/inflate-stream.js';
import { deflateChunks } from '../support/deflate.js';
import { prng, randomInt } from '../support/rfb-bytes.js';

/** Screen-like bytes: flat runs, repeats of earlier bytes (also far back) and noise. */
function screenLike(size: number, random: () => number, history: Buffer): Buffer {
  const out = Buffer.alloc(size);
  let at = 0;
  while (at < size) {
    const kind = random();
    const length = Math.min(size - at, randomInt(random, 1, 600));
    if (kind < 0.2) for (let i = 0; i < length; i++) out[at + i] = randomInt(random, 0, 255);
    else if (kind < 0.55) out.fill(randomInt(random, 0, 3) * 80, at, at + length);
    else {
      // Repeats from up to 32 KiB back, across chunk boundaries (into the previous chunks).
      const joined = Buffer.concat([history.subarray(-32768), out.subarray(0, at)]);
      const back = randomInt(random, 1, Math.min(32768, Math.max(1, joined.length)));
      for (let i = 0; i < length; i++) {
        const source = joined.length - back + i;
        out[at + i] = source < joined.length ? joined[source] : out[at + i - back];
      }
    }
    at += length;
  }
  return out;
}

const MODES = [
  { name: 'native', fallback: false },
  { name: 'dictionary fallback', fallback: true },
];

test('the native path is available on this Node', () => {
  expect(new InflateStream('test').mode).toBe('native');
  expect(new InflateStream('test', { fallback: true }).mode).toBe('dictionary');
});

for (const mode of MODES) {
  test.describe(mode.name, () => {
    test('inflates one stream chunk by chunk, byte for byte (sizes 0 B to 1 MiB, levels 1, 6, 9)', async () => {
      for (const level of [1, 6, 9]) {
        const random = prng(level * 7919);
        const sizes = [0, 1, 2, 17, 300, 4096, 0, 40000, 1 << 20, 5, 65536, 70000, 3, 131072];
        const plain: Buffer[] = [];
        let history = Buffer.alloc(0);
        for (const size of sizes) {
          const chunk = screenLike(size, random, history);
          plain.push(chunk);
          history = Buffer.concat([history, chunk]).subarray(-65536);
        }
        const compressed = await deflateChunks(plain, { level });
        const stream = new InflateStream('test', { fallback: mode.fallback });
        expect(stream.mode).toBe(mode.fallback ? 'dictionary' : 'native');
        for (let i = 0; i < plain.length; i++) {
          const out = i % 2 === 0 ? stream.inflate(compressed[i], plain[i].length) : Buffer.from(stream.inflateAll(compressed[i], plain[i].length));
          expect(out.length).toBe(plain[i].length);
          expect(out.equals(plain[i]), `chunk ${i} (${plain[i].length} bytes, level ${level})`).toBe(true);
        }
      }
    });

    test('inflateAll grows its buffer and accepts output up to the limit exactly', async () => {
      const random = prng(5);
      const plain = [screenLike(300_000, random, Buffer.alloc(0)), Buffer.alloc(10, 1)];
      const compressed = await deflateChunks(plain);
      const stream = new InflateStream('test', { fallback: mode.fallback });
      expect(stream.inflateAll(compressed[0], 300_000).equals(plain[0])).toBe(true);
      expect(() => stream.inflateAll(compressed[1], 9)).toThrow(/more than the allowed 9 bytes/);
    });

    test('output shorter or longer than expected is a protocol error', async () => {
      const compressed = await deflateChunks([Buffer.alloc(100, 9)]);
      expect(() => new InflateStream('ZRLE', { fallback: mode.fallback }).inflate(compressed[0], 101)).toThrow(VNCProtocolError);
      expect(() => new InflateStream('ZRLE', { fallback: mode.fallback }).inflate(compressed[0], 101)).toThrow(/inflates to 100 bytes, expected 101/);
      expect(() => new InflateStream('ZRLE', { fallback: mode.fallback }).inflate(compressed[0], 99)).toThrow(/more than the expected 99 bytes/);
      expect(new InflateStream('ZRLE', { fallback: mode.fallback }).inflate(compressed[0], 100).equals(Buffer.alloc(100, 9))).toBe(true);
    });

    test('corrupt data is a protocol error naming the stream and the context, and the stream stays broken until reset', async () => {
      const compressed = await deflateChunks([Buffer.from('hello hello hello'), Buffer.from('again')]);
      const stream = new InflateStream('Tight stream 1', { fallback: mode.fallback });
      const bad = Buffer.from(compressed[0]);
      bad[2] = 0xff; // an invalid block type right after the header
      const attempt = () => stream.inflate(bad, 17, 'Tight rectangle 8x8 at (0,0)');
      expect(attempt).toThrow(VNCProtocolError);
      expect(() => stream.inflate(compressed[1], 5)).toThrow(/unusable after an earlier error/);
      stream.reset();
      expect(stream.inflate(compressed[0], 17).toString()).toBe('hello hello hello');
      expect(stream.inflate(compressed[1], 5).toString()).toBe('again');
      try {
        new InflateStream('Tight stream 1', { fallback: mode.fallback }).inflate(bad, 17, 'Tight rectangle 8x8 at (0,0)');
        throw new Error('no error');
      } catch (error) {
        expect(error).toBeInstanceOf(VNCProtocolError);
        expect((error as Error).message).toMatch(/^Tight rectangle 8x8 at \(0,0\): the compressed data \(Tight stream 1\) is not valid zlib data/);
      }
    });

    test('a stream that does not start with a zlib header is refused', () => {
      expect(() => new InflateStream('zlib', { fallback: mode.fallback }).inflate(Buffer.from([0x12, 0x34, 0, 0, 0xff, 0xff]), 0)).toThrow(VNCProtocolError);
    });

    test('data after the end of the zlib stream is refused', () => {
      const whole = zlib.deflateSync(Buffer.from('abc')); // ends the stream (final block + checksum)
      const stream = new InflateStream('zlib', { fallback: mode.fallback });
      if (mode.fallback) {
        // The fallback cannot see past a final block; it must at least not return wrong bytes.
        expect(stream.inflate(whole, 3).toString()).toBe('abc');
      } else {
        expect(() => stream.inflate(Buffer.concat([whole, Buffer.from([1, 2, 3])]), 3)).toThrow(/after the end of the zlib stream/);
      }
    });
  });
}

test('lengths above the limit are refused before anything is allocated', () => {
  const stream = new InflateStream('zlib');
  const before = process.memoryUsage().arrayBuffers;
  expect(() => stream.inflate(Buffer.from([0x78, 0x9c]), MAX_INFLATE_BYTES + 1)).toThrow(/more than the limit/);
  expect(() => stream.inflate(Buffer.from([0x78, 0x9c]), 0xffffffff)).toThrow(VNCProtocolError);
  expect(() => stream.inflateAll(Buffer.from([0x78, 0x9c]), 2 ** 40)).toThrow(VNCProtocolError);
  expect(() => stream.inflate(Buffer.from([0x78, 0x9c]), -1)).toThrow(VNCProtocolError);
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  // The refusal leaves the stream usable.
  expect(stream.inflate(Buffer.from([0x78, 0x9c]), 0).length).toBe(0);
});

test('compressedLengthBound covers incompressible data', () => {
  for (const size of [0, 1, 1000, 65535, 65536, 1 << 20]) {
    const random = prng(size + 1);
    const noise = Buffer.alloc(size);
    for (let i = 0; i < size; i++) noise[i] = randomInt(random, 0, 255);
    expect(zlib.deflateSync(noise, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).length).toBeLessThanOrEqual(compressedLengthBound(size));
  }
});
