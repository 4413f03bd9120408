/**
 * Targets-file ergonomics as a user meets them: whole projects run by the real `playwright test`.
 * - secrets only for what runs: `--project a` runs while b's `${env:…}` is unset; `--project b`
 *   fails before its test with file:line:column and no stack;
 * - `specs:` keeps a spec off the other targets (`--list`), `grep:` picks tests by title;
 * - `VNC_TAGS` that matches no target says so; a broken file prints its problems, no stack dump;
 * - step locations point at the spec's lines (a reporter reads them as the HTML report does);
 * - `launch: { scope: test }` gives each test a fresh desktop (and `worker` shares one);
 * - connection errors name the YAML keys; `toHaveClipboard` keeps to its own timeout.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { makeSelfSignedCert } from '../support/certs.js';
import { inlineProject, type InlineRun } from '../support/inline-project.js';
import { startXvnc } from '../support/xvnc.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

const CONFIG = `
import { defineConfig } from '@playwright/test';
import { vncProjects } from 'vnc-agent-bridge/test';
export default defineConfig({
  testDir: '.',
  timeout: 60_000,
  expect: { timeout: 5000 },
  projects: vncProjects({ file: 'vnc.targets.yaml' }),
});
`;

/** Records every test.step with its location, as the HTML report and trace viewer receive it. */
const STEPS_REPORTER = `
import { writeFileSync } from 'node:fs';
export default class StepsReporter {
  steps = [];
  onStepEnd(test, result, step) {
    this.steps.push({ test: test.title, category: step.category, title: step.title, file: step.location?.file, line: step.location?.line });
  }
  onEnd() { writeFileSync('steps.json', JSON.stringify(this.steps)); }
}
`;

/** `a` is a local desktop; `b` needs B_PASS (and points at nothing: it must never be reached). */
const TWO_TARGETS = `targets:
  a:
    launch: { preset: local-desktop, geometry: 640x480 }
    specs: ['a-only/**', 'shared.spec.ts']
    tags: [local]
  b:
    connection: { type: tcp, host: 127.0.0.1, port: 1 }
    password: \${env:B_PASS}
    specs: ['b-only/**', 'shared.spec.ts']
    grep: '@b'
    tags: [remote]
`;

const SPEC = (title: string) => `import { test, expect } from 'vnc-agent-bridge/test';
test('${title}', async ({ vnc }) => {
  await vnc.mouse.move(5, 5);
  expect(vnc.isConnected).toBe(true);
});
`;

/** Test titles per project in a run's JSON report. */
function testsByProject(run: InlineRun): Record<string, string[]> {
  const byProject: Record<string, string[]> = {};
  for (const spec of run.specs) for (const t of spec.tests) (byProject[t.projectName] ??= []).push(spec.title);
  for (const titles of Object.values(byProject)) titles.sort();
  return byProject;
}

/** A stack dump in the output: V8 frames or an inspected object. */
const STACK = /^\s+at .+:\d+:\d+\)?$|problems: \[|code: 'ECONFIG'/m;

test.describe.configure({ mode: 'serial', timeout: 240_000 });

test("secrets only for what runs: --project a runs with b's variable unset; b fails before its test with file:line:column", async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': TWO_TARGETS,
    'a-only/desk.spec.ts': SPEC('on a'),
  });
  try {
    const runA = await project.run(['--project', 'a'], { B_PASS: undefined });
    expect(runA.code, runA.output).toBe(0);
    expect(testsByProject(runA)).toEqual({ a: ['on a'] });
  } finally {
    await project.cleanup();
  }
});

test('a selected target with an unset variable fails before its test, naming file:line:column, without a stack', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': TWO_TARGETS,
    'b-only/remote.spec.ts': SPEC('on b @b'),
  });
  try {
    const run = await project.run(['--project', 'b'], { B_PASS: undefined });
    expect(run.code, run.output).toBe(1);
    const result = run.spec('on b @b').tests[0].results[0];
    const message = result.errors.map((error) => error.message).join('\n');
    expect(message).toContain(`${join(project.dir, 'vnc.targets.yaml')}:8:15: targets.b.password: environment variable B_PASS is not set`);
    expect(message).not.toMatch(STACK);
    expect(run.output).not.toMatch(/ECONNREFUSED|127\.0\.0\.1:1\b/);
  } finally {
    await project.cleanup();
  }
});

test('specs: and grep: keep a spec off the other targets (--list)', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': TWO_TARGETS,
    'a-only/desk.spec.ts': SPEC('on a'),
    'b-only/remote.spec.ts': SPEC('on b @b'),
    'shared.spec.ts': `${SPEC('shared plain')}\ntest('shared @b', async () => {});\n`,
  });
  try {
    const list = await project.run(['--list']);
    expect(list.code, list.output).toBe(0);
    expect(testsByProject(list)).toEqual({
      a: ['on a', 'shared @b', 'shared plain'],
      // b: its own folder and the shared file, and there only titles with @b.
      b: ['on b @b', 'shared @b'],
    });
  } finally {
    await project.cleanup();
  }
});

