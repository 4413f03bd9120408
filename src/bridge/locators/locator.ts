import { VNCInputError } from '../../errors.js';
import type { Rect } from '../../rfb/framebuffer.js';
import type { BridgeContext } from '../context.js';
import type { Keyboard } from '../keyboard.js';
import type { Mouse, Point } from '../mouse.js';
import { checkTimeout } from '../waiting.js';
import { lookOnce, resolveLocator, type CountGoal, type Goal, type LocatorQuery } from './actionability.js';
import type { Finder } from './finder.js';
import { checkRegion, describeBox, intersection } from './geometry.js';
import type { LocatorClickOptions, LocatorFillOptions, LocatorMatch, LocatorTimeoutOptions, LocatorWaitForOptions } from './types.js';

/** What a locator needs from the bridge. */
export interface LocatorHost {
  readonly context: BridgeContext;
  readonly mouse: Mouse;
  readonly keyboard: Keyboard;
}

/**
 * Something on the remote screen, found by its text or its picture. Lazy like Playwright's
 * locators: creating one, or refining it with nth/first/last/within, searches nothing; each
 * action looks afresh, waits until the target is there and still, and acts on it.
 *
 * ```ts
 * await vnc.getByText('Save').click();
 * await vnc.getByText('Name').fill('Ada');
 * await expect(vnc.getByText('Saved')).toBeVisible();
 * ```
 */
export class ScreenLocator {
  private readonly host: LocatorHost;
  private readonly query: LocatorQuery;

  /** @internal Use vnc.getByText / vnc.getByImage. */
  constructor(host: LocatorHost, finder: Finder, region?: Rect, pick?: number, title?: string) {
    this.host = host;
    this.query = { finder, region: region ?? finder.region, pick, title: title ?? finder.title };
  }

  /** E.g. `getByText("Save").nth(1)`: how steps, traces and errors name this locator. */
  toString(): string {
    return this.query.title;
  }

  private refine(title: string, region: Rect | undefined, pick: number | undefined): ScreenLocator {
    return new ScreenLocator(this.host, this.query.finder, region, pick, `${this.query.title}${title}`);
  }

  // ---- Refinement (nothing is searched) ------------------------------------------------------

  /** The match at `index` in reading order (top to bottom, left to right); -1 is the last. */
  nth(index: number): ScreenLocator {
    if (!Number.isInteger(index)) throw new VNCInputError(`${this.query.title}.nth(${String(index)}): pass a whole number (0 is the first match, -1 the last).`);
    return this.refine(`.nth(${index})`, this.query.region, index);
  }

  first(): ScreenLocator {
    return this.refine('.first()', this.query.region, 0);
  }

  last(): ScreenLocator {
    return this.refine('.last()', this.query.region, -1);
  }

  /** Only what lies in `region` (inside any region given before). */
  within(region: Rect): ScreenLocator {
    const checked = checkRegion(region, `${this.query.title}.within()`);
    const narrowed = this.query.region ? intersection(this.query.region, checked) : checked;
    if (!narrowed) {
      throw new VNCInputError(`${this.query.title}.within(${describeBox(checked)}): the region does not overlap ${describeBox(this.query.region!)} given before, so nothing could match.`);
    }
    return this.refine(`.within(${describeBox(checked)})`, narrowed, this.query.pick);
  }

  // ---- Looking now (no waiting) --------------------------------------------------------------

  /** How many places match now. */
  async count(): Promise<number> {
    return (await lookOnce(this.host.context, this.query, false)).matches.length;
  }

  /** One locator per place matching now, in reading order (for nth/first/last: itself, if it matches). */
  async all(): Promise<ScreenLocator[]> {
    const { matches, chosen } = await lookOnce(this.host.context, this.query, false);
    if (this.query.pick !== undefined) return chosen ? [this] : [];
    return matches.map((_, index) => this.nth(index));
  }

  /** Where the locator matches now, or null; several matches without nth/first/last is a VNCInputError. */
  async boundingBox(): Promise<Rect | null> {
    const { chosen } = await lookOnce(this.host.context, this.query);
    return chosen ? { ...chosen.box } : null;
  }

  /** Every match now, with what was read or how alike it is. */
  async matches(): Promise<LocatorMatch[]> {
    const { matches } = await lookOnce(this.host.context, this.query, false);
    return matches.map((match) => ({ ...match, box: { ...match.box } }));
  }

  // ---- Waiting ---------------------------------------------------------------------------------

  private timeoutOf(options: LocatorTimeoutOptions, what: string): number {
    return checkTimeout(options.timeout ?? this.host.context.timeoutMs, `${this.query.title}.${what}`);
  }

