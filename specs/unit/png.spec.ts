/**
 * The PNG codec (encodePng/decodePng and their async variants): what it writes reads back pixel
 * for pixel here, in pngjs and in ImageMagick; it reads what pngjs and ImageMagick write in every
 * colour type and row filter (16-bit and interlaced files too); broken files are input errors.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { decodePng, decodePngAsync, encodePng, encodePngAsync, VNCInputError, type Frame } from '../../src/index.js';

const { PNG } = createRequire(import.meta.url)('pngjs') as typeof import('pngjs');
const CONVERT = '/usr/bin/convert';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A screen-like picture: flat areas, text-like noise, a gradient; alpha 255 (as the framebuffer keeps it). */
function screenLike(width: number, height: number, seed: number): Frame {
  const next = random(seed);
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const band = Math.floor((x * 4) / width);
      const [r, g, b] =
        band === 0 ? [30, 60, 90] : band === 1 ? (next() < 0.3 ? [0, 0, 0] : [255, 255, 255]) : band === 2 ? [x & 255, y & 255, (x + y) & 255] : [next() * 256, next() * 256, next() * 256];
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

function rgbOf(frame: Frame): Buffer {
  const out = Buffer.alloc(frame.width * frame.height * 3);
  for (let i = 0, o = 0; o < out.length; i += 4, o += 3) frame.data.copy(out, o, i, i + 3);
  return out;
}

function pngjsRead(bytes: Buffer): Frame {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, data: png.data };
}