test('VNC_TAGS that matches no target says so; a matching one selects its targets', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': TWO_TARGETS,
    'a-only/desk.spec.ts': SPEC('on a'),
  });
  try {
    const none = await project.run(['--list'], { VNC_TAGS: 'nomatch' });
    expect(none.code).toBe(1);
    expect(none.output).toContain(`VNC_TAGS=nomatch matches no target in ${join(project.dir, 'vnc.targets.yaml')}: its tags are local, remote.`);
    expect(none.output).not.toMatch(STACK);

    const typo = await project.run(['--list'], { VNC_TAGS: 'locl' });
    expect(typo.output).toContain('Did you mean "local"?');

    const local = await project.run(['--list'], { VNC_TAGS: 'local' });
    expect(local.code, local.output).toBe(0);
    expect(Object.keys(testsByProject(local))).toEqual(['a']);
  } finally {
    await project.cleanup();
  }
});

test('a broken targets file prints each problem with file:line:column and no stack trace or object dump', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': 'targets:\n  desk:\n    conection: { type: tcp, host: 127.0.0.1 }\n    grep: "(unclosed"\n',
    'never.spec.ts': "import { test } from 'vnc-agent-bridge/test';\ntest('never runs', async () => {});\n",
  });
  try {
    const run = await project.run();
    expect(run.code).toBe(1);
    const file = join(project.dir, 'vnc.targets.yaml');
    expect(run.output).toContain(`${file}:3:5: targets.desk: unknown key "conection". Did you mean "connection"?`);
    expect(run.output).toContain(`${file}:4:11: targets.desk.grep: not a valid regular expression`);
    expect(run.output).not.toMatch(STACK);
    expect(run.output.trim().split('\n').length, run.output).toBeLessThanOrEqual(5);
    expect(run.specs).toEqual([]);
  } finally {
    await project.cleanup();
  }
});

test('step locations point at the lines of the spec that made the calls, and so do their errors; fixture steps at the test', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': 'targets:\n  a:\n    launch: { preset: local-desktop, geometry: 640x480 }\n',
    'steps-reporter.mjs': STEPS_REPORTER,
    'where.spec.ts': `import { test, expect } from 'vnc-agent-bridge/test';

test('where', async ({ vnc }) => {
  await vnc.mouse.move(5, 5);
  await test.step('outer', async () => {
    await vnc.keyboard.press('shift');
  });
  await helper(vnc);
});

async function helper(vnc) {
  await vnc.mouse.move(7, 7);
}

test('fails', async ({ vnc }) => {
  await vnc.screen.waitForChange(undefined, { timeoutMs: 300, region: { x: 600, y: 460, width: 10, height: 10 } });
});
`,
  });
  try {
    const run = await project.run(['--reporter=json,./steps-reporter.mjs']);
    expect(run.code, run.output).toBe(1);
    const all = JSON.parse(await readFile(join(project.dir, 'steps.json'), 'utf8')) as Array<{ test: string; category: string; title: string; file?: string; line?: number }>;
    // No step (fixtures included) points into this package, built or source. Attachment steps are
    // Playwright's own record of testInfo.attach() calls (the failure screen), not steps we create.
    const intoPackage = all.filter(
      (step) => step.category !== 'test.attach' && step.file !== undefined && [join(ROOT, 'dist'), join(ROOT, 'src')].some((folder) => step.file!.startsWith(folder)),
    );
    expect(intoPackage).toEqual([]);
    const steps = all.filter((step) => step.test === 'where' && step.category === 'test.step');
    const spec = join(project.dir, 'where.spec.ts');
    // A failing action's error points at the spec line too (the list reporter shows that snippet).
    const failed = run.spec('fails').tests[0].results[0];
    expect((failed.errors[0] as { location?: { file: string; line: number } }).location).toMatchObject({ file: spec, line: 16 });
    expect(failed.errors[0].message).toContain('did not change within 300 ms');
    const where = Object.fromEntries(steps.map((step) => [step.title.replace(/^connect to a .*/, 'connect'), `${step.file === spec ? 'where.spec.ts' : step.file}:${step.line}`]));
    expect(where).toEqual({
      'launch a': 'where.spec.ts:3',
      connect: 'where.spec.ts:3',
      'mouse.move(5, 5)': 'where.spec.ts:4',
      outer: 'where.spec.ts:5',
      'keyboard.press("shift")': 'where.spec.ts:6',
      'mouse.move(7, 7)': 'where.spec.ts:12',
    });
  } finally {
    await project.cleanup();
  }
});

/** Test 1 paints the root window red from the xterm; test 2 looks at the background. */
const ISOLATION_SPEC = `import { writeFileSync } from 'node:fs';
import { test, expect } from 'vnc-agent-bridge/test';
const corner = (vnc) => { const f = vnc.screen.capture(); const i = (f.width * (f.height - 2) + f.width - 2) * 4; return [...f.data.subarray(i, i + 3)]; };
test.describe.configure({ mode: 'serial' });
test('1 paints the background red', async ({ vnc }) => {
  await vnc.mouse.move(200, 150);
  await vnc.keyboard.type("xsetroot -solid '#ff0000'\\n");
  await expect.poll(() => corner(vnc), { timeout: 10_000 }).toEqual([255, 0, 0]);
});
test('2 sees the background', async ({ vnc }) => {
  writeFileSync('corner.txt', JSON.stringify(corner(vnc)));
});
`;

