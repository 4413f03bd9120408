/** Checks that what a client shows is what the X server has. */
import { expect } from '@playwright/test';
import type { VNCAgentBridge } from '../../src/index.js';
import { rootPixels, type DisplayTarget } from './desktop.js';

/** Up to 5 pixels where two same-sized RGBA images differ, as "x,y: client rgb vs server rgb". */
export function differingPixels(a: { width: number; data: Buffer }, b: { data: Buffer }): string[] {
  const found: string[] = [];
  for (let i = 0; i < a.data.length && found.length < 5; i += 4) {
    if (a.data.readUInt32BE(i) !== b.data.readUInt32BE(i)) {
      const p = i / 4;
      found.push(`${p % a.width},${Math.floor(p / a.width)}: ${a.data.subarray(i, i + 3).toString('hex')} vs ${b.data.subarray(i, i + 3).toString('hex')}`);
    }
  }
  return found;
}

/**
 * Compares the client's capture with the X server's own pixels once both have settled. Xvnc draws
 * the pointer into a client's picture when someone else moved it last, and xwd never shows the
 * pointer, so the client puts the pointer in a corner first. The two
 * are read one after the other, so a program still drawing can differ between the reads: compare
 * again (up to 5 times) and fail only on a difference that persists.
 */
export async function expectCaptureMatchesServer(vnc: VNCAgentBridge, server: DisplayTarget): Promise<void> {
  let differences: string[] = [];
  await vnc.mouse.move(vnc.screen.width - 1, vnc.screen.height - 1);
  for (let attempt = 0; attempt < 5; attempt++) {
    await vnc.screen.waitForStable({ stillMs: 300 });
    const truth = await rootPixels(server);
    await vnc.screen.waitForStable({ stillMs: 100 });
    const frame = vnc.screen.capture();
    expect([frame.width, frame.height]).toEqual([truth.width, truth.height]);
    differences = differingPixels(frame, truth);
    if (differences.length === 0) return;
  }
  expect(differences).toEqual([]);
}
