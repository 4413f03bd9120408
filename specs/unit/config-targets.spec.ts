/**
 * Targets-file ergonomics (issue 10): `${env:…}` resolved per target (`missingEnv: 'defer'`),
 * `specs:`/`grep:` per target, `launch.scope`, errors in the YAML's words, URL placeholder
 * suggestions, vncProjects (selection, tags that match nothing, printable errors) and the
 * caller's location for steps.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';

import { expect, test } from '@playwright/test';

import { describeTarget, launchTarget, parseTargets, resolveTarget, VNCTargetsFileError, yamlTermsMessage, type TargetConfig, type TargetsFile } from '../../src/config/index.js';
import { VNCConfigError } from '../../src/errors.js';
import { callerLocation } from '../../src/test/steps.js';
import { vncProjects } from '../../src/test/projects.js';
import { expandUrlTemplate } from '../../src/transport/url-template.js';

const FILE = '/project/vnc.targets.yaml';
const ROOT = resolve(import.meta.dirname, '..', '..');

function parse(lines: readonly string[], env: NodeJS.ProcessEnv = {}, missingEnv: 'error' | 'defer' = 'defer'): TargetsFile {
  return parseTargets(`${lines.join('\n')}\n`, { file: FILE, dir: '/project', env, missingEnv });
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(VNCTargetsFileError);
    return (error as VNCTargetsFileError).problems.map(({ location, message }) => `${location.line}:${location.column}: ${message}`);
  }
  throw new Error('expected problems');
}

function named(file: TargetsFile, name: string): TargetConfig {
  const found = file.targets.find((target) => target.name === name);
  if (!found) throw new Error(`no target ${name}`);
  return found;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const TWO = [
  'targets:',
  '  a: { connection: { type: tcp, host: 127.0.0.1, port: 5901 } }',
  '  b:',
  '    connection: { type: tcp, host: "${env:B_HOST}", port: 5902 }',
  '    password: ${env:B_PASS}',
  '    tags: [remote]',
  '    shared: true',
  '    specs: [b/**]',
];

test.describe('secrets only for what runs', () => {
  test("strict (the default): an unset variable is a problem of the file", () => {
    expect(problemsOf(() => parse(TWO, {}, 'error'))).toEqual([
      '4:37: targets.b.connection.host: environment variable B_HOST is not set (needed by target "b"). Set it, or write ${env:B_HOST:-fallback} for a fallback.',
      '5:15: targets.b.password: environment variable B_PASS is not set (needed by target "b"). Set it, or write ${env:B_PASS:-fallback} for a fallback.',
    ]);
  });

  test('deferred: the other targets load; the target keeps its name, tags, settings and selection, and its problems', () => {
    const file = parse(TWO);
    expect(file.targets.map((target) => target.name)).toEqual(['a', 'b']);
    expect(named(file, 'a').unresolved).toBeUndefined();
    const b = named(file, 'b');
    expect(b).toMatchObject({ tags: ['remote'], shared: true, specs: ['b/**'], credentials: {}, source: { file: FILE, line: 3, column: 3 } });
    expect(b.connection).toBeUndefined();
    expect(b.unresolved?.map((problem) => [problem.variable, `${problem.location.line}:${problem.location.column}`])).toEqual([
      ['B_HOST', '4:37'],
      ['B_PASS', '5:15'],
    ]);
    expect(describeTarget(b)).toBe(`b: tags remote; shared; specs b/**; needs B_HOST, B_PASS (unset or empty) (${FILE}:3:3)`);
  });

  test('an unresolved target fails when it is used: resolveTarget and launchTarget throw its problems with file:line:column', async () => {
    const b = named(parse(TWO), 'b');
    for (const attempt of [resolveTarget(b), launchTarget(b)]) {
      const error = await rejection(attempt);
      expect(error).toBeInstanceOf(VNCTargetsFileError);
      expect(error.message).toContain(`${FILE}:4:37: targets.b.connection.host: environment variable B_HOST is not set`);
      expect(error.message).toContain(`${FILE}:5:15: targets.b.password: environment variable B_PASS is not set`);
    }
  });

  test('with the variables set, the same target resolves fully (and their values never show)', async () => {
    const b = named(parse(TWO, { B_HOST: '127.0.0.9', B_PASS: 'pw-from-env' }), 'b');
    expect(b.unresolved).toBeUndefined();
    expect(b.connection).toMatchObject({ type: 'tcp', host: '127.0.0.9', port: 5902 });
    expect(b.credentials).toEqual({ password: 'pw-from-env' });
    expect(describeTarget(b)).not.toContain('pw-from-env');
  });

  test('other mistakes of that target, and unset variables in defaults, still stop the file', () => {
    expect(problemsOf(() => parse([...TWO, '    pasword: x']))).toEqual([
      '4:37: targets.b.connection.host: environment variable B_HOST is not set (needed by target "b"). Set it, or write ${env:B_HOST:-fallback} for a fallback.',
      '5:15: targets.b.password: environment variable B_PASS is not set (needed by target "b"). Set it, or write ${env:B_PASS:-fallback} for a fallback.',
      '9:5: targets.b: unknown key "pasword". Did you mean "password"?',
    ]);
    expect(problemsOf(() => parse(['defaults: { timeoutMs: "${env:TIMEOUT}" }', ...TWO.slice(0, 2)]))).toEqual([
      '1:25: defaults.timeoutMs: environment variable TIMEOUT is not set (needed by defaults). Set it, or write ${env:TIMEOUT:-fallback} for a fallback.',
    ]);
  });

  test('each matrix combination is deferred on its own', () => {
    const file = parse(['targets:', '  m:', '    matrix: { size: [s1, s2] }', '    connection: { type: tcp, host: h }', '    password: ${env:M_PASS}']);
    expect(file.targets.map((target) => [target.name, target.unresolved?.map((problem) => problem.variable)])).toEqual([
      ['m[size=s1]', ['M_PASS']],
      ['m[size=s2]', ['M_PASS']],
    ]);
  });
});

test.describe('specs: and grep:', () => {
  test('a glob or a list of globs, a pattern or a list of patterns', () => {
    const file = parse([
      'targets:',
      '  kiosk: { connection: { host: h }, specs: "specs/kiosk/**", grep: "@kiosk" }',
      '  both: { connection: { host: h }, specs: [a/**, b.spec.ts], grep: ["@a", "^smoke"] }',
      '  all: { connection: { host: h } }',
    ]);
    expect(named(file, 'kiosk')).toMatchObject({ specs: ['specs/kiosk/**'], grep: ['@kiosk'] });
    expect(named(file, 'both')).toMatchObject({ specs: ['a/**', 'b.spec.ts'], grep: ['@a', '^smoke'] });
    expect(named(file, 'all').specs).toBeUndefined();
    expect(named(file, 'all').grep).toBeUndefined();
  });

  test('mistakes: an empty list, an absolute glob, an invalid pattern, a map', () => {
    expect(
      problemsOf(() =>
        parse([
          'targets:',
          '  a: { connection: { host: h }, specs: [] }',
          '  b: { connection: { host: h }, specs: [/abs/x/**] }',
          '  c: { connection: { host: h }, grep: "(open" }',
          '  d: { connection: { host: h }, grep: { x: 1 } }',
        ]),
      ),
    ).toEqual([
      '2:40: targets.a.specs: the list is empty: leave the key out to run every spec on this target.',
      '3:41: targets.b.specs[0]: write the glob relative to the project (e.g. specs/kiosk/**), not as an absolute path.',
      '4:39: targets.c.grep: not a valid regular expression (/(open/: Unterminated group).',
      '5:39: targets.d.grep: expected a list, e.g. [a, b], got a map.',
    ]);
  });
});

test.describe('launch scope', () => {
  test('the local desktop defaults to test, a command to worker; either can be chosen; anything else is a problem with a suggestion', () => {
    const file = parse([
      'targets:',
      '  desktop: { launch: { preset: local-desktop } }',
      '  desktop-w: { launch: { preset: local-desktop, scope: worker } }',
      '  command: { launch: { command: "Xvnc :9", port: 5909 } }',
      '  command-t: { launch: { command: "Xvnc :9", port: 5909, scope: test } }',
    ]);
    expect(file.targets.map((target) => [target.name, target.launch?.scope])).toEqual([
      ['desktop', 'test'],
      ['desktop-w', 'worker'],
      ['command', 'worker'],
      ['command-t', 'test'],
    ]);
    expect(problemsOf(() => parse(['targets:', '  t: { launch: { preset: local-desktop, scope: tset } }']))).toEqual([
      '2:48: targets.t.launch.scope: expected worker (one launch per test worker, shared by its tests) or test (a fresh launch for every test), got "tset". Did you mean "test"?',
    ]);
  });
});

test.describe('messages in the targets file\'s words', () => {
  const target = named(parse(['targets:', '  kiosk:', '    connection: { type: tcp, host: h }']), 'kiosk');

  test('TLS advice names certificate: and verifyTls:, not certificatePem and verifySsl, and says where the target is', () => {
    const message = yamlTermsMessage(
      'The TLS certificate of h:5900 is self-signed and not trusted. Trust its certificate with certificatePem (CLI: --ca-file PEM), or — only on a network you trust — turn verification off with verifySsl: false (CLI: --insecure).',
      target,
    );
    expect(message).toBe(
      'The TLS certificate of h:5900 is self-signed and not trusted. Trust its certificate with `certificate: { file: server.pem }` in the connection, or — only on a network you trust — turn verification off with `verifyTls: false` in the connection. ' +
        `[target "kiosk" (${FILE}:2:3)]`,
    );
    expect(message).not.toMatch(/certificatePem|verifySsl|CLI/);
  });

  test('a missing password points at `password:` on the target', () => {
    expect(yamlTermsMessage('The server requires VNC Authentication but no password was given. Pass `password` (CLI: --password or VNC_PASSWORD).', target)).toBe(
      'The server requires VNC Authentication but no password was given. Add `password:` to the target (e.g. password: ${env:VNC_PASSWORD}) or a provider. ' +
        `[target "kiosk" (${FILE}:2:3)]`,
    );
  });

  test('an unknown URL placeholder suggests the closest one', () => {
    expect(() => expandUrlTemplate('wss://${host}:${port}/?token=${tiket}', { host: 'h', port: 1, ticket: 't' })).toThrow(
      'The URL template uses ${tiket}, which has no value: did you mean ${ticket}? (or add "tiket" to vars). Known placeholders: ${host}, ${port}, ${ticket}.',
    );
    expect(() => expandUrlTemplate('wss://${host}:${port}/?x=${zzzz}', { host: 'h', port: 1 })).toThrow('which has no value: add "zzzz" to vars.');
  });
});

test.describe('vncProjects', () => {
  let dir: string;
  test.beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vnc-projects-'));
  });
  test.afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function write(lines: readonly string[]): string {
    const file = join(dir, `targets-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  test('a target with specs:/grep: becomes a project with testMatch/grep; an unresolved one is still a project', () => {
    const file = write([
      'targets:',
      '  kiosk: { connection: { host: h }, specs: [specs/kiosk/**], grep: "@kiosk" }',
      '  desk: { connection: { host: h, port: "${env:DESK_PORT_NOT_SET_ANYWHERE}" } }',
    ]);
    const projects = vncProjects({ file, project: { testMatch: /.*\.spec\.ts/, retries: 2 } });
    expect(projects.map((project) => project.name)).toEqual(['kiosk', 'desk']);
    expect(projects[0]).toMatchObject({ testMatch: ['specs/kiosk/**'], grep: [/@kiosk/], retries: 2, workers: 1 });
    expect(projects[1].testMatch).toEqual(/.*\.spec\.ts/);
    expect(projects[1].grep).toBeUndefined();
  });

  test('tags that match no target say so (with the tags there are), printed without a stack', () => {
    const file = write(['targets:', '  a: { connection: { host: h }, tags: [smoke, nightly] }', '  b: { connection: { host: h } }']);
    const saved = process.env.VNC_TAGS;
    process.env.VNC_TAGS = 'smoek';
    try {
      let thrown: unknown;
      try {
        vncProjects({ file });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(VNCConfigError);
      expect((thrown as Error).message).toBe(`VNC_TAGS=smoek matches no target in ${file}: its tags are smoke, nightly. Did you mean "smoke"? Change VNC_TAGS, or unset it to run every target.`);
      expect(inspect(thrown)).toBe(`VNCConfigError: ${(thrown as Error).message}`);
      process.env.VNC_TAGS = 'nightly';
      expect(vncProjects({ file }).map((project) => project.name)).toEqual(['a']);
    } finally {
      if (saved === undefined) delete process.env.VNC_TAGS;
      else process.env.VNC_TAGS = saved;
    }
    expect(() => vncProjects({ file, tags: ['none'] })).toThrow(`tags: [none] matches no target in ${file}: its tags are smoke, nightly.`);
  });

  test('a broken file is thrown as its problems only when inspected (what playwright test prints)', () => {
    const file = write(['targets:', '  a: { conection: {} }']);
    let thrown: unknown;
    try {
      vncProjects({ file });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(VNCTargetsFileError);
    const printed = inspect(thrown);
    expect(printed).toContain(`${file}:2:8: targets.a: unknown key "conection". Did you mean "connection"?`);
    expect(printed).not.toMatch(/\n\s+at |problems: \[/);
  });
});

test.describe('the caller of a step', () => {
  test('the first frame outside this package, from paths or file URLs; none when every frame is ours', () => {
    const stack = [
      'Error',
      `    at Proxy.<anonymous> (${ROOT}/dist/test/steps.js:80:26)`,
      `    at helper (file://${ROOT}/src/bridge/mouse.ts:10:3)`,
      '    at node:internal/process/task_queues:95:5',
      '    at file:///home/me/project/specs/login.spec.ts:12:19',
      '    at async /home/me/project/specs/other.ts:3:1',
    ].join('\n');
    expect(callerLocation(stack)).toEqual({ file: '/home/me/project/specs/login.spec.ts', line: 12, column: 19 });
    expect(callerLocation(`Error\n    at run (/home/me/p/x.spec.ts:4:7)`)).toEqual({ file: '/home/me/p/x.spec.ts', line: 4, column: 7 });
    expect(callerLocation(`Error\n    at x (${ROOT}/dist/test/fixture.js:1:1)`)).toBeUndefined();
  });
});
