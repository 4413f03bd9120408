/**
 * Starts TigerVNC `Xvnc` servers for the tests, on 127.0.0.1 only.
 *
 * The display number comes from Xvnc's `-displayfd` (the X server binds the first free display
 * atomically, so parallel workers cannot collide); if that option is not supported we fall back to
 * scanning /tmp/.X11-unix and /tmp/.X*-lock. The RFB port comes from `freePort()`; if another
 * process grabs it in the meantime Xvnc exits with "Address already in use" and we retry.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, freePort, run, runChecked, startProcess, stopProcess, type StartedProcess } from './processes.js';

export { RFB_BANNER, readBanner } from './server-startup.js';
import { readDisplayFd, startupError, waitForBanner } from './server-startup.js';
export const DEFAULT_BACKGROUND = '#204080';

export interface XvncOptions {
  /** VNC password (only the first 8 characters count). Without it: `-SecurityTypes None`. */
  password?: string;
  /** Screen size, default '1280x800'. */
  geometry?: string;
  /** Colour depth, default 24. */
  depth?: number;
  /** Appended to the Xvnc command line. */
  extraArgs?: string[];
  /** Overall start-up limit, default 15 s. */
  timeoutMs?: number;
  /** Root window colour set with `xsetroot -solid`; null leaves Xvnc's default. Default '#204080'. */
  background?: string | null;
}

export interface XvncServer {
  display: number;
  port: number;
  host: '127.0.0.1';
  password?: string;
  /** process.env plus DISPLAY=:N (for xdotool, xterm, …). */
  env: NodeJS.ProcessEnv;
  pid: number;
  /** SIGTERM (SIGKILL after 5 s), wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL) without waiting — for crash tests. */
  kill(signal?: NodeJS.Signals): void;
  /** Xvnc's captured output. */
  log(): string;
}


/** Writes a VNC password file (obfuscated by `vncpasswd -f`) into `dir` and returns its path. */
async function writePasswordFile(dir: string, password: string): Promise<string> {
  const result = await runChecked('vncpasswd', ['-f'], { input: `${password}\n`, timeoutMs: 5000 });
  const file = join(dir, 'passwd');
  await writeFile(file, result.stdoutBuffer, { mode: 0o600 });
  return file;
}

/** Fallback display picker: the lowest N ≥ 10 with neither /tmp/.X11-unix/XN nor /tmp/.XN-lock. */
export function scanFreeDisplay(start = 10): number {
  const used = new Set<number>();
  const collect = (dir: string, re: RegExp): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const m = re.exec(name);
      if (m) used.add(Number(m[1]));
    }
  };
  collect('/tmp/.X11-unix', /^X(\d+)$/);
  collect('/tmp', /^\.X(\d+)-lock$/);
  let n = start;
  while (used.has(n)) n++;
  return n;
}



/** Builds the Xvnc argument list (without the display selection). */
function xvncArgs(port: number, options: XvncOptions, passwordFile: string | undefined): string[] {
  const security = passwordFile ? ['-SecurityTypes', 'VncAuth', '-rfbauth', passwordFile] : ['-SecurityTypes', 'None'];
  return [
    '-rfbport', String(port),
    '-localhost', '-nolisten', 'tcp', '-UseBlacklist=0', '-AlwaysShared',
    '-geometry', options.geometry ?? '1280x800',
    '-depth', String(options.depth ?? 24),
    ...security,
    ...(options.extraArgs ?? []),
  ];
}

interface Launched {
  proc: StartedProcess;
  display: number;
  port: number;
}

/** One launch attempt: spawn Xvnc, learn its display, wait for the banner. Kills it on failure. */
async function launchOnce(options: XvncOptions, passwordFile: string | undefined, useDisplayFd: boolean, deadline: number): Promise<Launched> {
  const port = await freePort();
  const chosen = useDisplayFd ? undefined : scanFreeDisplay();
  const displayArgs = chosen === undefined ? ['-displayfd', '3'] : [`:${chosen}`];
  const proc = startProcess('Xvnc', [...displayArgs, ...xvncArgs(port, options, passwordFile)], {
    extraFds: useDisplayFd ? ['pipe'] : [],
  });
  try {
    const display = chosen ?? (await readDisplayFd(proc, 'Xvnc', Math.max(0, deadline - Date.now())));
    await waitForBanner(proc, 'Xvnc', port, deadline);
    return { proc, display, port };
  } catch (e) {
    await stopProcess(proc, 1000).catch(() => {});
    throw await startupError(proc, 'Xvnc', e);
  }
}

/** Launches Xvnc, retrying on port races (and falling back from -displayfd if unsupported). */
async function launch(options: XvncOptions, passwordFile: string | undefined, deadline: number): Promise<Launched> {
  let useDisplayFd = true;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 5 && Date.now() < deadline; attempt++) {
    try {
      return await launchOnce(options, passwordFile, useDisplayFd, deadline);
    } catch (e) {
      lastError = e as Error;
      const log = (e as Error & { xvncLog?: string }).xvncLog ?? '';
      if (/Unrecognized option: -displayfd/i.test(log)) useDisplayFd = false;
      else if (!/Address already in use|Server is already active/i.test(log)) break;
    }
  }
  throw lastError ?? new Error('Xvnc start timed out');
}

/**
 * Starts an Xvnc server on 127.0.0.1 and resolves once it serves `RFB 003.008\n`.
 * The caller must `stop()` it (the process registry kills it on exit as a last resort).
 */
export async function startXvnc(options: XvncOptions = {}): Promise<XvncServer> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-xvnc-'));
  let launched: Launched;
  try {
    const passwordFile = options.password !== undefined ? await writePasswordFile(dir, options.password) : undefined;
    launched = await launch(options, passwordFile, deadline);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const { proc, display, port } = launched;
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: `:${display}` };
  delete env.XAUTHORITY;
  let stopped: Promise<void> | undefined;
  const server: XvncServer = {
    display,
    port,
    host: '127.0.0.1',
    password: options.password,
    env,
    pid: proc.pid,
    stop: () => (stopped ??= stopProcess(proc, 5000).finally(() => rm(dir, { recursive: true, force: true }))),
    kill: (signal = 'SIGKILL') => void proc.child.kill(signal),
    log: () => proc.log(),
  };
  const background = options.background === undefined ? DEFAULT_BACKGROUND : options.background;
  if (background !== null) {
    const result = await run('xsetroot', ['-solid', background], { env, timeoutMs: 5000 });
    if (result.code !== 0) {
      await server.stop();
      throw new Error(`xsetroot -solid ${background} failed on :${display}: ${result.stderr}\n${proc.logTail()}`);
    }
  }
  return server;
}
