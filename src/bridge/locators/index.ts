/** Locators: things on the remote screen found by text or picture, acted on with auto-waiting. */
import type { ImageSource } from '../image-search.js';
import { ImageFinder } from './image-finder.js';
import { ScreenLocator, type LocatorHost } from './locator.js';
import { defaultTextBackend } from './text-backend.js';
import { TextFinder, type TextBackend } from './text-finder.js';
import type { GetByImageOptions, GetByTextOptions } from './types.js';

export { ScreenLocator, type LocatorHost } from './locator.js';
export type { CountGoal } from './actionability.js';
export type { TextBackend, TextFound } from './text-finder.js';
export { STILL_MS } from './actionability.js';
export type * from './types.js';

export function textLocator(host: LocatorHost, text: string | RegExp, options: GetByTextOptions = {}, backend?: () => Promise<TextBackend>): ScreenLocator {
  return new ScreenLocator(host, new TextFinder(backend ?? defaultTextBackend(host.context), text, options));
}

export function imageLocator(host: LocatorHost, image: ImageSource, options: GetByImageOptions = {}): ScreenLocator {
  return new ScreenLocator(host, new ImageFinder(host.context, image, options));
}
