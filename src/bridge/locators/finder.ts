import type { Rect } from '../../rfb/framebuffer.js';
import type { LocatorMatch } from './types.js';

/** What one look at the screen found, and (computed only when an error needs it) what was seen instead. */
export interface FinderResult {
  /** Every match, in reading order (top to bottom, left to right). */
  matches: LocatorMatch[];
  /** A sentence for errors: the closest text or image seen, with where. */
  seen(): string;
}

/**
 * How a locator looks: by text (OCR) or by image. A finder only looks, once, in `area`; waiting,
 * strictness and acting live in actionability.ts, shared by every kind of locator.
 */
export interface Finder {
  /** `getByText("Save")`, `getByImage("ok.png")`: the start of the locator's title. */
  readonly title: string;
  /** The area the finder was created for (its `region` option), if any. */
  readonly region: Rect | undefined;
  search(area: Rect): Promise<FinderResult>;
}
