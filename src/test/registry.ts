import type { VNCAgentBridge } from '../bridge/bridge.js';

/** How closely a screen must match its baseline, from the target's `compare:` settings. */
export interface CompareDefaults {
  /** Per-pixel colour distance allowed, 0..1. */
  threshold: number;
  maxDiffPixels: number;
  maxDiffPixelRatio: number;
}

export const DEFAULT_COMPARE: Readonly<CompareDefaults> = Object.freeze({ threshold: 0.1, maxDiffPixels: 0, maxDiffPixelRatio: 0 });

const compareDefaults = new WeakMap<object, CompareDefaults>();

/** Remembers a target's compare settings for the bridge the fixture hands out. */
export function setCompareDefaults(vnc: VNCAgentBridge, defaults: Partial<CompareDefaults> | undefined): void {
  compareDefaults.set(vnc, { ...DEFAULT_COMPARE, ...defaults });
}

export function compareDefaultsOf(vnc: VNCAgentBridge): CompareDefaults {
  return compareDefaults.get(vnc) ?? DEFAULT_COMPARE;
}
