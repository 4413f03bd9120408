/**
 * Starts x11vnc (libvncserver) sharing an Xvfb display, on 127.0.0.1 only.
 *
 * Xvfb picks its display itself (`-displayfd`, atomic, like Xvnc in xvnc.ts) and runs with `-noreset`
 * (otherwise it resets — and loses the root colour — whenever its last X client, e.g. xsetroot,
 * disconnects). x11vnc gets a port
 * from `freePort()` and is retried if another process grabbed it ("could not obtain listening
 * port"). Its RFB port also accepts WebSocket clients (ws://, any path). Unlike Xvnc, x11vnc draws
 * the cursor into the framebuffer. `X11VNC_AVOID_WINDOWS=never` is set so it takes the clipboard
 * at once instead of 45 s after a client connects.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, freePort, run, runChecked, startProcess, stopProcess, type StartedProcess } from './processes.js';
import { readDisplayFd, startupError, waitForBanner } from './server-startup.js';
import { DEFAULT_BACKGROUND } from './xvnc.js';

export interface X11vncOptions {
  /** VNC password (only the first 8 characters count), stored with `x11vnc -storepasswd`. Without it: `-nopw`. */
  password?: string;
  /** Xvfb screen size, default '1280x800' (depth 24). */
  geometry?: string;
  /** Root window colour set with `xsetroot -solid`; null leaves Xvfb's default. Default '#204080'. */
  background?: string | null;
  /** Appended to the x11vnc command line. */
  extraArgs?: string[];
  /** Overall start-up limit, default 20 s. */
  timeoutMs?: number;
}

export interface X11vncServer {
  host: '127.0.0.1';
  /** The RFB port (also accepts ws://127.0.0.1:PORT/). */
  port: number;
  display: number;
  password?: string;
  /** process.env plus DISPLAY=:N (for xdotool, xterm, …). */
  env: NodeJS.ProcessEnv;
  /** x11vnc's PID. */
  pid: number;
  /** Xvfb's PID. */
  xvfbPid: number;
  /** Stops x11vnc, then Xvfb (SIGTERM, SIGKILL after 5 s), removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** x11vnc's captured output, then Xvfb's. */
  log(): string;
}


/** Starts Xvfb on the first free display; kills it on failure. */
async function startXvfb(geometry: string, deadline: number): Promise<{ proc: StartedProcess; display: number }> {
  if (!/^\d+x\d+$/.test(geometry)) throw new Error(`startX11vnc: geometry must look like 1280x800 (got ${JSON.stringify(geometry)})`);
  const proc = startProcess('Xvfb', ['-displayfd', '3', '-screen', '0', `${geometry}x24`, '-nolisten', 'tcp', '-noreset'], { extraFds: ['pipe'] });
  try {
    return { proc, display: await readDisplayFd(proc, 'Xvfb', Math.max(0, deadline - Date.now())) };
  } catch (e) {
    await stopProcess(proc, 1000).catch(() => {});
    throw await startupError(proc, 'Xvfb', e);
  }
}


/** One x11vnc attempt on a fresh port; kills it on failure. */
async function launchX11vnc(display: number, env: NodeJS.ProcessEnv, auth: string[], extraArgs: string[], deadline: number): Promise<{ proc: StartedProcess; port: number }> {
  const port = await freePort();
  const args = ['-display', `:${display}`, '-rfbport', String(port), '-forever', '-shared', '-localhost', '-noipv6', '-norc', ...auth, ...extraArgs];
  const proc = startProcess('x11vnc', args, { env });
  try {
    await waitForBanner(proc, 'x11vnc', port, deadline);
    return { proc, port };
  } catch (e) {
    await stopProcess(proc, 1000).catch(() => {});
    throw await startupError(proc, 'x11vnc', e);
  }
}

/**
 * Starts Xvfb plus x11vnc on 127.0.0.1 and resolves once x11vnc serves `RFB 003.008\n` and the
 * background is set. The caller must `stop()` it (the process registry kills both on exit as a
 * last resort).
 */
export async function startX11vnc(options: X11vncOptions = {}): Promise<X11vncServer> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-x11vnc-'));
  let xvfb: { proc: StartedProcess; display: number } | undefined;
  let x11vnc: { proc: StartedProcess; port: number } | undefined;
  const cleanup = async (): Promise<void> => {
    if (x11vnc) await stopProcess(x11vnc.proc, 5000);
    if (xvfb) await stopProcess(xvfb.proc, 5000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let auth = ['-nopw'];
    if (options.password !== undefined) {
      const file = join(dir, 'passwd');
      await runChecked('x11vnc', ['-storepasswd', options.password, file], { timeoutMs: 5000 });
      auth = ['-rfbauth', file];
    }
    xvfb = await startXvfb(options.geometry ?? '1280x800', deadline);
    const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: `:${xvfb.display}`, X11VNC_AVOID_WINDOWS: 'never' };
    delete env.XAUTHORITY;
    const background = options.background === undefined ? DEFAULT_BACKGROUND : options.background;
    if (background !== null) {
      const result = await run('xsetroot', ['-solid', background], { env, timeoutMs: 5000 });
      if (result.code !== 0) throw new Error(`xsetroot -solid ${background} failed on :${xvfb.display}: ${result.stderr}\n${xvfb.proc.logTail()}`);
    }
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 5 && !x11vnc && Date.now() < deadline; attempt++) {
      try {
        x11vnc = await launchX11vnc(xvfb.display, env, auth, options.extraArgs ?? [], deadline);
      } catch (e) {
        lastError = e as Error;
        if (!/could not obtain listening port|Address already in use/i.test((e as Error & { serverLog?: string }).serverLog ?? '')) break;
      }
    }
    if (!x11vnc) throw lastError ?? new Error('x11vnc start timed out');
    const { display } = xvfb;
    const { proc, port } = x11vnc;
    const xvfbProc = xvfb.proc;
    let stopped: Promise<void> | undefined;
    return {
      host: '127.0.0.1',
      port,
      display,
      password: options.password,
      env,
      pid: proc.pid,
      xvfbPid: xvfbProc.pid,
      stop: () => (stopped ??= cleanup()),
      log: () => `${proc.log()}\n--- Xvfb ---\n${xvfbProc.log()}`,
    };
  } catch (e) {
    await cleanup().catch(() => {});
    throw e;
  }
}
