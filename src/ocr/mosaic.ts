/**
 * Text areas normalised for the engine — dark text on white, enlarged to a size the engine reads
 * well, binarised with each area's own threshold, border remnants removed — and stacked one under
 * another into one image, so a whole screen's worth of changed areas costs one recognition.
 */
import { type GreyImage, upscaleGrey } from './image.js';
import type { TextArea } from './layout.js';
import type { OcrBox, OcrWord } from './types.js';

/** Pixels of context kept around each area (i-dots, accents, descenders cut by the edge map). */
export const AREA_PADDING = 3;
/**
 * Text is enlarged so its x-height is about this many pixels (measured on the test screens: 11–13
 * read best, 15 worse on bitmap fonts); without a measurable x-height, the line towards TARGET_LINE_HEIGHT.
 */
const TARGET_X_HEIGHT = 11;
const MIN_X_HEIGHT = 4;
/** Text lines are enlarged towards this height in pixels (measured: 20–30 read best, 34+ worse and slower). */
const TARGET_LINE_HEIGHT = 24;
const MAX_SCALE = 4;
/** Areas of lower-case letters without ascenders measure short; no font on a screen is smaller than this. */
const MIN_LINE_HEIGHT = 10;
const GAP = 16;
const MARGIN = 16;
/** Above this many pixels a mosaic is split in several (bounds the engine's memory). */
const MAX_MOSAIC_PIXELS = 6_000_000;

/** The grey crop (with padding) of an area, in the coordinates of the image it was cut from. */
export function paddedBox(area: TextArea, image: { width: number; height: number }): OcrBox {
  const x = Math.max(0, area.box.x - AREA_PADDING);
  const y = Math.max(0, area.box.y - AREA_PADDING);
  const right = Math.min(image.width, area.box.x + area.box.width + AREA_PADDING);
  const bottom = Math.min(image.height, area.box.y + area.box.height + AREA_PADDING);
  return { x, y, width: right - x, height: bottom - y };
}

function percentile(histogram: Uint32Array, total: number, fraction: number): number {
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += histogram[v];
    if (seen > total * fraction) return v;
  }
  return 255;
}

/** Dark-on-white, enlarged, binarised version of a crop. */
export function normaliseArea(crop: GreyImage, lineHeight: number): { image: GreyImage; scale: number } {
  const histogram = new Uint32Array(256);
  for (const v of crop.data) histogram[v]++;
  const total = crop.data.length;
  const background = percentile(histogram, total, 0.5);
  const dark = percentile(histogram, total, 0.03);
  const light = percentile(histogram, total, 0.97);
  // Light text on a dark background: the ink is further above the background than below it.
  const invert = light - background > background - dark;
  const ink = invert ? light : dark;
  const threshold = (background + ink) / 2;
  const isInkValue = (v: number) => (invert ? v > threshold : v < threshold);
  const cleaned = removeOutlines(crop, isInkValue, background);
  // Scaled by the x-height (ascenders and descenders vary from word to word, the x-height does not).
  const xHeight = coreHeight(cleaned ?? crop, isInkValue);
  const scale = xHeight
    ? Math.min(MAX_SCALE, Math.max(1, TARGET_X_HEIGHT / Math.max(MIN_X_HEIGHT, xHeight)))
    : Math.min(MAX_SCALE, Math.max(1, TARGET_LINE_HEIGHT / Math.max(MIN_LINE_HEIGHT, cleaned ? inkLineHeight(cleaned, isInkValue) ?? lineHeight : lineHeight)));
  const big = upscaleGrey(cleaned ?? crop, scale);
  // Binarised after enlarging (smooth outlines); measured better than a contrast-stretched grey.
  const out = new Uint8Array(big.data.length);
  for (let i = 0; i < big.data.length; i++) {
    const isInk = invert ? big.data[i] > threshold : big.data[i] < threshold;
    out[i] = isInk ? 0 : 255;
  }
  const image = { width: big.width, height: big.height, data: out };
  removeBorderRemnants(image, scale);
  return { image, scale };
}

/**
 * Erases outlines drawn around text (Athena's oval buttons, boxes around labels): connected ink
 * nearly as tall as the area, at least half as wide as tall, and thin (under 30 % of its box
 * filled). Returns a cleaned copy, or undefined when there was none.
 */
function removeOutlines(crop: GreyImage, isInk: (v: number) => boolean, background: number): GreyImage | undefined {
  const { width, height, data } = crop;
  const label = new Int32Array(width * height).fill(-1);
  const stack: number[] = [];
  let out: GreyImage | undefined;
  for (let start = 0; start < data.length; start++) {
    if (label[start] >= 0 || !isInk(data[start])) continue;
    const pixels: number[] = [];
    label[start] = start;
    stack.push(start);
    let x0 = width;
    let y0 = height;
    let x1 = 0;
    let y1 = 0;
    while (stack.length) {
      const p = stack.pop()!;
      pixels.push(p);
      const x = p % width;
      const y = (p - x) / width;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const q = ny * width + nx;
          if (label[q] < 0 && isInk(data[q])) {
            label[q] = start;
            stack.push(q);
          }
        }
      }
    }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    if (h >= 0.7 * height && h >= 12 && w >= 0.5 * h && pixels.length <= 0.3 * w * h) {
      out ??= { width, height, data: new Uint8Array(data) };
      for (const p of pixels) out.data[p] = background;
    }
  }
  return out;
}

