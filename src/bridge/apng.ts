/**
 * Animated PNG (APNG) encoder for screen recordings. Browsers, Playwright's report and most image
 * viewers play APNG; programs that only know PNG show the first frame.
 *
 * Output stays small: after the first frame, each frame stores only the rectangle that changed
 * since the one before (an fcTL sub-frame drawn over the previous picture), and frames identical
 * to the one before are merged into it by adding their delays. Pixels are stored as 8-bit RGB
 * (screens have no transparency; alpha is dropped) with the PNG "Up" filter and deflate.
 */
import { deflateSync } from 'node:zlib';
import { VNCInputError } from '../errors.js';
import { PNG_SIGNATURE as SIGNATURE, pngChunk as chunk } from '../rfb/encodings/png.js';
import type { Frame, Rect } from '../rfb/framebuffer.js';

export interface ApngOptions {
  /** How many times to play; 0 (default) loops forever. */
  loops?: number;
  /** Deflate level, 1 (fastest) to 9 (smallest). Default 6. */
  level?: number;
}

/** A delay in milliseconds as the fraction fcTL stores (16-bit numerator and denominator). */
function delayFraction(ms: number): [number, number] {
  let den = 1000;
  let num = Math.round(ms);
  while (num > 0xffff && den > 1) {
    den /= 10;
    num = Math.round((ms * den) / 1000);
  }
  return [Math.min(num, 0xffff), den];
}

/** `frame` on a canvas of the given size: copied to the top-left, cropped or padded with black. */
function fit(frame: Frame, width: number, height: number): Buffer {
  if (frame.width === width && frame.height === height) return frame.data;
  const out = Buffer.alloc(width * height * 4);
  const rowBytes = Math.min(width, frame.width) * 4;
  for (let y = 0; y < Math.min(height, frame.height); y++) frame.data.copy(out, y * width * 4, y * frame.width * 4, y * frame.width * 4 + rowBytes);
  return out;
}

/** The smallest rectangle holding every pixel whose R, G or B differs, or null when none does. */
function changedRect(before: Buffer, after: Buffer, width: number, height: number): Rect | null {
  let top = -1;
  let bottom = -1;
  let left = width;
  let right = -1;
  const differs = (i: number) => before[i] !== after[i] || before[i + 1] !== after[i + 1] || before[i + 2] !== after[i + 2];
  for (let y = 0; y < height; y++) {
    const row = y * width * 4;
    // Whole equal rows are the common case: skip them with one comparison.
    if (before.compare(after, row, row + width * 4, row, row + width * 4) === 0) continue;
    let first = 0;
    while (first < width && !differs(row + first * 4)) first++;
    if (first === width) continue; // only alpha differs
    let last = width - 1;
    while (!differs(row + last * 4)) last--;
    if (top < 0) top = y;
    bottom = y;
    left = Math.min(left, first);
    right = Math.max(right, last);
  }
  return top < 0 ? null : { x: left, y: top, width: right - left + 1, height: bottom - top + 1 };
}

/** The rectangle's pixels as filtered PNG scanlines (RGB, filter "Up"), deflated. */
function compressRect(data: Buffer, canvasWidth: number, rect: Rect, level: number): Buffer {
  const rowBytes = rect.width * 3;
  const raw = Buffer.alloc((rowBytes + 1) * rect.height);
  let previous = Buffer.alloc(rowBytes);
  let current = Buffer.alloc(rowBytes);
  for (let y = 0; y < rect.height; y++) {
    let i = ((rect.y + y) * canvasWidth + rect.x) * 4;
    for (let j = 0; j < rowBytes; j += 3, i += 4) {
      current[j] = data[i];
      current[j + 1] = data[i + 1];
      current[j + 2] = data[i + 2];
    }
    const o = y * (rowBytes + 1);
    raw[o] = 2; // Up: each byte minus the one above it
    for (let j = 0; j < rowBytes; j++) raw[o + 1 + j] = (current[j] - previous[j]) & 0xff;
    [previous, current] = [current, previous];
  }
  return deflateSync(raw, { level });
}

