/**
 * The OCR pipeline below the engine, pixel by pixel: where text areas are found (borders taken
 * out, words of a line joined, columns kept apart), how an area is normalised (light-on-dark
 * inverted), and TextReader's incremental reading with a counting fake engine — an unchanged
 * image costs no recognition, a changed area is the only one re-read, moved content is reused,
 * and word boxes come back in image coordinates.
 */
import { expect, test } from '@playwright/test';
import { TextReader, VNCInputError, VNCStateError, type OcrEngine, type OcrImage, type OcrReadOptions, type OcrWord } from '../../src/index.js';
import { toGrey } from '../../src/ocr/image.js';
import { findTextAreas } from '../../src/ocr/layout.js';
import { normaliseArea } from '../../src/ocr/mosaic.js';
import { linesOfText } from '../../src/ocr/reading-order.js';

type Rgb = [number, number, number];

function canvas(width: number, height: number, colour: Rgb = [255, 255, 255]): OcrImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...colour, 255], i * 4);
  return { width, height, data };
}

function fill(image: OcrImage, x: number, y: number, w: number, h: number, colour: Rgb): void {
  for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) image.data.set([...colour, 255], (yy * image.width + xx) * 4);
}

/** A "word" of `letters` glyph-like strokes (2 px wide, 9 px tall, 2 px apart) at x, y. */
function word(image: OcrImage, x: number, y: number, letters: number, colour: Rgb = [0, 0, 0]): { x: number; y: number; width: number; height: number } {
  for (let i = 0; i < letters; i++) {
    fill(image, x + i * 5, y, 2, 9, colour);
    fill(image, x + i * 5 + 2, y + 7, 2, 2, colour);
  }
  return { x, y, width: letters * 5 - 1, height: 9 };
}

function outline(image: OcrImage, x: number, y: number, w: number, h: number, colour: Rgb): void {
  fill(image, x, y, w, 1, colour);
  fill(image, x, y + h - 1, w, 1, colour);
  fill(image, x, y, 1, h, colour);
  fill(image, x + w - 1, y, 1, h, colour);
}

const contains = (outer: { x: number; y: number; width: number; height: number }, inner: { x: number; y: number; width: number; height: number }) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

test.describe('finding text areas', () => {
  test('joins the words of a line, keeps columns apart, and finds nothing on flat or gently shaded areas', () => {
    const image = canvas(400, 120);
    const a = word(image, 20, 20, 4);
    const b = word(image, a.x + a.width + 6, 20, 3);
    const c = word(image, 200, 20, 5);
    // A soft vertical gradient (like a GTK button face) below: no text.
    for (let y = 60; y < 110; y++) fill(image, 0, y, 400, 1, [200 + Math.floor((y - 60) / 5), 200, 200]);
    const areas = findTextAreas(toGrey(image));
    expect(areas).toHaveLength(2);
    expect(contains(areas[0].box, a) && contains(areas[0].box, b)).toBe(true);
    expect(areas[0].box.x + areas[0].box.width).toBeLessThan(c.x);
    expect(contains(areas[1].box, c)).toBe(true);
  });

  test('takes a button border out, so the label is an area of its own', () => {
    const image = canvas(300, 100, [240, 240, 240]);
    outline(image, 40, 30, 120, 34, [120, 120, 120]);
    const label = word(image, 80, 42, 5);
    const areas = findTextAreas(toGrey(image));
    expect(areas).toHaveLength(1);
    expect(contains(areas[0].box, label)).toBe(true);
    expect(areas[0].box.width).toBeLessThan(40);
  });

  test('lines of a terminal are separate areas, top to bottom', () => {
    const image = canvas(200, 80);
    const first = word(image, 10, 10, 6);
    const second = word(image, 10, 30, 3);
    const areas = findTextAreas(toGrey(image));
    expect(areas).toHaveLength(2);
    // The edge map marks the row where the contrast starts: one pixel above the ink at most.
    expect(areas.map((a) => a.box.y)).toEqual([first.y - 1, second.y - 1]);
    expect(contains(areas[0].box, first) && contains(areas[1].box, second)).toBe(true);
  });
});

