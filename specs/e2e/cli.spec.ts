/**
 * The built `vnc-agent` command (dist/cli/main.js, run with node) against a real TigerVNC Xvnc.
 * Every effect is checked on the X server itself (xdotool, xev, an xterm writing to a file,
 * xclip), and every failure by exit code and stderr. Needs `npm run build` first (`npm test` does).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng } from '../../src/index.js';
import {
  clipboardGet,
  clipboardOwn,
  hexToRgb,
  pointerLocation,
  readFileWhenContains,
  startXterm,
  xdotool,
  type DisplayTarget,
  type Xterm,
} from '../support/desktop.js';
import { expect, test, XVNC_PASSWORD } from '../support/fixtures.js';
import { delay, freePort, run, startProcess, stopProcess, track, type RunResult } from '../support/processes.js';
import { watchRootButtons } from '../support/x-events.js';
import { DEFAULT_BACKGROUND, startXvnc, type XvncServer } from '../support/xvnc.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test.beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
});

/** Test-local environment: no VNC_PASSWORD from outside, pointer state in the test's own folder. */
function cliEnv(stateDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VNC_AGENT_STATE_DIR: stateDir, ...extra };
  if (!('VNC_PASSWORD' in extra)) delete env.VNC_PASSWORD;
  return env;
}

/** `--host 127.0.0.1 --port N` for a harness server. */
const target = (server: Pick<XvncServer, 'port'>): string[] => ['--host', '127.0.0.1', '--port', String(server.port)];

interface Cli {
  /** Runs vnc-agent to completion (killed after 30 s). */
  (args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  /** Starts vnc-agent in the background. */
  start(args: string[], options?: { env?: NodeJS.ProcessEnv }): Background;
}

interface Background {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** Resolves once stderr contains `text` (rejects after `timeoutMs` or if the process exits first). */
  waitForStderr(text: string, timeoutMs?: number): Promise<void>;
}

function makeCli(stateDir: string): Cli {
  const cli = ((args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
    run(process.execPath, [CLI, ...args], { env: options.env ?? cliEnv(stateDir), input: options.input, timeoutMs: 30_000 })) as Cli;
  cli.start = (args, options = {}) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: options.env ?? cliEnv(stateDir) });
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end();
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    let done = false;
    void exited.then(() => (done = true));
    return {
      child,
      stdout: () => stdout,
      stderr: () => stderr,
      exited,
      async waitForStderr(text, timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        while (!stderr.includes(text)) {
          if (done) throw new Error(`vnc-agent exited before printing ${JSON.stringify(text)}; stderr:\n${stderr}`);
          if (Date.now() > deadline) throw new Error(`vnc-agent did not print ${JSON.stringify(text)} within ${timeoutMs} ms; stderr:\n${stderr}`);
          await delay(20);
        }
      },
    };
  };
  return cli;
}

