/**
 * The built `vnc-agent` with the test framework's targets file: `vnc-agent targets` lists and
 * validates it (a missing `${env:…}` is a problem with its file:line:column), `--target NAME`
 * connects as the fixture does — launching a `command:` target (an Xvnc) for one command and
 * leaving nothing behind, or the embedded local desktop when the folder has no vnc.targets.yaml —
 * and `--encodings` picks the pixel encoding (ZRLE and Raw give the same pixels). Needs
 * `npm run build` first (`npm test` does).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng } from '../../src/index.js';
import { startXterm } from '../support/desktop.js';
import { expect, test } from '../support/fixtures.js';
import { freePort, run, startProcess, stopProcess, type RunResult } from '../support/processes.js';
import { readBanner } from '../support/xvnc.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SECRET = 'hunter2-cli-targets';

let root: string;
test.beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  root = mkdtempSync(join(tmpdir(), 'vnc-cli-targets-'));
});
test.afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh folder under the test's temp root. */
function folder(name: string): string {
  return mkdtempSync(join(root, `${name}-`));
}

/** No VNC_PASSWORD or CLI_TARGETS_PW from outside; pointer state in the temp folder. */
function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VNC_AGENT_STATE_DIR: join(root, 'state'), ...extra };
  delete env.VNC_PASSWORD;
  if (!('CLI_TARGETS_PW' in extra)) delete env.CLI_TARGETS_PW;
  return env;
}

function cli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env ?? cliEnv(), timeoutMs: options.timeoutMs ?? 40_000 });
}

