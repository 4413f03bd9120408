/**
 * Screen matchers for `expect(vnc)`: `toHaveScreen` (baseline images that follow
 * `--update-snapshots`), `toShowImage` (template search) and `toHaveClipboard`. Each polls until
 * it passes or `this.timeout` runs out.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { test, type ExpectMatcherState, type MatcherReturnType, type TestInfo } from '@playwright/test';
import type { VNCAgentBridge } from '../bridge/bridge.js';
import { checkMatch, compareFrames } from '../bridge/image-diff.js';
import { findImage } from '../bridge/image-search.js';
import { decodePng, encodePng } from '../bridge/png.js';
import { VNCError } from '../errors.js';
import type { Frame, Rect } from '../rfb/framebuffer.js';
import { locatorMatchers } from './locator-matchers.js';
import { compareDefaultsOf, type CompareDefaults } from './registry.js';

export interface ToHaveScreenOptions extends Partial<CompareDefaults> {
  /** Compare only this part of the screen. */
  region?: Rect;
  /** Areas (in screen coordinates) to ignore: clocks, cursors, dates. */
  mask?: Rect[];
  timeout?: number;
}

export interface ToShowImageOptions {
  region?: Rect;
  /** 0..1, default 0.95. */
  similarity?: number;
  /** Allow a needle of one flat colour (refused by default: it would match any area of that colour). */
  allowPlain?: boolean;
  timeout?: number;
}

const POLL_INTERVAL_MS = 100;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `attempt` until it passes or the time is up; returns the last attempt's result. */
async function poll<T extends { pass: boolean }>(timeoutMs: number, attempt: () => Promise<T> | T): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await attempt();
    if (result.pass || Date.now() >= deadline) return result;
    await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
  }
}

function screenOf(received: unknown, matcher: string): VNCAgentBridge {
  if (typeof received !== 'object' || received === null || !('screen' in received) || !('isConnected' in received)) {
    throw new Error(`${matcher}: expect() must receive the vnc fixture (a VNCAgentBridge), got ${typeof received}.`);
  }
  return received as VNCAgentBridge;
}

/** Masked areas are painted the same in both frames, so they never differ. */
function maskRelativeTo(mask: Rect[] | undefined, region: Rect | undefined): Rect[] {
  if (!mask || !region) return mask ?? [];
  return mask.map((rect) => ({ ...rect, x: rect.x - region.x, y: rect.y - region.y }));
}

function baseName(name: string): string {
  return name.replace(/\.png$/i, '');
}

async function attachImages(testInfo: TestInfo, name: string, images: { expected: Buffer; actual: Buffer; diff?: Buffer }): Promise<void> {
  const base = baseName(name);
  await testInfo.attach(`${base}-expected.png`, { body: images.expected, contentType: 'image/png' });
  await testInfo.attach(`${base}-actual.png`, { body: images.actual, contentType: 'image/png' });
  if (images.diff) await testInfo.attach(`${base}-diff.png`, { body: images.diff, contentType: 'image/png' });
}

async function writeBaseline(path: string, frame: Frame): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, encodePng(frame));
}

export async function toHaveScreen(this: ExpectMatcherState, received: unknown, name: string, options: ToHaveScreenOptions = {}): Promise<MatcherReturnType> {
  const vnc = screenOf(received, 'toHaveScreen');
  const testInfo = test.info();
  const defaults = compareDefaultsOf(vnc);
  const threshold = options.threshold ?? defaults.threshold;
  const maxDiffPixels = options.maxDiffPixels ?? defaults.maxDiffPixels;
  const maxDiffPixelRatio = options.maxDiffPixelRatio ?? defaults.maxDiffPixelRatio;
  const timeout = options.timeout ?? this.timeout;
  const path = testInfo.snapshotPath(name.endsWith('.png') ? name : `${name}.png`);
  const update = testInfo.config.updateSnapshots;
  const capture = () => vnc.screen.capture({ region: options.region });
  const mask = maskRelativeTo(options.mask, options.region);

  if (!existsSync(path)) {
    if (update === 'none') return { pass: false, name: 'toHaveScreen', message: () => `A baseline does not exist at ${path}. Run with --update-snapshots to create it.` };
    const actual = await vnc.screen.waitForStable({ region: options.region, timeoutMs: timeout }).catch(() => capture());
    await writeBaseline(path, actual);
    if (update === 'default') {
      return { pass: this.isNot, name: 'toHaveScreen', message: () => `A baseline did not exist at ${path}; the current screen was written there. Check it and run again.` };
    }
    return { pass: !this.isNot, name: 'toHaveScreen', message: () => `Wrote a new baseline ${path}.` };
  }

  const expected = decodePng(await readFile(path));
  let lastActual = capture();
  const result = await poll(this.isNot ? 0 : timeout, () => {
    lastActual = capture();
    const comparison = compareFrames(lastActual, expected, { threshold, mask });
    const verdict = comparison.sizeMismatch
      ? { pass: false, message: `The screen${options.region ? ' region' : ''} is ${comparison.sizeMismatch.actual.w}x${comparison.sizeMismatch.actual.h}, the baseline ${comparison.sizeMismatch.expected.w}x${comparison.sizeMismatch.expected.h}.` }
      : checkMatch(comparison, { maxDiffPixels, maxDiffPixelRatio });
    return { ...verdict, comparison };
  });

  if (!result.pass && !this.isNot && (update === 'all' || update === 'changed')) {
    await writeBaseline(path, lastActual);
    return { pass: true, name: 'toHaveScreen', message: () => `Updated the baseline ${path}.` };
  }
  if (!result.pass && !this.isNot) {
    await attachImages(testInfo, name, {
      expected: encodePng(expected),
      actual: encodePng(lastActual),
      diff: result.comparison.sizeMismatch ? undefined : encodePng(result.comparison.diffImage),
    });
  }
  return {
    pass: result.pass,
    name: 'toHaveScreen',
    expected: path,
    message: () =>
      this.isNot
        ? `Expected the screen not to match ${path}, but it does.`
        : `The screen did not match ${path} within ${timeout} ms: ${result.message} (expected, actual and diff are attached).`,
  };
}