/** Expects a failure reported in one or two lines, without a stack trace. */
function expectShortError(result: RunResult, code: number): string[] {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(1);
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(lines[0]).toMatch(/^vnc-agent: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines;
}

/**
 * Each test's files (typing sinks, screenshots, the pointer state) live in a fresh temp folder, not
 * in Playwright's output folder: another Playwright run in the same checkout empties that one.
 */
let scratch: string;
let cli: Cli;
test.beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vnc-agent-cli-e2e-'));
  cli = makeCli(join(scratch, 'state'));
});
test.afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test.describe('vnc-agent: reading the desktop', () => {
  test('info prints the real name, size, protocol, security and clipboard support', async () => {
    const server = await startXvnc({ geometry: '1280x800', extraArgs: ['-desktop', 'vnc-agent cli test'] });
    try {
      const result = await cli([...target(server), 'info']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/^name:\s+vnc-agent cli test$/m);
      expect(result.stdout).toMatch(/^size:\s+1280x800$/m);
      expect(result.stdout).toMatch(/^protocol:\s+RFB 3\.8 \(server announced 3\.8\)$/m);
      expect(result.stdout).toMatch(/^security:\s+None \(1\)$/m);
      expect(result.stdout).toMatch(/^extendedClipboard:\s+yes$/m);
      expect(result.stdout).toMatch(new RegExp(`^remote:\\s+127\\.0\\.0\\.1:${server.port}$`, 'm'));

      const json = await cli([...target(server), '--json', 'info']);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({
        name: 'vnc-agent cli test',
        width: 1280,
        height: 800,
        protocolVersion: '3.8',
        serverVersion: '3.8',
        securityType: 1,
        securityTypeName: 'None (1)',
        remote: `127.0.0.1:${server.port}`,
        extendedClipboard: true,
        canResize: true,
      });
    } finally {
      await server.stop();
    }
  });

  test('screenshot writes a PNG of the screen (or a region) with the real background', async ({ xvnc }) => {
    await xdotool(xvnc, ['mousemove', '--sync', '1200', '700']); // keep the pointer away from the pixels checked
    const file = join(scratch, 'shots/screen.png');
    const result = await cli([...target(xvnc), 'screenshot', file]);
    expect(result.code, result.stderr).toBe(0);
    const png = await readFile(file);
    expect(result.stdout).toBe(`${file} (1280x800, ${png.length} bytes)\n`);
    const image = decodePng(png);
    expect([image.width, image.height]).toEqual([1280, 800]);
    const at = (x: number, y: number) => [...image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3)];
    expect(at(5, 5)).toEqual(hexToRgb(DEFAULT_BACKGROUND));
    expect(at(1279, 0)).toEqual(hexToRgb(DEFAULT_BACKGROUND));

    const part = join(scratch, 'region.png');
    const region = await cli([...target(xvnc), '--json', 'screenshot', part, '--region', '10,20,300,200']);
    expect(region.code, region.stderr).toBe(0);
    const bytes = (await readFile(part)).length;
    expect(JSON.parse(region.stdout)).toEqual({ path: part, width: 300, height: 200, bytes });
    const cropped = decodePng(await readFile(part));
    expect([cropped.width, cropped.height]).toEqual([300, 200]);
    expect([...cropped.data.subarray(0, 3)]).toEqual(hexToRgb(DEFAULT_BACKGROUND));

    const outside = await cli([...target(xvnc), 'screenshot', part, '--region', '1200,700,100,200']);
    expect(expectShortError(outside, 1)[0]).toContain('is not inside the 1280x800 screen');
  });

  test('wait-stable and wait-change: exit 0 when the screen does what was asked, 1 after --timeout', async ({ xvnc }) => {
    const stable = await cli([...target(xvnc), 'wait-stable', '--still', '300']);
    expect(stable.code, stable.stderr).toBe(0);
    expect(stable.stdout).toMatch(/^stable: no change for 300 ms \(waited \d+ ms\)\n$/);

    const unchanged = await cli([...target(xvnc), '--timeout', '1', 'wait-change']);
    expect(expectShortError(unchanged, 1)).toEqual(['vnc-agent: The screen did not change within 1000 ms.', 'hint: --timeout is 1 s; give a larger one to wait longer']);

    // An xterm appearing at 40,40 changes that region while wait-change watches it.
    const waiting = cli.start([...target(xvnc), '--debug', '--json', 'wait-change', '--region', '40,40,200,100']);
    let xterm: Xterm | undefined;
    try {
      await waiting.waitForStderr('debug: connected');
      xterm = await startXterm(xvnc, { geometry: '30x5+40+40' });
      expect(await waiting.exited, waiting.stderr()).toBe(0);
      expect(JSON.parse(waiting.stdout())).toMatchObject({ changed: true });
    } finally {
      waiting.child.kill();
      await xterm?.stop();
    }

    // A terminal that keeps printing: the screen never settles there, but does elsewhere.
    const busy = await startXterm(xvnc, { geometry: '30x5+40+40', command: ['sh', '-c', 'while :; do date +%s%N; sleep 0.05; done'] });
    try {
      const restless = await cli([...target(xvnc), '--timeout', '1.5', 'wait-stable', '--still', '500']);
      expect(expectShortError(restless, 1)[0]).toContain('kept changing for 1500 ms');
      const elsewhere = await cli([...target(xvnc), '--timeout', '5', 'wait-stable', '--still', '300', '--region', '800,500,400,250']);
      expect(elsewhere.code, elsewhere.stderr).toBe(0);
    } finally {
      await busy.stop();
    }
  });
});

