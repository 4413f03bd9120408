/**
 * A Wayland desktop with a fixed keyboard layout: a headless `sway` (wlroots, pixman renderer) with a
 * `foot` terminal that appends what it reads to a file, shared by `wayvnc` on 127.0.0.1.
 *
 * Both run as an unprivileged user (nobody, 65534) with their own XDG_RUNTIME_DIR, as sway refuses
 * root. wayvnc gives remote input its own virtual keyboard whose keymap is `-k LAYOUT` (default
 * `us`): a keysym that layout cannot produce is dropped ("Failed to look up keyboard symbol" in its
 * log). The sway `input * xkb_layout` is set to the same layout for any physical keyboard.
 *
 * Truth: `screenshot()` is `grim`'s PNG of the output, `clipboard()` is `wl-paste`, `typed()` the
 * file the terminal writes. With `auth`, wayvnc offers VeNCrypt X509Plain (certificate, key,
 * username, password in a wayvnc config file).
 */
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, freePort, run, startProcess, stopProcess, type RunResult, type StartedProcess } from './processes.js';
import { startupError, waitForBanner } from './server-startup.js';

export const NOBODY = 65534;

export interface WayvncAuth {
  username: string;
  password: string;
  /** PEM files readable by the server (copied into its private directory). */
  certPath: string;
  keyPath: string;
}

export interface WayvncOptions {
  /** xkb layout of wayvnc's virtual keyboard and of sway's inputs, e.g. 'de'. Default 'us'. */
  layout?: string;
  /** Output size, default '1024x768'. */
  resolution?: string;
  /** VeNCrypt X509Plain with these credentials; without it wayvnc offers None. */
  auth?: WayvncAuth;
  /** Start-up limit, default 30 s. */
  timeoutMs?: number;
}

export interface WayvncServer {
  host: '127.0.0.1';
  port: number;
  layout: string;
  /** The file the typing-sink terminal appends to (keyboard focus: move the pointer into it, at 40,40 560×400). */
  typedPath: string;
  typed(): string;
  /** Resolves once `typed()` contains `text`; rejects after `timeoutMs` with what arrived. */
  waitForTyped(text: string, timeoutMs?: number): Promise<string>;
  /** PNG of the output from grim (the compositor's true pixels). */
  screenshot(): Promise<Buffer>;
  /** The Wayland clipboard (wl-paste), '' when empty. */
  clipboard(): Promise<string>;
  /** Runs a command as the desktop's user with its Wayland environment. */
  runAsUser(command: string, args: string[], input?: string): Promise<RunResult>;
  /** sway's and wayvnc's output, for failure messages. */
  log(): string;
  /** Whether wayvnc is still running (it may die, e.g. SIGPIPE on a dead TLS client). */
  wayvncAlive(): boolean;
  wayvncExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

function ownedByNobody(path: string, mode: number): void {
  chownSync(path, NOBODY, NOBODY);
  chmodSync(path, mode);
}

function swayConfig(resolution: string, layout: string, typedPath: string): string {
  return [
    'xwayland disable',
    `output HEADLESS-1 resolution ${resolution} bg #204080 solid_color`,
    'focus_follows_mouse yes',
    `input * xkb_layout ${layout}`,
    'for_window [app_id="typing-sink"] floating enable, move position 40 40',
    `exec foot -a typing-sink -w 560x400 sh -c 'exec cat >> ${typedPath}'`,
    '',
  ].join('\n');
}

/** Starts sway + the typing sink + wayvnc; resolves once the sink window exists and wayvnc answers. */
export async function startWayvnc(options: WayvncOptions = {}): Promise<WayvncServer> {
  const layout = options.layout ?? 'us';
  const resolution = options.resolution ?? '1024x768';
  if (!/^[a-z]{2,3}(-[\w]+)?$/.test(layout)) throw new Error(`startWayvnc: layout must be an xkb layout name like "de" (got ${JSON.stringify(layout)})`);
  if (!/^\d+x\d+$/.test(resolution)) throw new Error(`startWayvnc: resolution must look like 1024x768 (got ${JSON.stringify(resolution)})`);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-wayvnc-'));
  chmodSync(dir, 0o755);
  const runtime = join(dir, 'run');
  const home = join(dir, 'home');
  const typedPath = join(dir, 'typed.txt');
  for (const path of [runtime, home]) {
    await mkdir(path);
    ownedByNobody(path, 0o700);
  }
  await writeFile(typedPath, '');
  ownedByNobody(typedPath, 0o644);
  const configPath = join(dir, 'sway.conf');
  await writeFile(configPath, swayConfig(resolution, layout, typedPath));
  chmodSync(configPath, 0o644);

  const baseEnv: NodeJS.ProcessEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: runtime, LANG: 'C.UTF-8' };
  const asNobody = ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', 'env', '-i'];
  const envArgs = (env: NodeJS.ProcessEnv): string[] => Object.entries(env).map(([key, value]) => `${key}=${value ?? ''}`);
  const spawnAsNobody = (env: NodeJS.ProcessEnv, command: string, args: string[]): StartedProcess =>
    startProcess('setpriv', [...asNobody, ...envArgs(env), command, ...args]);

