/**
 * Finding where text is on a screen, before any recognition: a map of strong contrast edges,
 * long straight lines (window, button and table borders) taken out, neighbouring edges joined
 * horizontally (run-length smearing), and the connected areas that remain. Each area is read on
 * its own, so each gets its own polarity and threshold, and a button's label is read without the
 * button's border.
 */
import type { GreyImage } from './image.js';
import type { OcrBox } from './types.js';

export interface LayoutOptions {
  /** Grey-level step that counts as an edge. Default 28. */
  edgeThreshold?: number;
  /** Horizontal gaps up to this many pixels join (letters into words, words into lines). Default 8. */
  joinGap?: number;
  /** Horizontal edge runs longer than this are borders, not text. Default 30. */
  maxHorizontalRun?: number;
  /** Vertical edge runs longer than this are borders, not text. Default 18. */
  maxVerticalRun?: number;
}

/** An area that probably holds text, and the height of its text lines (for scaling). */
export interface TextArea {
  box: OcrBox;
  lineHeight: number;
}

/** Areas smaller than this are noise (dots, corners, icons' edges). */
const MIN_HEIGHT = 5;
const MIN_WIDTH = 4;

function edgeMask(image: GreyImage, threshold: number): Uint8Array {
  const { width, height, data } = image;
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const v = data[row + x];
      const right = x + 1 < width ? data[row + x + 1] : v;
      const down = y + 1 < height ? data[row + width + x] : v;
      if (Math.abs(v - right) >= threshold || Math.abs(v - down) >= threshold) mask[row + x] = 1;
    }
  }
  return mask;
}

/** Clears runs of set pixels longer than the limits (borders and rules). */
function removeLongRuns(mask: Uint8Array, width: number, height: number, maxH: number, maxV: number): void {
  const horizontal: number[] = [];
  for (let y = 0; y < height; y++) {
    let start = -1;
    for (let x = 0; x <= width; x++) {
      const on = x < width && mask[y * width + x] === 1;
      if (on && start < 0) start = x;
      else if (!on && start >= 0) {
        if (x - start > maxH) horizontal.push(y * width + start, x - start);
        start = -1;
      }
    }
  }
  // Vertical runs row by row (one start per column), which reads memory in order.
  const vertical: number[] = [];
  const start = new Int32Array(width).fill(-1);
  for (let y = 0; y <= height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const on = y < height && mask[row + x] === 1;
      if (on) {
        if (start[x] < 0) start[x] = y;
      } else if (start[x] >= 0) {
        if (y - start[x] > maxV) vertical.push(start[x] * width + x, y - start[x]);
        start[x] = -1;
      }
    }
  }
  for (let i = 0; i < horizontal.length; i += 2) mask.fill(0, horizontal[i], horizontal[i] + horizontal[i + 1]);
  for (let i = 0; i < vertical.length; i += 2) {
    for (let k = 0; k < vertical[i + 1]; k++) mask[vertical[i] + k * width] = 0;
  }
}

interface Run {
  y: number;
  x0: number;
  x1: number;
  parent: number;
}

function root(runs: Run[], i: number): number {
  while (runs[i].parent !== i) {
    runs[i].parent = runs[runs[i].parent].parent;
    i = runs[i].parent;
  }
  return i;
}

/** Horizontal runs of the mask with gaps ≤ joinGap bridged, per row. */
function smearedRuns(mask: Uint8Array, width: number, height: number, joinGap: number): { runs: Run[]; rowStart: number[] } {
  const runs: Run[] = [];
  const rowStart: number[] = [];
  for (let y = 0; y < height; y++) {
    rowStart.push(runs.length);
    let start = -1;
    let last = -1;
    for (let x = 0; x < width; x++) {
      if (mask[y * width + x] !== 1) continue;
      if (start >= 0 && x - last - 1 <= joinGap) last = x;
      else {
        if (start >= 0) runs.push({ y, x0: start, x1: last, parent: runs.length });
        start = x;
        last = x;
      }
    }
    if (start >= 0) runs.push({ y, x0: start, x1: last, parent: runs.length });
  }
  rowStart.push(runs.length);
  return { runs, rowStart };
}

