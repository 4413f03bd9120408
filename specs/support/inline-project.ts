/**
 * Runs a whole Playwright project written into a temporary folder, the way a user runs theirs:
 * `npx playwright test` with the JSON reporter, importing `vnc-agent-bridge/test` by name. The
 * folder lives under reports/ inside this package, so the package's self-reference resolves the
 * built `dist/` and `@playwright/test` resolves from this checkout's node_modules.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { run } from './processes.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PLAYWRIGHT = join(ROOT, 'node_modules', '.bin', 'playwright');

export interface JsonAttachment {
  name: string;
  contentType: string;
  path?: string;
  body?: string;
}

export interface JsonStep {
  title: string;
  steps?: JsonStep[];
}

export interface JsonResult {
  status: string;
  retry: number;
  attachments: JsonAttachment[];
  steps: JsonStep[];
  errors: { message?: string }[];
}

export interface JsonTest {
  projectName: string;
  results: JsonResult[];
  status: string;
}

export interface JsonSpec {
  title: string;
  tests: JsonTest[];
}

interface JsonSuite {
  specs?: JsonSpec[];
  suites?: JsonSuite[];
}

export interface InlineRun {
  dir: string;
  code: number | null;
  output: string;
  specs: JsonSpec[];
  /** The spec with this title (throws if none). */
  spec(title: string): JsonSpec;
  cleanup(): Promise<void>;
}

function flatten(suites: JsonSuite[] | undefined): JsonSpec[] {
  return (suites ?? []).flatMap((suite) => [...(suite.specs ?? []), ...flatten(suite.suites)]);
}

/** Every step title in a result, depth first. */
export function stepTitles(steps: JsonStep[]): string[] {
  return steps.flatMap((step) => [step.title, ...stepTitles(step.steps ?? [])]);
}

/** Writes `files` (path → content) into a fresh folder; `run` may be called on it several times. */
export async function inlineProject(files: Record<string, string>): Promise<{ dir: string; run(args?: string[], env?: NodeJS.ProcessEnv): Promise<InlineRun>; cleanup(): Promise<void> }> {
  await mkdir(join(ROOT, 'reports'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, 'reports', 'inline-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const cleanup = () => rm(dir, { recursive: true, force: true });
  return {
    dir,
    cleanup,
    async run(args = [], env = {}) {
      const reportFile = join(dir, 'report.json');
      await rm(reportFile, { force: true });
      const result = await run(PLAYWRIGHT, ['test', '--reporter=json', ...args], {
        cwd: dir,
        env: { ...process.env, CI: '', PLAYWRIGHT_JSON_OUTPUT_NAME: reportFile, ...env },
        timeoutMs: 180_000,
      });
      let specs: JsonSpec[] = [];
      try {
        specs = flatten((JSON.parse(await readFile(reportFile, 'utf8')) as { suites?: JsonSuite[] }).suites);
      } catch {
        // No report: the run failed before tests (config errors); `output` says why.
      }
      return {
        dir,
        code: result.code,
        output: `${result.stdout}\n${result.stderr}`,
        specs,
        spec(title: string) {
          const found = specs.find((spec) => spec.title === title);
          if (!found) throw new Error(`no spec "${title}" in the report; output:\n${result.stdout}\n${result.stderr}`);
          return found;
        },
        cleanup,
      };
    },
  };
}