  let sway: StartedProcess | undefined;
  let wayvnc: StartedProcess | undefined;
  const stop = async (): Promise<void> => {
    if (wayvnc) await stopProcess(wayvnc, 3000).catch(() => undefined);
    if (sway) await stopProcess(sway, 3000).catch(() => undefined);
    // foot and its shell are sway's children; make sure nothing of nobody's from this desktop stays.
    await run('pkill', ['-KILL', '-f', typedPath]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  const log = (): string => `sway:\n${sway?.logTail(40) ?? ''}\nwayvnc:\n${wayvnc?.logTail(40) ?? ''}`;

  try {
    sway = spawnAsNobody({ ...baseEnv, WLR_BACKENDS: 'headless', WLR_LIBINPUT_NO_DEVICES: '1', WLR_RENDERER: 'pixman' }, 'sway', ['-c', configPath]);
    let waylandDisplay: string | undefined;
    let swaySock: string | undefined;
    while (!waylandDisplay || !swaySock) {
      if (sway.hasExited()) throw new Error('sway exited during start-up');
      if (Date.now() > deadline) throw new Error('sway did not create its Wayland socket in time');
      const names = existsSync(runtime) ? readdirSync(runtime) : [];
      waylandDisplay = names.find((name) => /^wayland-\d+$/.test(name));
      const sock = names.find((name) => /^sway-ipc\..*\.sock$/.test(name));
      swaySock = sock ? join(runtime, sock) : undefined;
      await delay(50);
    }
    const userEnv = { ...baseEnv, WAYLAND_DISPLAY: waylandDisplay, SWAYSOCK: swaySock };
    const runAsUser = (command: string, args: string[], input?: string): Promise<RunResult> =>
      run('setpriv', [...asNobody, ...envArgs(userEnv), command, ...args], { input, timeoutMs: 10_000 });
    for (;;) {
      const tree = await runAsUser('swaymsg', ['-t', 'get_tree']);
      if (tree.stdout.includes('"typing-sink"')) break;
      if (Date.now() > deadline) throw new Error(`the typing-sink terminal did not appear in sway's tree (${tree.stderr.trim()})`);
      await delay(100);
    }

    const port = await freePort();
    const wayvncArgs = ['-k', layout];
    if (options.auth) {
      const { username, password, certPath, keyPath } = options.auth;
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      await writeFile(cert, readFileSync(certPath));
      await writeFile(key, readFileSync(keyPath));
      ownedByNobody(cert, 0o600);
      ownedByNobody(key, 0o600);
      const config = join(dir, 'wayvnc.conf');
      await writeFile(config, [`enable_auth=true`, `username=${username}`, `password=${password}`, `certificate_file=${cert}`, `private_key_file=${key}`, ''].join('\n'));
      ownedByNobody(config, 0o600);
      wayvncArgs.push('-C', config);
    }
    wayvnc = spawnAsNobody(userEnv, 'wayvnc', [...wayvncArgs, '127.0.0.1', String(port)]);
    try {
      await waitForBanner(wayvnc, 'wayvnc', port, deadline);
    } catch (error) {
      throw await startupError(wayvnc, 'wayvnc', error);
    }
    const started = wayvnc;
    const typed = (): string => readFileSync(typedPath, 'utf8');
    return {
      host: '127.0.0.1',
      port,
      layout,
      typedPath,
      typed,
      async waitForTyped(text, timeoutMs = 10_000) {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const now = typed();
          if (now.includes(text)) return now;
          if (Date.now() > until) throw new Error(`wayvnc sink: ${JSON.stringify(text)} did not arrive within ${timeoutMs} ms; got ${JSON.stringify(now)}\n${started.logTail(20)}`);
          await delay(50);
        }
      },
      async screenshot() {
        const result = await runAsUser('grim', ['-']);
        if (result.code !== 0) throw new Error(`grim failed: ${result.stderr.trim()}`);
        return result.stdoutBuffer;
      },
      async clipboard() {
        const result = await runAsUser('wl-paste', ['--no-newline']);
        return result.code === 0 ? result.stdout : '';
      },
      runAsUser,
      log,
      wayvncAlive: () => !started.hasExited(),
      wayvncExit: () => started.exited,
      stop,
    };
  } catch (error) {
    const message = `startWayvnc: ${(error as Error).message}\n${log()}`;
    await stop();
    throw new Error(message, { cause: error });
  }
}
