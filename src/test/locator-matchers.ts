/**
 * Web-first assertions for screen locators: `expect(vnc.getByText('Saved')).toBeVisible()`,
 * `.toBeHidden()`, `.toHaveCount(n)` and `expect(vnc).toShowText(text)`. Each waits with the expect
 * timeout through the locators' own waiting routine (looking again whenever the screen repaints).
 *
 * Playwright's expect has toBeVisible, toBeHidden and toHaveCount for web Locators: for any receiver
 * that is not a ScreenLocator these matchers hand over to Playwright's own, so pages in the same
 * project keep their assertions.
 */
import { expect as playwrightExpect, type ExpectMatcherState, type MatcherReturnType } from '@playwright/test';
import type { VNCAgentBridge } from '../bridge/bridge.js';
import { ScreenLocator, type CountGoal } from '../bridge/locators/index.js';
import type { Rect } from '../rfb/framebuffer.js';
import { VNCTimeoutError } from '../errors.js';
import { rawLocator } from './steps.js';

export interface LocatorAssertionOptions {
  /** How long to keep looking, in ms; default the expect timeout. */
  timeout?: number;
}

export interface ToShowTextOptions extends LocatorAssertionOptions {
  /** Look only in this part of the screen. */
  region?: Rect;
  /** Case-sensitive, whole-string match (default: case-insensitive substring). */
  exact?: boolean;
}

type Built = 'toBeVisible' | 'toBeHidden' | 'toHaveCount';

/** Runs Playwright's own matcher (for a web Locator, a Page, …) and reports its verdict as ours. */
async function delegate(state: ExpectMatcherState, name: Built, received: unknown, args: unknown[]): Promise<MatcherReturnType> {
  const base = playwrightExpect(received) as unknown as Record<Built, (...args: unknown[]) => Promise<void>> & { not: Record<Built, (...args: unknown[]) => Promise<void>> };
  const assertion = state.isNot ? base.not : base;
  try {
    await assertion[name](...args);
    return { pass: !state.isNot, name, message: () => `${name} passed` };
  } catch (error) {
    return { pass: state.isNot, name, message: () => (error instanceof Error ? error.message : String(error)) };
  }
}

/** Waits for `goal` (or, with .not, its opposite); a timeout is a failed assertion, anything else an error. */
async function expectLocator(
  state: ExpectMatcherState,
  name: string,
  locator: ScreenLocator,
  goal: 'visible' | 'hidden' | CountGoal,
  timeout: number,
  describe: string,
): Promise<MatcherReturnType> {
  const wanted = !state.isNot ? goal : goal === 'visible' ? 'hidden' : goal === 'hidden' ? 'visible' : { count: goal.count, not: !goal.not };
  const what = `expect(${String(locator)})${state.isNot ? '.not' : ''}.${name}`;
  try {
    await rawLocator(locator).expectState(wanted, timeout, what);
    return { pass: !state.isNot, name, message: () => `${what}: ${describe}` };
  } catch (error) {
    if (!(error instanceof VNCTimeoutError)) throw error;
    return { pass: state.isNot, name, message: () => error.message };
  }
}

function timeoutOf(state: ExpectMatcherState, options: LocatorAssertionOptions | undefined): number {
  return options?.timeout ?? state.timeout;
}

export async function toBeVisible(this: ExpectMatcherState, received: unknown, options?: LocatorAssertionOptions): Promise<MatcherReturnType> {
  if (!(received instanceof ScreenLocator)) return delegate(this, 'toBeVisible', received, options === undefined ? [] : [options]);
  return expectLocator(this, 'toBeVisible', received, 'visible', timeoutOf(this, options), 'it is visible.');
}

export async function toBeHidden(this: ExpectMatcherState, received: unknown, options?: LocatorAssertionOptions): Promise<MatcherReturnType> {
  if (!(received instanceof ScreenLocator)) return delegate(this, 'toBeHidden', received, options === undefined ? [] : [options]);
  return expectLocator(this, 'toBeHidden', received, 'hidden', timeoutOf(this, options), 'it is not on the screen.');
}

export async function toHaveCount(this: ExpectMatcherState, received: unknown, count: number, options?: LocatorAssertionOptions): Promise<MatcherReturnType> {
  if (!(received instanceof ScreenLocator)) return delegate(this, 'toHaveCount', received, options === undefined ? [count] : [count, options]);
  if (!Number.isInteger(count) || count < 0) throw new Error(`toHaveCount: the count must be a whole number ≥ 0, got ${JSON.stringify(count)}.`);
  return expectLocator(this, 'toHaveCount', received, { count }, timeoutOf(this, options), `it matches ${count}.`);
}

export async function toShowText(this: ExpectMatcherState, received: unknown, text: string | RegExp, options: ToShowTextOptions = {}): Promise<MatcherReturnType> {
  if (typeof received !== 'object' || received === null || typeof (received as { getByText?: unknown }).getByText !== 'function') {
    throw new Error(`toShowText: expect() must receive the vnc fixture (a VNCAgentBridge), got ${typeof received}.`);
  }
  const locator = rawLocator((received as VNCAgentBridge).getByText(text, { region: options.region, exact: options.exact })).first();
  return expectLocator(this, 'toShowText', locator, 'visible', timeoutOf(this, options), 'the text is shown.');
}

export const locatorMatchers = { toBeVisible, toBeHidden, toHaveCount, toShowText };
