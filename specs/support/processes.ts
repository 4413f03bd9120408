/**
 * Child-process helpers for the test harness.
 *
 * - `startProcess` spawns a long-lived child whose stdout/stderr go to a bounded in-memory log.
 * - Every started child is tracked in a registry and killed when this process exits or gets
 *   SIGINT/SIGTERM, so a crashed or interrupted test run leaks nothing. On Linux children are also
 *   started through `setpriv --pdeathsig SIGKILL` (same PID after exec), which covers the case
 *   where this process is itself SIGKILLed.
 * - `run` executes a short command with a hard timeout and never hangs.
 * - `isAlive` reads `/proc/PID/stat`, so zombies count as dead.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

/** A bounded text log: keeps only the last `limit` characters. */
export class BoundedLog {
  private text = '';
  constructor(private readonly limit = 64 * 1024) {}

  /** Appends a chunk, dropping the oldest characters beyond the limit. */
  append(chunk: string | Buffer): void {
    this.text += chunk.toString();
    if (this.text.length > this.limit) this.text = this.text.slice(this.text.length - this.limit);
  }

  /** The whole retained log. */
  toString(): string {
    return this.text;
  }

  /** The last `lines` lines of the log (for error messages). */
  tail(lines = 30): string {
    return this.text.split('\n').slice(-lines).join('\n');
  }
}

/** A long-lived child process started by `startProcess`. */
export interface StartedProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves when the child has exited (never rejects). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the child has exited and its stdio streams are closed (output fully logged). */
  closed: Promise<void>;
  /** Captured stdout+stderr (bounded). */
  log(): string;
  /** Last lines of the captured output. */
  logTail(lines?: number): string;
  /** True once the `exit` event fired. */
  hasExited(): boolean;
}

export interface StartProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdio for fd 0 and extra fds (3, 4, …); fds 1 and 2 are always piped into the log. */
  stdin?: 'ignore' | 'pipe';
  extraFds?: Array<'pipe' | 'ignore'>;
  /** Max characters of output kept (default 64 KiB). */
  logLimit?: number;
  /** Kill the child with SIGKILL if this process dies (Linux, via setpriv). Default true. */
  dieWithParent?: boolean;
}

const registry = new Set<ChildProcess>();
let hooksInstalled = false;
const SETPRIV = '/usr/bin/setpriv';

/** Kills every tracked child that is still running (synchronous; safe inside an `exit` hook). */
export function killAllTracked(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const child of registry) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, signal);
      } catch {
        /* already gone */
      }
    }
  }
  registry.clear();
}

/** Installs the exit/SIGINT/SIGTERM hooks once. */
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => killAllTracked());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killAllTracked();
      // If nobody else handles the signal, restore the default behaviour (terminate).
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** Adds a child to the kill-on-exit registry; it is removed again when it exits. */
export function track(child: ChildProcess): void {
  installHooks();
  registry.add(child);
  child.once('exit', () => registry.delete(child));
}

/**
 * Spawns a long-lived child with output captured to a bounded log and registers it for cleanup.
 * Throws if the executable cannot be spawned at all (e.g. ENOENT).
 */
export function startProcess(cmd: string, args: string[], options: StartProcessOptions = {}): StartedProcess {
  const useSetpriv = (options.dieWithParent ?? true) && process.platform === 'linux' && existsSync(SETPRIV);
  const [file, argv] = useSetpriv ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', cmd, ...args]] : [cmd, args];
  const stdio: StdioOptions = [options.stdin ?? 'ignore', 'pipe', 'pipe', ...(options.extraFds ?? [])];
  const child = spawn(file, argv, { env: options.env ?? process.env, cwd: options.cwd, stdio });
  if (child.pid === undefined) throw new Error(`could not spawn ${cmd}: no pid (is it installed?)`);
  track(child);
  const log = new BoundedLog(options.logLimit);
  child.stdout?.on('data', (d: Buffer) => log.append(d));
  child.stderr?.on('data', (d: Buffer) => log.append(d));
  child.on('error', (e) => log.append(`\n[spawn error] ${e.message}\n`));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    child,
    pid: child.pid,
    exited,
    closed,
    log: () => log.toString(),
    logTail: (lines) => log.tail(lines),
    hasExited: () => child.exitCode !== null || child.signalCode !== null,
  };
}

/**
 * True if the process exists and is not a zombie (state `Z`) or dead (`X`).
 * Reads `/proc/PID/stat`; `kill -0` would report zombies as alive.
 */
export function isAlive(pid: number): boolean {
  const state = procStat(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X' && state !== '';
}

/** Parses `/proc/PID/stat` into { comm, state, ppid }, or undefined if the process is gone. */
export function procStat(pid: number): { comm: string; state: string; ppid: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(')');
  const [state, ppid] = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), state, ppid: Number(ppid) };
}

/** PIDs of the direct children of `pid` (scans /proc). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (/^\d+$/.test(name) && procStat(Number(name))?.ppid === pid) children.push(Number(name));
  }
  return children;
}

/** Resolves true when `child` exits within `ms`, false otherwise. */
function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Stops a child: SIGTERM, then SIGKILL if it has not exited after `timeoutMs`, then waits (bounded)
 * for the exit. Node reaps the child on `exit`, so no zombie is left behind.
 */
export async function stopProcess(child: ChildProcess | StartedProcess, timeoutMs = 5000): Promise<void> {
  const proc = 'child' in child ? child.child : child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  if (await waitForExit(proc, timeoutMs)) return;
  proc.kill('SIGKILL');
  if (!(await waitForExit(proc, 5000))) throw new Error(`process ${proc.pid} did not exit after SIGKILL`);
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Hard limit; the whole process group is SIGKILLed when it is exceeded. Default 10 s. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed. Without it stdin is closed immediately. */
  input?: string | Buffer;
}

export interface RunResult {
  /** Exit code; null when killed by a signal (including the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Raw stdout bytes (for binary output such as images). */
  stdoutBuffer: Buffer;
}

/**
 * Runs a short command to completion with a timeout; never hangs and never rejects for a non-zero
 * exit (inspect `code`/`timedOut`). Rejects only if the executable cannot be spawned.
 */
export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // detached: own process group, so a timeout also kills grandchildren (e.g. of `sh -c`).
    const child = spawn(cmd, args, { env: options.env ?? process.env, cwd: options.cwd, detached: true });
    track(child);
    const out: Buffer[] = [];
    const err = new BoundedLog();
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.append(d));
    child.stdin.on('error', () => {}); // EPIPE if the child does not read its input
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs ?? 10_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${cmd}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBuffer = Buffer.concat(out);
      resolve({ code, signal, timedOut, stdout: stdoutBuffer.toString('utf8'), stderr: err.toString(), stdoutBuffer });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Like `run`, but rejects (with stderr in the message) on timeout or a non-zero exit. */
export async function runChecked(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(cmd, args, options);
  if (result.timedOut || result.code !== 0) {
    const why = result.timedOut ? `timed out after ${options.timeoutMs ?? 10_000} ms` : `exited with ${result.code ?? result.signal}`;
    throw new Error(`${cmd} ${args.join(' ')} ${why}\n${result.stderr.trim()}`);
  }
  return result;
}

/** A TCP port that was free on 127.0.0.1 a moment ago (bind to :0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('freePort: no port assigned'))));
    });
  });
}

/** Sleeps for `ms` milliseconds. */
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