for (const [scope, expected] of [
  ['test', [0x20, 0x40, 0x80]],
  ['worker', [255, 0, 0]],
  // The local desktop's default: a fresh desktop per test.
  [undefined, [0x20, 0x40, 0x80]],
] as const) {
  test(`launch scope ${scope ?? '(default)'}: the second test sees ${expected[0] === 255 ? "the first test's change" : 'a fresh desktop'}`, async () => {
    const project = await inlineProject({
      'playwright.config.ts': CONFIG,
      'vnc.targets.yaml': `targets:\n  a:\n    launch: { preset: local-desktop, geometry: 640x480${scope ? `, scope: ${scope}` : ''} }\n`,
      'isolation.spec.ts': ISOLATION_SPEC,
    });
    try {
      const run = await project.run();
      expect(run.code, run.output).toBe(0);
      expect(JSON.parse(await readFile(join(project.dir, 'corner.txt'), 'utf8'))).toEqual(expected);
    } finally {
      await project.cleanup();
    }
  });
}

test('connection errors name the YAML keys (certificate:, verifyTls:, password:) and where the target is written', async () => {
  const cert = await makeSelfSignedCert();
  const tls = await startXvnc({ extraArgs: ['-SecurityTypes', 'X509None', '-X509Cert', cert.certPath, '-X509Key', cert.keyPath] });
  const auth = await startXvnc({ password: 'pw-12345' });
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': `targets:
  tls:
    connection: { type: tcp, host: 127.0.0.1, port: ${tls.port} }
    specs: [connect.spec.ts]
  auth:
    connection: { type: tcp, host: 127.0.0.1, port: ${auth.port} }
    specs: [connect.spec.ts]
`,
    'connect.spec.ts': SPEC('connects'),
  });
  try {
    const run = await project.run();
    expect(run.code, run.output).toBe(1);
    const file = join(project.dir, 'vnc.targets.yaml');
    const message = (projectName: string) =>
      run
        .spec('connects')
        .tests.find((t) => t.projectName === projectName)!
        .results[0].errors.map((error) => error.message)
        .join('\n');
    expect(message('tls')).toContain('Trust its certificate with `certificate: { file: server.pem }` in the connection');
    expect(message('tls')).toContain('turn verification off with `verifyTls: false` in the connection');
    expect(message('tls')).toContain(`[target "tls" (${file}:2:3)]`);
    expect(message('tls')).not.toMatch(/certificatePem|verifySsl|--ca-file|--insecure/);
    expect(message('auth')).toContain('Add `password:` to the target (e.g. password: ${env:VNC_PASSWORD}) or a provider.');
    expect(message('auth')).toContain(`[target "auth" (${file}:5:3)]`);
    expect(message('auth')).not.toMatch(/--password/);
    // The connect step's error points at the test (its snippet in reports), not into the package.
    const location = run.spec('connects').tests[0].results[0].errors[0] as { location?: { file: string; line: number } };
    expect(location.location).toMatchObject({ file: join(project.dir, 'connect.spec.ts'), line: 2 });
  } finally {
    await project.cleanup();
    await tls.stop();
    await auth.stop();
    await cert.cleanup();
  }
});

test('toHaveClipboard honours its own timeout (shorter than the expect and test timeouts) and says why in one sentence', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG.replace('timeout: 60_000,', 'timeout: 30_000,').replace('expect: { timeout: 5000 },', 'expect: { timeout: 120_000 },'),
    'vnc.targets.yaml': 'targets:\n  a:\n    launch: { preset: local-desktop, geometry: 640x480 }\n',
    'clipboard.spec.ts': `import { test, expect } from 'vnc-agent-bridge/test';
test('never copied', async ({ vnc }) => {
  await expect(vnc).toHaveClipboard('never copied', { timeout: 1000 });
});
test('copied on the desktop', async ({ vnc }) => {
  await vnc.mouse.move(200, 150);
  await vnc.keyboard.type('printf from-the-desktop | xclip -selection clipboard\\n');
  await expect(vnc).toHaveClipboard('from-the-desktop', { timeout: 20_000 });
});
`,
  });
  try {
    const run = await project.run();
    expect(run.code, run.output).toBe(1);
    expect(run.spec('copied on the desktop').tests[0].results[0].status).toBe('passed');
    const failed = run.spec('never copied').tests[0].results[0];
    expect(failed.status).toBe('failed');
    // eslint-disable-next-line no-control-regex
    const message = failed.errors.map((error) => error.message ?? '').join('\n').replace(/\u001b\[[0-9;]*m/g, '');
    expect(message).not.toContain('Test timeout');
    const sentence = message.split('\n').find((line) => line.includes('clipboard'));
    expect(sentence?.replace(/^Error: /, '')).toBe('Expected the clipboard to be "never copied" within 1000 ms, but the server announced no clipboard text.');
  } finally {
    await project.cleanup();
  }
});
