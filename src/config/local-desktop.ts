/**
 * `launch: { preset: local-desktop }`: a TigerVNC `Xvnc` on a free display (`-displayfd`, so
 * parallel workers cannot collide) and a free port, listening on 127.0.0.1 only, without a
 * password (`-SecurityTypes None`); the root window painted #204080; an xterm at 40,40 — a known
 * desktop for tests and examples.
 */
import { VNCConfigError, VNCTimeoutError } from '../errors.js';
import type { LaunchedTarget } from './launch.js';
import { delay, findExecutable, freePort, indentOutput, runQuick, spawnGroup, waitForVnc, type LaunchedProcess } from './processes.js';
import { formatLocation } from './problems.js';
import type { LocalDesktopLaunch } from './types.js';

/** The root window's colour (`xsetroot -solid`): tests check a corner pixel against it. */
export const LOCAL_DESKTOP_BACKGROUND = '#204080';
/** The xterm's size in characters and its position. */
export const LOCAL_DESKTOP_XTERM_GEOMETRY = '100x30+40+40';
/** The xterm's window title (fixed: title changes are turned off). */
export const LOCAL_DESKTOP_XTERM_TITLE = 'vnc-agent-desktop';

const REQUIRED = [
  ['Xvnc', 'tigervnc-standalone-server'],
  ['xsetroot', 'x11-xserver-utils'],
  ['xterm', 'xterm'],
] as const;
const XVNC_ATTEMPTS = 5;

