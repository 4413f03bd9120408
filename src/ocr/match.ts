/**
 * Finding a known query in the words an engine read, with Playwright's text semantics.
 *
 * String queries are tried in tiers and the first tier that finds anything wins, so a tolerant
 * tier never adds a look-alike when the screen also shows the real thing:
 *   1. whitespace-normalised, case-insensitive substring of a line (exact: case-sensitive whole words);
 *   2. the same with spaces ignored (OCR drops or adds spaces between words);
 *   3. the same with typical OCR confusions folded (l/I/1/|, O/0, rn/m, ./, and bracket shapes) — never for `exact`.
 */
import { VNCInputError } from '../errors.js';
import type { OcrBox, OcrWord } from './types.js';

export interface TextMatch {
  /** The words read that matched, joined by spaces (what the screen shows, not the query). */
  text: string;
  /** Where the match is, in image coordinates. */
  box: OcrBox;
  /** Mean confidence of the matched words, 0–100. */
  confidence: number;
  words: OcrWord[];
}

export interface FindTextOptions {
  /** Case-sensitive, whole words (default false: case-insensitive substring). */
  exact?: boolean;
  /**
   * Also try the tolerant tiers (spaces ignored, then l/I/1, O/0, rn/m folded) when nothing
   * matches as read. Default true.
   */
  tolerant?: boolean;
}

/** Longest word run a RegExp is tested against. */
const MAX_RUN = 16;

/** The words of each line in reading order. */
export function groupLines(words: readonly OcrWord[]): OcrWord[][] {
  const byLine = new Map<number, OcrWord[]>();
  for (const word of words) {
    if (word.text.trim() === '') continue;
    const line = byLine.get(word.line);
    if (line) line.push(word);
    else byLine.set(word.line, [word]);
  }
  return [...byLine.keys()].sort((a, b) => a - b).map((key) => byLine.get(key)!.sort((a, b) => a.box.x - b.box.x));
}

export function unionBox(boxes: readonly OcrBox[]): OcrBox {
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  return { x, y, width: right - x, height: bottom - y };
}

function makeMatch(words: OcrWord[], box?: OcrBox): TextMatch {
  return {
    text: words.map((w) => w.text).join(' '),
    box: box ?? unionBox(words.map((w) => w.box)),
    confidence: words.reduce((sum, w) => sum + w.confidence, 0) / words.length,
    words,
  };
}

/** A line's text in some normal form, with the word and the character inside it each output character came from. */
interface LineText {
  text: string;
  word: number[];
  offset: number[];
}

type Normaliser = (word: string) => string;

const lower: Normaliser = (s) => s.toLowerCase();
const same: Normaliser = (s) => s;
/** One representative per OCR confusion class; applied to lower-cased text. */
const confusable: Normaliser = (s) =>
  s
    .replace(/[Il1|!]/g, 'l')
    .toLowerCase()
    .replace(/rn/g, 'm')
    .replace(/0/g, 'o')
    .replace(/,/g, '.')
    .replace(/[{[]/g, '(')
    .replace(/[}\]]/g, ')');

function lineText(line: readonly OcrWord[], normalise: Normaliser, separator: string): LineText {
  const out: LineText = { text: '', word: [], offset: [] };
  line.forEach((word, index) => {
    if (index > 0 && separator) {
      out.text += separator;
      out.word.push(-1);
      out.offset.push(-1);
    }
    const raw = word.text;
    // Normalise character by character where the form keeps lengths, so positions map back.
    const norm = normalise(raw);
    const step = raw.length / Math.max(1, norm.length);
    for (let i = 0; i < norm.length; i++) {
      out.text += norm[i];
      out.word.push(index);
      out.offset.push(Math.min(raw.length - 1, Math.floor(i * step)));
    }
  });
  return out;
}

/** The box of characters [from, to) of one word, estimated by proportion (monospace-ish). */
function slice(word: OcrWord, from: number, to: number): OcrBox {
  const n = Math.max(1, word.text.length);
  if (from <= 0 && to >= n) return word.box;
  const x0 = word.box.x + Math.floor((word.box.width * from) / n);
  const x1 = word.box.x + Math.ceil((word.box.width * to) / n);
  return { x: x0, y: word.box.y, width: Math.max(1, x1 - x0), height: word.box.height };
}

function spanMatch(line: readonly OcrWord[], text: LineText, start: number, end: number): TextMatch {
  const first = text.word[start];
  const last = text.word[end - 1];
  const words = line.slice(first, last + 1);
  const boxes = words.map((word, i) => {
    const index = first + i;
    const from = index === first ? text.offset[start] : 0;
    const to = index === last ? text.offset[end - 1] + 1 : word.text.length;
    return slice(word, from, to);
  });
  return makeMatch(words, unionBox(boxes));
}

function normaliseQuery(query: string): string {
  return query.replace(/\s+/g, ' ').trim();
}