const explain = (result: RunResult): string => `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;

/**
 * A targets file with (a) `xvnc`: a `command:` launch that starts TigerVNC Xvnc on `port` (its
 * desktop name carries a marker to find the process by), and (b) `vault`: a password from
 * ${env:CLI_TARGETS_PW}, which the tests leave unset or set.
 */
function writeTargets(dir: string, port: number): { file: string; marker: string } {
  const marker = `cli-targets-${port}`;
  const file = join(dir, 'vnc.targets.yaml');
  writeFileSync(
    file,
    [
      'targets:',
      '  xvnc:',
      `    connection: { type: tcp, host: 127.0.0.1, port: ${port} }`,
      '    launch:',
      '      command: |',
      '        Xvnc -displayfd 5 5>"$DISPLAY_FILE" -rfbport "$RFB_PORT" -localhost -nolisten tcp -SecurityTypes None \\',
      `          -geometry 640x480 -depth 24 -desktop ${marker} &`,
      '        xvnc=$!',
      '        while [ ! -s "$DISPLAY_FILE" ] && kill -0 $xvnc 2>/dev/null; do sleep 0.05; done',
      "        DISPLAY=:$(cat \"$DISPLAY_FILE\") xsetroot -solid '#204080'",
      '        wait $xvnc',
      `      env: { DISPLAY_FILE: "${join(dir, 'display')}", RFB_PORT: "${port}" }`,
      '      timeoutMs: 15000',
      '    tags: [e2e, launched]',
      '  vault:',
      '    connection: { type: tcp, host: 127.0.0.1, port: 5999 }',
      '    password: ${env:CLI_TARGETS_PW}',
      '    shared: true',
      '    matrix: { size: [640x480, 800x600] }',
      '',
    ].join('\n'),
  );
  return { file, marker };
}

/** Processes whose command line contains `text` (other than pgrep itself). */
async function processesWith(text: string): Promise<string> {
  return (await run('pgrep', ['-af', text])).stdout.trim();
}

async function answers(port: number): Promise<boolean> {
  return readBanner(port, '127.0.0.1', 1000).then(
    () => true,
    () => false,
  );
}

test.describe('vnc-agent targets', () => {
  test('a missing ${env:…} is a problem: exit 2, one FILE:LINE:COLUMN line per problem; --json says the same', async () => {
    const dir = folder('missing-env');
    const { file } = writeTargets(dir, await freePort());
    const result = await cli(['targets'], { cwd: dir });
    expect(result.code, explain(result)).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `vnc-agent: ${file} has 1 problem:\n` +
        `${file}:17:15: targets.vault.password: environment variable CLI_TARGETS_PW is not set (needed by target "vault"). Set it, or write \${env:CLI_TARGETS_PW:-fallback} for a fallback.\n`,
    );

    const json = await cli(['targets', '--json', '--config', 'vnc.targets.yaml'], { cwd: dir });
    expect(json.code, explain(json)).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      file,
      valid: false,
      problems: [{ file, line: 17, column: 15, message: expect.stringContaining('environment variable CLI_TARGETS_PW is not set') }],
    });

    // Every problem, each on its own line, in file order.
    const broken = join(dir, 'broken.yaml');
    writeFileSync(
      broken,
      ['targets:', '  one:', '    connection: { type: tcp, host: 127.0.0.1, port: 5901 }', '    pasword: x', '  two:', '    password: ${env:CLI_TARGETS_PW}', ''].join('\n'),
    );
    const many = await cli(['targets', '--config', 'broken.yaml'], { cwd: dir });
    expect(many.code, explain(many)).toBe(2);
    const manyLines = many.stderr.trimEnd().split('\n');
    expect(manyLines[0]).toMatch(new RegExp(`^vnc-agent: ${broken.replace(/[.]/g, '\\.')} has [2-9] problems:$`));
    expect(manyLines.length).toBe(Number(/has (\d) problems/.exec(manyLines[0])![1]) + 1);
    for (const line of manyLines.slice(1)) expect(line.startsWith(`${broken}:`)).toBe(true);
    expect(manyLines[1]).toMatch(/broken\.yaml:4:5: .*pasword.*password/);
    expect(many.stderr).toContain(`${broken}:6:15: targets.two.password: environment variable CLI_TARGETS_PW is not set`);

    // --target reads the same file: it cannot connect to any target of it either.
    const connect = await cli(['--target', 'xvnc', 'info'], { cwd: dir });
    expect(connect.code, explain(connect)).toBe(2);
    expect(connect.stderr.split('\n')[1]).toMatch(/vnc\.targets\.yaml:17:15: targets\.vault\.password: environment variable CLI_TARGETS_PW is not set/);
  });

  test('lists the targets and the projects they expand to, without secrets, and launches nothing', async () => {
    const dir = folder('list');
    const port = await freePort();
    const { file, marker } = writeTargets(dir, port);
    const env = cliEnv({ CLI_TARGETS_PW: SECRET });
    const result = await cli(['targets'], { cwd: dir, env });
    expect(result.code, explain(result)).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`Targets file: ${file}: valid; 2 targets, 3 projects`);
    const row = (...cells: string[]) => `  ${[cells[0].padEnd(19), cells[1].padEnd(6), cells[2].padEnd(6), cells[3].padEnd(6), cells[4].padEnd(12), cells[5]].join('  ')}`;
    expect(lines.slice(2, 6)).toEqual([
      row('PROJECT', 'TARGET', 'LAUNCH', 'SHARED', 'TAGS', 'PARAMS'),
      row('xvnc', 'xvnc', 'yes', 'no', 'e2e,launched', '-'),
      row('vault[size=640x480]', 'vault', 'no', 'yes', '-', 'size=640x480'),
      row('vault[size=800x600]', 'vault', 'no', 'yes', '-', 'size=800x600'),
    ]);
    expect(result.stdout).toContain('Matrices:\n  vault (size: 640x480, 800x600) → 2 projects');
    expect(result.stdout).toContain(`  xvnc: tcp 127.0.0.1:${port}; launch command on 127.0.0.1:${port}; tags e2e, launched (${file}:2:3)`);
    expect(result.stdout).toContain(`  vault[size=640x480]: tcp 127.0.0.1:5999; password; shared (${file}:15:3)`);
    expect(result.stdout).not.toContain(SECRET);

    const json = await cli(['targets', '--json'], { cwd: dir, env });
    expect(json.code, explain(json)).toBe(0);
    expect(json.stdout).not.toContain(SECRET);
    const listed = JSON.parse(json.stdout) as { targets: unknown[]; projects: Array<Record<string, unknown>> };
    expect(listed).toMatchObject({ file, embedded: false, valid: true });
    expect(listed.targets).toEqual([
      { name: 'xvnc', matrix: {}, projects: ['xvnc'] },
      { name: 'vault', matrix: { size: ['640x480', '800x600'] }, projects: ['vault[size=640x480]', 'vault[size=800x600]'] },
    ]);
    expect(listed.projects.map((project) => [project.name, project.launch, project.shared, project.tags, project.params])).toEqual([
      ['xvnc', true, false, ['e2e', 'launched'], {}],
      ['vault[size=640x480]', false, true, [], { size: '640x480' }],
      ['vault[size=800x600]', false, true, [], { size: '800x600' }],
    ]);
    expect(listed.projects[0]).toMatchObject({ launchKind: 'command', connection: `tcp 127.0.0.1:${port}; launch command on 127.0.0.1:${port}; tags e2e, launched`, source: `${file}:2:3` });

    // Listing launched nothing.
    expect(await processesWith(marker)).toBe('');
    expect(await answers(port)).toBe(false);
  });
});

test.describe('vnc-agent --target', () => {
  test('a command: launch runs for the command only: info launches Xvnc, connects, prints the size, and leaves no process behind', async () => {
    const dir = folder('launch');
    const port = await freePort();
    const { marker } = writeTargets(dir, port);
    const elsewhere = folder('elsewhere');
    const env = cliEnv({ CLI_TARGETS_PW: SECRET });
    const result = await cli(['--target', 'xvnc', '--config', join(dir, 'vnc.targets.yaml'), '--debug', 'info'], { cwd: elsewhere, env });
    expect(result.code, explain(result)).toBe(0);
    expect(result.stdout).toContain('size:              640x480\n');
    expect(result.stdout).toContain(`name:              ${marker}\n`);
    expect(result.stdout).toContain(`remote:            127.0.0.1:${port}\n`);
    expect(result.stderr).toContain('debug: launching xvnc (command, serving on');
    expect(result.stderr).toContain(`debug: launched: VNC on 127.0.0.1:${port}`);
    expect(result.stderr).toContain('debug: stopped xvnc');
    expect(result.stderr).not.toContain(SECRET);
    expect(await processesWith(marker)).toBe('');
    expect(await answers(port)).toBe(false);

    // --json, --timeout and the encoding options go with --target too.
    const json = await cli(['--target', 'xvnc', '--json', '--timeout', '20', '--encodings', 'zrle', '--quality', 'lossless', '--compression', '1', 'info'], { cwd: dir, env });
    expect(json.code, explain(json)).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: marker, width: 640, height: 480 });
    expect(await processesWith(marker)).toBe('');
  });

  test('Ctrl-C while a launched target is connected: exit 130, and the launch is stopped', async () => {
    const dir = folder('interrupt');
    const port = await freePort();
    const { marker } = writeTargets(dir, port);
    const proc = startProcess(process.execPath, [CLI, '--target', 'xvnc', '--debug', 'clipboard', 'set', 'held', '--hold', '60'], {
      cwd: dir,
      env: cliEnv({ CLI_TARGETS_PW: SECRET }),
    });
    try {
      await expect.poll(() => proc.log(), { timeout: 20_000 }).toContain('debug: holding the connection');
      expect(await processesWith(marker)).not.toBe('');
      proc.child.kill('SIGINT');
      expect((await proc.exited).code).toBe(130);
      expect(proc.log()).toContain('vnc-agent: interrupted');
    } finally {
      await stopProcess(proc, 1000).catch(() => undefined);
    }
    await expect.poll(() => processesWith(marker), { timeout: 5000 }).toBe('');
    expect(await answers(port)).toBe(false);
  });

  test("the target's provider is asked once, with attempt 0, by a command (and never by targets)", async ({ xvnc }) => {
    const dir = folder('provider');
    const calls = join(dir, 'calls.txt');
    writeFileSync(
      join(dir, 'provider.mjs'),
      [
        "import { appendFileSync } from 'node:fs';",
        'export default async function provider({ target, attempt, connection }) {',
        `  appendFileSync(${JSON.stringify(calls)}, \`\${target} \${attempt} \${connection.port}\\n\`);`,
        `  return { port: ${xvnc.port} };`,
        '}',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'vnc.targets.yaml'),
      ['targets:', '  provided:', '    connection: { type: tcp, host: 127.0.0.1, port: 1 }', '    provider: ./provider.mjs', ''].join('\n'),
    );
    const listed = await cli(['targets'], { cwd: dir });
    expect(listed.code, explain(listed)).toBe(0);
    expect(listed.stdout).toContain('provided: tcp 127.0.0.1:1; provider ./provider.mjs');
    expect(existsSync(calls)).toBe(false);

    const result = await cli(['--target', 'provided', '--debug', 'info'], { cwd: dir });
    expect(result.code, explain(result)).toBe(0);
    expect(result.stdout).toContain(`remote:            127.0.0.1:${xvnc.port}\n`);
    expect(result.stderr).toContain('debug: asking the provider ./provider.mjs (attempt 0)');
    expect(await readFile(calls, 'utf8')).toBe('provided 0 1\n');
  });

  test('unknown targets exit 2 with the names; --target with connection options is a usage error', async () => {
    const dir = folder('unknown');
    const { file } = writeTargets(dir, await freePort());
    const env = cliEnv({ CLI_TARGETS_PW: SECRET });
    const typo = await cli(['--target', 'xvcn', 'info'], { cwd: dir, env });
    expect(typo.code, explain(typo)).toBe(2);
    expect(typo.stderr).toBe(
      `vnc-agent: unknown target "xvcn" (did you mean xvnc?): ${file} has the targets xvnc, vault[size=640x480], vault[size=800x600]\n` +
        'hint: "vnc-agent targets" lists the targets and checks the file\n',
    );
    const matrix = await cli(['--target', 'vault', 'info'], { cwd: dir, env });
    expect(matrix.code, explain(matrix)).toBe(2);
    expect(matrix.stderr.split('\n')[0]).toBe(`vnc-agent: target "vault" has a matrix: pick one of its projects: vault[size=640x480], vault[size=800x600] (in ${file})`);
    const mixed = await cli(['--target', 'xvnc', '--port', '5901', 'info'], { cwd: dir, env });
    expect(mixed.code, explain(mixed)).toBe(2);
    expect(mixed.stderr).toBe(
      'vnc-agent: --port cannot be combined with --target: the target carries its own connection and credentials (change them in the targets file, or drop --target)\n' +
        'usage: vnc-agent --target NAME [--config FILE] [options] COMMAND [arguments]\n',
    );
    const missing = await cli(['--target', 'xvnc', '--config', 'nope.yaml', 'info'], { cwd: dir, env });
    expect(missing.code, explain(missing)).toBe(2);
    expect(missing.stderr.split('\n')[0]).toBe(`vnc-agent: Cannot read the targets file ${join(dir, 'nope.yaml')}: it does not exist.`);
  });

  test('the embedded local desktop (a folder without vnc.targets.yaml): screenshot shows #204080 at (5, 5)', async () => {
    const dir = folder('embedded');
    const listed = await cli(['targets'], { cwd: dir });
    expect(listed.code, explain(listed)).toBe(0);
    expect(listed.stdout.split('\n')[0]).toBe(`Targets file: the embedded default (there is no vnc.targets.yaml in ${dir}): valid; 1 target, 1 project`);

    const result = await cli(['--target', 'local', '--debug', 'screenshot', 'x.png'], { cwd: dir });
    expect(result.code, explain(result)).toBe(0);
    expect(result.stdout).toMatch(/^x\.png \(1280x800, \d+ bytes\)\n$/);
    expect(result.stderr).toContain('debug: launching local (local desktop 1280x800); it stops when this command ends');
    expect(result.stderr).toContain('debug: stopped local');
    const port = Number(/debug: launched: VNC on 127\.0\.0\.1:(\d+)/.exec(result.stderr)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(await answers(port)).toBe(false);
    const frame = decodePng(await readFile(join(dir, 'x.png')));
    expect([frame.width, frame.height]).toEqual([1280, 800]);
    const at = (5 * frame.width + 5) * 4;
    expect([...frame.data.subarray(at, at + 3)]).toEqual([0x20, 0x40, 0x80]);
  });
});

