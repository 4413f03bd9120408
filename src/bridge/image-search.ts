/**
 * Template search: where on the screen a smaller picture (a button, an icon, a piece of text) is.
 *
 * Similarity is 1 − (mean absolute difference of R, G and B over the needle's opaque pixels) / 255:
 * 1 is identical, 0.95 allows e.g. every channel 12 levels off, or 5 % of the pixels completely
 * wrong. The search is exact (the same result as comparing at every position) but prunes most
 * positions cheaply: block sums from an integral image give lower bounds of a position's
 * difference (|Σa − Σb| ≤ Σ|a − b|), coarse blocks first, then finer ones, and the pixel-by-pixel
 * check visits the needle's most distinctive pixels first and stops once the position cannot
 * reach the similarity asked for.
 *
 * Needle pixels with alpha below 128 are ignored, so a cut-out of an irregular shape only compares
 * its visible part. A needle that is mostly one flat colour matches any area of that colour almost
 * as well as its real place: cut needles with something distinctive in them, or ask for a higher
 * similarity.
 */
import { readFile } from 'node:fs/promises';
import { VNCInputError, VNCStateError, VNCTimeoutError } from '../errors.js';
import type { Frame, Rect } from '../rfb/framebuffer.js';
import type { BridgeContext } from './context.js';
import { decodePng } from './png.js';
import { checkTimeout, waitFor } from './waiting.js';

export interface FindImageOptions {
  /** 0..1, how alike the needle and the screen must be. Default 0.95. */
  similarity?: number;
  /** Search only here (in haystack coordinates); the needle must fit inside it. */
  region?: Rect;
  /** Return every non-overlapping match, best first, instead of the best one. */
  all?: boolean;
}

export interface Match {
  /** Top-left corner, in haystack coordinates. */
  x: number;
  y: number;
  /** The needle's size. */
  width: number;
  height: number;
  /** 0..1, see the module comment. */
  similarity: number;
}

/** What to look for: a frame, PNG bytes, or the path of a PNG file. */
export type ImageSource = Frame | Buffer | string;

export const DEFAULT_SIMILARITY = 0.95;

/** Needle pixels with alpha below this are transparent: ignored. */
const OPAQUE_ALPHA = 128;

/** The region to search, checked against the haystack. */
function searchArea(haystack: Frame, region: Rect | undefined): Rect {
  if (region === undefined) return { x: 0, y: 0, width: haystack.width, height: haystack.height };
  const { x, y, width, height } = region;
  const whole = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!whole(x) || !whole(y) || !whole(width) || !whole(height) || width === 0 || height === 0 || x + width > haystack.width || y + height > haystack.height) {
    throw new VNCInputError(
      `Search region ${JSON.stringify(region)} is not inside the ${haystack.width}x${haystack.height} image: use whole numbers with width and height > 0, x + width ≤ ${haystack.width}, y + height ≤ ${haystack.height}.`,
    );
  }
  return { x, y, width, height };
}

function checkFrame(frame: Frame, what: string): void {
  const { width, height, data } = frame ?? ({} as Frame);
  const whole = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (!whole(width) || !whole(height) || !(data instanceof Uint8Array) || data.length < width * height * 4) {
    throw new VNCInputError(`${what} is not an RGBA frame with width, height > 0 and width × height × 4 bytes of data.`);
  }
}

function checkSimilarity(similarity: unknown): number {
  if (typeof similarity !== 'number' || !(similarity >= 0 && similarity <= 1)) {
    throw new VNCInputError(`similarity must be a number from 0 to 1, got ${JSON.stringify(similarity)}.`);
  }
  return similarity;
}

/** One level of the lower-bound cascade: cells of the needle with their R, G, B sums. */
interface Level {
  /** Per cell: integral-image offsets (in entries, ×3 for channels) of the four corners. */
  corners: Int32Array;
  /** Per cell: the needle's R, G, B sums. */
  sums: Float64Array;
  count: number;
}

/** A prepared needle: its opaque pixels (most distinctive first) and cascade levels. */
interface PreparedNeedle {
  width: number;
  height: number;
  opaque: number;
  /** Per opaque pixel: byte offset in the haystack relative to the candidate's top-left. */
  offsets: Int32Array;
  /** Per opaque pixel: R, G, B. */
  colours: Uint8Array;
  levels: Level[];
}