test.describe('normalising an area', () => {
  test('light text on a dark background becomes dark text on white, enlarged', () => {
    const image = canvas(60, 20, [30, 30, 40]);
    word(image, 5, 5, 4, [230, 230, 230]);
    const { image: out, scale } = normaliseArea(toGrey(image), 9);
    expect(scale).toBeGreaterThan(1);
    expect(out.width).toBe(Math.round(60 * scale));
    const at = (x: number, y: number) => out.data[Math.floor(y * scale) * out.width + Math.floor(x * scale)];
    expect(at(1, 1)).toBe(255); // background
    expect(at(5.9, 9)).toBe(0); // inside the first stroke
  });

  test('an outline drawn around a label (an Athena oval button) is erased, the label kept', () => {
    const image = canvas(60, 26);
    outline(image, 2, 2, 50, 22, [0, 0, 0]);
    word(image, 14, 8, 5);
    const { image: out, scale } = normaliseArea(toGrey(image), 22);
    const at = (x: number, y: number) => out.data[Math.floor(y * scale) * out.width + Math.floor(x * scale)];
    expect(at(2.5, 12)).toBe(255); // the outline's left side
    expect(at(25, 2.5)).toBe(255); // its top
    expect(at(14.5, 10)).toBe(0); // the label's first stroke
    // Scaled for the label alone, as if the outline had never been there.
    const bare = canvas(60, 26);
    word(bare, 14, 8, 5);
    expect(scale).toBe(normaliseArea(toGrey(bare), 22).scale);
  });

  test('dark text on a light background stays dark', () => {
    const image = canvas(60, 20, [250, 250, 250]);
    word(image, 5, 5, 4, [20, 20, 20]);
    const { image: out, scale } = normaliseArea(toGrey(image), 9);
    expect(out.data[Math.floor(9 * scale) * out.width + Math.floor(5.9 * scale)]).toBe(0);
    expect(out.data[0]).toBe(255);
  });
});

/** An engine that finds bands of dark pixels in the stacked image and names each `w<N>`. */
class CountingEngine implements OcrEngine {
  readonly name = 'counting';
  reads: { width: number; height: number; bands: number }[] = [];
  closed = 0;
  private next = 0;