test.describe('--encodings', () => {
  test('ZRLE and Raw give the same pixels on a static screen', async ({ xvnc }) => {
    const dir = folder('encodings');
    const xterm = await startXterm(xvnc, { command: ['sh', '-c', 'printf "ZRLE vs Raw\\n"; ls -l /; exec sleep 300'] });
    try {
      const connect = ['--host', '127.0.0.1', '--port', String(xvnc.port)];
      const stable = await cli([...connect, '--timeout', '20', 'wait-stable', '--still', '500'], { cwd: dir });
      expect(stable.code, explain(stable)).toBe(0);
      const zrle = await cli([...connect, '--encodings', 'zrle', '--debug', 'screenshot', 'zrle.png'], { cwd: dir });
      expect(zrle.code, explain(zrle)).toBe(0);
      expect(zrle.stderr).toContain('encodings zrle');
      const raw = await cli([...connect, '--encodings', 'raw', '--compression', '0', 'screenshot', 'raw.png'], { cwd: dir });
      expect(raw.code, explain(raw)).toBe(0);
      const a = decodePng(await readFile(join(dir, 'zrle.png')));
      const b = decodePng(await readFile(join(dir, 'raw.png')));
      expect([a.width, a.height]).toEqual([b.width, b.height]);
      // Not a blank screen: the xterm's text is there.
      const colours = new Set<number>();
      for (let i = 0; i < a.data.length; i += 4) colours.add(a.data.readUInt32BE(i));
      expect(colours.size).toBeGreaterThan(2);
      expect(Buffer.compare(a.data, b.data)).toBe(0);
    } finally {
      await xterm.stop();
    }
  });
});
