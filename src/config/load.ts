/**
 * Loading a targets file: find it, parse it, validate it, and throw every problem at once.
 * Without a file, the embedded default (`DEFAULT_TARGETS_YAML`) gives one target, `local`, a
 * desktop launched on this machine — so a fresh checkout runs with no configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { VNCConfigError } from '../errors.js';
import { parseYaml } from './document.js';
import { Problems } from './problems.js';
import { readTargetsDocument } from './schema.js';
import type { TargetsFile } from './types.js';

/** The file `loadTargets()` looks for in the working folder (`.yml` works too). */
export const DEFAULT_TARGETS_FILE = 'vnc.targets.yaml';
const FILE_NAMES = [DEFAULT_TARGETS_FILE, 'vnc.targets.yml'];

/** `TargetsFile.file` when no file existed. */
export const EMBEDDED_TARGETS_FILE = '<embedded default>';

/** The targets used when there is no `vnc.targets.yaml`: a local TigerVNC desktop with an xterm. */
export const DEFAULT_TARGETS_YAML = `# vnc.targets.yaml: the desktops the tests drive. This is the embedded default, used when the
# project has no file of its own: one TigerVNC desktop (Xvnc + an xterm) started on this machine.
targets:
  local:
    launch: { preset: local-desktop, geometry: 1280x800 }
`;

export interface LoadTargetsOptions {
  /** Where `${env:NAME}` values come from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where a relative `file` (and the default file) is looked for; default process.cwd(). */
  cwd?: string;
  /**
   * An unset `${env:…}` in a target: 'error' (default) makes it a problem of the file; 'defer'
   * keeps the target, marked `unresolved`, so it fails only when it is used (other targets run).
   */
  missingEnv?: 'error' | 'defer';
}

/**
 * Reads and validates a targets file (default: `vnc.targets.yaml` in `cwd`, else the embedded
 * default). Throws one `VNCTargetsFileError` (a `VNCConfigError`) listing every problem, each with
 * its `file:line:column`.
 */
export function loadTargets(file?: string, options: LoadTargetsOptions = {}): TargetsFile {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  let path: string;
  if (file === undefined) {
    const found = FILE_NAMES.map((name) => resolve(cwd, name)).find((candidate) => existsSync(candidate));
    if (found === undefined) return parseTargets(DEFAULT_TARGETS_YAML, { file: EMBEDDED_TARGETS_FILE, dir: cwd, env, embedded: true, missingEnv: options.missingEnv });
    path = found;
  } else {
    path = resolve(cwd, file);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    throw new VNCConfigError(`Cannot read the targets file ${path}: ${why}.`);
  }
  return parseTargets(text, { file: path, env, missingEnv: options.missingEnv });
}

export interface ParseTargetsOptions {
  /** The name used in messages and `source`; an absolute path for a real file. */
  file: string;
  /** Where relative paths (provider, certificate, cwd) start; default the file's folder. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  /** Marks the result as the embedded default. */
  embedded?: boolean;
  /** See `LoadTargetsOptions.missingEnv`. */
  missingEnv?: 'error' | 'defer';
}

/** Validates targets-file text that is already in memory (`loadTargets` reads a file and calls this). */
export function parseTargets(text: string, options: ParseTargetsOptions): TargetsFile {
  const problems = new Problems(options.file);
  const parsed = parseYaml(text, options.file, problems);
  if (problems.count > 0) problems.throwIfAny();
  const { defaults, targets } = readTargetsDocument(parsed.root, {
    file: options.file,
    dir: options.dir ?? dirname(options.file),
    env: options.env ?? process.env,
    problems,
    text,
    locate: parsed.locate,
    deferMissingEnv: options.missingEnv === 'defer',
  });
  problems.throwIfAny();
  return { file: options.file, embedded: options.embedded ?? false, targets, defaults };
}
