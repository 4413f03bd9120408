/**
 * The test framework as users run it: a whole project in a temporary folder (YAML targets, a
 * playwright.config.ts using vncProjects, specs using the `vnc` fixture and the matchers), run by
 * the real `playwright test`, judged by its JSON report and the files it writes.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { readTrace } from '../../src/trace/index.js';
import { inlineProject, stepTitles } from '../support/inline-project.js';

const CONFIG = `
import { defineConfig } from '@playwright/test';
import { vncProjects } from 'vnc-agent-bridge/test';
export default defineConfig({
  testDir: '.',
  timeout: 60_000,
  expect: { timeout: 3000 },
  projects: vncProjects({ file: 'vnc.targets.yaml' }),
});
`;

const TARGETS = `
targets:
  desk:
    launch: { preset: local-desktop, geometry: 800x600 }
    provider: ./count-provider.mjs
    tags: [local]
`;

/** A provider that records each call, so retries can be seen asking again. */
const PROVIDER = `
import { appendFileSync } from 'node:fs';
export default async function provider({ target, attempt }) {
  appendFileSync(new URL('./provider-calls.txt', import.meta.url), target + ':' + attempt + '\\n');
  return {};
}
`;

test.describe.configure({ mode: 'serial', timeout: 240_000 });

test('baselines: missing ones are written and fail, then match; a changed screen attaches expected, actual and diff', async () => {
  const region = '{ x: 40, y: 40, width: 300, height: 40 }';
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': TARGETS,
    'count-provider.mjs': PROVIDER,
    'screen.spec.ts': `
import { test, expect } from 'vnc-agent-bridge/test';
test('top strip', async ({ vnc }) => {
  await vnc.mouse.move(700, 500);
  if (process.env.CHANGE) {
    await vnc.mouse.move(60, 50);
    await vnc.keyboard.type('clear; printf "changed %.0s" 1 2 3 4 5\\\\n');
    await vnc.keyboard.press('enter');
    await vnc.mouse.move(700, 500);
  }
  await expect(vnc).toHaveScreen('strip.png', { region: ${region} });
});
`,
  });
  try {
    const first = await project.run();
    expect(first.code, first.output).toBe(1);
    expect(first.spec('top strip').tests[0].results[0].errors.map((e) => e.message).join('\n')).toContain('did not exist');
    const baseline = join(project.dir, 'screen.spec.ts-snapshots', 'strip-desk-linux.png');
    expect(existsSync(baseline), `baseline at ${baseline}`).toBe(true);

    const second = await project.run();
    expect(second.code, second.output).toBe(0);

    const changed = await project.run([], { CHANGE: '1' });
    expect(changed.code, changed.output).toBe(1);
    const result = changed.spec('top strip').tests[0].results[0];
    const names = result.attachments.map((attachment) => attachment.name);
    expect(names).toEqual(expect.arrayContaining(['strip-expected.png', 'strip-actual.png', 'strip-diff.png', 'screen-on-failure.png']));
    expect(result.errors.map((e) => e.message).join('\n')).toMatch(/did not match .*strip-desk-linux\.png/);

    const updated = await project.run(['--update-snapshots'], { CHANGE: '1' });
    expect(updated.code, updated.output).toBe(0);
  } finally {
    await project.cleanup();
  }
});

test('a retry reconnects from scratch and asks the provider again; steps show each action, secrets masked', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG.replace("timeout: 60_000,", 'timeout: 60_000, retries: 1,'),
    'vnc.targets.yaml': TARGETS,
    'count-provider.mjs': PROVIDER,
    'retry.spec.ts': `
import { test, expect } from 'vnc-agent-bridge/test';
test('flaky once', async ({ vnc }, testInfo) => {
  await vnc.mouse.move(10, 20);
  await vnc.keyboard.type('visible text');
  await vnc.keyboard.type('hunter2-SECRET', { secret: true });
  await vnc.keyboard.press('ctrl+u');
  expect(vnc.isConnected).toBe(true);
  if (testInfo.retry === 0) throw new Error('first attempt fails on purpose');
});
`,
  });
  try {
    const run = await project.run();
    expect(run.code, run.output).toBe(0);
    const results = run.spec('flaky once').tests[0].results;
    expect(results.map((result) => result.status)).toEqual(['failed', 'passed']);
    expect(await readFile(join(project.dir, 'provider-calls.txt'), 'utf8')).toBe('desk:0\ndesk:1\n');
    const titles = stepTitles(results[1].steps);
    expect(titles).toEqual(expect.arrayContaining(['mouse.move(10, 20)', 'keyboard.type("visible text")', 'keyboard.type(***)', 'keyboard.press("ctrl+u")']));
    expect(JSON.stringify(results)).not.toContain('hunter2-SECRET');
    expect(results[0].attachments.map((attachment) => attachment.name)).toContain('screen-on-failure.png');
  } finally {
    await project.cleanup();
  }
});

test('vncTrace "on" keeps the trace of a passing test (vnc-trace.zip and its viewer), with a step per action', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG.replace("expect: { timeout: 3000 },", "expect: { timeout: 3000 }, outputDir: './test-results', use: { vncTrace: 'on' },"),
    'vnc.targets.yaml': TARGETS,
    'count-provider.mjs': PROVIDER,
    'trace.spec.ts': `
import { test, expect } from 'vnc-agent-bridge/test';
test('traced', async ({ vnc }) => {
  await vnc.mouse.move(60, 50);
  await vnc.keyboard.type('echo traced\\n');
  await vnc.screen.waitForStable({ stillMs: 200 });
});
`,
  });
  try {
    const run = await project.run();
    expect(run.code, run.output).toBe(0);
    const attachments = run.spec('traced').tests[0].results[0].attachments;
    expect(attachments.map((attachment) => attachment.name)).toEqual(['vnc-trace', 'vnc-trace.html']);
    const { trace } = readTrace(await readFile(attachments[0].path!));
    expect(trace.status).toBe('passed');
    expect(trace.actions.map((action) => action.title)).toEqual(['mouse.move(60, 50)', 'keyboard.type("echo traced\\n")', 'screen.waitForStable({"stillMs":200})']);
  } finally {
    await project.cleanup();
  }
});

test('a broken targets file stops the run before any test, with file:line and the fix', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': 'targets:\n  desk:\n    connection: { type: tcp, host: 127.0.0.1, port: 5901 }\n    pasword: x\n',
    'never.spec.ts': "import { test } from 'vnc-agent-bridge/test';\ntest('never runs', async () => {});\n",
  });
  try {
    const run = await project.run();
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/vnc\.targets\.yaml:4:\d+/);
    expect(run.output).toContain('password');
    expect(run.specs).toEqual([]);
  } finally {
    await project.cleanup();
  }
});
