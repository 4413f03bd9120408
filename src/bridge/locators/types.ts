import type { Rect } from '../../rfb/framebuffer.js';
import type { MouseButton, Point } from '../mouse.js';

/** One place a locator matched on the screen, in screen pixels. */
export interface LocatorMatch {
  box: Rect;
  /** For text: the words read there. */
  text?: string;
  /** For text: the engine's confidence, 0–100. */
  confidence?: number;
  /** For images: 0..1, see image-search.ts. */
  similarity?: number;
}

export interface GetByTextOptions {
  /** Case-sensitive, whole-string match (default: case-insensitive substring, whitespace normalised). */
  exact?: boolean;
  /** Read only this part of the screen (faster, and fewer look-alikes). */
  region?: Rect;
}

export interface GetByImageOptions {
  /** 0..1, how alike the picture and the screen must be. Default 0.95. */
  similarity?: number;
  /** Look only in this part of the screen. */
  region?: Rect;
  /** Accept a picture of one flat colour (it then matches any area of that colour). */
  allowPlain?: boolean;
}

export interface LocatorTimeoutOptions {
  /** How long to wait, in ms; default the bridge's timeout. */
  timeout?: number;
}

export interface LocatorClickOptions extends LocatorTimeoutOptions {
  button?: MouseButton;
  /** Clicks in a row; default 1. */
  clickCount?: number;
  /** Where to click, relative to the match's top-left corner; default its centre. */
  position?: Point;
}

export interface LocatorFillOptions extends LocatorTimeoutOptions {
  /** Mask the text in test steps and traces (passwords). */
  secret?: boolean;
  /** Pause after each typed character, in ms; default the bridge's typing delay. */
  delayMs?: number;
}

export type LocatorState = 'visible' | 'hidden';

export interface LocatorWaitForOptions extends LocatorTimeoutOptions {
  /** 'visible' (default): until the locator matches; 'hidden': until it matches nothing. */
  state?: LocatorState;
}
