/**
 * Pixel comparison of two frames, for screen assertions: how many pixels differ (by the YIQ colour
 * distance that pixelmatch, and so Playwright's `toHaveScreenshot`, use) and a picture of where.
 */
import pixelmatch from 'pixelmatch';
import { VNCInputError } from '../errors.js';
import type { Frame, Rect } from '../rfb/framebuffer.js';

export interface CompareOptions {
  /**
   * How different two pixels' colours may be and still count as equal: 0 (exactly equal) to 1
   * (anything goes), on pixelmatch's YIQ scale, as Playwright's `threshold`. Default 0.1.
   */
  threshold?: number;
  /** Areas (in the frames' coordinates) that are ignored: never counted, shaded in the diff image. */
  mask?: Rect[];
  /** Count anti-aliased pixels (edge pixels that differ only by smoothing) too. Default false: they are ignored and drawn yellow. */
  includeAA?: boolean;
}

export interface FrameSize {
  w: number;
  h: number;
}

export interface CompareResult {
  /** Pixels that differ (outside the mask). With a size mismatch, pixels that only one frame has count as different. */
  diffPixels: number;
  /** All pixels compared: width × height (of the larger extent when the sizes differ), masked ones included. */
  totalPixels: number;
  /** Set when the frames are not the same size; the common top-left part is compared. */
  sizeMismatch?: { actual: FrameSize; expected: FrameSize };
  /** Red where the frames differ, yellow for ignored anti-aliasing, faded grey elsewhere, masked areas shaded blue. */
  diffImage: Frame;
}

export interface MatchTolerance {
  /** Differing pixels allowed. */
  maxDiffPixels?: number;
  /** Share of all pixels allowed to differ, 0..1. */
  maxDiffPixelRatio?: number;
}

const DIFF_RED: [number, number, number] = [255, 0, 0];
const AA_YELLOW: [number, number, number] = [255, 255, 0];
/** Masked pixels: the faded picture mixed half and half with this. */
const MASK_TINT = [70, 90, 170];

function checkFrame(frame: Frame, what: string): void {
  const { width, height, data } = frame ?? ({} as Frame);
  const whole = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!whole(width) || !whole(height) || !(data instanceof Uint8Array) || data.length !== width * height * 4) {
    throw new VNCInputError(
      `${what} is not an RGBA frame: it needs whole-number width and height and data of width × height × 4 bytes (got ${String(width)}x${String(height)} with ${data instanceof Uint8Array ? data.length : 'no'} bytes).`,
    );
  }
}

/** The part of `rect` inside a width × height frame, or null when none of it is. */
function clip(rect: Rect, width: number, height: number): Rect | null {
  const numbers = [rect?.x, rect?.y, rect?.width, rect?.height];
  if (!numbers.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new VNCInputError(`Mask rectangle ${JSON.stringify(rect)} needs numeric x, y, width and height.`);
  }
  const x0 = Math.max(0, Math.floor(rect.x));
  const y0 = Math.max(0, Math.floor(rect.y));
  const x1 = Math.min(width, Math.ceil(rect.x + rect.width));
  const y1 = Math.min(height, Math.ceil(rect.y + rect.height));
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null;
}

/** The top-left width × height pixels of `frame`, in a fresh (4-byte aligned) buffer. */
function crop(frame: Frame, width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 4);
  const rowBytes = width * 4;
  for (let y = 0; y < height; y++) frame.data.copy(out, y * rowBytes, y * frame.width * 4, y * frame.width * 4 + rowBytes);
  return out;
}

/** pixelmatch reads pixels as 32-bit words, which needs a 4-byte aligned view. */
function aligned(data: Buffer): Buffer {
  return data.byteOffset % 4 === 0 ? data : Buffer.from(data);
}

/**
 * Compares `actual` with `expected` pixel by pixel (pixelmatch: YIQ colour distance, anti-aliasing
 * detection). Frames of different sizes are compared over their common top-left part, every pixel
 * outside it counting as different, and `sizeMismatch` says so.
 */
