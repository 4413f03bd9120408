/**
 * Image tools: pixel comparison (compareFrames, checkMatch), template search (findImage,
 * closestMatch) checked against a brute-force search, and the APNG encoder checked chunk by chunk,
 * by decoding every frame, and by ImageMagick.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { closestMatch, compareFrames, checkMatch, decodePng, encodeApng, encodePng, findImage, loadImage, VNCInputError, type Frame } from '../../src/index.js';

// ---- helpers -----------------------------------------------------------------------------------

const { Transformer } = createRequire(import.meta.url)('@napi-rs/image') as typeof import('@napi-rs/image');

/** The frame after a round trip through JPEG at `quality` (what a Tight JPEG update does to a screen). */
function throughJpeg(frame: Frame, quality: number): Frame {
  const rgb = new Transformer(Transformer.fromRgbaPixels(frame.data, frame.width, frame.height).jpegSync(quality)).rawPixelsSync();
  const out = solid(frame.width, frame.height, [0, 0, 0]);
  const channels = rgb.length / (frame.width * frame.height);
  for (let p = 0; p < frame.width * frame.height; p++) out.data.set(rgb.subarray(p * channels, p * channels + 3), p * 4);
  return out;
}

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function solid(width: number, height: number, [r, g, b]: number[], alpha = 255): Frame {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = r;
    data[i + 1] = g;
    data[i + 2] = b;
    data[i + 3] = alpha;
  }
  return { width, height, data };
}

function noise(width: number, height: number, seed: number): Frame {
  const next = random(seed);
  const frame = solid(width, height, [0, 0, 0]);
  for (let i = 0; i < frame.data.length; i += 4) {
    frame.data[i] = Math.floor(next() * 256);
    frame.data[i + 1] = Math.floor(next() * 256);
    frame.data[i + 2] = Math.floor(next() * 256);
  }
  return frame;
}

function copyFrame(frame: Frame): Frame {
  return { width: frame.width, height: frame.height, data: Buffer.from(frame.data) };
}

function setPixel(frame: Frame, x: number, y: number, [r, g, b]: number[], alpha = 255): void {
  const i = (y * frame.width + x) * 4;
  frame.data[i] = r;
  frame.data[i + 1] = g;
  frame.data[i + 2] = b;
  frame.data[i + 3] = alpha;
}

function pixel(frame: Frame, x: number, y: number): number[] {
  const i = (y * frame.width + x) * 4;
  return [...frame.data.subarray(i, i + 4)];
}

function cut(frame: Frame, x: number, y: number, width: number, height: number): Frame {
  const out = Buffer.alloc(width * height * 4);
  for (let row = 0; row < height; row++) frame.data.copy(out, row * width * 4, ((y + row) * frame.width + x) * 4, ((y + row) * frame.width + x + width) * 4);
  return { width, height, data: out };
}

function paste(target: Frame, piece: Frame, x: number, y: number): void {
  for (let row = 0; row < piece.height; row++) piece.data.copy(target.data, ((y + row) * target.width + x) * 4, row * piece.width * 4, (row + 1) * piece.width * 4);
}

/** Adds up to ±amount to every channel. */
function jitter(frame: Frame, amount: number, seed: number): Frame {
  const next = random(seed);
  const out = copyFrame(frame);
  for (let i = 0; i < out.data.length; i++) {
    if (i % 4 === 3) continue;
    out.data[i] = Math.max(0, Math.min(255, out.data[i] + Math.round((next() * 2 - 1) * amount)));
  }
  return out;
}

/** The needle's opaque pixels and its distinctive ones (byte offsets), as the definition below says. */
function needlePixels(needle: Frame): { opaque: number[]; distinctive: number[] } {
  const opaque: number[] = [];
  for (let i = 0; i < needle.width * needle.height * 4; i += 4) if (needle.data[i + 3] >= 128) opaque.push(i);
  const median = [0, 1, 2].map((c) => {
    const values = opaque.map((i) => needle.data[i + c]).sort((a, b) => a - b);
    return values[(values.length - 1) >> 1];
  });
  const distance = (i: number) => [0, 1, 2].reduce((sum, c) => sum + Math.abs(needle.data[i + c] - median[c]), 0);
  const largest = Math.max(...opaque.map(distance));
  const distinctive = opaque.filter((i) => distance(i) >= 39 && distance(i) >= largest / 4);
  return { opaque, distinctive };
}

/**
 * Every position's similarity, the slow obvious way, from the definition: pixels with alpha below 128
 * are ignored; the needle's background is its per-channel median colour (the lower middle value for
 * an even count) and its distinctive pixels those whose R, G and B differ from it by 39 or more in
 * total and by at least a quarter of the most any pixel does; the similarity is the lesser of 1 − mean absolute difference / 255 over all pixels and over
 * the distinctive ones (over all pixels only, when none is distinctive). `overall`: the first alone.
 */
function bruteForce(haystack: Frame, needle: Frame): { x: number; y: number; similarity: number; overall: number }[] {
  const { opaque, distinctive } = needlePixels(needle);
  const difference = (x: number, y: number, pixels: number[]) => {
    let sum = 0;
    for (const n of pixels) {
      const nx = (n / 4) % needle.width;
      const ny = Math.floor(n / 4 / needle.width);
      const h = ((y + ny) * haystack.width + x + nx) * 4;
      for (let c = 0; c < 3; c++) sum += Math.abs(haystack.data[h + c] - needle.data[n + c]);
    }
    return sum;
  };
  const all: { x: number; y: number; similarity: number; overall: number }[] = [];
  for (let y = 0; y + needle.height <= haystack.height; y++) {
    for (let x = 0; x + needle.width <= haystack.width; x++) {
      const overall = 1 - difference(x, y, opaque) / (765 * opaque.length);
      const content = distinctive.length > 0 ? 1 - difference(x, y, distinctive) / (765 * distinctive.length) : 1;
      all.push({ x, y, similarity: Math.min(overall, content), overall });
    }
  }
  return all;
}