/** Splits `size` into `parts` near-equal spans: the boundaries. */
function boundaries(size: number, parts: number): number[] {
  return Array.from({ length: parts + 1 }, (_, k) => Math.round((k * size) / parts));
}

function prepareNeedle(needle: Frame, haystackWidth: number, integralWidth: number): PreparedNeedle {
  const { width, height, data } = needle;
  const pixels: { offset: number; r: number; g: number; b: number }[] = [];
  let sr = 0;
  let sg = 0;
  let sb = 0;
  // Opaque-pixel integral of the needle, to find cells without transparent pixels.
  const opaqueBefore = new Int32Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let rowCount = 0;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (data[i + 3] >= OPAQUE_ALPHA) {
        rowCount++;
        pixels.push({ offset: (y * haystackWidth + x) * 4, r: data[i], g: data[i + 1], b: data[i + 2] });
        sr += data[i];
        sg += data[i + 1];
        sb += data[i + 2];
      }
      opaqueBefore[(y + 1) * (width + 1) + x + 1] = opaqueBefore[y * (width + 1) + x + 1] + rowCount;
    }
  }
  const opaque = pixels.length;
  if (opaque === 0) throw new VNCInputError(`The ${width}x${height} image to find has no opaque pixels (alpha ≥ ${OPAQUE_ALPHA}): there is nothing to compare.`);

  // Most distinctive (farthest from the needle's mean colour) first: at a wrong position they are
  // the ones most likely to differ, so the check stops soonest.
  const [mr, mg, mb] = [sr / opaque, sg / opaque, sb / opaque];
  const distance = (p: (typeof pixels)[number]) => Math.abs(p.r - mr) + Math.abs(p.g - mg) + Math.abs(p.b - mb);
  pixels.sort((a, b) => distance(b) - distance(a));
  const offsets = new Int32Array(opaque);
  const colours = new Uint8Array(opaque * 3);
  pixels.forEach((p, k) => {
    offsets[k] = p.offset;
    colours[k * 3] = p.r;
    colours[k * 3 + 1] = p.g;
    colours[k * 3 + 2] = p.b;
  });

  // Cascade: the whole needle as one cell, then 4×4 cells, then cells of about 4×4 pixels.
  const grids: [number, number][] = [];
  const finest: [number, number] = [Math.max(1, Math.floor(width / 4)), Math.max(1, Math.floor(height / 4))];
  for (const [gx, gy] of [[1, 1], [Math.min(4, finest[0]), Math.min(4, finest[1])], finest] as [number, number][]) {
    const last = grids[grids.length - 1];
    if (!last || last[0] !== gx || last[1] !== gy) grids.push([gx, gy]);
  }
  const levels = grids.map(([gx, gy]) => {
    const xs = boundaries(width, gx);
    const ys = boundaries(height, gy);
    const corners: number[] = [];
    const sums: number[] = [];
    for (let cy = 0; cy < gy; cy++) {
      for (let cx = 0; cx < gx; cx++) {
        const [x0, x1, y0, y1] = [xs[cx], xs[cx + 1], ys[cy], ys[cy + 1]];
        const area = (x1 - x0) * (y1 - y0);
        const w1 = width + 1;
        const opaqueInCell = opaqueBefore[y1 * w1 + x1] - opaqueBefore[y0 * w1 + x1] - opaqueBefore[y1 * w1 + x0] + opaqueBefore[y0 * w1 + x0];
        if (area === 0 || opaqueInCell !== area) continue; // only whole opaque cells give a bound
        let r = 0;
        let g = 0;
        let b = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const i = (y * width + x) * 4;
            r += data[i];
            g += data[i + 1];
            b += data[i + 2];
          }
        }
        sums.push(r, g, b);
        corners.push(
          (y0 * integralWidth + x0) * 3,
          (y0 * integralWidth + x1) * 3,
          (y1 * integralWidth + x0) * 3,
          (y1 * integralWidth + x1) * 3,
        );
      }
    }
    return { corners: Int32Array.from(corners), sums: Float64Array.from(sums), count: sums.length / 3 };
  });
  return { width, height, opaque, offsets, colours, levels: levels.filter((level) => level.count > 0) };
}

