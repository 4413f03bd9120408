/**
 * Problems found in a targets file. Validation never stops at the first mistake: every problem is
 * collected with its `file:line:column`, then all are thrown together as one `VNCTargetsFileError`.
 */
import { VNCConfigError } from '../errors.js';
import { closest } from '../bridge/suggest.js';

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



export { closest };

/** ` Did you mean "x"?` or an empty string. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const guess = closest(input, candidates);
  return guess === undefined ? '' : ` Did you mean "${guess}"?`;
}
