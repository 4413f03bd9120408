import { VNCInputError } from '../../errors.js';
import type { Frame, Rect } from '../../rfb/framebuffer.js';
import type { BridgeContext } from '../context.js';
import { closestMatch, DEFAULT_SIMILARITY, findImage, loadImage, type ImageSource } from '../image-search.js';
import { damageLog } from './damage-log.js';
import type { Finder, FinderResult } from './finder.js';
import { checkRegion, describeBox, readingOrder } from './geometry.js';
import type { GetByImageOptions } from './types.js';

function describeSource(image: ImageSource): string {
  if (typeof image === 'string') return JSON.stringify(image);
  if (Buffer.isBuffer(image)) return `<png ${image.length} bytes>`;
  return `<image ${image.width}x${image.height}>`;
}

/** Finds a picture (a PNG file, PNG bytes or a frame) by template search: every place alike enough. */
export class ImageFinder implements Finder {
  readonly title: string;
  readonly region: Rect | undefined;
  private readonly context: BridgeContext;
  private readonly image: ImageSource;
  private readonly similarity: number;
  private readonly allowPlain: boolean | undefined;
  private needle: Promise<Frame> | undefined;
  /** The last search, reused while nothing repainted where it looked (a search of a large screen takes a while). */
  private last: { session: object; area: Rect; time: number; result: FinderResult } | undefined;

  constructor(context: BridgeContext, image: ImageSource, options: GetByImageOptions = {}) {
    this.context = context;
    this.image = image;
    this.similarity = options.similarity ?? DEFAULT_SIMILARITY;
    this.allowPlain = options.allowPlain;
    this.title = `getByImage(${describeSource(image)})`;
    this.region = options.region === undefined ? undefined : checkRegion(options.region, this.title);
    if (typeof this.similarity !== 'number' || !(this.similarity >= 0 && this.similarity <= 1)) {
      throw new VNCInputError(`${this.title}: similarity must be a number from 0 to 1, got ${JSON.stringify(options.similarity)}.`);
    }
  }

  async search(area: Rect): Promise<FinderResult> {
    // Read (and checked) on first use only: a locator is lazy.
    this.needle ??= loadImage(this.image);
    const needle = await this.needle;
    const session = this.context.session();
    const log = damageLog(session);
    const last = this.last;
    if (last && last.session === session && sameRect(last.area, area) && !log.changedSince(last.time, area)) return last.result;
    const time = Date.now();
    // The framebuffer itself: its fourth byte is not alpha, but the haystack's alpha is not read.
    const screen = session.framebuffer as Frame;
    if (needle.width > area.width || needle.height > area.height) {
      return { matches: [], seen: () => `the ${needle.width}x${needle.height} image is larger than the area searched, ${describeBox(area)}` };
    }
    const found = findImage(screen, needle, { similarity: this.similarity, region: area, allowPlain: this.allowPlain, all: true });
    const matches = found
      .map((match) => ({ box: { x: match.x, y: match.y, width: match.width, height: match.height }, similarity: match.similarity }))
      .sort((a, b) => readingOrder(a.box, b.box));
    let closest: string | undefined;
    const seen = () => {
      if (closest === undefined) {
        const near = closestMatch(screen, needle, { region: area, allowPlain: this.allowPlain });
        closest = `the closest place was ${describeBox({ x: near.x, y: near.y, width: near.width, height: near.height })} with similarity ${near.similarity.toFixed(3)} (${this.similarity} needed)`;
      }
      return closest;
    };
    const result = { matches, seen };
    this.last = { session, area: { ...area }, time, result };
    return result;
  }
}

function sameRect(a: Rect, b: Rect): boolean {
  return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}