/** The similarity before distinctive pixels were scored separately: 1 − mean absolute difference / 255. */
function meanDifferenceSimilarity(haystack: Frame, needle: Frame, x: number, y: number): number {
  let sum = 0;
  for (let ny = 0; ny < needle.height; ny++) {
    for (let nx = 0; nx < needle.width; nx++) {
      const n = (ny * needle.width + nx) * 4;
      const h = ((y + ny) * haystack.width + x + nx) * 4;
      for (let c = 0; c < 3; c++) sum += Math.abs(haystack.data[h + c] - needle.data[n + c]);
    }
  }
  return 1 - sum / (765 * needle.width * needle.height);
}

/** 50×30 of white with seven "characters" of seven dark pixels each: 49 of its 1,500 pixels are text. */
function sparseText(seed: number): Frame {
  const next = random(seed);
  const frame = solid(50, 30, [255, 255, 255]);
  for (let character = 0; character < 7; character++) {
    const strokes = new Set<number>();
    while (strokes.size < 7) strokes.add(Math.floor(next() * 5) + 5 * Math.floor(next() * 9));
    for (const k of strokes) setPixel(frame, 4 + character * 6 + (k % 5), 10 + Math.floor(k / 5), [0, 0, 0]);
  }
  return frame;
}

/** A desktop-like 1920×1080 screen: flat background, windows, and rows of "text". */
function desktop(seed: number): Frame {
  const next = random(seed);
  const frame = solid(1920, 1080, [32, 64, 128]);
  const windows = [
    { x: 20, y: 20, width: 620, height: 400, bg: [255, 255, 255], fg: [0, 0, 0] },
    { x: 700, y: 100, width: 500, height: 520, bg: [0, 0, 0], fg: [230, 230, 230] },
    { x: 300, y: 620, width: 1100, height: 330, bg: [250, 250, 245], fg: [20, 20, 60] },
  ];
  for (const w of windows) {
    paste(frame, solid(w.width, w.height, w.bg), w.x, w.y);
    // Text: 6×13 cells, each with a few random strokes.
    for (let cy = w.y + 4; cy + 13 < w.y + w.height; cy += 13) {
      const lineLength = Math.floor(next() * (w.width / 6));
      for (let cx = w.x + 4, n = 0; n < lineLength && cx + 6 < w.x + w.width; cx += 6, n++) {
        if (next() < 0.15) continue;
        for (let k = 0; k < 10; k++) setPixel(frame, cx + Math.floor(next() * 5), cy + 2 + Math.floor(next() * 9), w.fg);
      }
    }
  }
  return frame;
}

// ---- compareFrames / checkMatch ----------------------------------------------------------------

