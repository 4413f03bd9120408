/**
 * Problems found in a targets file. Validation never stops at the first mistake: every problem is
 * collected with its `file:line:column`, then all are thrown together as one `VNCTargetsFileError`.
 */
import { VNCConfigError } from '../errors.js';
import { closest } from '../transport/suggest.js';
import type { TargetConfig } from './types.js';

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
  /** Set when the problem is an unset (or empty) environment variable: its name. */
  variable?: string;
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

  add(location: SourceLocation, message: string, variable?: string): void {
    const problem: ConfigProblem = variable === undefined ? { location, message } : { location, message, variable };
    const key = formatProblem(problem);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(problem);
  }

  /** Removes and returns the problems added since `count` was `from` (they may be added again). */
  take(from: number): ConfigProblem[] {
    const taken = this.list.splice(from);
    for (const problem of taken) this.seen.delete(formatProblem(problem));
    return taken;
  }

  get count(): number {
    return this.list.length;
  }

  /** Throws the collected problems as one error, sorted by position; does nothing when there are none. */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    throw new VNCTargetsFileError(this.file, sortProblems(this.list));
  }
}

export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column);
}
export { closest };

/** ` Did you mean "x"?` or an empty string. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const guess = closest(input, candidates);
  return guess === undefined ? '' : ` Did you mean "${guess}"?`;
}

/** Throws the problems of a target loaded with `missingEnv: 'defer'` whose environment variables are not set. */
export function assertResolved(target: TargetConfig): void {
  if (target.unresolved && target.unresolved.length > 0) throw new VNCTargetsFileError(target.source.file, target.unresolved);
}