/**
 * R, G, B running sums of the area, (width + 1) × (height + 1) entries of 3. Stored in an
 * Int32Array that may wrap: a block's sum, (A − B − C + D) | 0, is still exact while it is below 2³¹.
 */
function integralImage(haystack: Frame, area: Rect): Int32Array {
  const w1 = area.width + 1;
  const table = new Int32Array(w1 * (area.height + 1) * 3);
  const data = haystack.data;
  for (let y = 0; y < area.height; y++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let i = ((area.y + y) * haystack.width + area.x) * 4;
    let above = (y * w1 + 1) * 3;
    let here = above + w1 * 3;
    for (let x = 0; x < area.width; x++, i += 4, above += 3, here += 3) {
      r += data[i];
      g += data[i + 1];
      b += data[i + 2];
      table[here] = table[above] + r;
      table[here + 1] = table[above + 1] + g;
      table[here + 2] = table[above + 2] + b;
    }
  }
  return table;
}

interface Candidate {
  x: number;
  y: number;
  sum: number;
}

/**
 * Positions whose summed absolute difference is at most `limit`. Without `all`: the best one
 * (lowest sum, the first in reading order on ties), with the limit tightening as better ones turn up.
 */
function scan(haystack: Frame, needle: Frame, area: Rect, limit: number, all: boolean): Candidate[] {
  const prepared = prepareNeedle(needle, haystack.width, area.width + 1);
  const table = integralImage(haystack, area);
  const { offsets, colours, opaque, levels } = prepared;
  const data = haystack.data;
  const stride = haystack.width * 4;
  const w1 = area.width + 1;
  const lastX = area.width - needle.width;
  const lastY = area.height - needle.height;
  const found: Candidate[] = [];
  // With `all`: positions overlapping an exact match already taken are skipped (a greedy pick by
  // best-first would reject them anyway), which keeps flat areas with many exact matches fast.
  const blocked = all ? new Uint8Array((lastX + 1) * (lastY + 1)) : undefined;
  let best = limit;

  for (let y = 0; y <= lastY; y++) {
    let pixelBase = (area.y + y) * stride + area.x * 4;
    let tableBase = y * w1 * 3;
    for (let x = 0; x <= lastX; x++, pixelBase += 4, tableBase += 3) {
      if (blocked && blocked[y * (lastX + 1) + x]) continue;
      const bound = all ? limit : best;
      let rejected = false;
      for (const level of levels) {
        const { corners, sums, count } = level;
        let lower = 0;
        for (let cell = 0, c4 = 0, c3 = 0; cell < count; cell++, c4 += 4, c3 += 3) {
          const a = tableBase + corners[c4];
          const b = tableBase + corners[c4 + 1];
          const c = tableBase + corners[c4 + 2];
          const d = tableBase + corners[c4 + 3];
          lower +=
            Math.abs(((table[d] - table[b] - table[c] + table[a]) | 0) - sums[c3]) +
            Math.abs(((table[d + 1] - table[b + 1] - table[c + 1] + table[a + 1]) | 0) - sums[c3 + 1]) +
            Math.abs(((table[d + 2] - table[b + 2] - table[c + 2] + table[a + 2]) | 0) - sums[c3 + 2]);
          if (lower > bound) break;
        }
        if (lower > bound) {
          rejected = true;
          break;
        }
      }
      if (rejected) continue;

      let sum = 0;
      for (let k = 0, k3 = 0; k < opaque; k++, k3 += 3) {
        const i = pixelBase + offsets[k];
        sum += Math.abs(data[i] - colours[k3]) + Math.abs(data[i + 1] - colours[k3 + 1]) + Math.abs(data[i + 2] - colours[k3 + 2]);
        if (sum > bound) break;
      }
      if (sum > bound) continue;
      if (all) {
        found.push({ x: area.x + x, y: area.y + y, sum });
        if (sum === 0 && blocked) {
          for (let by = Math.max(0, y - needle.height + 1); by <= Math.min(lastY, y + needle.height - 1); by++) {
            blocked.fill(1, by * (lastX + 1) + Math.max(0, x - needle.width + 1), by * (lastX + 1) + Math.min(lastX, x + needle.width - 1) + 1);
          }
        }
      } else if (found.length === 0 || sum < best) {
        found[0] = { x: area.x + x, y: area.y + y, sum };
        best = sum;
        if (sum === 0) return found; // nothing can beat an exact match
      }
    }
  }
  return found;
}