test.describe('encodePng', () => {
  for (const [width, height] of [
    [1, 1],
    [3, 7],
    [257, 31],
    [1920, 1080],
  ] as const) {
    test(`${width}x${height}: decodePng, pngjs and the async variants give back every pixel`, async () => {
      const frame = screenLike(width, height, width * 31 + height);
      const png = encodePng(frame);
      expect(png.subarray(0, 8).toString('latin1')).toBe('\x89PNG\r\n\x1a\n');
      const back = decodePng(png);
      expect([back.width, back.height]).toEqual([width, height]);
      expect(back.data.equals(frame.data)).toBe(true);
      expect(pngjsRead(png).data.equals(frame.data)).toBe(true);
      const asyncPng = await encodePngAsync(frame);
      expect(asyncPng.equals(png)).toBe(true);
      expect((await decodePngAsync(asyncPng)).data.equals(frame.data)).toBe(true);
    });
  }

  test('encodePngAsync(frame, region) encodes that part of the frame, without a copy', async () => {
    const frame = screenLike(120, 50, 21);
    const region = { x: 7, y: 3, width: 61, height: 29 };
    const crop = Buffer.alloc(region.width * region.height * 4);
    for (let row = 0; row < region.height; row++) {
      frame.data.copy(crop, row * region.width * 4, ((region.y + row) * frame.width + region.x) * 4, ((region.y + row) * frame.width + region.x + region.width) * 4);
    }
    const png = await encodePngAsync(frame, region);
    expect(png.equals(encodePng({ width: region.width, height: region.height, data: crop }))).toBe(true);
    expect(decodePng(png).data.equals(crop)).toBe(true);
    await expect(encodePngAsync(frame, { x: 100, y: 0, width: 30, height: 5 })).rejects.toThrow(/not inside the 120x50 frame/);
    await expect(encodePngAsync(frame, { x: 0, y: 0, width: 0, height: 5 })).rejects.toThrow(VNCInputError);
  });

  test('pixels at an unaligned offset (read a byte at a time) encode to the same file', () => {
    // 700×600 is filtered and compressed in several bands.
    const frame = screenLike(700, 600, 8);
    const backing = new ArrayBuffer(frame.data.length + 1);
    const unaligned = Buffer.from(backing, 1, frame.data.length);
    frame.data.copy(unaligned);
    expect(encodePng({ ...frame, data: unaligned }).equals(encodePng(frame))).toBe(true);
  });

  test('alpha is dropped: the file is RGB and reads back opaque', () => {
    const frame = screenLike(16, 8, 3);
    for (let i = 3; i < frame.data.length; i += 4) frame.data[i] = i & 0xff;
    const png = encodePng(frame);
    expect(png[25]).toBe(2); // IHDR colour type: RGB
    const back = decodePng(png);
    expect(rgbOf(back).equals(rgbOf(frame))).toBe(true);
    for (let i = 3; i < back.data.length; i += 4) expect(back.data[i]).toBe(255);
  });

  test('ImageMagick reads what it writes, pixel for pixel (libpng checks the zlib checksum)', async () => {
    test.skip(!existsSync(CONVERT), 'ImageMagick (/usr/bin/convert) is not installed: scripts/setup.sh installs it');
    // Large enough to be compressed in several bands, each its own deflate stream under one Adler-32.
    const frame = screenLike(1001, 700, 9);
    const dir = await mkdtemp(join(tmpdir(), 'vnc-png-'));
    try {
      await writeFile(join(dir, 'ours.png'), encodePng(frame));
      const rgb = execFileSync(CONVERT, [join(dir, 'ours.png'), '-depth', '8', 'rgb:-'], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
      expect(rgb.equals(rgbOf(frame))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a screen-like 1080p frame is written smaller than pngjs writes it', () => {
    const frame = screenLike(1920, 1080, 5);
    const theirs = new PNG({ width: frame.width, height: frame.height, colorType: 2, inputColorType: 6, inputHasAlpha: true });
    theirs.data = frame.data;
    const pngjsBytes = PNG.sync.write(theirs, { colorType: 2, inputColorType: 6, inputHasAlpha: true, filterType: 1 }).length;
    expect(encodePng(frame).length).toBeLessThan(pngjsBytes);
  });

  test('bad frames are input errors that say what is wrong', () => {
    expect(() => encodePng({ width: 0, height: 5, data: Buffer.alloc(0) })).toThrow(VNCInputError);
    expect(() => encodePng({ width: 4, height: 4, data: Buffer.alloc(10) })).toThrow(/4x4 PNG from 10 bytes: RGBA needs 64/);
  });
});

test.describe('decodePng', () => {
  const source = screenLike(67, 23, 11);
  // Some transparency, so alpha channels are really read.
  for (let i = 3; i < source.data.length; i += 28) source.data[i] = (i * 7) & 0xff;

  for (const colorType of [0, 2, 4, 6] as const) {
    for (const filterType of [0, 1, 2, 3, 4]) {
      test(`pngjs's colour type ${colorType}, filter ${filterType}: the same pixels as pngjs reads`, () => {
        const png = new PNG({ width: source.width, height: source.height, colorType, inputColorType: 6, inputHasAlpha: true });
        png.data = Buffer.from(source.data);
        const bytes = PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true, filterType });
        expect(decodePng(bytes).data.equals(pngjsRead(bytes).data)).toBe(true);
      });
    }
  }

  for (const [name, args] of [
    ['palette (PNG8)', ['PNG8:']],
    ['palette with transparency', ['-alpha', 'on', 'PNG8:']],
    ['grey', ['-colorspace', 'Gray', '-type', 'Grayscale', 'PNG:']],
    ['16-bit RGBA', ['-depth', '16', 'PNG64:']],
    ['interlaced', ['-interlace', 'PNG', 'PNG24:']],
    ['2-bit palette', ['-colors', '4', 'PNG8:']],
  ] as const) {
    test(`ImageMagick's ${name}: the same pixels as pngjs reads`, async () => {
      test.skip(!existsSync(CONVERT), 'ImageMagick (/usr/bin/convert) is not installed: scripts/setup.sh installs it');
      const dir = await mkdtemp(join(tmpdir(), 'vnc-png-'));
      try {
        const input = join(dir, 'in.png');
        await writeFile(input, encodePng(screenLike(45, 19, 4)));
        const prefix = args[args.length - 1];
        const output = join(dir, 'out.png');
        execFileSync(CONVERT, [input, ...args.slice(0, -1), `${prefix}${output}`], { timeout: 30_000 });
        const bytes = await readFile(output);
        const ours = decodePng(bytes);
        const theirs = pngjsRead(bytes);
        expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
        expect(ours.data.equals(theirs.data)).toBe(true);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  test('broken files are input errors that say what is wrong', async () => {
    const good = encodePng(screenLike(20, 10, 1));
    expect(() => decodePng(Buffer.from('not a png at all, but long enough to have a header'))).toThrow(/does not start with the PNG signature/);
    expect(() => decodePng(good.subarray(0, 40))).toThrow(VNCInputError);
    const corrupt = Buffer.from(good);
    corrupt.fill(0x55, 45, 60); // inside the IDAT's compressed data
    expect(() => decodePng(corrupt)).toThrow(/cannot be decompressed/);
    await expect(decodePngAsync(corrupt)).rejects.toThrow(/cannot be decompressed/);
  });

  test('a 1x1 header over megabytes of image data is refused, not inflated', () => {
    const good = encodePng(screenLike(1, 1, 1));
    const bomb = deflateSync(Buffer.alloc(50 * 1024 * 1024));
    const ihdr = good.subarray(0, 33);
    const idat = Buffer.alloc(12 + bomb.length);
    idat.writeUInt32BE(bomb.length, 0);
    idat.write('IDAT', 4, 'latin1');
    bomb.copy(idat, 8);
    const file = Buffer.concat([ihdr, idat, good.subarray(good.length - 12)]);
    expect(() => decodePng(file)).toThrow(/cannot be decompressed/);
  });
});