export function compareFrames(actual: Frame, expected: Frame, options: CompareOptions = {}): CompareResult {
  checkFrame(actual, 'The actual image');
  checkFrame(expected, 'The expected image');
  const threshold = options.threshold ?? 0.1;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw new VNCInputError(`threshold must be a number from 0 to 1, got ${JSON.stringify(options.threshold)}.`);
  }
  if (options.mask !== undefined && !Array.isArray(options.mask)) throw new VNCInputError('mask must be an array of rectangles.');

  const width = Math.max(actual.width, expected.width);
  const height = Math.max(actual.height, expected.height);
  const commonWidth = Math.min(actual.width, expected.width);
  const commonHeight = Math.min(actual.height, expected.height);
  const sameSize = actual.width === expected.width && actual.height === expected.height;
  const masks = (options.mask ?? []).map((rect) => clip(rect, width, height)).filter((rect): rect is Rect => rect !== null);

  // The common part of both; masked pixels are made equal (copied from actual) so they never count.
  const a = sameSize ? aligned(actual.data) : crop(actual, commonWidth, commonHeight);
  let b = sameSize ? aligned(expected.data) : crop(expected, commonWidth, commonHeight);
  const commonMasks = masks.map((rect) => clip(rect, commonWidth, commonHeight)).filter((rect): rect is Rect => rect !== null);
  if (commonMasks.length > 0) {
    if (b === expected.data) b = Buffer.from(b);
    for (const rect of commonMasks) {
      for (let y = rect.y; y < rect.y + rect.height; y++) {
        const start = (y * commonWidth + rect.x) * 4;
        a.copy(b, start, start, start + rect.width * 4);
      }
    }
  }

  const common = Buffer.alloc(commonWidth * commonHeight * 4);
  let diffPixels =
    commonWidth * commonHeight === 0
      ? 0
      : pixelmatch(a, b, common, commonWidth, commonHeight, { threshold, includeAA: options.includeAA ?? false, alpha: 0.1, diffColor: DIFF_RED, aaColor: AA_YELLOW });

  let diffData = common;
  if (!sameSize) {
    // Everything outside the common part exists in only one frame: red.
    diffData = Buffer.alloc(width * height * 4);
    for (let i = 0; i < diffData.length; i += 4) {
      diffData[i] = 255;
      diffData[i + 3] = 255;
    }
    for (let y = 0; y < commonHeight; y++) common.copy(diffData, y * width * 4, y * commonWidth * 4, (y + 1) * commonWidth * 4);
    diffPixels += width * height - commonWidth * commonHeight;
  }

  // Shade the masked areas; pixels outside the common part that are masked do not count.
  const shaded = new Uint8Array(masks.length > 0 ? width * height : 0);
  for (const rect of masks) {
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      for (let x = rect.x; x < rect.x + rect.width; x++) {
        const p = y * width + x;
        if (shaded[p]) continue;
        shaded[p] = 1;
        // Outside the common part the pixel was counted and drawn red: uncount it, shade light grey.
        const outside = x >= commonWidth || y >= commonHeight;
        if (outside) diffPixels--;
        const i = p * 4;
        for (let c = 0; c < 3; c++) diffData[i + c] = ((outside ? 230 : diffData[i + c]) + MASK_TINT[c]) >> 1;
        diffData[i + 3] = 255;
      }
    }
  }

  return {
    diffPixels,
    totalPixels: width * height,
    ...(sameSize ? {} : { sizeMismatch: { actual: { w: actual.width, h: actual.height }, expected: { w: expected.width, h: expected.height } } }),
    diffImage: { width, height, data: diffData },
  };
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A share as a percentage with at most two decimals, never rounding a non-zero share to "0". */
function formatPercent(ratio: number): string {
  const percent = ratio * 100;
  if (percent === 0) return '0 %';
  if (percent < 0.01) return '< 0.01 %';
  return `${Number(percent.toFixed(percent < 1 ? 2 : 1))} %`;
}

/**
 * Whether a comparison is within tolerance. As in Playwright: with neither limit no pixel may
 * differ; with both, the stricter one applies. Frames of different sizes never match.
 */
export function checkMatch(result: CompareResult, tolerance: MatchTolerance = {}): { pass: boolean; message: string } {
  const { maxDiffPixels, maxDiffPixelRatio } = tolerance;
  if (maxDiffPixels !== undefined && (typeof maxDiffPixels !== 'number' || !(maxDiffPixels >= 0))) {
    throw new VNCInputError(`maxDiffPixels must be a number ≥ 0, got ${JSON.stringify(maxDiffPixels)}.`);
  }
  if (maxDiffPixelRatio !== undefined && (typeof maxDiffPixelRatio !== 'number' || !(maxDiffPixelRatio >= 0 && maxDiffPixelRatio <= 1))) {
    throw new VNCInputError(`maxDiffPixelRatio must be a number from 0 to 1, got ${JSON.stringify(maxDiffPixelRatio)}.`);
  }
  const total = result.totalPixels;
  const fromCount = maxDiffPixels ?? Infinity;
  const fromRatio = maxDiffPixelRatio !== undefined ? Math.floor(total * maxDiffPixelRatio) : Infinity;
  const allowed = maxDiffPixels === undefined && maxDiffPixelRatio === undefined ? 0 : Math.min(fromCount, fromRatio);
  const ratio = total === 0 ? 0 : result.diffPixels / total;
  const differ = `${formatCount(result.diffPixels)} pixel${result.diffPixels === 1 ? '' : 's'} (${formatPercent(ratio)}) differ`;
  const limit = `allowed ${formatCount(allowed)} (${formatPercent(total === 0 ? 0 : allowed / total)})`;
  if (result.sizeMismatch) {
    const { actual, expected } = result.sizeMismatch;
    return { pass: false, message: `The sizes differ: actual ${actual.w}x${actual.h}, expected ${expected.w}x${expected.h}; ${differ}.` };
  }
  return { pass: result.diffPixels <= allowed, message: `${differ}; ${limit}.` };
}
