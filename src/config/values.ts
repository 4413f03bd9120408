/**
 * Typed reads of located YAML nodes. Each read either returns the value or adds one problem
 * (`path: expected …, got …`) and returns undefined, so validation goes on and every mistake in a
 * file is reported at once. Values of secret fields, and anything filled in from the environment,
 * are never quoted in a message.
 */
import type { YamlMap, YamlMapEntry, YamlNode, YamlScalar } from './document.js';
import { interpolate, type InterpolationContext, type Interpolated } from './interpolate.js';
import { closest, type SourceLocation } from './problems.js';

export interface ReadOptions {
  /** A password, ticket or header: describe a wrong value by its type only. */
  secret?: boolean;
}

/** How a wrong value is shown in a message. */
function describe(node: YamlNode, options: ReadOptions = {}): string {
  if (node.kind === 'map') return 'a map';
  if (node.kind === 'seq') return 'a list';
  const { value } = node;
  if (value === null) return 'nothing';
  if (options.secret || (typeof value === 'string' && value.includes('${env:'))) return typeof value === 'string' ? 'text' : `a ${typeof value}`;
  const shown = JSON.stringify(value);
  return shown.length > 40 ? `${shown.slice(0, 37)}…"` : shown;
}

export class Reader {
  constructor(readonly context: InterpolationContext) {}

  problem(at: SourceLocation, message: string): void {
    this.context.problems.add(at, message);
  }

  private wrong(node: YamlNode, path: string, expected: string, options?: ReadOptions): undefined {
    this.problem(node.at, `${path}: expected ${expected}, got ${describe(node, options)}.`);
    return undefined;
  }

  map(node: YamlNode, path: string, expected = 'a map'): YamlMap | undefined {
    return node.kind === 'map' ? node : this.wrong(node, path, expected);
  }

  /**
   * Reports every key of `map` not in `allowed` (with a "did you mean" by edit distance, or the
   * hint in `misplaced` for a key that belongs elsewhere).
   */
  keys(map: YamlMap, path: string, allowed: readonly string[], misplaced: Readonly<Record<string, string>> = {}): void {
    for (const { key, keyAt } of map.entries) {
      if (allowed.includes(key)) continue;
      // A key that belongs elsewhere gets that hint, also when misspelt ("pasword" in a connection).
      const guess = Object.hasOwn(misplaced, key) ? key : closest(key, [...allowed, ...Object.keys(misplaced)]);
      const hint =
        guess === undefined ? ` Allowed: ${allowed.join(', ')}.` : `${guess === key ? '' : ` Did you mean "${guess}"?`}${Object.hasOwn(misplaced, guess) ? ` ${misplaced[guess]}` : ''}`;
      this.problem(keyAt, `${path}: unknown key "${key}".${hint}`);
    }
  }

  /**
   * The text value of a scalar with `${env:…}`/`${matrix:…}` filled in. A number or true/false
   * counts as the text it is written as (`password: 0123` is "0123").
   */
  text(node: YamlNode, path: string, options: ReadOptions & { nonEmpty?: boolean } = {}): Interpolated | undefined {
    if (node.kind !== 'scalar' || node.value === null) return this.wrong(node, path, 'text', options);
    const raw = typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
    const filled = interpolate(raw, node, path, this.context);
    if (filled && options.nonEmpty && filled.value.trim() === '') {
      this.problem(node.at, `${path}: must not be empty.`);
      return undefined;
    }
    return filled;
  }

  string(node: YamlNode, path: string, options: ReadOptions & { nonEmpty?: boolean } = {}): string | undefined {
    return this.text(node, path, options)?.value;
  }

  /** A scalar number, or text that reads as one once `${env:…}` is filled in. */
  private numeric(node: YamlNode, path: string, expected: string): { value: number; scalar: YamlScalar; fromEnv: boolean } | undefined {
    if (node.kind !== 'scalar') return this.wrong(node, path, expected);
    if (typeof node.value === 'number') return { value: node.value, scalar: node, fromEnv: false };
    if (typeof node.value !== 'string') return this.wrong(node, path, expected);
    const filled = interpolate(node.value, node, path, this.context);
    if (!filled) return undefined;
    const trimmed = filled.value.trim();
    if (!/^-?\d+(\.\d+)?$/.test(trimmed)) {
      if (filled.fromEnv) this.problem(node.at, `${path}: expected ${expected}; the environment variable's value is not a number.`);
      else this.wrong(node, path, expected);
      return undefined;
    }
    return { value: Number(trimmed), scalar: node, fromEnv: filled.fromEnv };
  }

  /** A whole number in [min, max]. */
  integer(node: YamlNode, path: string, min: number, max: number, expected = `a whole number from ${min} to ${max}`): number | undefined {
    const read = this.numeric(node, path, expected);
    if (!read) return undefined;
    if (!Number.isInteger(read.value) || read.value < min || read.value > max) {
      this.problem(node.at, `${path}: expected ${expected}, got ${read.fromEnv ? 'a value from the environment outside that range' : String(read.value)}.`);
      return undefined;
    }
    return read.value;
  }

  /** A number in [min, max]. */
  number(node: YamlNode, path: string, min: number, max: number): number | undefined {
    const expected = `a number from ${min} to ${max}`;
    const read = this.numeric(node, path, expected);
    if (!read) return undefined;
    if (read.value < min || read.value > max) {
      this.problem(node.at, `${path}: expected ${expected}, got ${read.fromEnv ? 'a value from the environment outside that range' : String(read.value)}.`);
      return undefined;
    }
    return read.value;
  }

  boolean(node: YamlNode, path: string): boolean | undefined {
    if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value;
    if (node.kind === 'scalar' && typeof node.value === 'string' && node.value.includes('${env:')) {
      const filled = interpolate(node.value, node, path, this.context);
      if (!filled) return undefined;
      if (filled.value === 'true' || filled.value === 'false') return filled.value === 'true';
      this.problem(node.at, `${path}: expected true or false; the environment variable's value is neither.`);
      return undefined;
    }
    return this.wrong(node, path, 'true or false');
  }

  /** A list of text values (each checked by `check`, which returns a problem or nothing). */
  stringList(node: YamlNode, path: string, check?: (value: string) => string | undefined): string[] | undefined {
    if (node.kind !== 'seq') return this.wrong(node, path, 'a list, e.g. [a, b]');
    const values: string[] = [];
    let ok = true;
    node.items.forEach((item, index) => {
      const value = this.string(item, `${path}[${index}]`);
      const problem = value === undefined ? undefined : check?.(value);
      if (problem) this.problem(item.at, `${path}[${index}]: ${problem}`);
      if (value === undefined || problem) ok = false;
      else values.push(value);
    });
    return ok ? values : undefined;
  }

  /** A map of names to text values. */
  stringMap(node: YamlNode, path: string, options: ReadOptions = {}): Record<string, string> | undefined {
    const map = this.map(node, path);
    if (!map) return undefined;
    const result: Record<string, string> = {};
    let ok = true;
    for (const { key, value } of map.entries) {
      const text = this.string(value, `${path}.${key}`, options);
      if (text === undefined) ok = false;
      else result[key] = text;
    }
    return ok ? result : undefined;
  }
}

/** The entry for `key` in `map`, if written. */
export function entry(map: YamlMap, key: string): YamlMapEntry | undefined {
  return map.entries.find((candidate) => candidate.key === key);
}
