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
  const scale = Math.min(MAX_SCALE, Math.max(1, TARGET_LINE_HEIGHT / Math.max(MIN_LINE_HEIGHT, lineHeight)));
  const big = upscaleGrey(crop, scale);
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
