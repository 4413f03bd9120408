/**
 * Processes started by `launchTarget`: each runs in its own process group (so stopping it also
 * stops what it started, e.g. the server behind `sh -c`), its output is kept in a bounded log for
 * error messages, and every group still running when this process exits (or gets SIGINT/SIGTERM)
 * is killed. On Linux, `setpriv --pdeathsig SIGKILL` also kills the leader if this process is
 * killed outright.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';

/** The banner every RFB server sends first, e.g. `RFB 003.008\n`. */
export const RFB_BANNER = /^RFB \d{3}\.\d{3}\n$/;
const LOG_LIMIT = 64 * 1024;
const SETPRIV = '/usr/bin/setpriv';

export interface LaunchedProcess {
  child: ChildProcess;
  /** Also the process group id. */
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** The last `lines` lines of its output (stdout and stderr). */
  logTail(lines?: number): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<LaunchedProcess>();
let hooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone.
  }
}

/** Kills every launched process group still running (synchronous: safe in an `exit` hook). */
export function killAllLaunched(): void {
  for (const launched of running) killGroup(launched.pid, 'SIGKILL');
  running.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllLaunched);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killAllLaunched();
      // Nobody else handles the signal: behave as if we had not listened (terminate).
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** The path of `command` on the PATH of `env`, or undefined. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = isAbsolute(command) || command.includes('/') ? [command] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Extra pipes after stdin, stdout and stderr (fd 3, …). */
  extraFds?: Array<'pipe' | 'ignore'>;
}

/** Starts `file args` in a new process group, tracked for cleanup. */
export function spawnGroup(file: string, args: readonly string[], options: SpawnOptions): LaunchedProcess {
  installHooks();
  const useSetpriv = process.platform === 'linux' && existsSync(SETPRIV);
  const [command, argv] = useSetpriv ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', file, ...args]] : [file, [...args]];
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...(options.extraFds ?? [])];
  const child = spawn(command, argv, { env: options.env, cwd: options.cwd, stdio, detached: true });
  let log = '';
  const append = (chunk: Buffer | string): void => {
    log += chunk.toString();
    if (log.length > LOG_LIMIT) log = log.slice(log.length - LOG_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.on('error', (error) => append(`\n[could not start ${file}: ${error.message}]\n`));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
  let stopping: Promise<void> | undefined;
  const launched: LaunchedProcess = {
    child,
    pid: child.pid ?? -1,
    exited,
    hasExited,
    logTail: (lines = 20) => log.trimEnd().split('\n').slice(-lines).join('\n'),
    stop: (graceMs = 5000) =>
      (stopping ??= (async () => {
        if (child.pid === undefined) return;
        killGroup(child.pid, 'SIGTERM');
        const graceful = await Promise.race([exited.then(() => true), delay(graceMs).then(() => false)]);
        // Whatever else is left in the group (a server started by `sh -c`) goes too.
        killGroup(child.pid, graceful ? 'SIGTERM' : 'SIGKILL');
        if (!graceful) await Promise.race([exited, delay(5000)]);
        await waitForGroupExit(child.pid, 2000);
        killGroup(child.pid, 'SIGKILL');
        running.delete(launched);
      })()),
  };
  if (child.pid !== undefined) {
    running.add(launched);
    void exited.then(() => {
      if (!groupAlive(child.pid!)) running.delete(launched);
    });
  }
  return launched;
}

/** Whether any process of group `pgid` is still there (zombies count as gone). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  return groupMembers(pgid).length > 0;
}

/** Live (non-zombie) pids in process group `pgid`, from /proc; [] where /proc is missing. */
export function groupMembers(pgid: number): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const members: number[] = [];
  for (const name of readdirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(Number(name));
  }
  return members;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

async function waitForGroupExit(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid) && Date.now() < deadline) await delay(25);
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** A process's last output, indented under an error message. */
export function indentOutput(text: string): string {
  return text.trim() === '' ? '    (no output)' : text.split('\n').map((line) => `    ${line}`).join('\n');
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Connects to host:port and resolves with the first 12 bytes the server sends; rejects on an
 * error, an early close or after `timeoutMs`.
 */
export function readBanner(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const finish = (error: Error | undefined, banner?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(banner!);
    };
    const timer = setTimeout(() => finish(new Error(`no banner within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 12) finish(undefined, received.subarray(0, 12).toString('latin1'));
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`the connection closed after ${received.length} bytes`)));
  });
}

/** True when host:port answers with an RFB banner within `timeoutMs`. */
export async function servesVnc(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  try {
    return RFB_BANNER.test(await readBanner(host, port, timeoutMs));
  } catch {
    return false;
  }
}

export type WaitResult = { ready: true } | { ready: false; why: 'exited' | 'timeout' | 'aborted'; lastError: string };

/**
 * Polls host:port until it sends an RFB banner. Stops early when `proc` exits or `signal` aborts.
 */
export async function waitForVnc(host: string, port: number, deadline: number, proc?: LaunchedProcess, signal?: AbortSignal): Promise<WaitResult> {
  let lastError = 'nothing answered';
  while (Date.now() < deadline) {
    if (signal?.aborted) return { ready: false, why: 'aborted', lastError };
    if (proc?.hasExited()) return { ready: false, why: 'exited', lastError };
    try {
      const banner = await readBanner(host, port, Math.max(100, Math.min(2000, deadline - Date.now())));
      if (RFB_BANNER.test(banner)) return { ready: true };
      lastError = `it answered ${JSON.stringify(banner)}, not an RFB banner`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await delay(50);
  }
  return { ready: false, why: 'timeout', lastError };
}

export interface QuickResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a short command to completion (killed after `timeoutMs`); rejects only if it cannot start. */
export function runQuick(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 5000): Promise<QuickResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
