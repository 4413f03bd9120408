/**
 * Targets become Playwright projects: `projects: vncProjects({ file: 'vnc.targets.yaml' })`.
 * Loading happens when the config is read, so a broken targets file stops the run before any test,
 * printed as its list of `file:line:column` problems (no stack trace: the mistake is in the YAML).
 * An unset `${env:…}` only stops the targets that need it, when they run (see fixture.ts).
 */
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import type { Project } from '@playwright/test';
import { loadTargets, type TargetConfig, type TargetsFile } from '../config/index.js';
import { VNCConfigError } from '../errors.js';
import { closest } from '../transport/suggest.js';
import type { VncTestOptions, VncWorkerOptions } from './fixture.js';

export interface VncProjectsOptions<TestArgs = object, WorkerArgs = object> {
  /** The targets file; default `vnc.targets.yaml`, or the embedded local desktop when there is none. */
  file?: string;
  /** Only targets carrying one of these tags (default: env VNC_TAGS, comma-separated; else all). */
  tags?: readonly string[];
  /** Settings every project gets (testDir, testMatch, retries, timeout, `use` options…); a target's `specs:`/`grep:` win. */
  project?: Omit<Project<TestArgs, WorkerArgs>, 'name' | 'workers'>;
}

/** The fixture options a project sets, typed for the fixture (the config's own option types do not know them). */
function vncUse(options: Pick<VncTestOptions, 'vncTarget'> & VncWorkerOptions): object {
  return options;
}

function tagsFromEnvironment(): string[] | undefined {
  const value = process.env.VNC_TAGS?.trim();
  return value ? value.split(',').map((tag) => tag.trim()).filter(Boolean) : undefined;
}

/** `playwright test` prints a config error with util.inspect: show the message (the problems), not a stack and an object dump. */
function printable<T extends Error>(error: T): T {
  Object.defineProperty(error, inspect.custom, { value: () => `${error.name}: ${error.message}`, enumerable: false });
  return error;
}

function selectByTags(targetsFile: TargetsFile, tags: readonly string[], fromEnvironment: boolean): TargetConfig[] {
  const selected = targetsFile.targets.filter((target) => target.tags.some((tag) => tags.includes(tag)));
  if (selected.length > 0) return selected;
  const known = [...new Set(targetsFile.targets.flatMap((target) => target.tags))];
  const guesses = tags.map((tag) => closest(tag, known)).filter((guess): guess is string => guess !== undefined);
  const asked = fromEnvironment ? `VNC_TAGS=${tags.join(',')}` : `tags: [${tags.join(', ')}]`;
  throw new VNCConfigError(
    `${asked} matches no target in ${targetsFile.file}: ` +
      (known.length > 0 ? `its tags are ${known.join(', ')}.${guesses.length > 0 ? ` Did you mean "${guesses[0]}"?` : ''}` : 'its targets have no tags.') +
      (fromEnvironment ? ' Change VNC_TAGS, or unset it to run every target.' : ''),
  );
}

function projectFor<TestArgs, WorkerArgs>(target: TargetConfig, options: VncProjectsOptions<TestArgs, WorkerArgs>, vncConfig: string | undefined): Project<TestArgs, WorkerArgs> {
  return {
    ...options.project,
    name: target.name,
    ...(target.specs ? { testMatch: target.specs } : {}),
    ...(target.grep ? { grep: target.grep.map((pattern) => new RegExp(pattern)) } : {}),
    // A desktop has one keyboard and one pointer: its tests run one at a time unless the YAML says `shared: true`.
    ...(target.shared ? {} : { workers: 1, fullyParallel: false }),
    metadata: { ...options.project?.metadata, vncTarget: target.name, tags: target.tags, params: target.params },
    use: { ...options.project?.use, ...vncUse({ vncTarget: target.name, vncConfig }) },
  };
}

/**
 * One project per target (filtered by tags). Generic so that it fits `defineConfig()` and
 * `defineConfig<YourOptions>()` alike; each project's `use` carries `vncTarget` and `vncConfig`.
 * Targets whose `${env:…}` is unset still become projects: they fail when selected and run.
 */
export function vncProjects<TestArgs = object, WorkerArgs = object>(options: VncProjectsOptions<TestArgs, WorkerArgs> = {}): Project<TestArgs, WorkerArgs>[] {
  try {
    const targetsFile = loadTargets(options.file, { missingEnv: 'defer' });
    const tags = options.tags ?? tagsFromEnvironment();
    const vncConfig = options.file === undefined ? undefined : resolve(options.file);
    const targets = tags ? selectByTags(targetsFile, tags, options.tags === undefined) : targetsFile.targets;
    return targets.map((target) => projectFor(target, options, vncConfig));
  } catch (error) {
    throw error instanceof VNCConfigError ? printable(error) : error;
  }
}