function resolveImagePath(image: string, testInfo: TestInfo): string {
  if (isAbsolute(image)) return image;
  const besideTest = join(dirname(testInfo.file), image);
  return existsSync(besideTest) ? besideTest : testInfo.snapshotPath(image);
}

export async function toShowImage(this: ExpectMatcherState, received: unknown, image: string | Frame, options: ToShowImageOptions = {}): Promise<MatcherReturnType> {
  const vnc = screenOf(received, 'toShowImage');
  const testInfo = test.info();
  const path = typeof image === 'string' ? resolveImagePath(image, testInfo) : undefined;
  if (path !== undefined && !existsSync(path)) {
    return { pass: false, name: 'toShowImage', message: () => `The image to look for does not exist: ${path}.` };
  }
  const needle = path !== undefined ? decodePng(await readFile(path)) : (image as Frame);
  const timeout = options.timeout ?? this.timeout;
  const similarity = options.similarity ?? 0.95;
  const found = await poll(this.isNot ? 0 : timeout, () => {
    const match = findImage(vnc.screen.capture(), needle, { similarity, region: options.region, allowPlain: options.allowPlain });
    return { pass: match !== null, match };
  });
  const label = path ?? `an image ${needle.width}x${needle.height}`;
  if (!found.pass && !this.isNot) {
    await testInfo.attach(`${baseName(typeof image === 'string' ? image : 'image')}-actual.png`, { body: encodePng(vnc.screen.capture()), contentType: 'image/png' });
  }
  return {
    pass: found.pass,
    name: 'toShowImage',
    message: () =>
      found.match
        ? `Expected the screen not to show ${label}, but it does at (${found.match.x}, ${found.match.y}) with similarity ${found.match.similarity.toFixed(3)}.`
        : `The screen did not show ${label} (similarity ≥ ${similarity}) within ${timeout} ms; the screen is attached.`,
  };
}

export async function toHaveClipboard(this: ExpectMatcherState, received: unknown, expected: string, options: { timeout?: number } = {}): Promise<MatcherReturnType> {
  const vnc = screenOf(received, 'toHaveClipboard');
  const timeout = options.timeout ?? this.timeout;
  let actual: string | undefined;
  let failure: unknown;
  const result = await poll(this.isNot ? 0 : timeout, async () => {
    try {
      actual = await vnc.clipboard.getText({ timeoutMs: Math.min(POLL_INTERVAL_MS * 5, Math.max(1, timeout)) });
      failure = undefined;
    } catch (error) {
      if (!(error instanceof VNCError)) throw error;
      failure = error;
    }
    return { pass: actual === expected };
  });
  return {
    pass: result.pass,
    name: 'toHaveClipboard',
    expected,
    actual,
    message: () =>
      this.isNot
        ? `Expected the clipboard not to be ${this.utils.printExpected(expected)}.`
        : `Expected the clipboard to be ${this.utils.printExpected(expected)}, ` +
          (actual === undefined ? `but ${failure instanceof Error ? failure.message : 'nothing was announced'}.` : `it is ${this.utils.printReceived(actual)}.`),
  };
}

export const vncMatchers = { toHaveScreen, toShowImage, toHaveClipboard, ...locatorMatchers };
