/**
 * Placeholders filled in while a targets file loads:
 * - `${env:NAME}`: the environment variable NAME; unset or empty is a problem naming the variable
 *   and the target (never a value). `${env:NAME:-fallback}` uses `fallback` instead.
 * - `${matrix:NAME}`: this target's matrix value NAME.
 * Every other `${…}` (`${host}`, `${ticket}`, …) is left for the connection to fill.
 */
import type { YamlScalar } from './document.js';
import type { Problems, SourceLocation } from './problems.js';

export interface InterpolationContext {
  env: NodeJS.ProcessEnv;
  /** The target's matrix values. */
  params: Readonly<Record<string, string>>;
  /** For messages: `target "desktop"` or `defaults`. */
  owner: string;
  problems: Problems;
  /** The YAML source and how to place an offset, to point at the placeholder itself. */
  text: string;
  locate(offset: number): SourceLocation;
}

export interface Interpolated {
  value: string;
  /** True when an environment variable's value went into it: print it nowhere. */
  fromEnv: boolean;
}

const PLACEHOLDER = /\$\{(env|matrix):([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where `needle` is written inside the scalar, or the scalar's own position. */
function locateIn(scalar: YamlScalar, needle: string, context: InterpolationContext): SourceLocation {
  const [start, end] = scalar.range;
  const index = context.text.slice(start, end).indexOf(needle);
  return index < 0 ? scalar.at : context.locate(start + index);
}

/**
 * Fills `${env:…}` and `${matrix:…}` in `raw` (the string value of `scalar`, found at `path`).
 * Returns undefined after adding a problem when a variable is missing.
 */
export function interpolate(raw: string, scalar: YamlScalar, path: string, context: InterpolationContext): Interpolated | undefined {
  let fromEnv = false;
  let failed = false;
  const value = raw.replace(PLACEHOLDER, (match, kind: string, body: string) => {
    if (kind === 'matrix') {
      const param = context.params[body];
      if (param !== undefined) return param;
      const known = Object.keys(context.params);
      const hint = known.length > 0 ? `its matrix has ${known.join(', ')}` : 'it has no matrix';
      context.problems.add(locateIn(scalar, match, context), `${path}: \${matrix:${body}} is not a matrix value of ${context.owner} (${hint}).`);
      failed = true;
      return match;
    }
    const separator = body.indexOf(':-');
    const name = separator < 0 ? body : body.slice(0, separator);
    if (!ENV_NAME.test(name)) {
      context.problems.add(locateIn(scalar, match, context), `${path}: "\${env:${name}}" is not a valid variable name (letters, digits and _, not starting with a digit).`);
      failed = true;
      return match;
    }
    const found = context.env[name];
    if (found !== undefined && found !== '') {
      fromEnv = true;
      return found;
    }
    if (separator >= 0) return body.slice(separator + 2);
    context.problems.add(
      locateIn(scalar, match, context),
      `${path}: environment variable ${name} is ${found === '' ? 'empty' : 'not set'} (needed by ${context.owner}). Set it, or write \${env:${name}:-fallback} for a fallback.`,
      name,
    );
    failed = true;
    return match;
  });
  return failed ? undefined : { value, fromEnv };
}
