/**
 * Reading text incrementally: the screen is cut into text areas, each area's pixels are hashed,
 * and only areas never read before go to the engine (all of them in one stacked image). Reading
 * an unchanged image again costs one pixel comparison.
 */
import { createHash } from 'node:crypto';
import { VNCInputError, VNCStateError } from '../errors.js';
import { cropGrey, greyToRgba, toGrey } from './image.js';
import { findTextAreas, type LayoutOptions } from './layout.js';
import { buildMosaics, paddedBox, splitMosaicWords, type AreaToRead } from './mosaic.js';
import type { OcrBox, OcrEngine, OcrImage, OcrWord } from './types.js';

export interface TextReaderOptions {
  /** How many areas' words to remember (least recently seen are forgotten first). Default 2000. */
  cacheSize?: number;
  /** Tuning of the text-area finder. */
  layout?: LayoutOptions;
  /** Close the engine when the reader is closed. Default true. */
  closeEngine?: boolean;
}

export interface TextReaderStats {
  /** Reads answered from the previous read because the pixels had not changed. */
  unchangedReads: number;
  /** Areas sent to the engine, and areas whose words came from the cache. */
  areasRead: number;
  areasReused: number;
  /** Time spent waiting for the engine, in ms (the rest is our own preprocessing). */
  engineMs: number;
}

/** Words of one area with boxes relative to the area's padded crop; `line` counts from 0 inside the area. */
type AreaWords = OcrWord[];

/**
 * What an unsure engine makes of icons, borders and dots: words without a letter or digit, and
 * lone characters. Dropped below NOISE_CONFIDENCE.
 */
const NOISE = /^(?:[^\p{L}\p{N}]+|.)$/u;
const NOISE_CONFIDENCE = 70;

export class TextReader {
  private readonly engine: OcrEngine;
  private readonly cacheSize: number;
  private readonly layout: LayoutOptions | undefined;
  private readonly cache = new Map<string, AreaWords>();
  private last: { region: OcrBox; imageWidth: number; pixels: Uint8Array; words: OcrWord[] } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly closeEngine: boolean;
  readonly stats: TextReaderStats = { unchangedReads: 0, areasRead: 0, areasReused: 0, engineMs: 0 };

  constructor(engine: OcrEngine, options: TextReaderOptions = {}) {
    if (!engine || typeof engine.read !== 'function') throw new VNCInputError('TextReader needs an OcrEngine (an object with read() and close()).');
    this.engine = engine;
    this.cacheSize = options.cacheSize ?? 2000;
    this.layout = options.layout;
    this.closeEngine = options.closeEngine ?? true;
  }