export interface LocalDesktopOptions {
  /** For messages. */
  targetName: string;
  signal?: AbortSignal;
  /** The environment the programs start from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Reads the display number Xvnc writes to fd 3 (`-displayfd 3`). */
function readDisplayFd(proc: LaunchedProcess, deadline: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const pipe = proc.child.stdio[3];
    if (!pipe || !('on' in pipe)) return resolve(undefined);
    let text = '';
    const timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
    pipe.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /^(\d+)\n/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void proc.exited.then(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Starts the desktop; everything started is stopped again if a step fails. */
export async function startLocalDesktop(launch: LocalDesktopLaunch, options: LocalDesktopOptions): Promise<LaunchedTarget> {
  const where = `${formatLocation(launch.source)}: target "${options.targetName}"`;
  const baseEnv = options.env ?? process.env;
  const missing = REQUIRED.filter(([command]) => findExecutable(command, baseEnv) === undefined);
  if (missing.length > 0) {
    throw new VNCConfigError(
      `${where} launches a local desktop, but ${missing.map(([command]) => command).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed. ` +
        `Run \`npm run setup\` (or \`apt-get install ${missing.map(([, pkg]) => pkg).join(' ')}\`).`,
    );
  }
  const deadline = Date.now() + launch.timeoutMs;
  const started: LaunchedProcess[] = [];
  const stopAll = async (): Promise<void> => {
    for (const proc of [...started].reverse()) await proc.stop().catch(() => undefined);
  };
  const fail = async (error: Error): Promise<never> => {
    await stopAll();
    throw aborted(options.signal) ? (options.signal!.reason as Error) : error;
  };

  // 1. Xvnc, retried when another process takes the port first.
  let xvnc: LaunchedProcess | undefined;
  let display: number | undefined;
  let port = 0;
  let lastLog = '';
  for (let attempt = 0; attempt < XVNC_ATTEMPTS && !xvnc && Date.now() < deadline && !aborted(options.signal); attempt++) {
    port = await freePort();
    const proc = spawnGroup(
      'Xvnc',
      ['-displayfd', '3', '-rfbport', String(port), '-localhost', '-nolisten', 'tcp', '-SecurityTypes', 'None', '-AlwaysShared', '-desktop', 'vnc-agent', '-geometry', launch.geometry, '-depth', String(launch.depth)],
      { env: baseEnv, extraFds: ['pipe'] },
    );
    started.push(proc);
    display = await readDisplayFd(proc, deadline);
    const ready = display === undefined ? undefined : await waitForVnc('127.0.0.1', port, deadline, proc, options.signal);
    if (ready?.ready) {
      xvnc = proc;
      break;
    }
    await proc.stop(1000);
    await Promise.race([proc.exited, delay(300)]);
    lastLog = proc.logTail(15);
    started.pop();
    if (!/Address already in use|already active/i.test(lastLog)) break;
  }
  if (!xvnc || display === undefined) {
    if (Date.now() >= deadline) return fail(new VNCTimeoutError(`${where}: Xvnc did not serve VNC within ${launch.timeoutMs} ms. Its last output:\n${indentOutput(lastLog)}`, launch.timeoutMs));
    return fail(new VNCConfigError(`${where}: Xvnc failed to start. Its last output:\n${indentOutput(lastLog)}`));
  }
  const env: NodeJS.ProcessEnv = { ...baseEnv, DISPLAY: `:${display}` };
  delete env.XAUTHORITY;

  // 2. The background.
  const root = await runQuick('xsetroot', ['-solid', LOCAL_DESKTOP_BACKGROUND], env).catch((error: Error) => ({ code: null, stdout: '', stderr: error.message }));
  if (root.code !== 0) return fail(new VNCConfigError(`${where}: xsetroot failed on display :${display}: ${root.stderr.trim() || `exit ${root.code}`}`));

  // 3. An xterm, waited for until its window is on the screen.
  // A plain /bin/sh with a fixed prompt: the user's shell and rc files (which may be slow or print
  // things) would make the desktop differ from machine to machine.
  const xterm = spawnGroup(
    'xterm',
    ['-u8', '-geometry', LOCAL_DESKTOP_XTERM_GEOMETRY, '-title', LOCAL_DESKTOP_XTERM_TITLE, '-xrm', '*allowTitleOps: false', '-e', '/bin/sh'],
    { env: { ...env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', SHELL: '/bin/sh', PS1: '$ ', ENV: '' } },
  );
  started.push(xterm);
  const mapped = await waitForWindow(LOCAL_DESKTOP_XTERM_TITLE, env, deadline, xterm, options.signal);
  if (mapped !== true) {
    const why = xterm.hasExited() ? 'xterm exited' : aborted(options.signal) ? 'aborted' : `the xterm window was not shown within ${launch.timeoutMs} ms`;
    const message = `${where}: ${why} (display :${display}). xterm's last output:\n${indentOutput(xterm.logTail(15))}`;
    return fail(why.startsWith('the xterm') ? new VNCTimeoutError(message, launch.timeoutMs) : new VNCConfigError(message));
  }
  if (aborted(options.signal)) return fail(new Error('aborted'));

  let stopping: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    display,
    env,
    reused: false,
    pids: started.map((proc) => proc.pid),
    log: () => `--- Xvnc ---\n${xvnc.logTail(40)}\n--- xterm ---\n${xterm.logTail(20)}`,
    stop: () => (stopping ??= stopAll()),
  };
}

/**
 * Polls `xwininfo -name TITLE` until the window is viewable; without xwininfo (x11-utils), waits a
 * moment instead. Resolves false when the deadline passes, the process exits or the signal aborts.
 */
async function waitForWindow(title: string, env: NodeJS.ProcessEnv, deadline: number, proc: LaunchedProcess, signal?: AbortSignal): Promise<boolean> {
  if (findExecutable('xwininfo', env) === undefined) {
    await delay(500);
    return !proc.hasExited();
  }
  while (Date.now() < deadline) {
    if (proc.hasExited() || aborted(signal)) return false;
    const info = await runQuick('xwininfo', ['-name', title], env, 2000).catch(() => undefined);
    if (info?.code === 0 && /Map State:\s*IsViewable/.test(info.stdout)) return true;
    await delay(50);
  }
  return false;
}
