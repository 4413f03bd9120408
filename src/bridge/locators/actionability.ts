/**
 * The one waiting routine every locator action, wait and matcher uses (Playwright's design: the
 * locator describes, this resolves). It looks, and looks again whenever the screen repaints inside
 * the area searched, until the goal is met or the deadline passes:
 *
 * - 'visible': the locator matches (strictly: several matches are an error unless nth/first/last
 *   chose one);
 * - 'actionable': as 'visible', and the area around the match has not been repainted for STILL_MS
 *   (a button still fading in or sliding is not clicked; if it changed, look again);
 * - 'hidden': the locator matches nothing.
 *
 * Every wait is bounded by the deadline; a timeout names what was seen instead.
 */
import { VNCInputError, VNCTimeoutError } from '../../errors.js';
import type { Rect } from '../../rfb/framebuffer.js';
import type { BridgeContext } from '../context.js';
import type { Finder, FinderResult } from './finder.js';
import { around, clipToScreen, describeBox, intersection } from './geometry.js';
import { ScreenWatch } from './screen-watch.js';
import type { LocatorMatch } from './types.js';

/** How long the area around a match must stay unchanged before an action. */
export const STILL_MS = 150;
/** The margin around a match that must be still too (a frame drawn around it, a shadow). */
export const STILL_MARGIN_PX = 8;
/** Looks at most this often, and at most every 2× the last look's cost (OCR on a large area is not free). */
const MIN_LOOK_INTERVAL_MS = 40;

/** What a locator describes: how to find, where, and which of several matches. */
export interface LocatorQuery {
  readonly finder: Finder;
  /** The finder's region narrowed by within(); undefined = the whole screen. */
  readonly region: Rect | undefined;
  /** Which match: an index (negative counts from the end); undefined = exactly one (strict). */
  readonly pick: number | undefined;
  /** E.g. `getByText("Save").nth(1)`. */
  readonly title: string;
}

/** A count goal: exactly `count` matches (or, with `not`, any other number). */
export interface CountGoal {
  count: number;
  not?: boolean;
}

export type Goal = 'visible' | 'actionable' | 'hidden' | CountGoal;

/** One look: every match, the one the locator picks (if any), and what was seen. */
export interface Look {
  matches: LocatorMatch[];
  chosen: LocatorMatch | undefined;
  result: FinderResult;
}

function describeMatches(matches: LocatorMatch[], limit = 5): string {
  const shown = matches.slice(0, limit).map((match) => `${describeBox(match.box)}${match.text !== undefined ? ` "${match.text}"` : ''}`);
  return shown.join(', ') + (matches.length > limit ? ` and ${matches.length - limit} more` : '');
}

/** The area to search now: the query's region on the current screen. */
export function searchArea(context: BridgeContext, query: LocatorQuery): Rect {
  const { width, height } = context.session().framebuffer;
  const screen = { x: 0, y: 0, width, height };
  return query.region ? clipToScreen(query.region, width, height, query.title) : screen;
}

/** The match the query picks; several without a pick is Playwright's strictness error. */
export function choose(query: LocatorQuery, matches: LocatorMatch[]): LocatorMatch | undefined {
  if (query.pick === undefined) {
    if (matches.length > 1) {
      throw new VNCInputError(
        `${query.title} matches ${matches.length} places on the screen: ${describeMatches(matches)}. ` +
          'Pick one with .first(), .last() or .nth(i), or narrow the search with .within(region) or { exact: true }.',
      );
    }
    return matches[0];
  }
  return matches[query.pick < 0 ? matches.length + query.pick : query.pick];
}

/** Looks once, now (strictness applies only when `strict`). */
export async function lookOnce(context: BridgeContext, query: LocatorQuery, strict = true): Promise<Look> {
  const result = await query.finder.search(searchArea(context, query));
  const matches = result.matches;
  const chosen = strict ? choose(query, matches) : query.pick === undefined ? matches[0] : choose(query, matches);
  return { matches, chosen, result };
}

const TIMED_OUT = Symbol('timed out');

/** `promise`, or TIMED_OUT at `deadline` (the promise's late failure is then ignored). */
async function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - Date.now()));
  });
  try {
    const winner = await Promise.race([promise, late]);
    if (winner === TIMED_OUT) promise.catch(() => undefined);
    return winner;
  } finally {
    clearTimeout(timer);
  }
}

