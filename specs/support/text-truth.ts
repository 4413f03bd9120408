/**
 * The X server's truth of where text is drawn: the pixels that differ between a capture with the
 * text visible and one with it invisible, cut into lines and words (see text-screens.ts).
 */
import { rootPixels, type DisplayTarget, type RgbaImage } from './desktop.js';
import { delay } from './processes.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Captures the root window until two captures in a row are the same (the window has finished drawing). */
export async function stableRoot(server: DisplayTarget, timeoutMs = 10_000): Promise<RgbaImage> {
  const deadline = Date.now() + timeoutMs;
  let previous = await rootPixels(server);
  for (;;) {
    await delay(150);
    const now = await rootPixels(server);
    if (now.data.equals(previous.data)) return now;
    if (Date.now() > deadline) throw new Error(`the screen of :${server.display} kept changing for ${timeoutMs} ms`);
    previous = now;
  }
}

/** Pixels that differ between two root captures, as a mask over `area`. */
export function textMask(withText: RgbaImage, without: RgbaImage, area: Box): Uint8Array {
  const mask = new Uint8Array(area.width * area.height);
  for (let y = 0; y < area.height; y++) {
    for (let x = 0; x < area.width; x++) {
      const i = ((area.y + y) * withText.width + area.x + x) * 4;
      const d = Math.abs(withText.data[i] - without.data[i]) + Math.abs(withText.data[i + 1] - without.data[i + 1]) + Math.abs(withText.data[i + 2] - without.data[i + 2]);
      if (d > 48) mask[y * area.width + x] = 1;
    }
  }
  return mask;
}

function runs(flags: boolean[], minGap: number): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  let gap = 0;
  for (let i = 0; i <= flags.length; i++) {
    if (i < flags.length && flags[i]) {
      if (start < 0) start = i;
      gap = 0;
    } else if (start >= 0) {
      gap++;
      if (gap >= minGap || i === flags.length) {
        out.push([start, i - gap + 1]);
        start = -1;
        gap = 0;
      }
    }
  }
  return out;
}

/**
 * Word boxes from a text mask: lines are bands of rows with text (bands under 5 rows, such as the
 * dots of i and j, join the next band), words are column runs separated by `wordGap` empty columns.
 */
export function wordBoxes(mask: Uint8Array, area: Box, wordGap: number): Box[][] {
  const rowHasText = Array.from({ length: area.height }, (_, y) => mask.subarray(y * area.width, (y + 1) * area.width).includes(1));
  const bands = runs(rowHasText, 1);
  const merged: [number, number][] = [];
  for (let i = 0; i < bands.length; i++) {
    const [top, end] = bands[i];
    if (end - top < 5 && i + 1 < bands.length && bands[i + 1][0] - end <= 3) bands[i + 1] = [top, bands[i + 1][1]];
    else merged.push([top, end]);
  }
  return merged.map(([top, end]) => {
    const columnHasText = Array.from({ length: area.width }, (_, x) => {
      for (let y = top; y < end; y++) if (mask[y * area.width + x]) return true;
      return false;
    });
    return runs(columnHasText, wordGap).map(([left, right]) => {
      let y0 = end;
      let y1 = top;
      for (let y = top; y < end; y++) {
        for (let x = left; x < right; x++) {
          if (mask[y * area.width + x]) {
            y0 = Math.min(y0, y);
            y1 = Math.max(y1, y + 1);
          }
        }
      }
      return { x: area.x + left, y: area.y + y0, width: right - left, height: y1 - y0 };
    });
  });
}

