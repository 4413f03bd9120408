/**
 * Targets become Playwright projects: `projects: vncProjects({ file: 'vnc.targets.yaml' })`.
 * Loading happens when the config is read, so a broken targets file stops the run before any test.
 */
import { resolve } from 'node:path';
import type { Project } from '@playwright/test';
import { loadTargets } from '../config/index.js';
import type { VncTestOptions, VncWorkerOptions } from './fixture.js';

export interface VncProjectsOptions<TestArgs = object, WorkerArgs = object> {
  /** The targets file; default `vnc.targets.yaml`, or the embedded local desktop when there is none. */
  file?: string;
  /** Only targets carrying one of these tags (default: env VNC_TAGS, comma-separated; else all). */
  tags?: readonly string[];
  /** Settings every project gets (testDir, testMatch, retries, timeout, `use` options…). */
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

/**
 * One project per target (filtered by tags). Generic so that it fits `defineConfig()` and
 * `defineConfig<YourOptions>()` alike; each project's `use` carries `vncTarget` and `vncConfig`.
 */
export function vncProjects<TestArgs = object, WorkerArgs = object>(options: VncProjectsOptions<TestArgs, WorkerArgs> = {}): Project<TestArgs, WorkerArgs>[] {
  const targetsFile = loadTargets(options.file);
  const tags = options.tags ?? tagsFromEnvironment();
  const vncConfig = options.file === undefined ? undefined : resolve(options.file);
  return targetsFile.targets
    .filter((target) => !tags || target.tags.some((tag) => tags.includes(tag)))
    .map((target) => ({
      ...options.project,
      name: target.name,
      // A desktop has one keyboard and one pointer: its tests run one at a time unless the YAML says `shared: true`.
      ...(target.shared ? {} : { workers: 1, fullyParallel: false }),
      metadata: { ...options.project?.metadata, vncTarget: target.name, tags: target.tags, params: target.params },
      use: { ...options.project?.use, ...vncUse({ vncTarget: target.name, vncConfig }) },
    }));
}
