/**
 * Template search: where on the screen a smaller picture (a button, an icon, a piece of text) is.
 *
 * Similarity. A needle is mostly background: a 50×30 cut of text on white may have 49 dark pixels
 * in 1,500. By the mean absolute difference alone, any blank white area is then 97 % alike — a
 * search would "find" it wherever the text is missing. So the needle's distinctive pixels are
 * scored on their own as well:
 *
 * - its main colour is the per-channel median of its opaque pixels: of all flat colours, the one
 *   closest to the needle by this measure (its background, for a needle that is mostly background);
 * - a pixel is distinctive when its R, G and B differ from the main colour by 39 or more in total
 *   (more than 5 % of the 765 there is, e.g. 13 levels in each channel) and by at least a quarter
 *   of the most any pixel of the needle does (so that for text the letters are, but the JPEG
 *   ringing or noise around them in a needle cut from a lossy capture is not);
 * - similarity = the lesser of 1 − (mean absolute difference of R, G and B) / 255 over all opaque
 *   pixels and the same over the distinctive ones.
 *
 * 1 is identical; noise of ±10 levels or JPEG artefacts cost a few hundredths in both parts; a
 * plain area of the main colour scores below 0.95 by construction (every distinctive pixel is more
 * than 5 % off there) and near 0 for real content: for dark text on white, 1 − 765/765 = 0. A
 * needle with no distinctive pixel at all (one flat colour, give or take noise) would match any
 * area of its colour, so it is refused unless `allowPlain` asks for exactly that; it is then scored
 * on all its pixels only.
 *
 * The search is exact (the same result as comparing at every position) but prunes most positions
 * cheaply: block sums from an integral image give lower bounds of a position's difference
 * (|Σa − Σb| ≤ Σ|a − b|), coarse blocks first, then finer ones, and the pixel-by-pixel check visits
 * the distinctive pixels first, most distinctive first, and stops once the position cannot reach the
 * similarity asked for — over the distinctive pixels, usually after a few of them.
 *
 * Needle pixels with alpha below 128 are ignored, so a cut-out of an irregular shape only compares
 * its visible part.
 */
import { readFile } from 'node:fs/promises';
import { VNCInputError, VNCStateError, VNCTimeoutError } from '../errors.js';
import type { Frame, Rect } from '../rfb/framebuffer.js';
import type { BridgeContext } from './context.js';
import { decodePng } from './png.js';
import { checkTimeout, waitFor } from './waiting.js';

export interface FindImageOptions {
  /** 0..1, how alike the needle and the screen must be, overall and in its distinctive pixels. Default 0.95. */
  similarity?: number;
  /** Search only here (in haystack coordinates); the needle must fit inside it. */
  region?: Rect;
  /** Return every non-overlapping match, best first, instead of the best one. */
  all?: boolean;
  /**
   * Accept a needle with nothing distinctive in it (one flat colour), which then matches any area
   * of that colour: for "find a red square". Without it such a needle is a VNCInputError.
   */
  allowPlain?: boolean;
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

/**
 * A needle pixel is distinctive when its distance |R − r| + |G − g| + |B − b| from the main colour
 * (r, g, b) is at least this — more than 5 % of 765 (1 − DEFAULT_SIMILARITY), so at the default
 * similarity an area of the main colour always fails, and above ±10 levels of noise — and at least
 * 1/DISTINCTIVE_SHARE of the largest distance in the needle.
 */
const DISTINCTIVE = 39;
const DISTINCTIVE_SHARE = 4;

/** How many of the most distinctive pixels are compared before the block sums. */
const FIRST_PIXELS = 4;

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

/** A prepared needle: its opaque pixels (distinctive ones first, most distinctive first) and cascade levels. */
interface PreparedNeedle {
  width: number;
  height: number;
  opaque: number;
  /** How many opaque pixels are distinctive: the first ones of `offsets` and `colours`. */
  distinctive: number;
  /** The per-channel median colour of the opaque pixels. */
  main: [number, number, number];
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

/** The value of rank `rank` (0 = smallest) in a histogram. */
function histogramRank(histogram: Int32Array, rank: number): number {
  let below = 0;
  for (let value = 0; value < histogram.length; value++) {
    below += histogram[value];
    if (below > rank) return value;
  }
  return histogram.length - 1;
}

function prepareNeedle(needle: Frame, haystackWidth: number, integralWidth: number): PreparedNeedle {
  const { width, height, data } = needle;
  const pixels: { offset: number; r: number; g: number; b: number; distance: number }[] = [];
  const histograms = [new Int32Array(256), new Int32Array(256), new Int32Array(256)];
  // Opaque-pixel integral of the needle, to find cells without transparent pixels.
  const opaqueBefore = new Int32Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let rowCount = 0;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (data[i + 3] >= OPAQUE_ALPHA) {
        rowCount++;
        pixels.push({ offset: (y * haystackWidth + x) * 4, r: data[i], g: data[i + 1], b: data[i + 2], distance: 0 });
        histograms[0][data[i]]++;
        histograms[1][data[i + 1]]++;
        histograms[2][data[i + 2]]++;
      }
      opaqueBefore[(y + 1) * (width + 1) + x + 1] = opaqueBefore[y * (width + 1) + x + 1] + rowCount;
    }
  }
  const opaque = pixels.length;
  if (opaque === 0) throw new VNCInputError(`The ${width}x${height} image to find has no opaque pixels (alpha ≥ ${OPAQUE_ALPHA}): there is nothing to compare.`);

