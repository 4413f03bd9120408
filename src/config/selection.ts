/**
 * Which specs belong to a target: `specs:` (globs, the project's `testMatch`) and `grep:` (regular
 * expressions on test titles, the project's `grep`), so a kiosk's spec runs on the kiosk only.
 */
import type { YamlMap, YamlNode } from './document.js';
import { entry, type Reader } from './values.js';

export interface TargetSelection {
  specs?: string[];
  grep?: string[];
}

/** `specs:` and `grep:` of a target (each a text or a list of texts); undefined after a problem. */
export function readSelection(map: YamlMap, path: string, reader: Reader): TargetSelection | undefined {
  const selection: TargetSelection = {};
  let ok = true;
  const specsEntry = entry(map, 'specs');
  if (specsEntry) {
    const specs = readTexts(specsEntry.value, `${path}.specs`, reader, (glob) =>
      glob.trim() === '' ? 'a glob may not be empty.' : glob.startsWith('/') ? 'write the glob relative to the project (e.g. specs/kiosk/**), not as an absolute path.' : undefined,
    );
    if (specs) selection.specs = specs;
    else ok = false;
  }
  const grepEntry = entry(map, 'grep');
  if (grepEntry) {
    const grep = readTexts(grepEntry.value, `${path}.grep`, reader, (pattern) => {
      if (pattern === '') return 'a pattern may not be empty.';
      try {
        new RegExp(pattern);
        return undefined;
      } catch (error) {
        return `not a valid regular expression (${(error as Error).message.replace(/^Invalid regular expression: /, '')}).`;
      }
    });
    if (grep) selection.grep = grep;
    else ok = false;
  }
  return ok ? selection : undefined;
}

/** One text or a list of them; an empty list is a problem (it would select nothing). */
function readTexts(node: YamlNode, path: string, reader: Reader, check: (value: string) => string | undefined): string[] | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    const value = reader.string(node, path);
    if (value === undefined) return undefined;
    const problem = check(value);
    if (problem) {
      reader.problem(node.at, `${path}: ${problem}`);
      return undefined;
    }
    return [value];
  }
  const values = reader.stringList(node, path, check);
  if (values && values.length === 0) {
    reader.problem(node.at, `${path}: the list is empty: leave the key out to run every spec on this target.`);
    return undefined;
  }
  return values;
}