/** Median height of the bands of consecutive rows that have edges, inside one area. */
function medianLineHeight(rows: Uint8Array): number {
  const bands: number[] = [];
  let length = 0;
  for (let i = 0; i <= rows.length; i++) {
    if (i < rows.length && rows[i]) length++;
    else if (length > 0) {
      if (length >= MIN_HEIGHT) bands.push(length);
      length = 0;
    }
  }
  if (bands.length === 0) return rows.length;
  bands.sort((a, b) => a - b);
  return bands[bands.length >> 1];
}

/** The areas of `image` that probably hold text, top to bottom. */
export function findTextAreas(image: GreyImage, options: LayoutOptions = {}): TextArea[] {
  const { width, height } = image;
  const mask = edgeMask(image, options.edgeThreshold ?? 28);
  removeLongRuns(mask, width, height, options.maxHorizontalRun ?? 30, options.maxVerticalRun ?? 18);
  const { runs, rowStart } = smearedRuns(mask, width, height, options.joinGap ?? 8);
  // Join runs that touch a run one or two rows above (so accents and i-dots stay with their letters).
  for (let y = 1; y < height; y++) {
    for (let i = rowStart[y]; i < rowStart[y + 1]; i++) {
      for (let above = Math.max(0, y - 2); above < y; above++) {
        for (let j = rowStart[above]; j < rowStart[above + 1]; j++) {
          if (runs[j].x1 < runs[i].x0 - 1 || runs[j].x0 > runs[i].x1 + 1) continue;
          const a = root(runs, i);
          const b = root(runs, j);
          if (a !== b) runs[a].parent = b;
        }
      }
    }
  }
  const boxes = new Map<number, { x0: number; y0: number; x1: number; y1: number }>();
  for (let i = 0; i < runs.length; i++) {
    const r = root(runs, i);
    const run = runs[i];
    const box = boxes.get(r);
    if (!box) boxes.set(r, { x0: run.x0, y0: run.y, x1: run.x1, y1: run.y });
    else {
      box.x0 = Math.min(box.x0, run.x0);
      box.x1 = Math.max(box.x1, run.x1);
      box.y1 = Math.max(box.y1, run.y);
    }
  }
  const areas: TextArea[] = [];
  for (const b of boxes.values()) {
    const w = b.x1 - b.x0 + 1;
    const h = b.y1 - b.y0 + 1;
    if (w < MIN_WIDTH || h < MIN_HEIGHT) continue;
    const rows = new Uint8Array(h);
    for (let y = b.y0; y <= b.y1; y++) {
      for (let x = b.x0; x <= b.x1; x++) {
        if (mask[y * width + x]) {
          rows[y - b.y0] = 1;
          break;
        }
      }
    }
    areas.push({ box: { x: b.x0, y: b.y0, width: w, height: h }, lineHeight: medianLineHeight(rows) });
  }
  return joinLines(areas).sort((a, b) => a.box.y - b.box.y || a.box.x - b.box.x);
}

/**
 * Joins areas side by side on one text line when the gap between them is at most about one line
 * height: words of large fonts (whose spaces are wider than `joinGap`) become one line again, so
 * multi-word queries and reading order work; buttons and table columns stay apart.
 */
function joinLines(areas: TextArea[]): TextArea[] {
  const sorted = [...areas].sort((a, b) => a.box.x - b.box.x);
  const out: TextArea[] = [];
  for (const area of sorted) {
    const box = area.box;
    const target = out.find((o) => {
      const top = Math.max(o.box.y, box.y);
      const bottom = Math.min(o.box.y + o.box.height, box.y + box.height);
      const overlap = bottom - top;
      const gap = box.x - (o.box.x + o.box.width);
      const lineHeight = Math.max(o.lineHeight, area.lineHeight);
      return overlap >= 0.6 * Math.min(o.box.height, box.height) && Math.abs(o.box.height - box.height) <= 0.5 * Math.max(o.box.height, box.height) && gap >= -1 && gap <= Math.max(8, 0.9 * lineHeight);
    });
    if (!target) {
      out.push({ box: { ...box }, lineHeight: area.lineHeight });
      continue;
    }
    const x = Math.min(target.box.x, box.x);
    const y = Math.min(target.box.y, box.y);
    const right = Math.max(target.box.x + target.box.width, box.x + box.width);
    const bottom = Math.max(target.box.y + target.box.height, box.y + box.height);
    target.box = { x, y, width: right - x, height: bottom - y };
    target.lineHeight = Math.max(target.lineHeight, area.lineHeight);
  }
  return out;
}