  async read(image: OcrImage, options: OcrReadOptions = {}): Promise<OcrWord[]> {
    expect(options.layout).toBe('lines');
    const words: OcrWord[] = [];
    let top = -1;
    for (let y = 0; y <= image.height; y++) {
      let left = image.width;
      let right = -1;
      if (y < image.height) {
        for (let x = 0; x < image.width; x++) {
          if (image.data[(y * image.width + x) * 4] < 128) {
            left = Math.min(left, x);
            right = x;
          }
        }
      }
      if (right >= 0 && top < 0) top = y;
      if (right < 0 && top >= 0) {
        let l = image.width;
        let r = 0;
        for (let yy = top; yy < y; yy++) {
          for (let x = 0; x < image.width; x++) {
            if (image.data[(yy * image.width + x) * 4] < 128) {
              l = Math.min(l, x);
              r = Math.max(r, x);
            }
          }
        }
        words.push({ text: `w${this.next++}`, confidence: 90, line: words.length, box: { x: l, y: top, width: r - l + 1, height: y - top } });
        top = -1;
      }
    }
    this.reads.push({ width: image.width, height: image.height, bands: words.length });
    return words;
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

function desktop(offsetX = 0, offsetY = 0): { image: OcrImage; words: { x: number; y: number; width: number; height: number }[] } {
  const image = canvas(640, 400, [32, 64, 128]);
  fill(image, 100 + offsetX, 80 + offsetY, 300, 120, [245, 245, 245]);
  const words = [word(image, 120 + offsetX, 100 + offsetY, 6), word(image, 120 + offsetX, 150 + offsetY, 4), word(image, 300 + offsetX, 150 + offsetY, 5)];
  return { image, words };
}

test.describe('TextReader', () => {
  test('returns one word per area, with boxes in image coordinates, in reading order', async () => {
    const engine = new CountingEngine();
    const reader = new TextReader(engine);
    const { image, words } = desktop();
    const read = await reader.read(image);
    expect(engine.reads).toHaveLength(1);
    expect(read).toHaveLength(3);
    read.forEach((w, i) => {
      const truth = words[i];
      expect(Math.abs(w.box.x - truth.x)).toBeLessThanOrEqual(1);
      expect(Math.abs(w.box.y - truth.y)).toBeLessThanOrEqual(1);
      expect(Math.abs(w.box.width - truth.width)).toBeLessThanOrEqual(2);
    });
    expect(read.map((w) => w.line)).toEqual([0, 1, 2]);
    expect(linesOfText(read).map((l) => l.words.length)).toEqual([1, 2]);
  });

  test('an unchanged image is answered without recognition', async () => {
    const engine = new CountingEngine();
    const reader = new TextReader(engine);
    const { image } = desktop();
    const first = await reader.read(image);
    const second = await reader.read({ ...image, data: new Uint8Array(image.data) });
    expect(second).toEqual(first);
    expect(engine.reads).toHaveLength(1);
    expect(reader.stats.unchangedReads).toBe(1);
  });

  test('a changed area is the only one sent to the engine', async () => {
    const engine = new CountingEngine();
    const reader = new TextReader(engine);
    const { image } = desktop();
    const first = await reader.read(image);
    word(image, 300, 150 + 0, 7); // the third word grows by two letters
    const second = await reader.read(image);
    expect(engine.reads).toHaveLength(2);
    expect(engine.reads[1].bands).toBe(1);
    expect(second.slice(0, 2).map((w) => w.text)).toEqual(first.slice(0, 2).map((w) => w.text));
    expect(second[2].text).not.toBe(first[2].text);
    expect(second[2].box.width).toBeGreaterThan(first[2].box.width);
    expect(reader.stats).toMatchObject({ areasRead: 4, areasReused: 2 });
  });

  test('content that moved is not read again; its words move with it', async () => {
    const engine = new CountingEngine();
    const reader = new TextReader(engine);
    const before = await reader.read(desktop().image);
    const after = await reader.read(desktop(37, 21).image);
    expect(engine.reads).toHaveLength(1);
    expect(after.map((w) => w.text)).toEqual(before.map((w) => w.text));
    after.forEach((w, i) => expect([w.box.x - before[i].box.x, w.box.y - before[i].box.y]).toEqual([37, 21]));
  });

  test('a region reads only what is inside it, boxes still in image coordinates', async () => {
    const reader = new TextReader(new CountingEngine());
    const { image, words } = desktop();
    const read = await reader.read(image, { region: { x: 280, y: 130, width: 200, height: 50 } });
    expect(read).toHaveLength(1);
    expect(Math.abs(read[0].box.x - words[2].x)).toBeLessThanOrEqual(1);
  });

  test('bad regions and images are VNCInputErrors; a closed reader is a VNCStateError and closes its engine once', async () => {
    const engine = new CountingEngine();
    const reader = new TextReader(engine);
    const { image } = desktop();
    await expect(reader.read(image, { region: { x: 600, y: 0, width: 100, height: 10 } })).rejects.toThrow(VNCInputError);
    await expect(reader.read(image, { region: { x: 0, y: 0, width: 1.5, height: 10 } })).rejects.toThrow(/not inside the 640x400 image/);
    await expect(reader.read({ width: 10, height: 10, data: new Uint8Array(10) })).rejects.toThrow(/RGBA image/);
    await reader.close();
    await reader.close();
    expect(engine.closed).toBe(1);
    await expect(reader.read(image)).rejects.toThrow(VNCStateError);
    const shared = new CountingEngine();
    await new TextReader(shared, { closeEngine: false }).close();
    expect(shared.closed).toBe(0);
  });
});
