/**
 * Targets files (src/config): every feature of the format and every class of mistake, each with
 * the exact `file:line:column` of its message. YAML files are written into a temp dir per test
 * file; providers are small modules written next to them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect, test } from '@playwright/test';

import { TCPVNCConnection } from '../../src/bridge/connection.js';
import { WebSocketVNCConnection } from '../../src/bridge/websocket-connection.js';
import {
  DEFAULT_TARGET_COMPARE,
  DEFAULT_TARGETS_YAML,
  EMBEDDED_TARGETS_FILE,
  MAX_ALIAS_COUNT,
  describeTarget,
  launchTarget,
  loadTargets,
  parseTargets,
  resolveTarget,
  runProvider,
  VNCTargetsFileError,
  type TargetConfig,
  type TargetsFile,
} from '../../src/config/index.js';
import { VNCConfigError } from '../../src/errors.js';
import * as publicApi from '../../src/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

let dir: string;
let counter = 0;

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vnc-config-spec-'));
  // Providers written here are ES modules, as in a project with "type": "module".
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
});
test.afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes lines (joined with \n) to a fresh YAML file in the temp dir and returns its path. */
function writeYaml(lines: readonly string[], name = `targets-${++counter}.yaml`): string {
  const file = join(dir, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function load(lines: readonly string[], env: NodeJS.ProcessEnv = {}): TargetsFile {
  return loadTargets(writeYaml(lines), { env });
}

function target(file: TargetsFile, name: string): TargetConfig {
  const found = file.targets.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no target ${name} in ${file.targets.map((t) => t.name).join(', ')}`);
  return found;
}

/** The problems a file has, as "line:column: message" (the file name is checked separately). */
function problemsOf(lines: readonly string[], env: NodeJS.ProcessEnv = {}): string[] {
  const file = writeYaml(lines);
  try {
    loadTargets(file, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(VNCTargetsFileError);
    expect(error).toBeInstanceOf(VNCConfigError);
    const { problems } = error as VNCTargetsFileError;
    for (const problem of problems) expect(problem.location.file).toBe(file);
    return problems.map(({ location, message }) => `${location.line}:${location.column}: ${message}`);
  }
  throw new Error('expected the file to have problems');
}

/** Writes a provider module into the temp dir; returns its path relative to the temp dir. */
function writeProvider(body: string, extension = 'mjs'): string {
  const name = `provider-${++counter}.${extension}`;
  writeFileSync(join(dir, name), body);
  return `./${name}`;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

test.describe('the format', () => {
  test('the example file loads: tcp, websocket, provider, launch preset, launch command, matrix', () => {
    mkdirSync(join(dir, 'certs'), { recursive: true });
    writeFileSync(join(dir, 'certs', 'kiosk-ca.pem'), PEM);
    const provider = writeProvider('export default async () => ({ ticket: "t" });');
    const file = writeYaml([
      'defaults:', //                                                           1
      '  timeoutMs: 10000',
      '  typingDelayMs: 20',
      '  encodings: [hextile, raw]',
      '  quality: lossless', //                                                 5
      '  compare: { threshold: 0.1, maxDiffPixels: 0, maxDiffPixelRatio: 0 }',
      'targets:',
      '  desktop:',
      '    connection: { type: tcp, host: 127.0.0.1, port: 5901 }',
      '    password: ${env:VNC_PASSWORD}', //                                   10
      '    tags: [smoke, linux]',
      '    shared: false',
      '  kiosk:',
      '    connection:',
      '      type: websocket', //                                               15
      '      url: "wss://${host}:${port}/websockify?token=${ticket}"',
      '      host: kiosk.example.com',
      '      port: 443',
      '      vars: { path: x }',
      '      headers: { Authorization: "Bearer ${env:KIOSK_BEARER}" }', //     20
      '      subprotocols: [binary]',
      '      certificate: { file: ./certs/kiosk-ca.pem }',
      '      verifyTls: true',
      '    ticket: ${env:KIOSK_TOKEN}',
      '  pve-vm100:', //                                                        25
      '    connection: { type: websocket, url: "wss://${host}:${port}/api2/json/nodes/${node}/qemu/${vmid}/vncwebsocket?port=${vncPort}&vncticket=${ticket}", host: pve.lan, port: 8006, vars: { node: pve, vmid: 100 } }',
      `    provider: ${provider}`,
      '  local:',
      '    launch: { preset: local-desktop, geometry: 1280x800 }',
      '  app:', //                                                              30
      '    connection: { type: tcp, host: 127.0.0.1, port: 5999 }',
      '    launch: { command: "Xvnc :99 -rfbport 5999 -SecurityTypes None", port: 5999, reuseExisting: true, timeoutMs: 15000, env: { FOO: bar }, cwd: ./certs }',
      '    matrix: { layout: [us, de], size: [1280x800, 1920x1080] }',
    ]);
    const loaded = loadTargets(file, { env: { VNC_PASSWORD: 'pw-1', KIOSK_BEARER: 'bearer-2', KIOSK_TOKEN: 'token-3' } });
    expect(loaded.file).toBe(file);
    expect(loaded.embedded).toBe(false);
    expect(loaded.defaults).toEqual({ timeoutMs: 10000, typingDelayMs: 20, encodings: ['hextile', 'raw'], quality: 'lossless', compare: { threshold: 0.1, maxDiffPixels: 0, maxDiffPixelRatio: 0 }, shared: false });
    expect(loaded.targets.map((t) => t.name)).toEqual([
      'desktop',
      'kiosk',
      'pve-vm100',
      'local',
      'app[layout=us,size=1280x800]',
      'app[layout=us,size=1920x1080]',
      'app[layout=de,size=1280x800]',
      'app[layout=de,size=1920x1080]',
    ]);

    const desktop = target(loaded, 'desktop');
    expect(desktop).toEqual({
      name: 'desktop',
      baseName: 'desktop',
      params: {},
      connection: { type: 'tcp', host: '127.0.0.1', port: 5901, verifyTls: true, source: { file, line: 9, column: 17 } },
      credentials: { password: 'pw-1' },
      timeoutMs: 10000,
      typingDelayMs: 20,
      encodings: ['hextile', 'raw'],
      quality: 'lossless',
      compare: { threshold: 0.1, maxDiffPixels: 0, maxDiffPixelRatio: 0 },
      tags: ['smoke', 'linux'],
      shared: false,
      source: { file, line: 8, column: 3 },
    });

    const kiosk = target(loaded, 'kiosk');
    expect(kiosk.connection).toEqual({
      type: 'websocket',
      url: 'wss://${host}:${port}/websockify?token=${ticket}',
      urlAsWritten: 'wss://${host}:${port}/websockify?token=${ticket}',
      host: 'kiosk.example.com',
      port: 443,
      vars: { path: 'x' },
      headers: { Authorization: 'Bearer bearer-2' },
      subprotocols: ['binary'],
      certificate: { pem: PEM, file: join(dir, 'certs', 'kiosk-ca.pem') },
      verifyTls: true,
      source: { file, line: 15, column: 7 },
    });
    expect(kiosk.credentials).toEqual({ ticket: 'token-3' });

    const pve = target(loaded, 'pve-vm100');
    expect(pve.provider).toEqual({ module: join(dir, provider.slice(2)), modulePath: provider, timeoutMs: 10000, source: { file, line: 27, column: 5 } });
    expect(pve.connection).toMatchObject({ type: 'websocket', host: 'pve.lan', port: 8006, vars: { node: 'pve', vmid: 100 } });

    const local = target(loaded, 'local');
    expect(local.connection).toBeUndefined();
    expect(local.launch).toEqual({ kind: 'local-desktop', geometry: '1280x800', depth: 24, timeoutMs: 15000, scope: 'test', source: { file, line: 29, column: 13 } });

    const app = target(loaded, 'app[layout=de,size=1920x1080]');
    expect(app.baseName).toBe('app');
    expect(app.params).toEqual({ layout: 'de', size: '1920x1080' });
    expect(app.launch).toEqual({
      kind: 'command',
      command: 'Xvnc :99 -rfbport 5999 -SecurityTypes None',
      host: '127.0.0.1',
      port: 5999,
      reuseExisting: true,
      timeoutMs: 15000,
      env: { FOO: 'bar' },
      cwd: join(dir, 'certs'),
      scope: 'worker',
      source: { file, line: 32, column: 13 },
    });
    expect(app.source).toEqual({ file, line: 30, column: 3 });
  });

  test('defaults apply to every target, and a target\'s own settings win (compare merges field by field)', () => {
    const loaded = load([
      'defaults:',
      '  timeoutMs: 5000',
      '  typingDelayMs: 0',
      '  quality: 6',
      '  shared: true',
      '  compare: { threshold: 0.3, maxDiffPixels: 10 }',
      'targets:',
      '  a: { connection: { host: h } }',
      '  b:',
      '    connection: { host: h, port: 5902 }',
      '    timeoutMs: 2000',
      '    quality: lossless',
      '    shared: false',
      '    encodings: [RAW]',
      '    compare: { maxDiffPixels: 3 }',
    ]);
    const a = target(loaded, 'a');
    expect(a).toMatchObject({ timeoutMs: 5000, typingDelayMs: 0, quality: 6, shared: true, compare: { threshold: 0.3, maxDiffPixels: 10, maxDiffPixelRatio: 0 } });
    expect(a.encodings).toBeUndefined();
    expect(a.connection).toMatchObject({ type: 'tcp', host: 'h', port: 5900 });
    expect(target(loaded, 'b')).toMatchObject({ timeoutMs: 2000, typingDelayMs: 0, quality: 'lossless', shared: false, encodings: ['raw'], compare: { threshold: 0.3, maxDiffPixels: 3, maxDiffPixelRatio: 0 } });
  });

  test('size: WIDTHxHEIGHT in defaults and per target (the target wins); absent, the server\'s size', () => {
    const loaded = load([
      'defaults:',
      '  size: 1280x800',
      'targets:',
      '  a: { connection: { host: h } }',
      '  b: { connection: { host: h }, size: 1920X1080 }',
    ]);
    expect(target(loaded, 'a').size).toEqual({ width: 1280, height: 800 });
    expect(target(loaded, 'b').size).toEqual({ width: 1920, height: 1080 });
    expect(target(load(['targets:', '  c: { connection: { host: h } }']), 'c').size).toBeUndefined();
  });

  test('size: anything but WIDTHxHEIGHT within 1..16384 is a problem with its line and column', () => {
    for (const value of ['1280', '1280x', '0x800', '20000x10', '1280 by 800', '[1280, 800]', '-5x5']) {
      const problems = problemsOf(['targets:', `  a: { connection: { host: h }, size: ${value} }`]);
      expect(problems, value).toHaveLength(1);
      expect(problems[0], value).toMatch(/^2:\d+: targets\.a\.size: expected WIDTHxHEIGHT in pixels, each from 1 to 16384, e\.g\. 1280x800\.$/);
    }
  });

  test('without defaults, the library defaults', () => {
    const loaded = load(['targets:', '  a: { connection: { host: h } }']);
    expect(target(loaded, 'a')).toMatchObject({ timeoutMs: 10_000, typingDelayMs: 33, quality: 'lossless', shared: false, tags: [], compare: DEFAULT_TARGET_COMPARE });
  });

  test('anchors, aliases and merge keys: own keys win, earlier merge sources win over later ones', () => {
    const loaded = load([
      'x-tcp: &tcp { type: tcp, host: 10.0.0.1, port: 5901 }',
      'x-common: &common',
      '  timeoutMs: 4000',
      '  tags: [shared-tag]',
      'x-more: &more',
      '  timeoutMs: 9999',
      '  typingDelayMs: 7',
      'targets:',
      '  one:',
      '    <<: *common',
      '    connection: *tcp',
      '  two:',
      '    <<: [*common, *more]',
      '    connection: { <<: *tcp, port: 5902 }',
      '    tags: [own]',
    ]);
    expect(target(loaded, 'one')).toMatchObject({ timeoutMs: 4000, typingDelayMs: 33, tags: ['shared-tag'], connection: { host: '10.0.0.1', port: 5901 } });
    expect(target(loaded, 'two')).toMatchObject({ timeoutMs: 4000, typingDelayMs: 7, tags: ['own'], connection: { host: '10.0.0.1', port: 5902 } });
  });

  test('a mistake inside an anchored map is reported where it is written', () => {
    expect(problemsOf(['x-base: &base', '  pasword: x', 'targets:', '  a:', '    <<: *base', '    connection: { host: h }'])).toEqual([
      '2:3: targets.a: unknown key "pasword". Did you mean "password"?',
    ]);
  });

  test('matrix: one target per combination, named base[param=value,…], values in params and ${matrix:NAME}', () => {
    const loaded = load([
      'targets:',
      '  desk:',
      '    launch: { preset: local-desktop, geometry: "${matrix:size}" }',
      '    tags: ["${matrix:layout}"]',
      '    matrix:',
      '      layout: [us, de]',
      '      size: [1280x800, 1920x1080]',
      '      depth: [24]',
    ]);
    expect(loaded.targets.map((t) => [t.name, t.params, t.tags, t.launch?.kind === 'local-desktop' ? t.launch.geometry : undefined])).toEqual([
      ['desk[layout=us,size=1280x800,depth=24]', { layout: 'us', size: '1280x800', depth: '24' }, ['us'], '1280x800'],
      ['desk[layout=us,size=1920x1080,depth=24]', { layout: 'us', size: '1920x1080', depth: '24' }, ['us'], '1920x1080'],
      ['desk[layout=de,size=1280x800,depth=24]', { layout: 'de', size: '1280x800', depth: '24' }, ['de'], '1280x800'],
      ['desk[layout=de,size=1920x1080,depth=24]', { layout: 'de', size: '1920x1080', depth: '24' }, ['de'], '1920x1080'],
    ]);
    expect(new Set(loaded.targets.map((t) => t.baseName))).toEqual(new Set(['desk']));
  });

  test('matrix mistakes: empty list, repeated value, bad value, unknown ${matrix:…}, a bad value per combination', () => {
    expect(
      problemsOf([
        'targets:',
        '  a:',
        '    connection: { host: h }',
        '    matrix: { x: [] }',
        '  b:',
        '    connection: { host: h }',
        '    matrix: { x: [1, 1], "bad name": [1] }',
        '  c:',
        '    connection: { host: h }',
        '    matrix: { x: ["a,b"] }',
        '  d:',
        '    launch: { preset: local-desktop, geometry: "${matrix:sizes}" }',
        '    matrix: { size: [800x600] }',
        '  e:',
        '    launch: { preset: local-desktop, geometry: "${matrix:size}" }',
        '    matrix: { size: [800x600, huge, tiny] }',
      ]),
    ).toEqual([
      '4:18: targets.a.matrix.x: the list of values is empty.',
      '7:18: targets.b.matrix.x: the value "1" is listed twice.',
      '7:26: targets.b.matrix: "bad name" is not a valid parameter name (letters, digits, _ and -, starting with a letter or _).',
      '10:19: targets.c.matrix.x[0]: matrix values may not be empty or contain spaces, commas, "=" or brackets (they become part of the target name).',
      '12:49: targets.d.launch.geometry: ${matrix:sizes} is not a matrix value of target "d" (its matrix has size).',
      '15:48: targets.e.launch.geometry: expected a screen size WIDTHxHEIGHT such as 1280x800 (each side 16 to 16384), got "huge".',
      '15:48: targets.e.launch.geometry: expected a screen size WIDTHxHEIGHT such as 1280x800 (each side 16 to 16384), got "tiny".',
    ]);
  });

  test('${env:NAME} is filled in anywhere in text, with ${env:NAME:-fallback}; other placeholders stay', () => {
    const loaded = load(
      [
        'targets:',
        '  a:',
        '    connection:',
        '      type: websocket',
        '      url: "wss://${env:WS_HOST}:${port}/path/${env:MISSING:-default}?t=${ticket}"',
        '      port: ${env:WS_PORT}',
        '      vars: { region: "${env:REGION}-1" }',
        '    ticket: ${env:TICKET}',
        '    shared: ${env:SHARED}',
      ],
      { WS_HOST: 'ws.example.com', WS_PORT: '8443', REGION: 'eu', TICKET: 'tk', SHARED: 'true' },
    );
    const a = target(loaded, 'a');
    expect(a.connection).toMatchObject({
      url: 'wss://ws.example.com:${port}/path/default?t=${ticket}',
      urlAsWritten: 'wss://${env:WS_HOST}:${port}/path/${env:MISSING:-default}?t=${ticket}',
      port: 8443,
      vars: { region: 'eu-1' },
    });
    expect(a.credentials.ticket).toBe('tk');
    expect(a.shared).toBe(true);
  });

  test('a number or true/false where text is wanted is the text as written', () => {
    const loaded = load(['targets:', '  a:', '    connection: { host: 10.0.0.1 }', '    password: 0123', '    username: 1e3', '    tags: [2024, true]']);
    expect(loaded.targets[0].credentials).toEqual({ password: '0123', username: '1e3' });
    expect(loaded.targets[0].tags).toEqual(['2024', 'true']);
  });

  test('certificate: a file relative to the YAML file, or PEM text', () => {
    const sub = join(dir, 'nested');
    mkdirSync(join(sub, 'certs'), { recursive: true });
    writeFileSync(join(sub, 'certs', 'ca.pem'), PEM);
    const file = writeYaml(
      [
        'targets:',
        '  a: { connection: { host: h, certificate: { file: certs/ca.pem } } }',
        '  b:',
        '    connection:',
        '      host: h',
        '      verifyTls: false',
        '      certificate:',
        '        pem: |',
        ...PEM.trimEnd().split('\n').map((line) => `          ${line}`),
      ],
      'nested/targets.yaml',
    );
    const loaded = loadTargets(file, { cwd: '/', env: {} });
    expect(target(loaded, 'a').connection).toMatchObject({ certificate: { pem: PEM, file: join(sub, 'certs', 'ca.pem') }, verifyTls: true });
    expect(target(loaded, 'b').connection).toMatchObject({ certificate: { pem: PEM }, verifyTls: false });
  });

  test('a launch command without a connection is reached over TCP where it serves', () => {
    const loaded = load(['targets:', '  app:', '    launch: { command: [Xvnc, ":5"], port: 5905 }']);
    expect(target(loaded, 'app').connection).toMatchObject({ type: 'tcp', host: '127.0.0.1', port: 5905 });
    expect(target(loaded, 'app').launch).toMatchObject({ kind: 'command', command: ['Xvnc', ':5'], reuseExisting: false, timeoutMs: 30_000, cwd: dir });
  });

  test('the embedded default: without a file, one target "local" that launches a local desktop', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const loaded = loadTargets(undefined, { cwd: empty, env: {} });
    expect(loaded.embedded).toBe(true);
    expect(loaded.file).toBe(EMBEDDED_TARGETS_FILE);
    expect(loaded.targets).toHaveLength(1);
    expect(loaded.targets[0]).toMatchObject({ name: 'local', baseName: 'local', params: {}, launch: { kind: 'local-desktop', geometry: '1280x800', depth: 24 }, shared: false });
    expect(loaded.targets[0].connection).toBeUndefined();
    expect(DEFAULT_TARGETS_YAML).toContain('preset: local-desktop');
    expect(parseTargets(DEFAULT_TARGETS_YAML, { file: 'x.yaml', env: {} }).targets.map((t) => t.name)).toEqual(['local']);
  });

  test('without an argument, vnc.targets.yaml (or .yml) in the working folder is used', () => {
    const folder = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(folder, 'vnc.targets.yml'), 'targets:\n  mine: { connection: { host: h } }\n');
    const loaded = loadTargets(undefined, { cwd: folder, env: {} });
    expect(loaded.file).toBe(join(folder, 'vnc.targets.yml'));
    expect(loaded.targets.map((t) => t.name)).toEqual(['mine']);
  });

  test("the project's own vnc.targets.yaml loads", () => {
    const loaded = loadTargets(undefined, { cwd: ROOT, env: {} });
    expect(loaded.targets.length).toBeGreaterThanOrEqual(1);
  });

  test('a file named explicitly must exist', () => {
    expect(() => loadTargets(join(dir, 'nope.yaml'))).toThrow(new VNCConfigError(`Cannot read the targets file ${join(dir, 'nope.yaml')}: it does not exist.`));
  });

  test('the public entry point exports the API', () => {
    expect(typeof publicApi.loadTargets).toBe('function');
    expect(typeof publicApi.resolveTarget).toBe('function');
    expect(typeof publicApi.launchTarget).toBe('function');
    expect(typeof publicApi.describeTarget).toBe('function');
    expect(publicApi.DEFAULT_TARGETS_YAML).toBe(DEFAULT_TARGETS_YAML);
  });
});

test.describe('mistakes, each with file:line:column', () => {
  test('the whole message: the file, a count, one line per problem in file order', () => {
    const file = writeYaml(['targets:', '  a:', '    connection: { host: h, port: 0 }', '    pasword: x']);
    expect(() => loadTargets(file, { env: {} })).toThrow(
      `${file}: 2 problems in the targets file:\n` +
        `  - ${file}:3:34: targets.a.connection.port: expected a port, a whole number from 1 to 65535, got 0.\n` +
        `  - ${file}:4:5: targets.a: unknown key "pasword". Did you mean "password"?`,
    );
  });

  test('YAML syntax errors', () => {
    const [problem, ...rest] = problemsOf(['targets:', '  a: { connection: { host: h }', '  b: 1']);
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^3:\d+: YAML syntax error: /);
    expect(problemsOf(['targets:', '  a: 1', '  a: 2'])).toEqual(['3:3: YAML syntax error: Map keys must be unique']);
    expect(problemsOf(['targets:', '  a: *nowhere'])).toEqual(['2:6: Unknown alias *nowhere: define the anchor &nowhere before using it.']);
    expect(problemsOf(['targets:', '\ta: 1'])).toEqual(['2:1: YAML syntax error: Tabs are not allowed as indentation']);
    expect(problemsOf(['targets: { a: { connection: { host: h } } }', '---', 'targets: {}'])).toEqual([
      '2:1: YAML syntax error: A targets file holds one YAML document: remove this `---` and what follows, or merge it into the first.',
    ]);
  });

  test('unknown keys, with a suggestion by edit distance or a hint where the key belongs', () => {
    expect(
      problemsOf([
        'defualts: {}', //                                        1
        'targets:',
        '  a:',
        '    connection: { host: h, pasword: x, prot: 1 }',
        '    pasword: x', //                                       5
        '    host: h',
        '    timeout: 5',
        '    zzz: 1',
        '  b:',
        '    connection: { type: websocket, url: "ws://h/", vars: { host: x } }', // 10
        '    launch: { command: x, port: 5, geometry: 1x1 }',
      ]),
    ).toEqual([
      '1:1: (top level): unknown key "defualts". Did you mean "defaults"?',
      '4:28: targets.a.connection: unknown key "pasword". Did you mean "password"? Credentials belong on the target (one level up), not inside `connection:`.',
      '4:40: targets.a.connection: unknown key "prot". Did you mean "port"?',
      '5:5: targets.a: unknown key "pasword". Did you mean "password"?',
      '6:5: targets.a: unknown key "host". It belongs inside `connection:`.',
      '7:5: targets.a: unknown key "timeout". Did you mean "timeoutMs"?',
      '8:5: targets.a: unknown key "zzz". Allowed: connection, password, username, ticket, provider, launch, matrix, tags, specs, grep, timeoutMs, typingDelayMs, encodings, quality, compare, shared, size, keyboardLayout, pasteChord.',
      '10:60: targets.b.connection.vars.host: "host" is not a var: write `host:` in the connection.',
      '11:36: targets.b.launch: unknown key "geometry". Only `preset: local-desktop` takes it.',
    ]);
  });

  test('top-level keys starting with x- are free (for anchors)', () => {
    expect(load(['x-anything: { a: 1 }', 'targets:', '  a: { connection: { host: h } }']).targets).toHaveLength(1);
  });

  test('wrong types and values out of range', () => {
    expect(
      problemsOf([
        'defaults:',
        '  timeoutMs: -1',
        '  typingDelayMs: fast',
        '  quality: best',
        '  compare: { threshold: 2, maxDiffPixels: 1.5 }',
        'targets:',
        '  a:',
        '    connection: { host: h, port: abc, verifyTls: "yes" }',
        '    tags: smoke',
        '    shared: 1',
        '    password: [x]',
        '  b: [1, 2]',
      ]),
    ).toEqual([
      '2:14: defaults.timeoutMs: expected a whole number from 1 to 3600000, got -1.',
      '3:18: defaults.typingDelayMs: expected a whole number from 0 to 10000, got "fast".',
      '4:12: defaults.quality: expected lossless or a whole number from 0 to 9.',
      '5:25: defaults.compare.threshold: expected a number from 0 to 1, got 2.',
      '5:43: defaults.compare.maxDiffPixels: expected a whole number ≥ 0, got 1.5.',
      '8:34: targets.a.connection.port: expected a port, a whole number from 1 to 65535, got "abc".',
      '8:50: targets.a.connection.verifyTls: expected true or false, got "yes".',
      '9:11: targets.a.tags: expected a list, e.g. [a, b], got "smoke".',
      '10:13: targets.a.shared: expected true or false, got 1.',
      '11:15: targets.a.password: expected text, got a list.',
      '12:6: targets.b: expected a map (connection, launch, password, …), got a list.',
    ]);
  });

  test('an unknown encoding lists what this client decodes', () => {
    const [problem] = problemsOf(['defaults:', '  encodings: [rwa]', 'targets:', '  a: { connection: { host: h } }']);
    expect(problem).toMatch(/^2:15: defaults\.encodings\[0\]: unknown encoding "rwa"\. Did you mean "raw"\? This client decodes .*raw/);
  });

  test('bad ports and bad geometry', () => {
    expect(
      problemsOf([
        'targets:',
        '  a: { connection: { host: h, port: 70000 } }',
        '  b: { connection: { host: h, port: 0 } }',
        '  c: { connection: { host: h, port: 59.5 } }',
        '  d: { launch: { preset: local-desktop, geometry: 1280 } }',
        '  e: { launch: { preset: local-desktop, geometry: 8x8 } }',
        '  f: { launch: { preset: local-desktop, depth: 8 } }',
        '  g: { launch: { command: x, port: 99999 } }',
      ]),
    ).toEqual([
      '2:37: targets.a.connection.port: expected a port, a whole number from 1 to 65535, got 70000.',
      '3:37: targets.b.connection.port: expected a port, a whole number from 1 to 65535, got 0.',
      '4:37: targets.c.connection.port: expected a port, a whole number from 1 to 65535, got 59.5.',
      '5:51: targets.d.launch.geometry: expected a screen size WIDTHxHEIGHT such as 1280x800 (each side 16 to 16384), got "1280".',
      '6:51: targets.e.launch.geometry: expected a screen size WIDTHxHEIGHT such as 1280x800 (each side 16 to 16384), got "8x8".',
      '7:48: targets.f.launch.depth: expected 16, 24 or 32, got 8.',
      '8:36: targets.g.launch.port: expected a port, a whole number from 1 to 65535, got 99999.',
    ]);
  });

  test('missing required keys, unknown connection type, a target with neither connection nor launch', () => {
    expect(
      problemsOf([
        'targets:',
        '  a: { connection: { type: tcp, port: 5901 } }',
        '  b: { connection: { type: websocket, host: h, port: 1 } }',
        '  c: { connection: { type: websocet, url: "ws://h/" } }',
        '  d: { password: x }',
        '  e: { launch: { geometry: 800x600 } }',
        '  f: { launch: { preset: local-dekstop } }',
        '  g: { launch: { command: x } }',
        '  h: { launch: { preset: local-desktop }, connection: { host: h } }',
        '  i: { connection: { host: h, certificate: { file: a.pem, pem: x } } }',
        '  j: { provider: { timeoutMs: 5 }, connection: { host: h } }',
      ]),
    ).toEqual([
      '2:20: targets.a.connection: missing required key "host" (the VNC server\'s host name or address).',
      '3:20: targets.b.connection: missing required key "url" (a template such as "wss://${host}:${port}/websockify?token=${ticket}").',
      '4:28: targets.c.connection.type: unknown connection type "websocet". Did you mean "websocket"? Use tcp or websocket.',
      '5:3: targets.d: the target has neither `connection:` nor `launch:`. Add `connection: { type: tcp, host: 127.0.0.1, port: 5901 }` (or websocket), or `launch: { preset: local-desktop }`.',
      '6:16: targets.e.launch: give exactly one of `preset: local-desktop` or `command:` (a command that serves VNC).',
      '7:26: targets.f.launch.preset: unknown preset "local-dekstop". Did you mean "local-desktop"? Known: local-desktop.',
      '8:16: targets.g.launch: missing `port:`, the port where the command serves VNC (needed without a tcp connection).',
      '9:43: targets.h.connection: `launch: { preset: local-desktop }` provides the connection itself; remove `connection:` (or launch with `command:`).',
      '10:44: targets.i.connection.certificate: give exactly one of `file:` (a PEM file, relative to this file) or `pem:` (the PEM text).',
      '11:18: targets.j.provider: missing required key "module" (the provider module\'s path, relative to this file).',
    ]);
  });

  test('WebSocket URL templates: scheme, and placeholders without a value (checked when there is no provider)', () => {
    expect(
      problemsOf([
        'targets:',
        '  a: { connection: { url: "http://h/" } }',
        '  b: { connection: { url: "wss://${host}:${port}/x?t=${ticket}&v=${vmid}", host: h, vars: { vmi: 1 } } }',
        '  c: { connection: { url: "wss://${host}/" } }',
        '  d: { connection: { url: "wss://h:8443/${pass word}" } }',
        '  e: { connection: { url: "wss://h:8443/?token=${tiket}" }, ticket: t }',
      ]),
    ).toEqual([
      '2:27: targets.a.connection.url: a WebSocket URL starts with ws:// or wss://.',
      '3:27: targets.b.connection.url: the URL uses ${port}, which has no value: add `port:` to the connection.',
      '3:27: targets.b.connection.url: the URL uses ${ticket}, which has no value: add `ticket:` to the target (e.g. ticket: ${env:VNC_TICKET}) or a provider.',
      '3:27: targets.b.connection.url: the URL uses ${vmid}, which has no value: did you mean ${vmi}? Otherwise add it to `vars:`.',
      '4:27: targets.c.connection.url: the URL uses ${host}, which has no value: add `host:` to the connection.',
      '5:27: targets.d.connection.url: "${pass word}" is not a valid placeholder (names are letters, digits and _).',
      '6:27: targets.e.connection.url: the URL uses ${tiket}, which has no value: did you mean ${ticket}? Otherwise add it to `vars:`.',
    ]);
  });

  test('a missing environment variable names the variable and the target, never a value', () => {
    const env = { VNC_PASSWORD: 's3cret-value', EMPTY: '' };
    const problems = problemsOf(
      [
        'targets:',
        '  desktop:',
        '    connection: { host: "${env:VNC_HOST}", port: 5901 }',
        '    password: ${env:VNC_PASSWORD}',
        '    username: "user-${env:VNC_USER}"',
        '    ticket: ${env:EMPTY}',
      ],
      env,
    );
    expect(problems).toEqual([
      '3:26: targets.desktop.connection.host: environment variable VNC_HOST is not set (needed by target "desktop"). Set it, or write ${env:VNC_HOST:-fallback} for a fallback.',
      '5:21: targets.desktop.username: environment variable VNC_USER is not set (needed by target "desktop"). Set it, or write ${env:VNC_USER:-fallback} for a fallback.',
      '6:13: targets.desktop.ticket: environment variable EMPTY is empty (needed by target "desktop"). Set it, or write ${env:EMPTY:-fallback} for a fallback.',
    ]);
    expect(problems.join('\n')).not.toContain('s3cret-value');
  });

  test('one mistake, one problem: a URL placeholder whose value failed to read is not reported again', () => {
    expect(
      problemsOf([
        'targets:',
        '  kiosk:',
        '    connection: { url: "wss://${host}:${port}/?t=${ticket}&v=${vmid}", host: h, port: "${env:PORT}", vars: { vmid: "${env:VMID}" } }',
        '    ticket: ${env:TOKEN}',
      ]),
    ).toEqual([
      '3:88: targets.kiosk.connection.port: environment variable PORT is not set (needed by target "kiosk"). Set it, or write ${env:PORT:-fallback} for a fallback.',
      '3:117: targets.kiosk.connection.vars.vmid: environment variable VMID is not set (needed by target "kiosk"). Set it, or write ${env:VMID:-fallback} for a fallback.',
      '4:13: targets.kiosk.ticket: environment variable TOKEN is not set (needed by target "kiosk"). Set it, or write ${env:TOKEN:-fallback} for a fallback.',
    ]);
  });

  test('a value from the environment that does not fit is not printed', () => {
    const problems = problemsOf(
      ['targets:', '  a:', '    connection: { host: h, port: "${env:PORT}" }', '    shared: ${env:SHARED}', '  b: { connection: { host: "${env:HOST}" } }'],
      { PORT: 'secret-port', SHARED: 'secret-bool', HOST: 'secret host/' },
    );
    expect(problems).toEqual([
      "3:34: targets.a.connection.port: expected a port, a whole number from 1 to 65535; the environment variable's value is not a number.",
      "4:13: targets.a.shared: expected true or false; the environment variable's value is neither.",
      '5:28: targets.b.connection.host: the value from the environment is not a host name or address (no scheme, path or spaces).',
    ]);
    expect(problems.join('\n')).not.toContain('secret');
  });

  test('an empty file, no targets:, an empty targets: map, a bad target name', () => {
    expect(problemsOf(['# nothing here'])).toEqual([
      '1:1: The file is empty: it needs a `targets:` map, e.g.\n      targets:\n        desktop:\n          connection: { type: tcp, host: 127.0.0.1, port: 5901 }',
    ]);
    expect(problemsOf(['defaults: { timeoutMs: 5 }'])).toEqual([
      '1:1: Missing `targets:`: list the desktops to drive by name, e.g. `targets: { desktop: { connection: { type: tcp, host: 127.0.0.1, port: 5901 } } }`.',
    ]);
    expect(problemsOf(['targets: {}'])).toEqual(['1:1: `targets:` is empty: add at least one target.']);
    expect(problemsOf(['targets: [a, b]'])).toEqual(['1:10: targets: expected a map of target names to targets, got a list.']);
    expect(problemsOf(['- a', '- b'])).toEqual(['1:1: (top level): expected a map with `targets:` (and optionally `defaults:`), got a list.']);
    expect(problemsOf(['targets:', '  "my desk": { connection: { host: h } }'])).toEqual([
      '2:3: targets: "my desk" is not a valid target name (letters, digits, ".", "_" and "-", starting with a letter or digit).',
    ]);
  });

  test('an alias bomb is refused', () => {
    const bomb = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
    for (const name of 'bcdefghi') {
      const previous = String.fromCharCode(name.charCodeAt(0) - 1);
      bomb.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(', ')}]`);
    }
    bomb.push('targets:', '  t: { connection: { host: h }, tags: *i }');
    expect(problemsOf(bomb)).toEqual([
      `1:1: Too many aliases: the document expands aliases more than ${MAX_ALIAS_COUNT} times (an alias bomb?). Write the values out, or use fewer nested aliases.`,
    ]);
  });

  test('a merge key needs a map', () => {
    expect(problemsOf(['x-list: &list [1, 2]', 'targets:', '  a:', '    <<: *list', '    connection: { host: h }'])).toEqual([
      '1:16: A merge key (<<) takes a map or an alias of one (or a list of them), e.g. `<<: *base`.',
      '1:19: A merge key (<<) takes a map or an alias of one (or a list of them), e.g. `<<: *base`.',
    ]);
  });

  test('a certificate file that is missing, or not PEM', () => {
    writeFileSync(join(dir, 'not-a-cert.txt'), 'hello');
    expect(
      problemsOf([
        'targets:',
        '  a: { connection: { host: h, certificate: { file: ./missing.pem } } }',
        '  b: { connection: { host: h, certificate: { file: ./not-a-cert.txt } } }',
        '  c: { connection: { host: h, certificate: { pem: "hello" } } }',
      ]),
    ).toEqual([
      `2:52: targets.a.connection.certificate.file: certificate file "./missing.pem" not found (looked for ${join(dir, 'missing.pem')}; the path is relative to the targets file).`,
      '3:52: targets.b.connection.certificate.file: "./not-a-cert.txt" is not a PEM certificate (expected "-----BEGIN CERTIFICATE-----" … "-----END CERTIFICATE-----").',
      '4:51: targets.c.connection.certificate.pem: not a PEM certificate (expected "-----BEGIN CERTIFICATE-----" … "-----END CERTIFICATE-----").',
    ]);
  });

  test('a missing provider module is reported at load time, with a guess for a missing extension', () => {
    writeFileSync(join(dir, 'almost.ts'), 'export default () => ({});\n');
    expect(
      problemsOf(['targets:', '  a:', '    connection: { host: h }', '    provider: ./nope/provider.ts', '  b:', '    connection: { host: h }', '    provider: { module: ./almost }']),
    ).toEqual([
      `4:15: targets.a.provider: provider module "./nope/provider.ts" not found (looked for ${join(dir, 'nope', 'provider.ts')}). The path is relative to the targets file.`,
      `7:25: targets.b.provider: provider module "./almost" not found (looked for ${join(dir, 'almost')}). Did you mean "./almost.ts"?`,
    ]);
  });

  test('two matrix targets with the same name', () => {
    expect(problemsOf(['targets:', '  a: { connection: { host: h }, matrix: { x: [1] } }', '  "a[x=1]": { connection: { host: h } }'])[0]).toMatch(/^3:3: targets: "a\[x=1\]" is not a valid target name/);
  });
});