function toMatch(candidate: Candidate, needle: Frame, opaque: number): Match {
  return {
    x: candidate.x,
    y: candidate.y,
    width: needle.width,
    height: needle.height,
    similarity: 1 - candidate.sum / (765 * opaque),
  };
}

function countOpaque(needle: Frame): number {
  let opaque = 0;
  for (let i = 3; i < needle.width * needle.height * 4; i += 4) if (needle.data[i] >= OPAQUE_ALPHA) opaque++;
  return opaque;
}

function prepareSearch(haystack: Frame, needle: Frame, region: Rect | undefined): { area: Rect; opaque: number } {
  checkFrame(haystack, 'The image to search in');
  checkFrame(needle, 'The image to find');
  const area = searchArea(haystack, region);
  if (needle.width > area.width || needle.height > area.height) {
    throw new VNCInputError(
      `The image to find (${needle.width}x${needle.height}) is larger than the ${region ? 'region searched' : 'screen'} (${area.width}x${area.height}).`,
    );
  }
  return { area, opaque: countOpaque(needle) };
}

/** Every non-overlapping candidate, best first (greedy: a candidate overlapping a better one is dropped). */
function nonOverlapping(candidates: Candidate[], width: number, height: number): Candidate[] {
  candidates.sort((a, b) => a.sum - b.sum || a.y - b.y || a.x - b.x);
  const taken: Candidate[] = [];
  for (const candidate of candidates) {
    if (taken.every((t) => Math.abs(t.x - candidate.x) >= width || Math.abs(t.y - candidate.y) >= height)) taken.push(candidate);
  }
  return taken;
}

/**
 * Finds `needle` in `haystack`: the best position with at least `similarity` (default 0.95), or
 * null. With `all: true`, every non-overlapping position that reaches it, best first.
 * Throws VNCInputError when the needle is larger than the haystack or region, or fully transparent.
 */
export function findImage(haystack: Frame, needle: Frame, options: FindImageOptions & { all: true }): Match[];
export function findImage(haystack: Frame, needle: Frame, options?: FindImageOptions & { all?: false }): Match | null;
export function findImage(haystack: Frame, needle: Frame, options?: FindImageOptions): Match | Match[] | null;
export function findImage(haystack: Frame, needle: Frame, options: FindImageOptions = {}): Match | Match[] | null {
  const similarity = checkSimilarity(options.similarity ?? DEFAULT_SIMILARITY);
  const { area, opaque } = prepareSearch(haystack, needle, options.region);
  // A tiny allowance so that a similarity computed as exactly the limit is not lost to rounding.
  const limit = (1 - similarity) * 765 * opaque + 1e-6;
  const candidates = scan(haystack, needle, area, limit, options.all === true);
  if (options.all === true) return nonOverlapping(candidates, needle.width, needle.height).map((c) => toMatch(c, needle, opaque));
  return candidates.length > 0 ? toMatch(candidates[0], needle, opaque) : null;
}

/**
 * A reduced copy: each factor × factor block becomes one pixel, the mean of its opaque pixels, with
 * alpha the share of them that are opaque (so mostly transparent blocks stay transparent). Without
 * `opaqueOnly` (haystacks: the framebuffer's fourth byte is not alpha) every pixel counts.
 */