  /** The words in the image (or a region of it), in reading order, boxes in image coordinates. */
  read(image: OcrImage, options: { region?: OcrBox } = {}): Promise<OcrWord[]> {
    if (this.closed) return Promise.reject(new VNCStateError('This TextReader was closed; create a new one to read text.'));
    let region: OcrBox;
    try {
      region = checkRegion(image, options.region);
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.queue.then(() => this.readNow(image, region));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Forgets what was read (the next read recognises everything again). */
  clear(): void {
    this.cache.clear();
    this.last = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.clear();
    if (this.closeEngine) await this.engine.close();
  }

  private async readNow(image: OcrImage, region: OcrBox): Promise<OcrWord[]> {
    const last = this.last;
    if (last && sameBox(last.region, region) && last.imageWidth === image.width && sameRegionPixels(last.pixels, image, region)) {
      this.stats.unchangedReads++;
      return last.words.map((w) => ({ ...w, box: { ...w.box } }));
    }
    const pixels = copyRegion(image, region);
    const grey = toGrey(image, region);
    const areas = findTextAreas(grey, this.layout);
    const keyed = areas.map((area) => {
      const source = clipToNeighbours(paddedBox(area, grey), area.box, areas);
      const crop = cropGrey(grey, source);
      const key = createHash('sha1').update(`${crop.width}x${crop.height}:`).update(crop.data).digest('base64');
      return { source, crop, lineHeight: area.lineHeight, key };
    });
    const missing = new Map<string, AreaToRead>();
    for (const area of keyed) if (!this.cache.has(area.key)) missing.set(area.key, area);
    this.stats.areasReused += keyed.length - missing.size;
    this.stats.areasRead += missing.size;
    await this.recognise(missing);

    const words: OcrWord[] = [];
    let line = 0;
    for (const area of keyed) {
      const cached = this.cache.get(area.key) ?? [];
      // Refresh the entry's place in the least-recently-seen order.
      this.cache.delete(area.key);
      this.cache.set(area.key, cached);
      let lines = 0;
      for (const word of cached) {
        lines = Math.max(lines, word.line + 1);
        words.push({
          ...word,
          line: line + word.line,
          box: { ...word.box, x: word.box.x + area.source.x + region.x, y: word.box.y + area.source.y + region.y },
        });
      }
      line += lines;
    }
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.last = { region, imageWidth: image.width, pixels, words };
    return words.map((w) => ({ ...w, box: { ...w.box } }));
  }

  private async recognise(missing: Map<string, AreaToRead>): Promise<void> {
    if (missing.size === 0) return;
    const keys = [...missing.keys()];
    // Areas are given to the mosaic with their crop at the origin: slot words come back crop-relative.
    const areas = keys.map((key) => {
      const area = missing.get(key)!;
      return { ...area, source: { x: 0, y: 0, width: area.crop.width, height: area.crop.height } };
    });
    let offset = 0;
    for (const mosaic of buildMosaics(areas)) {
      const started = performance.now();
      const read = await this.engine.read(greyToRgba(mosaic.image), { layout: 'lines' });
      this.stats.engineMs += performance.now() - started;
      splitMosaicWords(mosaic, read).forEach((slotWords, i) => {
        const kept = slotWords.filter((w) => !(NOISE.test(w.text) && w.confidence < NOISE_CONFIDENCE));
        const lineIds = [...new Set(kept.map((w) => w.line))].sort((a, b) => a - b);
        this.cache.set(keys[offset + i], kept.map((w) => ({ ...w, line: lineIds.indexOf(w.line) })));
      });
      offset += mosaic.slots.length;
    }
  }
}

function checkRegion(image: OcrImage, region: OcrBox | undefined): OcrBox {
  if (!image || !(image.data instanceof Uint8Array) || image.data.length < image.width * image.height * 4) {
    throw new VNCInputError('TextReader.read needs an RGBA image: { width, height, data } with 4 bytes a pixel.');
  }
  if (region === undefined) return { x: 0, y: 0, width: image.width, height: image.height };
  const { x, y, width, height } = region;
  const whole = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!whole(x) || !whole(y) || !whole(width) || !whole(height) || width === 0 || height === 0 || x + width > image.width || y + height > image.height) {
    throw new VNCInputError(
      `Region ${JSON.stringify(region)} is not inside the ${image.width}x${image.height} image: use whole numbers with width and height > 0 inside the image.`,
    );
  }
  return { x, y, width, height };
}

function sameBox(a: OcrBox, b: OcrBox): boolean {
  return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}

/** The padded box shrunk vertically so it takes in no part of the text lines above and below. */
function clipToNeighbours(padded: OcrBox, own: OcrBox, areas: readonly { box: OcrBox }[]): OcrBox {
  let top = padded.y;
  let bottom = padded.y + padded.height;
  for (const { box } of areas) {
    if (box === own || box.x >= padded.x + padded.width || box.x + box.width <= padded.x) continue;
    const boxBottom = box.y + box.height;
    if (boxBottom <= own.y && boxBottom > top) top = boxBottom;
    if (box.y >= own.y + own.height && box.y < bottom) bottom = box.y;
  }
  return { x: padded.x, y: top, width: padded.width, height: bottom - top };
}

/** Whether the region of `image` still has exactly the pixels kept from the last read (no copy). */
function sameRegionPixels(kept: Uint8Array, image: OcrImage, region: OcrBox): boolean {
  const keptBuffer = Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength);
  const data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  if (region.x === 0 && region.width === image.width) {
    const from = region.y * image.width * 4;
    return keptBuffer.equals(data.subarray(from, from + kept.byteLength));
  }
  const rowBytes = region.width * 4;
  for (let y = 0; y < region.height; y++) {
    const from = ((region.y + y) * image.width + region.x) * 4;
    if (!keptBuffer.subarray(y * rowBytes, (y + 1) * rowBytes).equals(data.subarray(from, from + rowBytes))) return false;
  }
  return true;
}

function copyRegion(image: OcrImage, region: OcrBox): Uint8Array {
  if (region.x === 0 && region.width === image.width) {
    return new Uint8Array(image.data.subarray(region.y * image.width * 4, (region.y + region.height) * image.width * 4));
  }
  const out = new Uint8Array(region.width * region.height * 4);
  for (let y = 0; y < region.height; y++) {
    const from = ((region.y + y) * image.width + region.x) * 4;
    out.set(image.data.subarray(from, from + region.width * 4), y * region.width * 4);
  }
  return out;
}