test.describe('compareFrames', () => {
  test('identical frames: no difference, a faded grey diff image', () => {
    const frame = noise(40, 30, 1);
    const result = compareFrames(frame, copyFrame(frame));
    expect(result.diffPixels).toBe(0);
    expect(result.totalPixels).toBe(1200);
    expect(result.sizeMismatch).toBeUndefined();
    expect([result.diffImage.width, result.diffImage.height]).toEqual([40, 30]);
    for (let i = 0; i < result.diffImage.data.length; i += 4) {
      const [r, g, b] = result.diffImage.data.subarray(i, i + 3);
      expect(r === g && g === b && r >= 200).toBe(true); // grey, faded towards white
    }
  });

  test('one pixel off is one differing pixel, drawn red', () => {
    const expected = solid(20, 10, [200, 200, 200]);
    const actual = copyFrame(expected);
    setPixel(actual, 7, 3, [10, 20, 30]);
    const result = compareFrames(actual, expected);
    expect(result.diffPixels).toBe(1);
    expect(pixel(result.diffImage, 7, 3)).toEqual([255, 0, 0, 255]);
    expect(pixel(result.diffImage, 8, 3)).not.toEqual([255, 0, 0, 255]);
  });

  test('threshold: small colour shifts pass at the default 0.1 and count at 0', () => {
    const expected = solid(10, 10, [100, 100, 100]);
    const actual = solid(10, 10, [108, 108, 108]);
    expect(compareFrames(actual, expected).diffPixels).toBe(0);
    expect(compareFrames(actual, expected, { threshold: 0 }).diffPixels).toBe(100);
    const far = solid(10, 10, [180, 100, 100]);
    expect(compareFrames(far, expected).diffPixels).toBe(100);
    expect(compareFrames(far, expected, { threshold: 0.5 }).diffPixels).toBe(0);
    // Black against white is the largest difference there is, still below threshold 1.
    expect(compareFrames(solid(5, 5, [0, 0, 0]), solid(5, 5, [255, 255, 255]), { threshold: 1 }).diffPixels).toBe(0);
    expect(() => compareFrames(actual, expected, { threshold: 1.5 })).toThrow(VNCInputError);
    expect(() => compareFrames(actual, expected, { threshold: Number.NaN })).toThrow(/threshold/);
  });

  test('anti-aliased pixels are ignored (yellow) unless includeAA', () => {
    // A black | grey | white edge; only the grey (anti-aliasing) column differs.
    const make = (grey: number) => {
      const frame = solid(9, 9, [0, 0, 0]);
      for (let y = 0; y < 9; y++) {
        for (let x = 5; x < 9; x++) setPixel(frame, x, y, [255, 255, 255]);
        setPixel(frame, 4, y, [grey, grey, grey]);
      }
      return frame;
    };
    const result = compareFrames(make(90), make(170));
    expect(result.diffPixels).toBe(0);
    expect(pixel(result.diffImage, 4, 4)).toEqual([255, 255, 0, 255]);
    expect(compareFrames(make(90), make(170), { includeAA: true }).diffPixels).toBe(9);
  });

  test('masked areas never count and are shaded in the diff image', () => {
    const expected = solid(30, 20, [255, 255, 255]);
    const actual = copyFrame(expected);
    for (let y = 2; y < 6; y++) for (let x = 2; x < 8; x++) setPixel(actual, x, y, [0, 0, 0]); // 24 pixels
    setPixel(actual, 25, 15, [0, 0, 0]);
    expect(compareFrames(actual, expected).diffPixels).toBe(25);
    const masked = compareFrames(actual, expected, { mask: [{ x: 0, y: 0, width: 10, height: 10 }] });
    expect(masked.diffPixels).toBe(1);
    expect(masked.totalPixels).toBe(600);
    const shade = pixel(masked.diffImage, 3, 3);
    expect(shade[2]).toBeGreaterThan(shade[0]); // blue-tinted
    expect(pixel(masked.diffImage, 15, 15)).not.toEqual(shade);
    // A mask reaching off the image is clipped; two masks may overlap.
    const both = compareFrames(actual, expected, { mask: [{ x: 20, y: 10, width: 100, height: 100 }, { x: -5, y: -5, width: 12, height: 12 }, { x: 5, y: 2, width: 5, height: 5 }] });
    expect(both.diffPixels).toBe(0);
    expect(() => compareFrames(actual, expected, { mask: [{ x: 'a' } as never] })).toThrow(VNCInputError);
  });

  test('frames of different sizes: sizeMismatch, the common part compared, the rest counted', () => {
    const actual = solid(6, 3, [50, 50, 50]);
    const expected = solid(4, 4, [50, 50, 50]);
    setPixel(actual, 1, 1, [250, 0, 0]);
    const result = compareFrames(actual, expected);
    expect(result.sizeMismatch).toEqual({ actual: { w: 6, h: 3 }, expected: { w: 4, h: 4 } });
    expect(result.totalPixels).toBe(24);
    expect(result.diffPixels).toBe(1 + (24 - 12));
    expect([result.diffImage.width, result.diffImage.height]).toEqual([6, 4]);
    expect(pixel(result.diffImage, 5, 0)).toEqual([255, 0, 0, 255]);
    expect(pixel(result.diffImage, 0, 3)).toEqual([255, 0, 0, 255]);
    expect(checkMatch(result, { maxDiffPixels: 1000 })).toEqual({ pass: false, message: 'The sizes differ: actual 6x3, expected 4x4; 13 pixels (54.2 %) differ.' });
  });

  test('rejects frames whose data does not fit their size', () => {
    expect(() => compareFrames({ width: 2, height: 2, data: Buffer.alloc(15) }, solid(2, 2, [0, 0, 0]))).toThrow(/actual image is not an RGBA frame/);
  });

  test('a 1920×1080 comparison takes tens of milliseconds', () => {
    const expected = desktop(7);
    const actual = copyFrame(expected);
    paste(actual, solid(400, 300, [200, 30, 30]), 900, 500);
    const started = performance.now();
    const result = compareFrames(actual, expected);
    const ms = performance.now() - started;
    test.info().annotations.push({ type: 'timing', description: `compareFrames 1920x1080, 120,000 px changed: ${ms.toFixed(1)} ms` });
    expect(result.diffPixels).toBeGreaterThan(100_000);
    expect(ms).toBeLessThan(1000);
  });
});

test.describe('checkMatch', () => {
  const result = (diffPixels: number, totalPixels: number) => ({ diffPixels, totalPixels, diffImage: solid(1, 1, [0, 0, 0]) });

  test('says how many pixels differ and how many are allowed', () => {
    expect(checkMatch(result(1234, 200_000), { maxDiffPixels: 100 })).toEqual({ pass: false, message: '1,234 pixels (0.62 %) differ; allowed 100 (0.05 %).' });
    expect(checkMatch(result(12, 200_000), { maxDiffPixels: 100 })).toEqual({ pass: true, message: '12 pixels (< 0.01 %) differ; allowed 100 (0.05 %).' });
    expect(checkMatch(result(1, 100), { maxDiffPixels: 1 })).toEqual({ pass: true, message: '1 pixel (1 %) differ; allowed 1 (1 %).' });
    expect(checkMatch(result(30_000, 200_000), { maxDiffPixelRatio: 0.2 })).toEqual({ pass: true, message: '30,000 pixels (15 %) differ; allowed 40,000 (20 %).' });
  });

  test('no limit allows nothing; with both limits the stricter applies', () => {
    expect(checkMatch(result(0, 100))).toEqual({ pass: true, message: '0 pixels (0 %) differ; allowed 0 (0 %).' });
    expect(checkMatch(result(1, 100)).pass).toBe(false);
    expect(checkMatch(result(5, 1000), { maxDiffPixels: 10, maxDiffPixelRatio: 0.001 })).toEqual({ pass: false, message: '5 pixels (0.5 %) differ; allowed 1 (0.1 %).' });
    expect(checkMatch(result(5, 1000), { maxDiffPixels: 5, maxDiffPixelRatio: 0.5 }).pass).toBe(true);
    expect(() => checkMatch(result(5, 1000), { maxDiffPixels: -1 })).toThrow(VNCInputError);
    expect(() => checkMatch(result(5, 1000), { maxDiffPixelRatio: 2 })).toThrow(/maxDiffPixelRatio/);
  });
});

