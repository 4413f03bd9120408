import { VNCInputError } from '../../errors.js';
import type { OcrWord } from '../../ocr/types.js';
import type { Rect } from '../../rfb/framebuffer.js';
import type { Finder, FinderResult } from './finder.js';
import { checkRegion, describeBox, readingOrder } from './geometry.js';
import type { GetByTextOptions, LocatorMatch } from './types.js';

/** A run of words matching a text query (the shape of the OCR layer's TextMatch). */
export interface TextFound {
  text: string;
  box: Rect;
  confidence: number;
}

/** Where a text locator gets words and matches them: the OCR layer, or a fake in tests. */
export interface TextBackend {
  /** The words in `region` (screen coordinates), read now; cheap when the screen did not change. */
  readWords(region: Rect): Promise<OcrWord[]>;
  /** Playwright semantics: case-insensitive substring (whitespace normalised), or exact whole string. */
  findText(words: OcrWord[], query: string | RegExp, options: { exact?: boolean }): TextFound[];
  /** The words most like `query`, best first, for "closest: …" in errors. */
  closestText(words: OcrWord[], query: string | RegExp, count?: number): TextFound[];
}

const CLOSEST_SHOWN = 3;

export function describeTextQuery(text: string | RegExp, options: GetByTextOptions): string {
  const query = typeof text === 'string' ? JSON.stringify(text) : String(text);
  return `getByText(${query}${options.exact ? ', { exact: true }' : ''})`;
}

function centreInside(box: Rect, area: Rect): boolean {
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  return x >= area.x && x < area.x + area.width && y >= area.y && y < area.y + area.height;
}

/** Two boxes for one place (the same words matched twice): they overlap by more than half the smaller one. */
function sameSpot(a: Rect, b: Rect): boolean {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 0 && height > 0 && 2 * width * height > Math.min(a.width * a.height, b.width * b.height);
}

/** Finds text read by OCR: every run of words matching the query, in reading order. */
export class TextFinder implements Finder {
  readonly title: string;
  readonly region: Rect | undefined;
  private readonly backend: () => Promise<TextBackend>;
  private readonly query: string | RegExp;
  private readonly exact: boolean;

  constructor(backend: () => Promise<TextBackend>, text: string | RegExp, options: GetByTextOptions = {}) {
    if (!(typeof text === 'string' && text.trim() !== '') && !(text instanceof RegExp)) {
      throw new VNCInputError(`getByText needs a non-empty string or a RegExp, got ${JSON.stringify(text)}.`);
    }
    if (options.exact !== undefined && typeof options.exact !== 'boolean') {
      throw new VNCInputError(`getByText: exact must be true or false, got ${JSON.stringify(options.exact)}.`);
    }
    this.backend = backend;
    this.query = text;
    this.exact = options.exact ?? false;
    this.title = describeTextQuery(text, options);
    this.region = options.region === undefined ? undefined : checkRegion(options.region, this.title);
  }

  async search(area: Rect): Promise<FinderResult> {
    const backend = await this.backend();
    const words = await backend.readWords(area);
    const matches: LocatorMatch[] = backend
      .findText(words, this.query, { exact: this.exact })
      .filter((found) => centreInside(found.box, area))
      .map((found) => ({ box: { ...found.box }, text: found.text, confidence: found.confidence }))
      .sort((a, b) => readingOrder(a.box, b.box))
      .filter((match, index, all) => !all.slice(0, index).some((earlier) => sameSpot(earlier.box, match.box)));
    const seen = () => {
      const inside = words.filter((word) => centreInside(word.box, area));
      if (inside.length === 0) return `no text was read in ${describeBox(area)}`;
      const closest = backend.closestText(inside, this.query, CLOSEST_SHOWN);
      if (closest.length === 0) return `the text read there was: ${inside.slice(0, 10).map((word) => JSON.stringify(word.text)).join(' ')}`;
      return `closest: ${closest.map((found) => `${JSON.stringify(found.text)} at ${describeBox(found.box)}`).join(', ')}`;
    };
    return { matches, seen };
  }
}
