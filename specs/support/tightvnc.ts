/**
 * Starts Debian's TightVNC server (`Xtightvnc`, package tightvncserver 1.3.10) on 127.0.0.1 for the
 * tests: classic Tight encoding, security types [VNC Authentication, Tight] with a password ([None]
 * without). It has no -displayfd: the display is scanned for (as Xvnc's fallback does), and a
 * start that loses a race for the display or the port is retried.
 *
 * Its clipboard: it syncs the CUT_BUFFER0 property of the root window, not the CLIPBOARD selection.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, run, runChecked, startProcess, stopProcess, type StartedProcess } from './processes.js';
import { startupError, waitForBanner } from './server-startup.js';
import { DEFAULT_BACKGROUND, scanFreeDisplay } from './xvnc.js';

export interface TightVncOptions {
  /** VNC password (first 8 characters count). Without it the server asks for no authentication. */
  password?: string;
  /** Screen size, default '1024x768'. */
  geometry?: string;
  /** Desktop name, default 'tightvnc'. */
  desktopName?: string;
  /** Overall start-up limit, default 15 s. */
  timeoutMs?: number;
}

export interface TightVncServer {
  display: number;
  port: number;
  host: '127.0.0.1';
  password?: string;
  /** process.env plus DISPLAY=:N. */
  env: NodeJS.ProcessEnv;
  pid: number;
  /** SIGTERM (SIGKILL after 5 s), wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  log(): string;
}

async function launchOnce(dir: string, options: TightVncOptions, passwordFile: string | undefined, deadline: number): Promise<{ proc: StartedProcess; display: number; port: number }> {
  const display = scanFreeDisplay(40);
  const port = await freePort();
  const args = [
    `:${display}`,
    '-rfbport', String(port),
    '-localhost', '-nolisten', 'tcp', '-alwaysshared',
    '-geometry', options.geometry ?? '1024x768',
    '-depth', '24',
    '-desktop', options.desktopName ?? 'tightvnc',
    ...(passwordFile ? ['-rfbauth', passwordFile] : []),
  ];
  const proc = startProcess('Xtightvnc', args, { cwd: dir });
  try {
    await waitForBanner(proc, 'Xtightvnc', port, deadline);
    return { proc, display, port };
  } catch (error) {
    await stopProcess(proc, 1000).catch(() => {});
    throw await startupError(proc, 'Xtightvnc', error);
  }
}

/** Starts Xtightvnc and resolves once it serves `RFB 003.008\n`; the caller must `stop()` it. */
export async function startTightVnc(options: TightVncOptions = {}): Promise<TightVncServer> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-tightvnc-'));
  let launched: { proc: StartedProcess; display: number; port: number } | undefined;
  let lastError: Error | undefined;
  try {
    let passwordFile: string | undefined;
    if (options.password !== undefined) {
      const result = await runChecked('tightvncpasswd', ['-f'], { input: `${options.password}\n`, timeoutMs: 5000 });
      passwordFile = join(dir, 'passwd');
      await writeFile(passwordFile, result.stdoutBuffer, { mode: 0o600 });
    }
    for (let attempt = 0; attempt < 5 && !launched && Date.now() < deadline; attempt++) {
      try {
        launched = await launchOnce(dir, options, passwordFile, deadline);
      } catch (error) {
        lastError = error as Error;
        const log = (error as Error & { serverLog?: string }).serverLog ?? '';
        if (!/already in use|already active|Address in use|bind/i.test(log)) break;
      }
    }
    if (!launched) throw lastError ?? new Error('Xtightvnc did not start in time');
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const { proc, display, port } = launched;
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: `:${display}` };
  delete env.XAUTHORITY;
  let stopped: Promise<void> | undefined;
  const server: TightVncServer = {
    display,
    port,
    host: '127.0.0.1',
    password: options.password,
    env,
    pid: proc.pid,
    stop: () => (stopped ??= stopProcess(proc, 5000).finally(() => rm(dir, { recursive: true, force: true }))),
    log: () => proc.log(),
  };
  const result = await run('xsetroot', ['-solid', DEFAULT_BACKGROUND], { env, timeoutMs: 5000 });
  if (result.code !== 0) {
    await server.stop();
    throw new Error(`xsetroot -solid ${DEFAULT_BACKGROUND} failed on :${display}: ${result.stderr}\n${proc.logTail()}`);
  }
  return server;
}