function notFoundMessage(query: LocatorQuery, what: string, timeoutMs: number, last: Look | undefined): string {
  const waited = `${what}: waited ${timeoutMs} ms for ${query.title}`;
  if (!last) return `${waited}, but the screen was not read even once in that time (the first reading of a large area can take a second): use a longer timeout or a smaller region.`;
  if (query.pick !== undefined && last.matches.length > 0) {
    return `${waited}: it matched only ${last.matches.length} place(s), ${describeMatches(last.matches)}, so .nth(${query.pick}) has nothing to pick.`;
  }
  return `${waited}, but it is not on the screen${query.region ? ` in the region ${describeBox(query.region)}` : ''}; ${last.result.seen()}.`;
}

/**
 * Waits until `goal` holds for the query, within `timeoutMs`. Resolves with the chosen match
 * ('visible', 'actionable') or undefined ('hidden'). Throws VNCTimeoutError (naming what was seen),
 * VNCInputError (strictness), or the session's error when it closes.
 */
export async function resolveLocator(context: BridgeContext, query: LocatorQuery, goal: Goal, timeoutMs: number, what: string): Promise<LocatorMatch | undefined> {
  const deadline = Date.now() + timeoutMs;
  const watch = new ScreenWatch(context.session());
  let last: Look | undefined;
  let unstable: LocatorMatch | undefined;
  try {
    for (;;) {
      const lookStarted = Date.now();
      const area = searchArea(context, query);
      const look = await beforeDeadline(lookOnce(context, query, goal === 'visible' || goal === 'actionable'), deadline);
      if (look === TIMED_OUT) break;
      last = look;
      const cost = Date.now() - lookStarted;

      if (goal === 'hidden' && look.chosen === undefined) return undefined;
      if (typeof goal === 'object' && (look.matches.length === goal.count) !== (goal.not ?? false)) return undefined;
      if (goal === 'visible' && look.chosen) return look.chosen;
      if (goal === 'actionable' && look.chosen) {
        const { width, height } = context.session().framebuffer;
        const nearby = around(look.chosen.box, STILL_MARGIN_PX, { x: 0, y: 0, width, height });
        unstable = look.chosen;
        if (!(await watch.still(nearby, STILL_MS, deadline))) break;
        if (!watch.changedSince(lookStarted, nearby)) return look.chosen;
        continue; // it changed since this look began, and has settled now: look again
      }
      unstable = undefined;
      // Nothing new can be found until the searched area repaints.
      const region = intersection(area, searchArea(context, query)) ?? area;
      if (!(await watch.changed(region, lookStarted, deadline))) break;
      await watch.pause(Math.max(MIN_LOOK_INTERVAL_MS, 2 * cost) - (Date.now() - lookStarted), deadline);
    }
  } finally {
    watch.dispose();
  }
  if (!last) throw new VNCTimeoutError(notFoundMessage(query, what, timeoutMs, last), timeoutMs);
  if (goal === 'hidden') {
    throw new VNCTimeoutError(`${what}: waited ${timeoutMs} ms for ${query.title} to disappear, but it is still on the screen at ${describeMatches(last.matches)}.`, timeoutMs);
  }
  if (typeof goal === 'object') {
    const found = last.matches.length === 0 ? `it matches nothing; ${last.result.seen()}` : `it matches ${last.matches.length}: ${describeMatches(last.matches)}`;
    throw new VNCTimeoutError(`${what}: waited ${timeoutMs} ms for ${query.title} to match ${goal.not ? 'any number of places but' : 'exactly'} ${goal.count}, but ${found}.`, timeoutMs);
  }
  if (unstable) {
    throw new VNCTimeoutError(
      `${what}: ${query.title} was found at ${describeBox(unstable.box)}, but the area around it kept changing for ${timeoutMs} ms; it was never still for ${STILL_MS} ms (an animation, a blinking cursor?). Use a longer timeout, or act on the point with vnc.mouse.`,
      timeoutMs,
    );
  }
  throw new VNCTimeoutError(notFoundMessage(query, what, timeoutMs, last), timeoutMs);
}