  // The main colour: per channel the median (the lower middle value for an even count), which is
  // the flat colour with the least summed absolute difference from the needle.
  const main = histograms.map((histogram) => histogramRank(histogram, (opaque - 1) >> 1)) as [number, number, number];
  let largest = 0;
  for (const p of pixels) {
    p.distance = Math.abs(p.r - main[0]) + Math.abs(p.g - main[1]) + Math.abs(p.b - main[2]);
    largest = Math.max(largest, p.distance);
  }
  let distinctive = 0;
  for (const p of pixels) if (p.distance >= DISTINCTIVE && p.distance * DISTINCTIVE_SHARE >= largest) distinctive++;
  // Distinctive pixels first, the most distinctive first: at a wrong position they are the ones
  // most likely to differ, so the check stops soonest.
  pixels.sort((a, b) => b.distance - a.distance);
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
  return { width, height, opaque, distinctive, main, offsets, colours, levels: levels.filter((level) => level.count > 0) };
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
  /** Summed absolute difference over all opaque pixels. */
  sum: number;
  /** 1 − similarity: the larger of the mean differences (/ 765) over all and over the distinctive pixels. */
  error: number;
}

/** 1 − similarity from the summed differences over all opaque pixels and over the distinctive ones. */
function errorOf(prepared: PreparedNeedle, sum: number, distinctiveSum: number): number {
  const overall = sum / (765 * prepared.opaque);
  return prepared.distinctive > 0 ? Math.max(overall, distinctiveSum / (765 * prepared.distinctive)) : overall;
}

/**
 * Positions whose error (1 − similarity) is at most `maxError`. Without `all`: the best one (lowest
 * error, the first in reading order on ties), with the limits tightening as better ones turn up.
 */