/** Rows where ink is dense (at least half the densest row): about the x-height of a line of text. */
function coreHeight(image: GreyImage, isInk: (v: number) => boolean): number | undefined {
  const counts: number[] = [];
  for (let y = 0; y < image.height; y++) {
    let n = 0;
    for (let x = 0; x < image.width; x++) if (isInk(image.data[y * image.width + x])) n++;
    counts.push(n);
  }
  const max = Math.max(...counts);
  if (max === 0) return undefined;
  return counts.filter((n) => n >= max / 2).length;
}

/** Median height of the bands of rows with ink (for scaling once outlines are gone). */
function inkLineHeight(image: GreyImage, isInk: (v: number) => boolean): number | undefined {
  const bands: number[] = [];
  let run = 0;
  for (let y = 0; y <= image.height; y++) {
    let any = false;
    if (y < image.height) for (let x = 0; x < image.width && !any; x++) any = isInk(image.data[y * image.width + x]);
    if (any) run++;
    else if (run > 0) {
      if (run >= 4) bands.push(run);
      run = 0;
    }
  }
  if (bands.length === 0) return undefined;
  bands.sort((a, b) => a - b);
  return bands[bands.length >> 1];
}

/** Whitens ink runs no glyph has: longer than 30 source pixels across, or nearly the crop's height down. */
function removeBorderRemnants(image: GreyImage, scale: number): void {
  const { width, height, data } = image;
  const maxAcross = 30 * scale;
  const maxDown = Math.max(12 * scale, height * 0.85);
  const clear: [number, number, number][] = [];
  for (let y = 0; y < height; y++) {
    let start = -1;
    for (let x = 0; x <= width; x++) {
      const on = x < width && data[y * width + x] === 0;
      if (on && start < 0) start = x;
      else if (!on && start >= 0) {
        if (x - start > maxAcross) clear.push([y * width + start, x - start, 1]);
        start = -1;
      }
    }
  }
  for (let x = 0; x < width; x++) {
    let start = -1;
    for (let y = 0; y <= height; y++) {
      const on = y < height && data[y * width + x] === 0;
      if (on && start < 0) start = y;
      else if (!on && start >= 0) {
        if (y - start >= maxDown) clear.push([start * width + x, y - start, width]);
        start = -1;
      }
    }
  }
  for (const [from, count, step] of clear) for (let k = 0; k < count; k++) data[from + k * step] = 255;
}

/** Where one area sits in a mosaic. */
export interface Slot {
  /** The padded crop in source coordinates. */
  source: OcrBox;
  scale: number;
  /** Top-left of the area's image inside the mosaic, and its size there. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Mosaic {
  image: GreyImage;
  slots: Slot[];
}

export interface AreaToRead {
  source: OcrBox;
  crop: GreyImage;
  lineHeight: number;
}

/** Stacks the areas' normalised images, splitting into several mosaics when one would be too large. */
export function buildMosaics(areas: readonly AreaToRead[]): Mosaic[] {
  const mosaics: Mosaic[] = [];
  let pending: { area: AreaToRead; image: GreyImage; scale: number }[] = [];
  let width = 0;
  let height = MARGIN;
  const flush = () => {
    if (pending.length === 0) return;
    const image: GreyImage = { width: width + 2 * MARGIN, height: height + MARGIN - GAP, data: new Uint8Array(0) };
    image.data = new Uint8Array(image.width * image.height).fill(255);
    const slots: Slot[] = [];
    let y = MARGIN;
    for (const { area, image: part, scale } of pending) {
      for (let row = 0; row < part.height; row++) {
        image.data.set(part.data.subarray(row * part.width, (row + 1) * part.width), (y + row) * image.width + MARGIN);
      }
      slots.push({ source: area.source, scale, x: MARGIN, y, width: part.width, height: part.height });
      y += part.height + GAP;
    }
    mosaics.push({ image, slots });
    pending = [];
    width = 0;
    height = MARGIN;
  };
  for (const area of areas) {
    const { image, scale } = normaliseArea(area.crop, area.lineHeight);
    const nextWidth = Math.max(width, image.width);
    if (pending.length > 0 && (nextWidth + 2 * MARGIN) * (height + image.height + GAP) > MAX_MOSAIC_PIXELS) flush();
    pending.push({ area, image, scale });
    width = Math.max(width, image.width);
    height += image.height + GAP;
  }
  flush();
  return mosaics;
}

/**
 * Words read from a mosaic, handed back per slot in the slot's source coordinates (boxes relative
 * to nothing: the source coordinates the areas were given in). Words outside every slot are dropped.
 */
export function splitMosaicWords(mosaic: Mosaic, words: readonly OcrWord[]): OcrWord[][] {
  const perSlot: OcrWord[][] = mosaic.slots.map(() => []);
  for (const word of words) {
    const cy = word.box.y + word.box.height / 2;
    const index = mosaic.slots.findIndex((s) => cy >= s.y - GAP / 2 && cy < s.y + s.height + GAP / 2);
    if (index < 0) continue;
    const slot = mosaic.slots[index];
    const x0 = Math.max(0, (word.box.x - slot.x) / slot.scale);
    const y0 = Math.max(0, (word.box.y - slot.y) / slot.scale);
    const x1 = Math.min(slot.source.width, (word.box.x + word.box.width - slot.x) / slot.scale);
    const y1 = Math.min(slot.source.height, (word.box.y + word.box.height - slot.y) / slot.scale);
    const x = slot.source.x + Math.floor(x0);
    const y = slot.source.y + Math.floor(y0);
    perSlot[index].push({
      ...word,
      box: { x, y, width: Math.max(1, slot.source.x + Math.ceil(x1) - x), height: Math.max(1, slot.source.y + Math.ceil(y1) - y) },
    });
  }
  return perSlot;
}
