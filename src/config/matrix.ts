/**
 * `matrix: { layout: [us, de], size: [1280x800, 1920x1080] }` turns one target into one per
 * combination, named `app[layout=us,size=1280x800]` (the first parameter varies slowest), each with
 * its values in `params` and in `${matrix:NAME}` placeholders.
 */
import type { YamlNode } from './document.js';
import type { Reader } from './values.js';

/** Combinations one target may expand to. */
export const MAX_MATRIX_COMBINATIONS = 256;

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const PARAM_VALUE = /^[^\s,=[\]]+$/;

/** Every combination, in order; `[{}]` for no matrix. Undefined after a problem. */
export function readMatrix(node: YamlNode, path: string, reader: Reader): Array<Record<string, string>> | undefined {
  const map = reader.map(node, path, 'a map of parameter names to lists of values, e.g. { size: [1280x800, 1920x1080] }');
  if (!map) return undefined;
  if (map.entries.length === 0) {
    reader.problem(map.at, `${path}: the matrix is empty: give at least one parameter with a list of values.`);
    return undefined;
  }
  const axes: Array<[name: string, values: string[]]> = [];
  let ok = true;
  for (const { key, keyAt, value } of map.entries) {
    if (!PARAM_NAME.test(key)) {
      reader.problem(keyAt, `${path}: "${key}" is not a valid parameter name (letters, digits, _ and -, starting with a letter or _).`);
      ok = false;
      continue;
    }
    const values = reader.stringList(value, `${path}.${key}`, (text) =>
      PARAM_VALUE.test(text) ? undefined : `matrix values may not be empty or contain spaces, commas, "=" or brackets (they become part of the target name).`,
    );
    if (!values) {
      ok = false;
      continue;
    }
    if (values.length === 0) {
      reader.problem(value.at, `${path}.${key}: the list of values is empty.`);
      ok = false;
      continue;
    }
    const duplicate = values.find((text, index) => values.indexOf(text) !== index);
    if (duplicate !== undefined) {
      reader.problem(value.at, `${path}.${key}: the value ${JSON.stringify(duplicate)} is listed twice.`);
      ok = false;
      continue;
    }
    axes.push([key, values]);
  }
  if (!ok) return undefined;
  const total = axes.reduce((product, [, values]) => product * values.length, 1);
  if (total > MAX_MATRIX_COMBINATIONS) {
    reader.problem(map.at, `${path}: the matrix expands to ${total} targets; at most ${MAX_MATRIX_COMBINATIONS} are allowed.`);
    return undefined;
  }
  let combinations: Array<Record<string, string>> = [{}];
  for (const [name, values] of axes) {
    combinations = combinations.flatMap((partial) => values.map((value) => ({ ...partial, [name]: value })));
  }
  return combinations;
}

/** `base[a=1,b=2]`, or `base` without parameters. */
export function matrixTargetName(baseName: string, params: Readonly<Record<string, string>>): string {
  const parts = Object.entries(params).map(([name, value]) => `${name}=${value}`);
  return parts.length === 0 ? baseName : `${baseName}[${parts.join(',')}]`;
}