function downscale(frame: Frame, area: Rect, factor: number, opaqueOnly = true): Frame {
  const width = Math.floor(area.width / factor);
  const height = Math.floor(area.height / factor);
  const out = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let opaque = 0;
      for (let dy = 0; dy < factor; dy++) {
        let i = ((area.y + y * factor + dy) * frame.width + area.x + x * factor) * 4;
        for (let dx = 0; dx < factor; dx++, i += 4) {
          if (opaqueOnly && frame.data[i + 3] < OPAQUE_ALPHA) continue;
          r += frame.data[i];
          g += frame.data[i + 1];
          b += frame.data[i + 2];
          opaque++;
        }
      }
      const o = (y * width + x) * 4;
      if (opaque > 0) {
        out[o] = Math.round(r / opaque);
        out[o + 1] = Math.round(g / opaque);
        out[o + 2] = Math.round(b / opaque);
      }
      out[o + 3] = Math.round((255 * opaque) / (factor * factor));
    }
  }
  return { width, height, data: out };
}

/** The summed absolute difference of the needle's opaque pixels at (x, y) of the haystack. */
function differenceAt(haystack: Frame, needle: Frame, x: number, y: number): number {
  let sum = 0;
  for (let ny = 0; ny < needle.height; ny++) {
    let n = ny * needle.width * 4;
    let h = ((y + ny) * haystack.width + x) * 4;
    for (let nx = 0; nx < needle.width; nx++, n += 4, h += 4) {
      if (needle.data[n + 3] < OPAQUE_ALPHA) continue;
      sum += Math.abs(haystack.data[h] - needle.data[n]) + Math.abs(haystack.data[h + 1] - needle.data[n + 1]) + Math.abs(haystack.data[h + 2] - needle.data[n + 2]);
    }
  }
  return sum;
}

/**
 * About the best position of `needle` whatever its similarity, for "the closest was …" messages.
 * An exact search for a needle that is nowhere can take seconds, so this searches pictures reduced
 * 4× (2× for small needles) and refines around the best place found there: quick, and usually but
 * not always the true best. The similarity it reports is the exact one at the position it reports.
 */
export function closestMatch(haystack: Frame, needle: Frame, options: { region?: Rect } = {}): Match {
  const { area, opaque } = prepareSearch(haystack, needle, options.region);
  const factor = [4, 2].find((f) => needle.width >= 4 * f && needle.height >= 4 * f) ?? 1;
  if (factor === 1) {
    const [best] = scan(haystack, needle, area, Infinity, false);
    return toMatch(best, needle, opaque);
  }
  const small = downscale(needle, { x: 0, y: 0, width: needle.width, height: needle.height }, factor);
  let coarse: Candidate | undefined;
  try {
    [coarse] = scan(downscale(haystack, area, factor, false), small, { x: 0, y: 0, width: Math.floor(area.width / factor), height: Math.floor(area.height / factor) }, Infinity, false);
  } catch (error) {
    if (!(error instanceof VNCInputError)) throw error; // the reduced needle is all transparent
  }
  const centre = coarse ? { x: area.x + coarse.x * factor, y: area.y + coarse.y * factor } : { x: area.x, y: area.y };
  let best: Candidate | undefined;
  for (let y = Math.max(area.y, centre.y - factor); y <= Math.min(area.y + area.height - needle.height, centre.y + factor); y++) {
    for (let x = Math.max(area.x, centre.x - factor); x <= Math.min(area.x + area.width - needle.width, centre.x + factor); x++) {
      const sum = differenceAt(haystack, needle, x, y);
      if (!best || sum < best.sum) best = { x, y, sum };
    }
  }
  return toMatch(best!, needle, opaque);
}

/** Reads what to look for: a frame as is, PNG bytes, or a PNG file. */
export async function loadImage(image: ImageSource): Promise<Frame> {
  if (typeof image === 'string') {
    let bytes: Buffer;
    try {
      bytes = await readFile(image);
    } catch (error) {
      throw new VNCInputError(`Cannot read the image file ${image}: ${(error as Error).message}`, { cause: error });
    }
    return decodeImage(bytes, image);
  }
  if (Buffer.isBuffer(image)) return decodeImage(image, 'The image bytes');
  checkFrame(image, 'The image to find');
  return image;
}

function decodeImage(bytes: Buffer, what: string): Frame {
  try {
    return decodePng(bytes);
  } catch (error) {
    throw new VNCInputError(`${what} is not a PNG image: ${(error as Error).message}`, { cause: error });
  }
}

