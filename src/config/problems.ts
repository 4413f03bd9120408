/**
 * Problems found in a targets file. Validation never stops at the first mistake: every problem is
 * collected with its `file:line:column`, then all are thrown together as one `VNCTargetsFileError`.
 */
import { VNCConfigError } from '../errors.js';

/** Where something is written: a file and a 1-based line and column. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface ConfigProblem {
  location: SourceLocation;
  /** What is wrong and what to do, without the location. */
  message: string;
}

export function formatLocation({ file, line, column }: SourceLocation): string {
  return `${file}:${line}:${column}`;
}

export function formatProblem(problem: ConfigProblem): string {
  return `${formatLocation(problem.location)}: ${problem.message}`;
}

/** A targets file with mistakes; `problems` lists each one (also in the message, one per line). */
export class VNCTargetsFileError extends VNCConfigError {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${file}: ${count} in the targets file:\n${problems.map((problem) => `  - ${formatProblem(problem)}`).join('\n')}`);
    this.file = file;
    this.problems = problems;
  }
}

/** Collects problems in order, dropping exact repeats (a matrix validates one node many times). */
export class Problems {
  private readonly seen = new Set<string>();
  readonly list: ConfigProblem[] = [];

  constructor(readonly file: string) {}

  add(location: SourceLocation, message: string): void {
    const problem = { location, message };
    const key = formatProblem(problem);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(problem);
  }

  get count(): number {
    return this.list.length;
  }

  /** Throws the collected problems as one error, sorted by position; does nothing when there are none. */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const sorted = [...this.list].sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column);
    throw new VNCTargetsFileError(this.file, sorted);
  }
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate closest to `input` (case-insensitive typo), or undefined when none is close. */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const word = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate.toLowerCase());
    const limit = Math.max(1, Math.min(3, Math.floor(candidate.length / 3)));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` Did you mean "x"?` or an empty string. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const guess = closest(input, candidates);
  return guess === undefined ? '' : ` Did you mean "${guess}"?`;
}