// ---- findImage ---------------------------------------------------------------------------------

test.describe('findImage', () => {
  const haystack = noise(160, 120, 42);

  test('finds an exact cut-out where it was cut, with similarity 1', () => {
    const needle = cut(haystack, 37, 81, 24, 16);
    expect(findImage(haystack, needle)).toEqual({ x: 37, y: 81, width: 24, height: 16, similarity: 1 });
    // The whole haystack is its own only match.
    expect(findImage(haystack, haystack)).toEqual({ x: 0, y: 0, width: 160, height: 120, similarity: 1 });
  });

  test('a near match is found at similarity 0.9 but not at 0.99', () => {
    const needle = jitter(cut(haystack, 90, 12, 30, 20), 30, 5);
    const match = findImage(haystack, needle, { similarity: 0.9 });
    expect(match).toMatchObject({ x: 90, y: 12 });
    expect(match!.similarity).toBeGreaterThan(0.9);
    expect(match!.similarity).toBeLessThan(0.99);
    expect(findImage(haystack, needle, { similarity: 0.99 })).toBeNull();
    // The default (0.95) sits between: ±30 noise averages 15 levels, about 0.94.
    expect(findImage(haystack, needle)).toBeNull();
  });

  test('no match gives null; closestMatch still says where the best place is', () => {
    const needle = noise(20, 20, 999);
    expect(findImage(haystack, needle)).toBeNull();
    expect(findImage(haystack, needle, { all: true })).toEqual([]);
    const closest = closestMatch(haystack, needle);
    expect(closest.similarity).toBeGreaterThan(0.5);
    expect(closest.similarity).toBeLessThan(0.9);
    const exact = bruteForce(haystack, needle).find((c) => c.x === closest.x && c.y === closest.y)!;
    expect(closest.similarity).toBeCloseTo(exact.similarity, 10);
  });

  test('the haystack’s alpha is never read (the framebuffer’s fourth byte is padding)', () => {
    const padded = copyFrame(haystack);
    for (let i = 3; i < padded.data.length; i += 4) padded.data[i] = 0;
    const needle = cut(haystack, 100, 70, 32, 24);
    expect(findImage(padded, needle)).toMatchObject({ x: 100, y: 70, similarity: 1 });
    const shifted = jitter(needle, 40, 9);
    expect(closestMatch(padded, shifted)).toMatchObject({ x: 100, y: 70 });
  });

  test('transparent needle pixels are ignored: an irregular cut-out matches', () => {
    const needle = cut(haystack, 60, 40, 21, 21);
    const next = random(3);
    for (let y = 0; y < 21; y++) {
      for (let x = 0; x < 21; x++) {
        // Outside the circle: random colour, alpha 0 or 100 (both below 128, so ignored).
        if ((x - 10) ** 2 + (y - 10) ** 2 > 100) setPixel(needle, x, y, [next() * 256, next() * 256, next() * 256], next() < 0.5 ? 0 : 100);
      }
    }
    expect(findImage(haystack, needle)).toEqual({ x: 60, y: 40, width: 21, height: 21, similarity: 1 });
    const invisible = solid(5, 5, [0, 0, 0], 0);
    expect(() => findImage(haystack, invisible)).toThrow(/no opaque pixels/);
  });

  test('region limits where to look; a needle larger than the haystack or region is an input error', () => {
    const scene = solid(200, 100, [255, 255, 255]);
    const icon = noise(12, 10, 8);
    paste(scene, icon, 20, 30);
    paste(scene, jitter(icon, 6, 1), 150, 60);
    expect(findImage(scene, icon)).toMatchObject({ x: 20, y: 30, similarity: 1 });
    const right = findImage(scene, icon, { region: { x: 100, y: 0, width: 100, height: 100 } });
    expect(right).toMatchObject({ x: 150, y: 60 });
    expect(right!.similarity).toBeGreaterThan(0.97);
    // The needle must fit inside the region: cutting through the icon's place loses it.
    expect(findImage(scene, icon, { region: { x: 100, y: 0, width: 61, height: 100 }, similarity: 0.97 })).toBeNull();
    expect(findImage(scene, icon, { region: { x: 150, y: 60, width: 12, height: 10 } })).toMatchObject({ x: 150, y: 60 });
    expect(() => findImage(scene, icon, { region: { x: 150, y: 60, width: 11, height: 10 } })).toThrow(/larger than the region searched \(11x10\)/);
    expect(() => findImage(icon, scene)).toThrow(VNCInputError);
    expect(() => findImage(icon, scene)).toThrow(/The image to find \(200x100\) is larger than the screen \(12x10\)/);
    expect(() => findImage(scene, icon, { region: { x: 190, y: 0, width: 20, height: 10 } })).toThrow(/not inside the 200x100 image/);
    expect(() => findImage(scene, icon, { similarity: 1.1 })).toThrow(/similarity must be a number from 0 to 1/);
  });

  test('all: every non-overlapping match, best first', () => {
    const scene = solid(300, 200, [240, 240, 240]);
    const icon = noise(16, 16, 77);
    paste(scene, jitter(icon, 20, 1), 250, 10); // worst
    paste(scene, icon, 40, 150); // exact
    paste(scene, jitter(icon, 8, 2), 120, 90);
    paste(scene, icon, 200, 150); // exact, later in reading order
    const matches = findImage(scene, icon, { all: true, similarity: 0.9 });
    expect(matches.map(({ x, y }) => [x, y])).toEqual([[40, 150], [200, 150], [120, 90], [250, 10]]);
    const similarities = matches.map((m) => m.similarity);
    expect([...similarities].sort((a, b) => b - a)).toEqual(similarities);
    expect(similarities[0]).toBe(1);
    // Without `all`, the best one.
    expect(findImage(scene, icon, { similarity: 0.9 })).toMatchObject({ x: 40, y: 150, similarity: 1 });
  });

  test('agrees with a brute-force search (best match and all matches, with transparency)', () => {
    let plainNeedles = 0;
    let turnedDown = 0; // places alike enough overall whose distinctive pixels are not
    for (let seed = 1; seed <= 24; seed++) {
      const next = random(seed * 31);
      let hay = solid(70, 50, [128, 128, 128]);
      if (seed <= 12) {
        // Smooth-ish haystacks make many near matches, the hard case for pruning.
        for (let i = 0; i < 25; i++) paste(hay, solid(1 + Math.floor(next() * 20), 1 + Math.floor(next() * 15), [next() * 256, next() * 256, next() * 256]), Math.floor(next() * 60), Math.floor(next() * 45));
      } else {
        // "Text" on a flat background: many places alike overall whose distinctive pixels differ.
        const background = [next() * 256, next() * 256, next() * 256];
        hay = solid(70, 50, background);
        for (let i = 0; i < 150 + seed * 10; i++) setPixel(hay, Math.floor(next() * 70), Math.floor(next() * 50), next() < 0.8 ? [0, 0, 0] : [255 - background[0], 40, 200]);
      }
      const nw = 3 + Math.floor(next() * 14);
      const nh = 3 + Math.floor(next() * 10);
      const needle = jitter(cut(hay, Math.floor(next() * (70 - nw)), Math.floor(next() * (50 - nh)), nw, nh), seed % 3 === 0 ? 0 : seed <= 12 ? 25 : 10, seed);
      if (seed % 2 === 0) for (let k = 0; k < 5; k++) setPixel(needle, Math.floor(next() * nw), Math.floor(next() * nh), [0, 0, 0], 0);
      const similarity = 0.8 + next() * 0.15;
      if (needlePixels(needle).distinctive.length === 0) {
        plainNeedles++;
        expect(() => findImage(hay, needle, { similarity }), `seed ${seed}`).toThrow(/nothing distinctive/);
      }
      const options = { similarity, allowPlain: true };
      const brute = bruteForce(hay, needle);
      const passing = brute.filter((c) => c.similarity >= similarity);
      turnedDown += brute.filter((c) => c.overall >= similarity && c.similarity < similarity).length;
      const best = [...passing].sort((a, b) => b.similarity - a.similarity || a.y - b.y || a.x - b.x)[0];
      const found = findImage(hay, needle, options);
      if (!best) expect(found, `seed ${seed}`).toBeNull();
      else {
        expect(found, `seed ${seed}`).toMatchObject({ x: best.x, y: best.y });
        expect(found!.similarity).toBeCloseTo(best.similarity, 10);
      }
      // all: greedy non-overlapping pick, best first.
      const expectedAll: typeof passing = [];
      for (const c of [...passing].sort((a, b) => b.similarity - a.similarity || a.y - b.y || a.x - b.x)) {
        if (expectedAll.every((t) => Math.abs(t.x - c.x) >= nw || Math.abs(t.y - c.y) >= nh)) expectedAll.push(c);
      }
      const all = findImage(hay, needle, { ...options, all: true });
      expect(all.map(({ x, y }) => `${x},${y}`), `seed ${seed}`).toEqual(expectedAll.map(({ x, y }) => `${x},${y}`));
      // closestMatch is exact for needles under 8 pixels wide or high; for bigger ones it is a
      // quick estimate that reports the true similarity of the place it names.
      const top = [...brute].sort((a, b) => b.similarity - a.similarity)[0];
      const closest = closestMatch(hay, needle, { allowPlain: true });
      const there = brute.find((c) => c.x === closest.x && c.y === closest.y)!;
      expect(closest.similarity).toBeCloseTo(there.similarity, 10);
      if (Math.min(nw, nh) < 8) expect(closest.similarity, `seed ${seed}`).toBeCloseTo(top.similarity, 10);
      else expect(closest.similarity).toBeLessThanOrEqual(top.similarity + 1e-12);
    }
    expect(plainNeedles, 'some needles have nothing distinctive: compared as a whole with allowPlain').toBeGreaterThan(0);
    expect(turnedDown, 'places turned down by their distinctive pixels alone').toBeGreaterThan(1000);
  });

  test('a mostly-background needle does not match a blank area of its background', () => {
    const needle = sparseText(1);
    let text = 0;
    for (let i = 0; i < needle.data.length; i += 4) if (needle.data[i] === 0) text++;
    expect(text).toBe(49);
    const blankScreen = solid(400, 200, [255, 255, 255]);
    // The problem: by the mean difference alone, any blank area scores about 0.97.
    expect(meanDifferenceSimilarity(blankScreen, needle, 0, 0)).toBeGreaterThan(0.96);
    // The target missing: nothing is found, not a blank area.
    expect(findImage(blankScreen, needle)).toBeNull();
    expect(findImage(blankScreen, needle, { all: true })).toEqual([]);
    expect(findImage(blankScreen, needle, { similarity: 0.5 })).toBeNull();
    // Its own distinctive pixels are all wrong there: the closest place scores 0.
    expect(closestMatch(blankScreen, needle).similarity).toBe(0);
    // Other text on the same background is not it either.
    const otherText = copyFrame(blankScreen);
    paste(otherText, sparseText(2), 100, 60);
    paste(otherText, sparseText(3), 250, 120);
    expect(findImage(otherText, needle)).toBeNull();
    expect(findImage(otherText, needle, { similarity: 0.8 })).toBeNull();
    // The real place is found, exactly or through noise, and only there.
    const scene = copyFrame(otherText);
    paste(scene, needle, 300, 20);
    expect(findImage(scene, needle)).toEqual({ x: 300, y: 20, width: 50, height: 30, similarity: 1 });
    expect(findImage(scene, needle, { all: true, similarity: 0.8 })).toEqual([{ x: 300, y: 20, width: 50, height: 30, similarity: 1 }]);
    expect(findImage(scene, needle, { region: { x: 0, y: 0, width: 299, height: 200 } })).toBeNull();
    const noisy = findImage(jitter(scene, 10, 6), needle);
    expect(noisy).toMatchObject({ x: 300, y: 20 });
    expect(noisy!.similarity).toBeGreaterThan(0.97);
    expect(findImage(scene, jitter(needle, 10, 7))).toMatchObject({ x: 300, y: 20 });
    // Half its strokes gone: not the same text, although the mean difference is under 2 %.
    const faded = copyFrame(scene);
    for (let i = 0, k = 0; i < needle.data.length; i += 4) {
      if (needle.data[i] === 0 && k++ % 2 === 0) setPixel(faded, 300 + ((i / 4) % 50), 20 + Math.floor(i / 4 / 50), [255, 255, 255]);
    }
    expect(meanDifferenceSimilarity(faded, needle, 300, 20)).toBeGreaterThan(0.98);
    expect(findImage(faded, needle)).toBeNull();
    expect(findImage(faded, needle, { similarity: 0.4 })).toMatchObject({ x: 300, y: 20 });
  });

  test('JPEG artefacts cost a few hundredths: found on a lossy screen, and with a needle cut from one', () => {
    const screen = cut(desktop(11), 0, 0, 660, 440);
    paste(screen, sparseText(1), 580, 380);
    const places = [
      { x: 300, y: 100 }, // dense text
      { x: 580, y: 380 }, // sparse text
    ];
    for (const quality of [90, 75, 50]) {
      const lossy = throughJpeg(screen, quality);
      for (const at of places) {
        const label = `quality ${quality} at ${at.x},${at.y}`;
        const onLossy = findImage(lossy, cut(screen, at.x, at.y, 50, 30));
        expect(onLossy, label).toMatchObject(at);
        expect(onLossy!.similarity, label).toBeGreaterThan(0.96);
        // Cut from the lossy capture: the ringing around the letters is not taken for content.
        const fromLossy = findImage(screen, cut(lossy, at.x, at.y, 50, 30));
        expect(fromLossy, label).toMatchObject(at);
        expect(fromLossy!.similarity, label).toBeGreaterThan(0.96);
      }
      // And still not on a blank area: the sparse text is looked for where it is not.
      expect(findImage(lossy, sparseText(1), { region: { x: 20, y: 20, width: 560, height: 400 }, similarity: 0.9 })).toBeNull();
    }
  });

  test('a needle with nothing distinctive in it is refused unless allowPlain', () => {
    const scene = solid(200, 100, [255, 255, 255]);
    paste(scene, solid(30, 30, [200, 0, 0]), 150, 40);
    const plain = [
      solid(40, 20, [255, 255, 255]),
      jitter(solid(40, 20, [128, 128, 128]), 10, 1), // within ±10 per channel: 30 in all at most
      solid(10, 10, [200, 0, 0]),
    ];
    const corner = solid(12, 12, [200, 0, 0]);
    for (let y = 0; y < 12; y++) for (let x = 0; x < 12 - y; x++) setPixel(corner, x, y, [0, 255, 0], 0); // transparent: not counted
    plain.push(corner);
    for (const needle of plain) {
      expect(() => findImage(scene, needle)).toThrow(VNCInputError);
      expect(() => findImage(scene, needle, { all: true })).toThrow(/has nothing distinctive/);
      expect(() => closestMatch(scene, needle)).toThrow(/has nothing distinctive/);
    }
    expect(() => findImage(scene, plain[0])).toThrow(
      'The 40x20 image to find has nothing distinctive: every pixel is within 38 (R, G and B differences added up) of its main colour rgb(255, 255, 255), so it would match any area of that colour. ' +
        'Cut a piece with something distinctive in it (text, an edge, an icon), or pass allowPlain: true to look for a plain area.',
    );
    // allowPlain: only the overall similarity counts, as for any needle without distinctive pixels.
    expect(findImage(scene, plain[0], { allowPlain: true })).toEqual({ x: 0, y: 0, width: 40, height: 20, similarity: 1 });
    expect(findImage(scene, plain[2], { allowPlain: true })).toMatchObject({ x: 150, y: 40, similarity: 1 });
    expect(findImage(scene, corner, { allowPlain: true })).toMatchObject({ x: 149, y: 39, similarity: 1 }); // its opaque part inside the square
    expect(closestMatch(scene, plain[2], { allowPlain: true })).toMatchObject({ x: 150, y: 40, similarity: 1 });
    // One distinctive pixel is enough to be searchable, and it must be there.
    const dot = solid(20, 20, [255, 255, 255]);
    setPixel(dot, 5, 5, [200, 200, 200]);
    expect(findImage(scene, dot)).toBeNull();
    expect(findImage(scene, dot, { allowPlain: true })).toBeNull(); // allowPlain changes nothing for it
    const dotted = copyFrame(scene);
    setPixel(dotted, 45, 65, [200, 200, 200]);
    expect(findImage(dotted, dot)).toMatchObject({ x: 40, y: 60, similarity: 1 });
  });

  test('flat needles on flat screens (allowPlain): every one of many exact matches is found', () => {
    const scene = solid(800, 600, [255, 255, 255]);
    const blank = solid(40, 20, [255, 255, 255]);
    expect(findImage(scene, blank, { allowPlain: true })).toEqual({ x: 0, y: 0, width: 40, height: 20, similarity: 1 });
    const all = findImage(scene, blank, { all: true, allowPlain: true });
    expect(all).toHaveLength(20 * 30);
  });

  test('a 50×30 needle on a 1920×1080 desktop: found where it is, null where it is not (timings as annotations; speed is in the bench)', () => {
    const screen = desktop(11);
    const timings: string[] = [];
    const time = <T>(label: string, run: () => T): T => {
      const started = performance.now();
      const result = run();
      timings.push(`${label}: ${(performance.now() - started).toFixed(1)} ms`);
      return result;
    };
    const text = cut(screen, 300, 100, 50, 30);
    const dark = cut(screen, 1000, 300, 50, 30);
    expect(time('text on white', () => findImage(screen, text))).toMatchObject({ x: 300, y: 100, similarity: 1 });
    const found = time('text on black', () => findImage(screen, dark));
    expect(found!.similarity).toBe(1);
    expect(time('noisy text (±20)', () => findImage(screen, jitter(text, 20, 4)))).toMatchObject({ x: 300, y: 100 });
    const inverted = copyFrame(text);
    for (let i = 0; i < inverted.data.length; i += 4) inverted.data[i + 1] = 255 - inverted.data[i + 1];
    expect(time('absent', () => findImage(screen, inverted))).toBeNull();
    expect(time('closest (absent)', () => closestMatch(screen, inverted)).similarity).toBeLessThan(0.95);
    // Mostly background: 200,000 blank white places to turn down (a few pixels each).
    const sparse = sparseText(1);
    expect(time('sparse text, absent', () => findImage(screen, sparse))).toBeNull();
    const withSparse = copyFrame(screen);
    paste(withSparse, sparse, 1500, 700);
    expect(time('sparse text, present', () => findImage(withSparse, sparse))).toMatchObject({ x: 1500, y: 700, similarity: 1 });
    test.info().annotations.push({ type: 'timing', description: timings.join('; ') });
  });

  test('loadImage takes frames, PNG bytes and PNG files', async () => {
    const frame = noise(8, 6, 5);
    const dir = await mkdtemp(join(tmpdir(), 'vnc-image-'));
    try {
      const file = join(dir, 'needle.png');
      await writeFile(file, encodePng(frame));
      expect(await loadImage(frame)).toBe(frame);
      expect((await loadImage(encodePng(frame))).data.equals(frame.data)).toBe(true);
      expect((await loadImage(file)).data.equals(frame.data)).toBe(true);
      await expect(loadImage(join(dir, 'missing.png'))).rejects.toThrow(/Cannot read the image file .*missing\.png/);
      await expect(loadImage(Buffer.from('not a png'))).rejects.toThrow(/not a PNG image/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---- APNG --------------------------------------------------------------------------------------

interface Chunk {
  type: string;
  data: Buffer;
}

/** Walks the chunks, checking the signature, every CRC (with zlib's crc32) and that IEND ends it. */
function chunks(png: Buffer): Chunk[] {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const out: Chunk[] = [];
  let offset = 8;
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    expect(png.readUInt32BE(offset + 8 + length), `CRC of ${type} at ${offset}`).toBe(zlibCrc32(png.subarray(offset + 4, offset + 8 + length)));
    out.push({ type, data });
    offset += 12 + length;
  }
  expect(offset).toBe(png.length);
  expect(out.at(-1)?.type).toBe('IEND');
  return out;
}

interface DecodedFrame {
  rect: { x: number; y: number; width: number; height: number };
  delayMs: number;
  dispose: number;
  blend: number;
  /** The canvas after this frame is drawn. */
  canvas: Frame;
}

/** Decodes an APNG: checks sequence numbers and chunk order, and composites every frame. */
function decodeApng(png: Buffer): { width: number; height: number; plays: number; frames: DecodedFrame[] } {
  const list = chunks(png);
  expect(list[0].type).toBe('IHDR');
  expect(list[1].type).toBe('acTL');
  const ihdr = list[0].data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const numFrames = list[1].data.readUInt32BE(0);
  const plays = list[1].data.readUInt32BE(4);
  let sequence = 0;
  const frames: DecodedFrame[] = [];
  let canvas = solid(width, height, [0, 0, 0]);
  for (let i = 2; i < list.length - 1; ) {
    const fctl = list[i++];
    expect(fctl.type).toBe('fcTL');
    expect(fctl.data.readUInt32BE(0)).toBe(sequence++);
    const rect = { width: fctl.data.readUInt32BE(4), height: fctl.data.readUInt32BE(8), x: fctl.data.readUInt32BE(12), y: fctl.data.readUInt32BE(16) };
    expect(rect.x + rect.width).toBeLessThanOrEqual(width);
    expect(rect.y + rect.height).toBeLessThanOrEqual(height);
    const delayMs = (fctl.data.readUInt16BE(20) * 1000) / (fctl.data.readUInt16BE(22) || 100);
    const parts: Buffer[] = [];
    const dataType = frames.length === 0 ? 'IDAT' : 'fdAT';
    if (frames.length === 0) expect([rect.x, rect.y, rect.width, rect.height]).toEqual([0, 0, width, height]);
    while (list[i].type === dataType) {
      if (dataType === 'fdAT') {
        expect(list[i].data.readUInt32BE(0)).toBe(sequence++);
        parts.push(list[i].data.subarray(4));
      } else parts.push(list[i].data);
      i++;
    }
    expect(parts.length, `frame ${frames.length} has image data`).toBeGreaterThan(0);
    // A standalone PNG of the sub-frame, decoded by pngjs.
    const subIhdr = Buffer.from(ihdr);
    subIhdr.writeUInt32BE(rect.width, 0);
    subIhdr.writeUInt32BE(rect.height, 4);
    const standalone = Buffer.concat([png.subarray(0, 8), rawChunk('IHDR', subIhdr), rawChunk('IDAT', Buffer.concat(parts)), rawChunk('IEND', Buffer.alloc(0))]);
    const sub = decodePng(standalone);
    canvas = copyFrame(canvas);
    paste(canvas, sub, rect.x, rect.y);
    frames.push({ rect, delayMs, dispose: fctl.data[24], blend: fctl.data[25], canvas });
  }
  expect(frames).toHaveLength(numFrames);
  return { width, height, plays, frames };
}

function rawChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlibCrc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function sameRgb(a: Frame, b: Frame): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  for (let i = 0; i < a.width * a.height * 4; i += 4) {
    if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) return false;
  }
  return true;
}

test.describe('encodeApng', () => {
  const first = desktop(3);
  const base = cut(first, 0, 0, 320, 200);
  const second = copyFrame(base);
  paste(second, solid(30, 12, [255, 0, 0]), 100, 50);
  const third = copyFrame(second);
  setPixel(third, 319, 199, [1, 2, 3]);

  test('valid chunks, sequence numbers and CRCs; every frame decodes to its input', () => {
    const apng = encodeApng([base, second, copyFrame(second), third], [100, 250, 50, 70000]);
    const decoded = decodeApng(apng);
    expect([decoded.width, decoded.height, decoded.plays]).toEqual([320, 200, 0]);
    // The identical third frame is merged into the second (its delay added).
    expect(decoded.frames.map((f) => f.delayMs)).toEqual([100, 300, 70000]);
    expect(decoded.frames.map((f) => f.rect)).toEqual([
      { x: 0, y: 0, width: 320, height: 200 },
      { x: 100, y: 50, width: 30, height: 12 },
      { x: 319, y: 199, width: 1, height: 1 },
    ]);
    expect(decoded.frames.every((f) => f.dispose === 0 && f.blend === 0)).toBe(true);
    expect(sameRgb(decoded.frames[0].canvas, base)).toBe(true);
    expect(sameRgb(decoded.frames[1].canvas, second)).toBe(true);
    expect(sameRgb(decoded.frames[2].canvas, third)).toBe(true);
  });

  test('frames of another size are cropped or padded with black to the first frame’s size', () => {
    const small = cut(base, 0, 0, 100, 80);
    const big = cut(first, 0, 0, 400, 300);
    const decoded = decodeApng(encodeApng([base, small, big], [10, 10, 10], { loops: 3 }));
    expect(decoded.plays).toBe(3);
    const padded = solid(320, 200, [0, 0, 0]);
    paste(padded, small, 0, 0);
    expect(sameRgb(decoded.frames[1].canvas, padded)).toBe(true);
    expect(sameRgb(decoded.frames[2].canvas, cut(big, 0, 0, 320, 200))).toBe(true);
  });

  test('a single frame is a one-frame animation (and a plain PNG for PNG readers)', () => {
    const apng = encodeApng([base], [0]);
    const decoded = decodeApng(apng);
    expect(decoded.frames).toHaveLength(1);
    expect(sameRgb(decodePng(apng), base)).toBe(true);
  });

  test('changed regions keep recordings small', () => {
    const frames: Frame[] = [];
    for (let i = 0; i < 30; i++) {
      const frame = copyFrame(first);
      paste(frame, solid(8, 14, [0, 0, 0]), 40 + i * 6, 30); // a growing line of "typing"
      frames.push(frame);
    }
    const started = performance.now();
    const apng = encodeApng(frames, frames.map(() => 100));
    const ms = performance.now() - started;
    const single = encodePng(first).length;
    test.info().annotations.push({ type: 'timing', description: `30 frames 1920x1080: ${apng.length} bytes in ${ms.toFixed(0)} ms; one PNG frame is ${single} bytes` });
    expect(apng.length).toBeLessThan(single * 2);
    const decoded = decodeApng(apng);
    expect(decoded.frames).toHaveLength(30);
    expect(sameRgb(decoded.frames[29].canvas, frames[29])).toBe(true);
  });

  test('ImageMagick reads it: the first frame is the first picture', async () => {
    test.skip(!existsSync('/usr/bin/convert'), 'ImageMagick (/usr/bin/convert) is not installed');
    const dir = await mkdtemp(join(tmpdir(), 'vnc-apng-'));
    try {
      const file = join(dir, 'movie.png');
      await writeFile(file, encodeApng([base, second, third], [100, 100, 100]));
      const out = join(dir, 'first.png');
      execFileSync('/usr/bin/convert', [`${file}[0]`, out], { timeout: 30_000 });
      expect(sameRgb(decodePng(await readFile(out)), base)).toBe(true);
      const identified = execFileSync('/usr/bin/identify', [file], { timeout: 30_000 }).toString();
      expect(identified).toMatch(/PNG 320x200/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('bad input is an input error', () => {
    expect(() => encodeApng([], [])).toThrow(/at least one frame/);
    expect(() => encodeApng([base, second], [10])).toThrow(/one delay per frame: got 2 frames and 1 delays/);
    expect(() => encodeApng([base], [-1])).toThrow(VNCInputError);
    expect(() => encodeApng([base], [10], { level: 12 })).toThrow(/level/);
    expect(() => encodeApng([{ width: 2, height: 2, data: Buffer.alloc(3) }], [10])).toThrow(/Frame 0 is not an RGBA frame/);
  });
});