function checkFrame(frame: Frame, index: number): void {
  const { width, height, data } = frame ?? ({} as Frame);
  const whole = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0x7fffffff;
  if (!whole(width) || !whole(height) || !(data instanceof Uint8Array) || data.length < width * height * 4) {
    throw new VNCInputError(`Frame ${index} is not an RGBA frame with width, height > 0 and width × height × 4 bytes of data.`);
  }
}

/**
 * Encodes frames as an animated PNG: frame i shows for `delaysMs[i]` milliseconds. The animation
 * has the first frame's size; a frame of another size is drawn at the top-left, cropped or padded
 * with black. Throws VNCInputError for no frames, or delays that are missing or not ≥ 0.
 */
export function encodeApng(frames: Frame[], delaysMs: number[], options: ApngOptions = {}): Buffer {
  if (!Array.isArray(frames) || frames.length === 0) throw new VNCInputError('encodeApng needs at least one frame.');
  if (!Array.isArray(delaysMs) || delaysMs.length !== frames.length) {
    throw new VNCInputError(`encodeApng needs one delay per frame: got ${frames.length} frames and ${Array.isArray(delaysMs) ? delaysMs.length : 'no'} delays.`);
  }
  delaysMs.forEach((ms, i) => {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new VNCInputError(`Delay ${i} must be a number of milliseconds ≥ 0, got ${JSON.stringify(ms)}.`);
  });
  const { loops = 0, level = 6 } = options;
  if (!Number.isInteger(loops) || loops < 0 || loops > 0x7fffffff) throw new VNCInputError(`loops must be a whole number ≥ 0, got ${JSON.stringify(loops)}.`);
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new VNCInputError(`level must be a whole number from 0 to 9, got ${JSON.stringify(level)}.`);
  frames.forEach(checkFrame);

  const { width, height } = frames[0];
  // Which rectangle each stored frame covers, and for how long it shows.
  const stored: { data: Buffer; rect: Rect; delayMs: number }[] = [];
  let previous: Buffer | undefined;
  frames.forEach((frame, i) => {
    const data = fit(frame, width, height);
    const rect = previous === undefined ? { x: 0, y: 0, width, height } : changedRect(previous, data, width, height);
    if (rect === null) stored[stored.length - 1].delayMs += delaysMs[i];
    else stored.push({ data, rect, delayMs: delaysMs[i] });
    previous = data;
  });

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bits per channel
  ihdr[9] = 2; // RGB
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(stored.length, 0);
  actl.writeUInt32BE(loops, 4);
  const chunks = [SIGNATURE, chunk('IHDR', ihdr), chunk('acTL', actl)];

  let sequence = 0;
  stored.forEach(({ data, rect, delayMs }, index) => {
    const fctl = Buffer.alloc(26);
    const [num, den] = delayFraction(delayMs);
    fctl.writeUInt32BE(sequence++, 0);
    fctl.writeUInt32BE(rect.width, 4);
    fctl.writeUInt32BE(rect.height, 8);
    fctl.writeUInt32BE(rect.x, 12);
    fctl.writeUInt32BE(rect.y, 16);
    fctl.writeUInt16BE(num, 20);
    fctl.writeUInt16BE(den, 22);
    fctl[24] = 0; // dispose: leave the picture as it is
    fctl[25] = 0; // blend: replace the rectangle
    chunks.push(chunk('fcTL', fctl));
    const compressed = compressRect(data, width, rect, level);
    if (index === 0) {
      chunks.push(chunk('IDAT', compressed));
    } else {
      const seq = Buffer.alloc(4);
      seq.writeUInt32BE(sequence++, 0);
      chunks.push(chunk('fdAT', Buffer.concat([seq, compressed])));
    }
  });
  chunks.push(chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(chunks);
}