test.describe('providers', () => {
  function providerTarget(provider: string, extra: readonly string[] = []): TargetConfig {
    const loaded = load(
      [
        'targets:',
        '  pve:',
        '    connection:',
        '      url: "wss://${host}:${port}/api2/json/nodes/${node}/qemu/${vmid}/vncwebsocket?port=${vncPort}&vncticket=${ticket}"',
        '      host: pve.lan',
        '      port: 8006',
        '      vars: { node: pve, vmid: 100 }',
        '      headers: { X-Known: "${env:KNOWN_HEADER}" }',
        `    provider: ${provider}`,
        '    password: ${env:YAML_PASSWORD}',
        ...extra,
      ],
      { KNOWN_HEADER: 'known-header-value', YAML_PASSWORD: 'yaml-password' },
    );
    return loaded.targets[0];
  }
  const PROVIDER_LINE = 9;

  test('is called for every connection with the target, params and attempt; its values win over the YAML', async () => {
    const calls = join(dir, `calls-${++counter}.json`);
    const provider = writeProvider(`
      import { appendFileSync } from 'node:fs';
      let count = 0;
      export default async function (context) {
        count++;
        appendFileSync(${JSON.stringify(calls)}, JSON.stringify({ target: context.target, params: context.params, attempt: context.attempt, aborted: context.signal.aborted, connection: context.connection }) + '\\n');
        return { ticket: 'ticket-' + count, password: 'pw-' + count, port: '8007', vars: { vncPort: 5900 + count }, headers: { Authorization: 'PVEAPIToken=x' }, certificatePem: ${JSON.stringify(PEM)} };
      }
    `);
    const pve = providerTarget(provider);
    const first = await resolveTarget(pve, { attempt: 0 });
    const second = await resolveTarget(pve, { attempt: 1 });
    expect(first.connection).toBeInstanceOf(WebSocketVNCConnection);
    expect(first.connection?.remote).toBe('wss://pve.lan:8007/api2/json/nodes/pve/qemu/100/vncwebsocket?port=***&vncticket=***');
    expect(first.connection?.credentials).toEqual({ password: 'pw-1', username: undefined });
    expect(second.connection?.credentials).toEqual({ password: 'pw-2', username: undefined });
    expect(first).toMatchObject({ timeoutMs: 10_000, typingDelayMs: 33, quality: 'lossless' });
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(calls, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      { target: 'pve', params: {}, attempt: 0, aborted: false, connection: { type: 'websocket', host: 'pve.lan', port: 8006, vars: { node: 'pve', vmid: 100 } } },
      { target: 'pve', params: {}, attempt: 1, aborted: false, connection: { type: 'websocket', host: 'pve.lan', port: 8006, vars: { node: 'pve', vmid: 100 } } },
    ]);
  });

  test('a named export `provider` works, and a TypeScript module loads under the test runner', async () => {
    const named = writeProvider('export const provider = () => ({ ticket: "from-named", vars: { vncPort: 1 } });');
    expect(await runProvider(providerTarget(named))).toEqual({ ticket: 'from-named', vars: { vncPort: 1 } });
    const typed = writeProvider('export default async (context: { attempt: number }): Promise<{ ticket: string; vars: Record<string, number> }> => ({ ticket: `ts-${context.attempt}`, vars: { vncPort: 2 } });', 'ts');
    expect(await runProvider(providerTarget(typed), { attempt: 3 })).toEqual({ ticket: 'ts-3', vars: { vncPort: 2 } });
    // Outside an ES module package, a .ts provider cannot use `export`: the message says why.
    mkdirSync(join(dir, 'cjs'), { recursive: true });
    writeFileSync(join(dir, 'cjs', 'package.json'), '{ "type": "commonjs" }\n');
    writeFileSync(join(dir, 'cjs', 'provider.ts'), 'export default () => ({ ticket: "x" });\n');
    const error = await rejection(runProvider(providerTarget('./cjs/provider.ts')));
    expect(error).toBeInstanceOf(VNCConfigError);
    expect(error.message).toContain('could not be loaded (SyntaxError: ');
    expect(error.message).toContain('A TypeScript provider is loaded as an ES module only where the nearest package.json says "type": "module" (or name it .mts).');
  });

  test('a provider that throws: its class and message, with known secrets masked, at the provider: line', async () => {
    const provider = writeProvider(
      'export default async () => { throw new TypeError("login failed for known-header-value, password yaml-password, token " + process.env.SPEC_API_TOKEN); };',
    );
    process.env.SPEC_API_TOKEN = 'root@pam!ci=abcdef-123456';
    try {
      const pve = providerTarget(provider);
      const error = await rejection(resolveTarget(pve));
      expect(error).toBeInstanceOf(VNCConfigError);
      expect(error.message).toBe(
        `${pve.source.file}:${PROVIDER_LINE}:5: provider "${provider}" of target "pve" failed: TypeError: login failed for ***, password ***, token ***. Fix the provider (or what it reads: environment variables, the server's API) and run again.`,
      );
    } finally {
      delete process.env.SPEC_API_TOKEN;
    }
  });

  test('a provider that does not answer in time is cut off, and its signal aborted', async () => {
    const marker = join(dir, `aborted-${++counter}`);
    const provider = writeProvider(`
      import { writeFileSync } from 'node:fs';
      export default ({ signal }) => new Promise(() => { signal.addEventListener('abort', () => writeFileSync(${JSON.stringify(marker)}, 'yes')); });
    `);
    const pve = providerTarget(`{ module: ${provider}, timeoutMs: 200 }`);
    const started = Date.now();
    const error = await rejection(resolveTarget(pve, { attempt: 2 }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(VNCConfigError);
    expect(error.message).toBe(
      `${pve.source.file}:${PROVIDER_LINE}:5: provider "${provider}" of target "pve" did not answer within 200 ms (attempt 2). Make it faster, pass \`signal\` to what it awaits, or raise the bound: \`provider: { module: ${provider}, timeoutMs: … }\`.`,
    );
    const { existsSync } = await import('node:fs');
    expect(existsSync(marker)).toBe(true);
  });

  test('a provider returning a bad shape: every bad field named, no value shown', async () => {
    const provider = writeProvider('export default () => ({ tiket: "secret-a", password: 42, port: "http", headers: { A: 1 }, vars: { host: "x", vncPort: "secret-b" } });');
    const pve = providerTarget(provider);
    const error = await rejection(resolveTarget(pve));
    expect(error).toBeInstanceOf(VNCConfigError);
    expect(error.message).toBe(
      `${pve.source.file}:${PROVIDER_LINE}:5: provider "${provider}" of target "pve" returned a bad value: ` +
        'unknown field "tiket". Did you mean "ticket"?; password: expected non-empty text, got number; port: expected a whole number from 1 to 65535, got string; headers.A: expected text; vars.host: return "host" as its own field, not in vars. ' +
        'Return an object with any of: ticket, password, username, host, port, certificatePem, headers, vars (text; port a number; headers and vars objects).',
    );
    expect(error.message).not.toContain('secret');
    for (const [body, what] of [
      ['export default () => null;', 'returned null, not an object'],
      ['export default () => "ticket";', 'returned string, not an object'],
      ['export default () => [];', 'returned a list, not an object'],
    ]) {
      const bad = writeProvider(body);
      expect((await rejection(runProvider(providerTarget(bad)))).message).toContain(`returned a bad value: ${what}.`);
    }
  });

  test('a module without a provider function, or one that fails to import', async () => {
    const none = writeProvider('export const something = 1;');
    const pve = providerTarget(none);
    expect((await rejection(runProvider(pve))).message).toBe(
      `${pve.source.file}:${PROVIDER_LINE}:5: provider "${none}" of target "pve" exports no provider function (it exports something). Write \`export default async function provider({ target, attempt }) { return { ticket } }\` or \`export const provider = …\`.`,
    );
    const broken = writeProvider('import "./does-not-exist.mjs"; export default () => ({});');
    const error = await rejection(runProvider(providerTarget(broken)));
    expect(error).toBeInstanceOf(VNCConfigError);
    expect(error.message).toMatch(new RegExp(`^.*:${PROVIDER_LINE}:5: provider "\\./provider-\\d+\\.mjs" of target "pve" could not be loaded \\(Error: .*does-not-exist.*\\)\\. Fix the module so it imports cleanly\\.$`, 's'));
  });

  test('a module deleted after loading is reported as not found', async () => {
    const gone = writeProvider('export default () => ({});');
    const pve = providerTarget(gone);
    rmSync(join(dir, gone));
    expect((await rejection(runProvider(pve))).message).toBe(
      `${pve.source.file}:${PROVIDER_LINE}:5: provider "${gone}" of target "pve" was not found at ${join(dir, gone)}. The path is relative to the targets file.`,
    );
  });

  test('the example Proxmox provider: POSTs vncproxy with the API token, returns ticket, password, vncPort, cert and header', async () => {
    const saved = { fetch: globalThis.fetch, env: { ...process.env } };
    const requests: Array<{ url: string; init: RequestInit | undefined }> = [];
    globalThis.fetch = (async (url: string | URL | Request, init?: RequestInit) => {
      requests.push({ url: String(url), init });
      return new Response(JSON.stringify({ data: { ticket: 'PVEVNC:abc', port: '5901', cert: PEM, password: 'vnc-pw', user: 'root@pam' } }), { status: 200 });
    }) as typeof fetch;
    Object.assign(process.env, { PVE_HOST: 'pve.example.com', PVE_NODE: 'node1', PVE_VMID: '101', PVE_TOKEN: 'ci@pve!tests=0000-secret' });
    try {
      const loaded = loadTargets(
        writeYaml([
          'targets:',
          '  pve-vm101:',
          '    connection:',
          '      url: "wss://${host}:${port}/api2/json/nodes/${node}/qemu/${vmid}/vncwebsocket?port=${vncPort}&vncticket=${ticket}"',
          '      host: ignored.example.com',
          '      port: 8006',
          '      vars: { node: pve, vmid: 100 }',
          `    provider: ${join(ROOT, 'fixtures', 'proxmox-provider.ts')}`,
        ]),
        { env: {} },
      );
      const options = await resolveTarget(loaded.targets[0], { attempt: 0 });
      expect(requests).toHaveLength(1);
      expect(requests[0].url).toBe('https://pve.example.com:8006/api2/json/nodes/node1/qemu/101/vncproxy');
      expect(requests[0].init?.method).toBe('POST');
      expect(requests[0].init?.body).toBe('websocket=1&generate-password=1');
      expect(requests[0].init?.headers).toMatchObject({ Authorization: 'PVEAPIToken=ci@pve!tests=0000-secret' });
      expect(options.connection?.remote).toBe('wss://pve.example.com:8006/api2/json/nodes/node1/qemu/101/vncwebsocket?port=***&vncticket=***');
      expect(options.connection?.credentials).toEqual({ password: 'vnc-pw', username: undefined });

      const module = (await import('../../fixtures/proxmox-provider.js')) as typeof import('../../fixtures/proxmox-provider.js');
      const answer = await module.default({ target: 't', baseName: 't', params: {}, attempt: 0, signal: new AbortController().signal });
      expect(answer).toEqual({
        host: 'pve.example.com',
        port: 8006,
        ticket: 'PVEVNC:abc',
        password: 'vnc-pw',
        vars: { node: 'node1', vmid: '101', vncPort: 5901 },
        certificatePem: PEM,
        headers: { Authorization: 'PVEAPIToken=ci@pve!tests=0000-secret' },
      });

      globalThis.fetch = (async () => new Response('{}', { status: 403 })) as typeof fetch;
      const refused = await rejection(resolveTarget(loaded.targets[0]));
      expect(refused.message).toContain('answered HTTP 403: the token lacks VM.Console');
      expect(refused.message).not.toContain('0000-secret');
    } finally {
      globalThis.fetch = saved.fetch;
      for (const name of ['PVE_HOST', 'PVE_NODE', 'PVE_VMID', 'PVE_TOKEN']) delete process.env[name];
      Object.assign(process.env, saved.env);
    }
  });
});

test.describe('resolveTarget and describeTarget', () => {
  test('tcp: a TCPVNCConnection with the password, certificate and verification; timeouts, typing rate, encodings, quality', async () => {
    const loaded = load(
      [
        'targets:',
        '  a:',
        '    connection: { host: 127.0.0.1, port: 5901, verifyTls: false, certificate: { pem: "' + PEM.replace(/\n/g, '\\n') + '" } }',
        '    password: ${env:P}',
        '    username: bob',
        '    timeoutMs: 1234',
        '    typingDelayMs: 5',
        '    encodings: [hextile, raw]',
        '    quality: 7',
        '    size: 1024x768',
      ],
      { P: 'tcp-pw' },
    );
    const options = await resolveTarget(loaded.targets[0]);
    expect(options.connection).toBeInstanceOf(TCPVNCConnection);
    expect(options.connection?.remote).toBe('127.0.0.1:5901');
    expect(options.connection?.credentials).toEqual({ password: 'tcp-pw', username: 'bob' });
    expect(options.connection?.tls).toEqual({ servername: '127.0.0.1', trust: { certificatePem: PEM, verify: false } });
    expect(options).toMatchObject({ timeoutMs: 1234, typingDelayMs: 5, encodings: ['hextile', 'raw'], quality: 7, size: { width: 1024, height: 768 } });
    expect(Object.keys(options).sort()).toEqual(['connection', 'encodings', 'quality', 'size', 'timeoutMs', 'typingDelayMs']);
  });

  test('websocket: the URL filled from host, port, vars and ticket; headers and subprotocols passed; the URL host when none is given', async () => {
    const loaded = load(
      [
        'targets:',
        '  k:',
        '    connection:',
        '      url: "ws://${host}:${port}/websockify?token=${ticket}&x=${x}"',
        '      host: 127.0.0.1',
        '      port: 6080',
        '      vars: { x: 1 }',
        '      headers: { Cookie: "a=b" }',
        '      subprotocols: []',
        '    ticket: tk',
        '  literal:',
        '    connection: { url: "wss://kiosk.example.com/websockify" }',
      ],
      {},
    );
    const k = await resolveTarget(target(loaded, 'k'));
    expect(k.connection).toBeInstanceOf(WebSocketVNCConnection);
    expect(k.connection?.remote).toBe('ws://127.0.0.1:6080/websockify?token=***&x=***');
    expect(k.connection?.credentials).toEqual({ password: 'tk', username: undefined });
    const literal = await resolveTarget(target(loaded, 'literal'));
    expect(literal.connection?.remote).toBe('wss://kiosk.example.com/websockify');
  });

  test('a launched target: connect where the launch serves; without `launched`, no connection', async () => {
    const loaded = loadTargets(undefined, { cwd: mkdtempSync(join(dir, 'launch-')), env: {} });
    const local = loaded.targets[0];
    const withLaunch = await resolveTarget(local, { launched: { host: '127.0.0.1', port: 5999 } });
    expect(withLaunch.connection?.remote).toBe('127.0.0.1:5999');
    const without = await resolveTarget(local);
    expect(without.connection).toBeUndefined();
    expect(without).toMatchObject({ timeoutMs: 10_000, typingDelayMs: 33 });
  });

  test('launchTarget refuses a target without launch:', async () => {
    const loaded = load(['targets:', '  a: { connection: { host: h } }']);
    const error = await rejection(launchTarget(loaded.targets[0]));
    expect(error).toBeInstanceOf(VNCConfigError);
    expect(error.message).toMatch(/:2:3: target "a" has no `launch:`, so there is nothing to start: connect to it directly\.$/);
  });

  test('launching the local desktop without Xvnc says how to install it', async () => {
    const loaded = loadTargets(undefined, { cwd: mkdtempSync(join(dir, 'nox-')), env: {} });
    const error = await rejection(launchTarget(loaded.targets[0], { env: { PATH: mkdtempSync(join(dir, 'emptybin-')) } }));
    expect(error).toBeInstanceOf(VNCConfigError);
    expect(error.message).toBe(
      '<embedded default>:5:13: target "local" launches a local desktop, but Xvnc, xsetroot, xterm are not installed. Run `npm run setup` (or `apt-get install tigervnc-standalone-server x11-xserver-utils xterm`).',
    );
  });

  test('describeTarget: one line, no password, ticket, header or environment value', () => {
    const loaded = load(
      [
        'targets:',
        '  desktop:',
        '    connection: { host: 127.0.0.1, port: 5901 }',
        '    password: ${env:PW}',
        '    tags: [smoke, linux]',
        '  kiosk:',
        '    connection:',
        '      url: "wss://${host}:${port}/ws?token=${ticket}&key=${env:KEY}&plain=literal-secret"',
        '      host: kiosk.example.com',
        '      port: 443',
        '      headers: { Authorization: "Bearer ${env:BEARER}" }',
        '    ticket: ${env:TICKET}',
        '    shared: true',
        '  local:',
        '    launch: { preset: local-desktop }',
        '  app:',
        '    launch: { command: "Xvnc :9", port: 5909, reuseExisting: true }',
      ],
      { PW: 'pw-value', KEY: 'key-value', BEARER: 'bearer-value', TICKET: 'ticket-value' },
    );
    const file = loaded.file;
    const lines = loaded.targets.map(describeTarget);
    expect(lines).toEqual([
      `desktop: tcp 127.0.0.1:5901; password; tags smoke, linux (${file}:2:3)`,
      `kiosk: websocket wss://\${host}:\${port}/ws?token=\${ticket}&key=\${env:KEY}&plain=*** (host kiosk.example.com:443); ticket; shared (${file}:6:3)`,
      `local: launch local-desktop 1280x800 (${file}:14:3)`,
      `app: tcp 127.0.0.1:5909; launch command on 127.0.0.1:5909 (or reuse) (${file}:16:3)`,
    ]);
    for (const secret of ['pw-value', 'key-value', 'bearer-value', 'ticket-value', 'literal-secret']) expect(lines.join('\n')).not.toContain(secret);
  });
});
