/**
 * PNG encoding that keeps the test running: rows are filtered here, and the deflate — most of
 * the cost — runs on libuv's thread pool, so recording a trace hardly blocks the event loop.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import { crc32 } from '../bridge/apng.js';
import type { Frame } from '../rfb/framebuffer.js';

const deflateAsync = promisify(deflate);
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc32(head.subarray(4), data), 0);
  return Buffer.concat([head, data, tail]);
}

/**
 * RGBA scanlines, unfiltered: a copy per row, so the event loop does almost nothing and deflate
 * (on the thread pool) does the work. On screen content this is ~10 % larger than RGB with the
 * Sub filter, at a seventh of the main-thread time (specs/bench/trace.bench.ts).
 */
function scanlines(frame: Frame): Buffer {
  const { width, height, data } = frame;
  const row = width * 4;
  const out = Buffer.allocUnsafe((row + 1) * height);
  for (let y = 0; y < height; y++) {
    out[y * (row + 1)] = 0;
    data.copy(out, y * (row + 1) + 1, y * row, (y + 1) * row);
  }
  return out;
}

/** Encodes an RGBA frame (alpha 255, as captures are) as an RGBA PNG; lossless. */
export async function encodePngAsync(frame: Frame, level = 6): Promise<Buffer> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(frame.width, 0);
  header.writeUInt32BE(frame.height, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  const compressed = await deflateAsync(scanlines(frame), { level });
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', compressed), chunk('IEND', Buffer.alloc(0))]);
}

/** A stable id for a frame's size and pixels (what the trace names its image by). */
export function frameId(frame: Frame): string {
  const size = Buffer.alloc(8);
  size.writeUInt32BE(frame.width, 0);
  size.writeUInt32BE(frame.height, 4);
  return createHash('sha1').update(size).update(frame.data).digest('hex');
}
