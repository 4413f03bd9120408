/** Words in reading order: the lines of one visual row (side-by-side areas) become one text line. */
import { groupLines } from './match.js';
import type { OcrBox, OcrWord } from './types.js';

export interface TextLine {
  text: string;
  words: OcrWord[];
}

function centre(box: OcrBox): number {
  return box.y + box.height / 2;
}

/** Lines top to bottom; lines whose vertical middles fall inside each other's height form one row. */
export function linesOfText(words: readonly OcrWord[]): TextLine[] {
  const lines = groupLines(words).map((line) => {
    const top = Math.min(...line.map((w) => w.box.y));
    const bottom = Math.max(...line.map((w) => w.box.y + w.box.height));
    return { words: line, top, bottom, middle: (top + bottom) / 2 };
  });
  lines.sort((a, b) => a.middle - b.middle);
  const rows: { words: OcrWord[]; top: number; bottom: number }[] = [];
  for (const line of lines) {
    const row = rows.find((r) => line.middle >= r.top && line.middle <= r.bottom && (r.top + r.bottom) / 2 >= line.top && (r.top + r.bottom) / 2 <= line.bottom);
    if (row) {
      row.words.push(...line.words);
      row.top = Math.min(row.top, line.top);
      row.bottom = Math.max(row.bottom, line.bottom);
    } else rows.push({ words: [...line.words], top: line.top, bottom: line.bottom });
  }
  return rows.map((row) => {
    const sorted = row.words.sort((a, b) => a.box.x - b.box.x || centre(a.box) - centre(b.box));
    return { text: sorted.map((w) => w.text).join(' '), words: sorted };
  });
}