function findSubstring(lines: readonly OcrWord[][], query: string, normalise: Normaliser, separator: string): TextMatch[] {
  const needle = separator ? normalise(query) : normalise(query).replace(/ /g, '');
  if (!needle) return [];
  const found: TextMatch[] = [];
  for (const line of lines) {
    const text = lineText(line, normalise, separator);
    let at = text.text.indexOf(needle);
    while (at >= 0) {
      found.push(spanMatch(line, text, at, at + needle.length));
      at = text.text.indexOf(needle, at + needle.length);
    }
  }
  return found;
}

function findExact(lines: readonly OcrWord[][], query: string): TextMatch[] {
  const parts = query.split(' ');
  const found: TextMatch[] = [];
  for (const line of lines) {
    for (let i = 0; i + parts.length <= line.length; i++) {
      if (parts.every((part, k) => line[i + k].text === part)) found.push(makeMatch(line.slice(i, i + parts.length)));
    }
  }
  return found;
}

function findRegExp(lines: readonly OcrWord[][], pattern: RegExp): TextMatch[] {
  const regex = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  const found: TextMatch[] = [];
  const test = (line: readonly OcrWord[], i: number, j: number) => j >= i && regex.test(line.slice(i, j + 1).map((w) => w.text).join(' '));
  for (const line of lines) {
    for (let i = 0; i < line.length; i++) {
      for (let j = i; j < Math.min(line.length, i + MAX_RUN); j++) {
        // Keep only minimal runs: "Save" for /Save/, not also "Save As".
        if (test(line, i, j) && !test(line, i + 1, j) && !test(line, i, j - 1)) found.push(makeMatch(line.slice(i, j + 1)));
      }
    }
  }
  return found;
}

function checkQuery(query: unknown, what: string): asserts query is string | RegExp {
  if (query instanceof RegExp) return;
  if (typeof query !== 'string' || query.trim() === '') {
    throw new VNCInputError(`${what}: the text to look for must be a non-empty string or a RegExp, got ${JSON.stringify(query)}.`);
  }
}

/**
 * Where `query` is among the words read, top to bottom then left to right. Default: case-insensitive
 * substring with whitespace normalised; `exact: true`: case-sensitive, whole words; a RegExp is
 * tested against runs of neighbouring words of a line (the shortest runs that match).
 */
export function findText(words: readonly OcrWord[], query: string | RegExp, options: FindTextOptions = {}): TextMatch[] {
  checkQuery(query, 'findText');
  const lines = groupLines(words);
  if (query instanceof RegExp) return findRegExp(lines, query);
  const needle = normaliseQuery(query);
  if (options.exact) {
    const found = findExact(lines, needle);
    if (found.length > 0 || options.tolerant === false) return found;
    return findSubstring(lines, needle, same, '').filter((m) => isWholeWords(m, needle));
  }
  const tiers = options.tolerant === false ? ([[lower, ' ']] as const) : ([[lower, ' '], [lower, ''], [confusable, '']] as const);
  for (const [normalise, separator] of tiers) {
    const found = findSubstring(lines, needle, normalise, separator);
    if (found.length > 0) return found;
  }
  return [];
}

/** For `exact` with spaces ignored: the match must cover its words entirely ("SaveAs" read for "Save As"). */
function isWholeWords(match: TextMatch, needle: string): boolean {
  return match.words.map((w) => w.text).join('') === needle.replace(/ /g, '');
}

/** Levenshtein distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, i) => i);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[t.length];
}

/** For error messages: the runs of words closest to the query (edit distance), best first. */
export function closestText(words: readonly OcrWord[], query: string | RegExp, count = 3): TextMatch[] {
  checkQuery(query, 'closestText');
  const needle = query instanceof RegExp ? query.source.replace(/\\[a-z]|[\\^$.*+?()[\]{}|]/gi, '') : normaliseQuery(query);
  const size = Math.max(1, needle.split(' ').length);
  const scored: { match: TextMatch; distance: number }[] = [];
  for (const line of groupLines(words)) {
    for (let n = Math.max(1, size - 1); n <= size + 1; n++) {
      for (let i = 0; i + n <= line.length; i++) {
        const match = makeMatch(line.slice(i, i + n));
        scored.push({ match, distance: editDistance(match.text, needle) });
      }
    }
  }
  scored.sort((a, b) => a.distance - b.distance || b.match.confidence - a.match.confidence);
  const seen = new Set<string>();
  const best: TextMatch[] = [];
  for (const { match } of scored) {
    const key = `${match.text}@${match.box.x},${match.box.y}`;
    if (seen.has(key)) continue;
    seen.add(key);
    best.push(match);
    if (best.length >= count) break;
  }
  return best;
}

/** "'Save' at (412, 300, 38×14)" — how errors show a match. */
export function describeMatch(match: TextMatch): string {
  const { x, y, width, height } = match.box;
  return `'${match.text}' at (${x}, ${y}, ${width}×${height})`;
}