function scan(haystack: Frame, prepared: PreparedNeedle, area: Rect, maxError: number, all: boolean): Candidate[] {
  const table = integralImage(haystack, area);
  const { width, height, offsets, colours, opaque, distinctive, levels } = prepared;
  const data = haystack.data;
  const stride = haystack.width * 4;
  const w1 = area.width + 1;
  const lastX = area.width - width;
  const lastY = area.height - height;
  const found: Candidate[] = [];
  // The most the summed differences may be, over all pixels and over the distinctive ones. A tiny
  // allowance so that a similarity computed as exactly the limit is not lost to rounding.
  const limitAll = maxError * 765 * opaque + 1e-6;
  const limitDistinctive = distinctive > 0 ? maxError * 765 * distinctive + 1e-6 : 0;
  let boundAll = limitAll;
  let boundDistinctive = limitDistinctive;
  let best = Infinity;
  // With `all`: positions overlapping an exact match already taken are skipped (a greedy pick by
  // best-first would reject them anyway), which keeps flat areas with many exact matches fast.
  const blocked = all ? new Uint8Array((lastX + 1) * (lastY + 1)) : undefined;
  const firstPixels = Math.min(distinctive, FIRST_PIXELS);

  for (let y = 0; y <= lastY; y++) {
    let pixelBase = (area.y + y) * stride + area.x * 4;
    let tableBase = y * w1 * 3;
    for (let x = 0; x <= lastX; x++, pixelBase += 4, tableBase += 3) {
      if (blocked && blocked[y * (lastX + 1) + x]) continue;
      // Lower bounds from block sums, coarsest first. After the first (the whole needle), a few of
      // the most distinctive pixels: block sums cannot tell a needle that is mostly background from
      // a blank area, and there those pixels settle it. The pixel check carries on from them.
      let sum = 0;
      let k = 0;
      let k3 = 0;
      let rejected = false;
      for (let l = 0; l < levels.length; l++) {
        const { corners, sums, count } = levels[l];
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
          if (lower > boundAll) break;
        }
        if (lower > boundAll) {
          rejected = true;
          break;
        }
        if (l === 0) {
          for (; k < firstPixels; k++, k3 += 3) {
            const i = pixelBase + offsets[k];
            sum += Math.abs(data[i] - colours[k3]) + Math.abs(data[i + 1] - colours[k3 + 1]) + Math.abs(data[i + 2] - colours[k3 + 2]);
            if (sum > boundDistinctive) break;
          }
          if (sum > boundDistinctive) {
            rejected = true;
            break;
          }
        }
      }
      if (rejected) continue;

      // The rest of the distinctive pixels against their own limit, then the others against the
      // overall one.
      for (; k < distinctive; k++, k3 += 3) {
        const i = pixelBase + offsets[k];
        sum += Math.abs(data[i] - colours[k3]) + Math.abs(data[i + 1] - colours[k3 + 1]) + Math.abs(data[i + 2] - colours[k3 + 2]);
        if (sum > boundDistinctive) break;
      }
      if (sum > boundDistinctive) continue;
      const distinctiveSum = sum;
      for (; k < opaque; k++, k3 += 3) {
        const i = pixelBase + offsets[k];
        sum += Math.abs(data[i] - colours[k3]) + Math.abs(data[i + 1] - colours[k3 + 1]) + Math.abs(data[i + 2] - colours[k3 + 2]);
        if (sum > boundAll) break;
      }
      if (sum > boundAll) continue;
      const error = errorOf(prepared, sum, distinctiveSum);
      if (all) {
        found.push({ x: area.x + x, y: area.y + y, sum, error });
        if (sum === 0 && blocked) {
          for (let by = Math.max(0, y - height + 1); by <= Math.min(lastY, y + height - 1); by++) {
            blocked.fill(1, by * (lastX + 1) + Math.max(0, x - width + 1), by * (lastX + 1) + Math.min(lastX, x + width - 1) + 1);
          }
        }
      } else if (error < best) {
        found[0] = { x: area.x + x, y: area.y + y, sum, error };
        if (sum === 0) return found; // nothing can beat an exact match
        best = error;
        // A better position has both parts below `best`. The bounds are a hair looser than that, so
        // that rounding cannot reject it; `error < best` above decides exactly.
        const loose = best * (1 + 1e-9);
        boundAll = Math.min(limitAll, loose * 765 * opaque);
        if (distinctive > 0) boundDistinctive = Math.min(limitDistinctive, loose * 765 * distinctive);
      }
    }
  }
  return found;
}

function toMatch(candidate: Candidate, prepared: PreparedNeedle): Match {
  return { x: candidate.x, y: candidate.y, width: prepared.width, height: prepared.height, similarity: 1 - candidate.error };
}

/** Checks the images and the region, and prepares the needle; refuses a plain one unless allowed. */
function prepareSearch(haystack: Frame, needle: Frame, region: Rect | undefined, allowPlain: boolean | undefined): { area: Rect; prepared: PreparedNeedle } {
  checkFrame(haystack, 'The image to search in');
  checkFrame(needle, 'The image to find');
  const area = searchArea(haystack, region);
  if (needle.width > area.width || needle.height > area.height) {
    throw new VNCInputError(
      `The image to find (${needle.width}x${needle.height}) is larger than the ${region ? 'region searched' : 'screen'} (${area.width}x${area.height}).`,
    );
  }
  const prepared = prepareNeedle(needle, haystack.width, area.width + 1);
  if (prepared.distinctive === 0 && allowPlain !== true) {
    const pixels = prepared.opaque === needle.width * needle.height ? 'every pixel' : 'every opaque pixel';
    throw new VNCInputError(
      `The ${needle.width}x${needle.height} image to find has nothing distinctive: ${pixels} is within ${DISTINCTIVE - 1} (R, G and B differences added up) of its main colour rgb(${prepared.main.join(', ')}), so it would match any area of that colour. ` +
        'Cut a piece with something distinctive in it (text, an edge, an icon), or pass allowPlain: true to look for a plain area.',
    );
  }
  return { area, prepared };
}

/** Every non-overlapping candidate, best first (greedy: a candidate overlapping a better one is dropped). */
function nonOverlapping(candidates: Candidate[], width: number, height: number): Candidate[] {
  candidates.sort((a, b) => a.error - b.error || a.y - b.y || a.x - b.x);
  const taken: Candidate[] = [];
  for (const candidate of candidates) {
    if (taken.every((t) => Math.abs(t.x - candidate.x) >= width || Math.abs(t.y - candidate.y) >= height)) taken.push(candidate);
  }
  return taken;
}