test.describe('vnc-agent: pointer', () => {
  test('move puts the real pointer there', async ({ xvnc }) => {
    const result = await cli([...target(xvnc), 'move', '300', '200']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(await pointerLocation(xvnc)).toEqual({ x: 300, y: 200 });

    const json = await cli([...target(xvnc), '--json', 'move', '1279', '799']);
    expect(JSON.parse(json.stdout)).toEqual({ x: 1279, y: 799 });
    expect(await pointerLocation(xvnc)).toEqual({ x: 1279, y: 799 });
    const position = await cli([...target(xvnc), 'position']);
    expect(position.stdout).toBe('1279 799\n');

    const off = await cli([...target(xvnc), 'move', '1280', '10']);
    expect(expectShortError(off, 1)[0]).toContain('is off the 1280x800 screen');
  });

  test('click, click where the pointer was left, drag, and scroll reach the X server', async ({ xvnc }) => {
    const fresh = await cli([...target(xvnc), 'click']);
    expect(expectShortError(fresh, 1)).toEqual([
      `vnc-agent: click without coordinates: vnc-agent has not put the pointer anywhere on 127.0.0.1:${xvnc.port} yet (VNC cannot report where it is)`,
      'hint: give X Y, or run "vnc-agent move X Y" first',
    ]);

    const buttons = await watchRootButtons(xvnc);
    try {
      expect((await cli([...target(xvnc), 'click', '100', '150', '--button', 'right'])).code).toBe(0);
      expect((await cli([...target(xvnc), 'move', '500', '300'])).code).toBe(0);
      expect((await cli([...target(xvnc), 'click', '--double'])).code).toBe(0);
      expect((await cli([...target(xvnc), 'drag', '100', '100', '300', '200', '--steps', '5'])).code).toBe(0);
      expect((await cli([...target(xvnc), 'scroll', 'down', '2', '--at', '640,400'])).code).toBe(0);
      expect((await cli([...target(xvnc), 'scroll', 'up'])).code).toBe(0);
      expect(await buttons.events(14)).toEqual([
        'press 3 @100,150',
        'release 3 @100,150',
        'press 1 @500,300',
        'release 1 @500,300',
        'press 1 @500,300',
        'release 1 @500,300',
        'press 1 @100,100',
        'release 1 @300,200',
        'press 5 @640,400',
        'release 5 @640,400',
        'press 5 @640,400',
        'release 5 @640,400',
        'press 4 @640,400',
        'release 4 @640,400',
      ]);
    } finally {
      await buttons.stop();
    }
    expect(await pointerLocation(xvnc)).toEqual({ x: 640, y: 400 });
  });
});

/**
 * Gives the xterm keyboard focus by moving the pointer into it with `vnc-agent move` (no window
 * manager: focus follows the pointer). Not `xterm.focus()`: `xdotool mousemove --sync` waits for a
 * motion that never comes when the pointer is already there.
 */
async function focusWithCli(server: Pick<XvncServer, 'port'>, xterm: Xterm): Promise<void> {
  const { x, y, width, height } = xterm.geometry;
  const moved = await cli([...target(server), 'move', String(x + Math.floor(width / 2)), String(y + Math.floor(height / 2))]);
  expect(moved.code, moved.stderr).toBe(0);
}

test.describe('vnc-agent: keyboard', () => {
  test('type arrives in an xterm byte for byte, from an argument and from stdin', async ({ xvnc }) => {
    const sink = join(scratch, 'typed.txt');
    const xterm = await startXterm(xvnc, { sinkFile: sink });
    try {
      await focusWithCli(xvnc, xterm);

      const typed = await cli([...target(xvnc), 'type', 'hello\nhéllo wörld\nA!@#$%^&*()_+{}|:"<>?~\n']);
      expect(typed.code, typed.stderr).toBe(0);
      expect(typed.stdout).toBe('');
      expect(await readFileWhenContains(sink, '~\n')).toBe('hello\nhéllo wörld\nA!@#$%^&*()_+{}|:"<>?~\n');

      const piped = await cli([...target(xvnc), '--typing-delay', '5', 'type', '-'], { input: 'from stdin ✓\n' });
      expect(piped.code, piped.stderr).toBe(0);
      const dashed = await cli([...target(xvnc), 'type', '--delay', '0', '--', '-n -5\n']);
      expect(dashed.code, dashed.stderr).toBe(0);
      expect(await readFileWhenContains(sink, '-5\n')).toBe('hello\nhéllo wörld\nA!@#$%^&*()_+{}|:"<>?~\nfrom stdin ✓\n-n -5\n');
    } finally {
      await xterm.stop();
    }
  });

  test('key presses keys and chords, one after another', async ({ xvnc }) => {
    const sink = join(scratch, 'keys.txt');
    const xterm = await startXterm(xvnc, { sinkFile: sink });
    try {
      await focusWithCli(xvnc, xterm);
      const step = async (...args: string[]) => {
        const result = await cli([...target(xvnc), ...args]);
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      };
      await step('type', 'abc');
      await step('key', 'BackSpace');
      await step('type', '\n');
      expect(await readFileWhenContains(sink, '\n')).toBe('ab\n');

      await step('type', 'wxyz');
      await step('key', 'BackSpace', 'BackSpace', 'Return');
      await step('type', 'junk');
      await step('key', 'ctrl+u'); // the terminal's "kill line": only a real Ctrl chord does that
      await step('type', 'ok\n');
      expect(await readFileWhenContains(sink, 'ok\n')).toBe('ab\nwx\nok\n');

      const unknown = await cli([...target(xvnc), 'key', 'ctrl+entr']);
      expect(expectShortError(unknown, 2)[1]).toBe('usage: vnc-agent [options] key CHORD...');
    } finally {
      await xterm.stop();
    }
  });
});

test.describe('vnc-agent: clipboard', () => {
  test('clipboard set --hold keeps the text on the desktop while it holds', async ({ xvnc }) => {
    const text = 'set by vnc-agent — ✓ 42';
    const holder = cli.start([...target(xvnc), 'clipboard', 'set', text, '--hold', '3']);
    try {
      let seen = '';
      const deadline = Date.now() + 5000;
      while (seen !== text && Date.now() < deadline) {
        seen = await clipboardGet(xvnc, 2000).catch(() => seen);
        if (seen !== text) await delay(100);
      }
      expect(seen).toBe(text);
      expect(await holder.exited, holder.stderr()).toBe(0);
      expect(holder.stdout()).toBe('');
    } finally {
      holder.child.kill();
    }
  });

  test('clipboard get prints what the desktop copied while it waited', async ({ xvnc }) => {
    for (const [flags, text] of [
      [[], 'copied — ✓\nsecond line'],
      [['--json'], 'json ✓'],
    ] as const) {
      const getter = cli.start([...target(xvnc), '--debug', ...flags, 'clipboard', 'get']);
      let owner: Awaited<ReturnType<typeof clipboardOwn>> | undefined;
      try {
        await getter.waitForStderr('debug: connected');
        owner = await clipboardOwn(xvnc, text);
        expect(await getter.exited, getter.stderr()).toBe(0);
        expect(flags.length === 0 ? getter.stdout() : JSON.parse(getter.stdout())).toEqual(flags.length === 0 ? text : { text });
      } finally {
        getter.child.kill();
        await owner?.stop();
      }
    }

    const nothing = await cli([...target(xvnc), '--timeout', '0.5', 'clipboard', 'get']);
    expect(expectShortError(nothing, 1)).toEqual([
      'vnc-agent: The server announced no clipboard text within 0.5 s.',
      'hint: servers announce clipboard text when it changes: copy something on the remote desktop while vnc-agent waits',
    ]);
  });
});

test.describe('vnc-agent: failures', () => {
  test('password: VNC_PASSWORD or --password; a wrong one fails without being printed', async ({ xvncWithPassword: server }) => {
    const env = (password?: string) => cliEnv(join(scratch, 'state'), password === undefined ? {} : { VNC_PASSWORD: password });
    const fromEnv = await cli([...target(server), 'info'], { env: env(XVNC_PASSWORD) });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stdout).toMatch(/^security:\s+VNC Authentication \(2\)$/m);
    const flagWins = await cli([...target(server), '--password', XVNC_PASSWORD, 'info'], { env: env('wrong-env-pw') });
    expect(flagWins.code, flagWins.stderr).toBe(0);

    const wrong = 'wrongpass-Zq9';
    const failed = await cli([...target(server), '--password', wrong, 'info'], { env: env() });
    const lines = expectShortError(failed, 1);
    expect(lines[0]).toMatch(/authentication/i);
    expect(failed.stdout + failed.stderr).not.toContain(wrong);
    expect(failed.stdout + failed.stderr).not.toContain('wrongpas'); // VNC auth uses 8 characters

    const debug = await cli([...target(server), '--debug', 'info'], { env: env(wrong) });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/authentication/i);
    expect(debug.stderr).toMatch(/\n\s+at /);
    expect(debug.stdout + debug.stderr).not.toContain('wrongpas');

    const none = await cli([...target(server), 'info'], { env: env() });
    expect(expectShortError(none, 1)[0]).toContain('no password was given');
  });

  test('nothing listening: exit 1, "Connection refused" in one or two lines; --debug adds the stack', async () => {
    const port = await freePort();
    const refused = await cli(['--port', String(port), 'info']);
    const lines = expectShortError(refused, 1);
    expect(lines[0]).toContain('Connection refused');
    expect(lines[0]).toContain(`127.0.0.1:${port}`);
    expect(refused.stdout).toBe('');

    const debug = await cli(['--port', String(port), '--debug', 'info']);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toContain('Connection refused');
    expect(debug.stderr).toMatch(/VNCConnectionError: Connection refused[^\n]*\n\s+at /);
    expect(debug.stderr).toContain('ECONNREFUSED');
  });

  test('usage errors exit 2 with the message and the usage line; --help and --version exit 0', async () => {
    const unknown = await cli(['clik', '10', '20']);
    const lines = expectShortError(unknown, 2);
    expect(lines[0]).toBe('vnc-agent: unknown command "clik" (did you mean click?)');
    expect(lines[1]).toMatch(/^usage: vnc-agent \[options\] <info\|screenshot\|/);

    const half = await cli(['click', '10']);
    expect(expectShortError(half, 2)).toEqual([
      'vnc-agent: click: missing Y (got only X "10"; give both X and Y, or neither to click where the pointer is)',
      'usage: vnc-agent [options] click [X Y] [--button left|right|middle] [--double]',
    ]);
    const zero = await cli(['--timeout', '0', 'info']);
    expect(expectShortError(zero, 2)[0]).toBe('vnc-agent: --timeout must be a positive number of seconds, got "0"');

    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toContain('VNC_PASSWORD');
    expect(help.stdout).toContain('VNC_TICKET');
    expect(help.stdout).toContain("--url TEMPLATE");
    const stray = await cli(['--ticket', 'tk', 'info']);
    expect(expectShortError(stray, 2)).toEqual([
      'vnc-agent: option --ticket needs --url (it is for WebSocket connections)',
      "usage: vnc-agent --url TEMPLATE [--host HOST] [--port PORT] [--ticket T] [--var NAME=VALUE]... [--header 'NAME: VALUE']... [--subprotocol binary|none] [--ca-file PEM | --insecure] [options] COMMAND [arguments]",
    ]);
    const commandHelp = await cli(['help', 'clipboard']);
    expect(commandHelp.stdout).toContain('--hold SECONDS');
    const version = await cli(['--version']);
    expect(version.stdout).toBe(`${PACKAGE_VERSION}\n`);
  });

  test('Ctrl-C while holding the clipboard disconnects and exits 130', async ({ xvnc }) => {
    const holder = cli.start([...target(xvnc), '--debug', 'clipboard', 'set', 'held', '--hold', '60']);
    try {
      await holder.waitForStderr('debug: holding the connection');
      const started = Date.now();
      holder.child.kill('SIGINT');
      expect(await holder.exited).toBe(130);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(holder.stderr()).toContain('vnc-agent: interrupted');
      expect(holder.stderr()).toContain('debug: disconnected');
    } finally {
      holder.child.kill('SIGKILL');
    }
  });
});