  private resolve(goal: Goal, options: LocatorTimeoutOptions, what: string): Promise<LocatorMatch | undefined> {
    return resolveLocator(this.host.context, this.query, goal, this.timeoutOf(options, what), `${this.query.title}.${what}`);
  }

  /** Waits until the locator matches ('visible', the default) or matches nothing ('hidden'). */
  async waitFor(options: LocatorWaitForOptions = {}): Promise<void> {
    const state = options.state ?? 'visible';
    if (state !== 'visible' && state !== 'hidden') {
      throw new VNCInputError(`${this.query.title}.waitFor: state ${JSON.stringify(state)} is not valid: use 'visible' or 'hidden'.`);
    }
    const match = await this.resolve(state, options, 'waitFor');
    if (match) this.host.context.details.emit({ box: { ...match.box }, label: `${this.query.title}.waitFor()` });
  }

  // ---- Actions: wait until found and still, then act ------------------------------------------

  /** Waits until actionable; returns the match and the point to act on (its centre, or `position`). */
  private async target(options: LocatorTimeoutOptions & { position?: Point }, what: string): Promise<{ match: LocatorMatch; point: Point }> {
    const position = options.position;
    if (position !== undefined && (typeof position !== 'object' || position === null || !Number.isFinite(position.x) || !Number.isFinite(position.y))) {
      throw new VNCInputError(`${this.query.title}.${what}: position ${JSON.stringify(position)} is not valid: pass { x, y } relative to the match's top-left corner.`);
    }
    const match = (await this.resolve('actionable', options, what))!;
    const { box } = match;
    const point = position
      ? { x: Math.round(box.x + position.x), y: Math.round(box.y + position.y) }
      : { x: box.x + Math.floor(box.width / 2), y: box.y + Math.floor(box.height / 2) };
    this.host.context.details.emit({ box: { ...box }, point: { ...point }, label: `${this.query.title}.${what}()` });
    return { match, point };
  }

  /** Clicks the middle of the match (or `position` within it). Resolves with what was clicked. */
  async click(options: LocatorClickOptions = {}): Promise<LocatorMatch> {
    const count = options.clickCount ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 10) {
      throw new VNCInputError(`${this.query.title}.click: clickCount ${String(count)} is not valid: use a whole number from 1 to 10.`);
    }
    const { match, point } = await this.target(options, 'click');
    await this.host.mouse.click(point.x, point.y, { button: options.button, count });
    return match;
  }

  async dblclick(options: Omit<LocatorClickOptions, 'clickCount'> = {}): Promise<LocatorMatch> {
    const { match, point } = await this.target(options, 'dblclick');
    await this.host.mouse.click(point.x, point.y, { button: options.button, count: 2 });
    return match;
  }

  /** Moves the pointer over the match. */
  async hover(options: LocatorTimeoutOptions & { position?: Point } = {}): Promise<LocatorMatch> {
    const { match, point } = await this.target(options, 'hover');
    await this.host.mouse.move(point.x, point.y);
    return match;
  }

  /**
   * Clicks the match, then types `text`: it goes wherever that click put the keyboard focus (an
   * entry field, or the window under the pointer). Nothing is cleared first: a remote screen has
   * no "value" to replace.
   */
  async fill(text: string, options: LocatorFillOptions = {}): Promise<LocatorMatch> {
    if (typeof text !== 'string') throw new VNCInputError(`${this.query.title}.fill expects a string, got ${typeof text}.`);
    const { match, point } = await this.target(options, 'fill');
    await this.host.mouse.click(point.x, point.y);
    await this.host.keyboard.type(text, { secret: options.secret, delayMs: options.delayMs });
    return match;
  }

  /** Clicks the match (to focus it), then presses a key or chord such as "Enter" or "ctrl+s". */
  async press(chord: string, options: LocatorTimeoutOptions = {}): Promise<LocatorMatch> {
    const { match, point } = await this.target(options, 'press');
    await this.host.mouse.click(point.x, point.y);
    await this.host.keyboard.press(chord);
    return match;
  }

  /** @internal For the CLI: one look now (no strictness, no waiting), and what was seen, for messages. */
  async lookNow(): Promise<{ matches: LocatorMatch[]; seen: () => string }> {
    const look = await lookOnce(this.host.context, this.query, false);
    return { matches: look.matches, seen: () => look.result.seen() };
  }

  /**
   * @internal For expect matchers: waits (through the same routine as every action) until the
   * locator is visible, hidden, or matches a count; a VNCTimeoutError says what was seen.
   */
  async expectState(goal: 'visible' | 'hidden' | CountGoal, timeoutMs: number, what: string): Promise<void> {
    await resolveLocator(this.host.context, this.query, goal, checkTimeout(timeoutMs, what), what);
  }
}
