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

/** RGB scanlines with the "Sub" filter (good on screen content: flat areas and text). */
function filteredRows(frame: Frame): Buffer {
  const { width, height, data } = frame;
  const stride = 1 + width * 3;
  const out = Buffer.allocUnsafe(stride * height);
  for (let y = 0; y < height; y++) {
    let o = y * stride;
    let i = y * width * 4;
    out[o++] = 1;
    let r = 0;
    let g = 0;
    let b = 0;
    for (let x = 0; x < width; x++, i += 4) {
      const R = data[i];
      const G = data[i + 1];
      const B = data[i + 2];
      out[o++] = (R - r) & 0xff;
      out[o++] = (G - g) & 0xff;
      out[o++] = (B - b) & 0xff;
      r = R;
      g = G;
      b = B;
    }
  }
  return out;
}

/** Encodes an RGBA frame as an RGB PNG (screens have no transparency); lossless. */
export async function encodePngAsync(frame: Frame, level = 6): Promise<Buffer> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(frame.width, 0);
  header.writeUInt32BE(frame.height, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // RGB
  const compressed = await deflateAsync(filteredRows(frame), { level });
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', compressed), chunk('IEND', Buffer.alloc(0))]);
}

/** A stable id for a frame's size and pixels (what the trace names its image by). */
export function frameId(frame: Frame): string {
  const size = Buffer.alloc(8);
  size.writeUInt32BE(frame.width, 0);
  size.writeUInt32BE(frame.height, 4);
  return createHash('sha1').update(size).update(frame.data).digest('hex');
}