/** "(x, y) with similarity 0.873" for messages. */
export function describeMatch(match: Match): string {
  return `(${match.x}, ${match.y}) with similarity ${match.similarity.toFixed(3)}`;
}

// ---- Looking on a live screen -------------------------------------------------------------------

export interface FindOnScreenOptions {
  /** 0..1, default 0.95. */
  similarity?: number;
  /** Search only this part of the screen. */
  region?: Rect;
  /** How long to keep looking as the screen changes. */
  timeoutMs?: number;
}

/** Checks at most this often, and at most half the time (a check on a large screen takes tens of ms). */
const MIN_CHECK_INTERVAL_MS = 40;

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/**
 * Looks for `image` on the screen now and after each screen update that touches the region, until
 * found or `timeoutMs` (default `defaultTimeoutMs`) passes. Then either resolves null
 * (`onTimeout: 'null'`) or throws VNCTimeoutError naming the closest match seen.
 * Used by `screen.find`, `screen.waitForImage` and `mouse.clickImage`.
 */
export async function lookForImage(
  context: BridgeContext,
  image: ImageSource,
  options: FindOnScreenOptions,
  call: { what: string; defaultTimeoutMs: number; onTimeout: 'null' | 'throw' },
): Promise<Match | null> {
  const similarity = checkSimilarity(options.similarity ?? DEFAULT_SIMILARITY);
  const timeoutMs = checkTimeout(options.timeoutMs ?? call.defaultTimeoutMs, call.what);
  const needle = await loadImage(image);
  const session = context.session();
  // The framebuffer itself (its fourth byte is not alpha, but the haystack's alpha is not read).
  const screen = (): Frame => session.framebuffer;
  const region = () => options.region ?? { x: 0, y: 0, width: session.framebuffer.width, height: session.framebuffer.height };
  let closest: Match | undefined;
  const look = (): Match | null => {
    const frame = screen();
    const match = findImage(frame, needle, { similarity, region: options.region });
    if (match === null && call.onTimeout === 'throw') {
      const near = closestMatch(frame, needle, { region: options.region });
      if (!closest || near.similarity > closest.similarity) closest = near;
    }
    return match;
  };

  const now = look();
  if (now !== null || (timeoutMs === 0 && call.onTimeout === 'null')) return now;
  const where = options.region ? `the screen region ${JSON.stringify(options.region)}` : 'the screen';
  try {
    return await waitFor<Match>(
      timeoutMs,
      () =>
        `${call.what}: the ${needle.width}x${needle.height} image did not appear on ${where} (similarity ≥ ${similarity}) within ${timeoutMs} ms; ` +
        (closest ? `the closest seen was ${describeMatch(closest)}.` : 'it was not looked for again.'),
      (done, fail) => {
        let timer: NodeJS.Timeout | undefined;
        let lastCheck = Date.now();
        let lastCost = 0;
        const check = () => {
          timer = undefined;
          const started = Date.now();
          let match: Match | null;
          try {
            match = look();
          } catch (error) {
            fail(error); // e.g. the screen shrank below the region
            return;
          }
          lastCheck = Date.now();
          lastCost = lastCheck - started;
          if (match) done(match);
        };
        const schedule = () => {
          if (timer) return;
          const wait = Math.max(0, lastCheck + Math.max(MIN_CHECK_INTERVAL_MS, 2 * lastCost) - Date.now());
          timer = setTimeout(check, wait);
        };
        const onUpdate = (rects: Rect[]) => {
          const area = region();
          if (rects.some((rect) => overlaps(rect, area))) schedule();
        };
        const onClosed = (error: unknown) => fail(error ?? new VNCStateError(`The bridge was disconnected during ${call.what}.`));
        session.on('update', onUpdate);
        session.on('resize', schedule);
        session.on('closed', onClosed);
        return () => {
          clearTimeout(timer);
          session.off('update', onUpdate);
          session.off('resize', schedule);
          session.off('closed', onClosed);
        };
      },
    );
  } catch (error) {
    if (error instanceof VNCTimeoutError && call.onTimeout === 'null') return null;
    throw error;
  }
}