/**
 * Finds `needle` in `haystack`: the best position with at least `similarity` (default 0.95), or
 * null. With `all: true`, every non-overlapping position that reaches it, best first.
 * Throws VNCInputError when the needle is larger than the haystack or region, fully transparent,
 * or plain (nothing distinctive in it) without `allowPlain`.
 */
export function findImage(haystack: Frame, needle: Frame, options: FindImageOptions & { all: true }): Match[];
export function findImage(haystack: Frame, needle: Frame, options?: FindImageOptions & { all?: false }): Match | null;
export function findImage(haystack: Frame, needle: Frame, options?: FindImageOptions): Match | Match[] | null;
export function findImage(haystack: Frame, needle: Frame, options: FindImageOptions = {}): Match | Match[] | null {
  const similarity = checkSimilarity(options.similarity ?? DEFAULT_SIMILARITY);
  const { area, prepared } = prepareSearch(haystack, needle, options.region, options.allowPlain);
  const candidates = scan(haystack, prepared, area, 1 - similarity, options.all === true);
  if (options.all === true) return nonOverlapping(candidates, needle.width, needle.height).map((c) => toMatch(c, prepared));
  return candidates.length > 0 ? toMatch(candidates[0], prepared) : null;
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

/** The candidate at (x, y) of the haystack (the one the needle was prepared for), compared pixel by pixel. */
function candidateAt(haystack: Frame, prepared: PreparedNeedle, x: number, y: number): Candidate {
  const { offsets, colours, opaque, distinctive } = prepared;
  const base = (y * haystack.width + x) * 4;
  let sum = 0;
  let distinctiveSum = 0;
  for (let k = 0, k3 = 0; k < opaque; k++, k3 += 3) {
    if (k === distinctive) distinctiveSum = sum;
    const i = base + offsets[k];
    sum += Math.abs(haystack.data[i] - colours[k3]) + Math.abs(haystack.data[i + 1] - colours[k3 + 1]) + Math.abs(haystack.data[i + 2] - colours[k3 + 2]);
  }
  if (distinctive === opaque) distinctiveSum = sum;
  return { x, y, sum, error: errorOf(prepared, sum, distinctiveSum) };
}

/**
 * About the best position of `needle` whatever its similarity, for "the closest was …" messages.
 * An exact search for a needle that is nowhere can take seconds, so this searches pictures reduced
 * 4× (2× for small needles) and refines around the best place found there: quick, and usually but
 * not always the true best. The similarity it reports is the exact one at the position it reports.
 * Refuses a plain needle unless `allowPlain`, as findImage does.
 */
export function closestMatch(haystack: Frame, needle: Frame, options: { region?: Rect; allowPlain?: boolean } = {}): Match {
  const { area, prepared } = prepareSearch(haystack, needle, options.region, options.allowPlain);
  const factor = [4, 2].find((f) => needle.width >= 4 * f && needle.height >= 4 * f) ?? 1;
  if (factor === 1) {
    const [best] = scan(haystack, prepared, area, Infinity, false);
    return toMatch(best, prepared);
  }
  const small = downscale(needle, { x: 0, y: 0, width: needle.width, height: needle.height }, factor);
  const smallArea = { x: 0, y: 0, width: Math.floor(area.width / factor), height: Math.floor(area.height / factor) };
  let coarse: Candidate | undefined;
  try {
    // Reduced, the needle may have lost its distinctive pixels: it is then compared as a whole.
    [coarse] = scan(downscale(haystack, area, factor, false), prepareNeedle(small, smallArea.width, smallArea.width + 1), smallArea, Infinity, false);
  } catch (error) {
    if (!(error instanceof VNCInputError)) throw error; // the reduced needle is all transparent
  }
  const centre = coarse ? { x: area.x + coarse.x * factor, y: area.y + coarse.y * factor } : { x: area.x, y: area.y };
  let best: Candidate | undefined;
  for (let y = Math.max(area.y, centre.y - factor); y <= Math.min(area.y + area.height - needle.height, centre.y + factor); y++) {
    for (let x = Math.max(area.x, centre.x - factor); x <= Math.min(area.x + area.width - needle.width, centre.x + factor); x++) {
      const candidate = candidateAt(haystack, prepared, x, y);
      if (!best || candidate.error < best.error) best = candidate;
    }
  }
  return toMatch(best!, prepared);
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
  /** Accept a needle with nothing distinctive in it (one flat colour): see FindImageOptions. */
  allowPlain?: boolean;
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
    const match = findImage(frame, needle, { similarity, region: options.region, allowPlain: options.allowPlain });
    if (match === null && call.onTimeout === 'throw') {
      const near = closestMatch(frame, needle, { region: options.region, allowPlain: options.allowPlain });
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
