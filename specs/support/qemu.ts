/**
 * Starts QEMU's built-in VNC server (the one Proxmox consoles use) on 127.0.0.1: a diskless x86 VM
 * whose SeaBIOS screen says "No bootable device" (640×480 for about a second, then 720×400 — clients
 * see a desktop size change).
 *
 * Ports without races: the VNC display is given as `127.0.0.1:N,to=N+99` (QEMU binds the first free
 * display in that range itself) and the WebSocket listener as `127.0.0.1:0` (the kernel picks); the
 * ports actually bound are then read from the monitor's `info vnc`. The HMP monitor listens on a
 * Unix socket in a private temp dir; the password is set there with `set_password vnc PW`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, startProcess, stopProcess, type StartedProcess } from './processes.js';
import { startupError, waitForBanner } from './server-startup.js';

export interface QemuOptions {
  /** VNC password (at most 8 characters; QEMU offers VncAuth). Without it the server offers None. */
  password?: string;
  /** Also listen for WebSocket clients (plain ws://, path must be exactly '/'). Default true. */
  websocket?: boolean;
  /** Appended to the QEMU command line. */
  extraArgs?: string[];
  /** Overall start-up limit, default 20 s. */
  timeoutMs?: number;
}

export interface QemuServer {
  host: '127.0.0.1';
  /** The RFB TCP port (5900 + display). */
  vncPort: number;
  /** The WebSocket port, when started with `websocket` (the default). */
  wsPort?: number;
  /** `ws://127.0.0.1:${wsPort}/` (QEMU answers 404 for any other path or a query string). */
  wsUrl?: string;
  /** The VNC display number (vncPort − 5900). */
  display: number;
  password?: string;
  pid: number;
  /** The HMP monitor's Unix socket. */
  monitorSocket: string;
  /** Runs one HMP command and resolves with its output (echo and prompt removed, ANSI stripped, '\r\n' → '\n'). */
  monitor(command: string, timeoutMs?: number): Promise<string>;
  /** SIGTERM (SIGKILL after 5 s), wait for exit, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL) without waiting — for crash tests. */
  kill(signal?: NodeJS.Signals): void;
  /** QEMU's captured stdout/stderr. */
  log(): string;
}

const PROMPT = '(qemu) ';
const BASE_PORT = 5900;
const MAX_PASSWORD = 8;

/** Removes ANSI escape sequences (the HMP line editor redraws the echoed command with them). */
function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}

/** True if 127.0.0.1:port can be bound right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The lowest display N (port 5900+N) that was free a moment ago, starting at `from`. */
async function freeDisplay(from = 0): Promise<number> {
  for (let n = from; n < 1000; n++) if (await portIsFree(BASE_PORT + n)) return n;
  throw new Error('no free VNC port between 5900 and 6899');
}

/**
 * Connects to the HMP monitor, waits for the prompt, sends one command and resolves with its
 * output. One connection per command; QEMU accepts the next client after this one closes.
 */
function hmpCommand(socketPath: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let text = '';
    let sent = false;
    const finish = (error: Error | null, output?: string): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      if (error) reject(error);
      else resolve(output!);
    };
    const timer = setTimeout(
      () => finish(new Error(`QEMU monitor: no ${sent ? 'answer to ' + JSON.stringify(command) : 'prompt'} within ${timeoutMs} ms; got ${JSON.stringify(stripAnsi(text))}`)),
      timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (!sent) {
        if (!text.endsWith(PROMPT)) return;
        sent = true;
        text = '';
        socket.write(`${command}\n`);
        return;
      }
      const clean = stripAnsi(text);
      const afterEcho = clean.indexOf('\r\n');
      if (afterEcho < 0 || !clean.endsWith(PROMPT)) return;
      const body = clean.slice(afterEcho + 2, clean.length - PROMPT.length);
      finish(null, body.replace(/\r\n/g, '\n'));
    });
    socket.on('error', (e) => finish(new Error(`QEMU monitor ${socketPath}: ${e.message}`)));
    socket.on('close', () => finish(new Error(`QEMU monitor closed the connection (got ${JSON.stringify(stripAnsi(text))})`)));
  });
}

/** Retries the first monitor command until the socket exists and answers (bounded by `deadline`). */
async function firstMonitorCommand(proc: StartedProcess, socketPath: string, command: string, deadline: number): Promise<string> {
  let lastError = '';
  while (Date.now() < deadline) {
    if (proc.hasExited()) throw new Error('QEMU exited before its monitor answered');
    try {
      return await hmpCommand(socketPath, command, Math.max(200, Math.min(3000, deadline - Date.now())));
    } catch (e) {
      lastError = (e as Error).message;
    }
    await delay(50);
  }
  throw new Error(`QEMU monitor not ready: ${lastError}`);
}

/** Reads the bound ports from `info vnc` ("Server: 127.0.0.1:5901 (ipv4)" / "… (ipv4 (Websocket))"). */
function parseInfoVnc(info: string): { vncPort?: number; wsPort?: number } {
  let vncPort: number | undefined;
  let wsPort: number | undefined;
  for (const m of info.matchAll(/Server: 127\.0\.0\.1:(\d+) \(ipv4( \(Websocket\))?\)/g)) {
    if (m[2]) wsPort = Number(m[1]);
    else vncPort = Number(m[1]);
  }
  return { vncPort, wsPort };
}


interface Launched {
  proc: StartedProcess;
  vncPort: number;
  wsPort?: number;
}

/** One launch: spawn, ask the monitor for the ports, set the password, wait for the banner. */
async function launchOnce(options: QemuOptions, socketPath: string, deadline: number): Promise<Launched> {
  const websocket = options.websocket ?? true;
  const display = await freeDisplay();
  const vnc = [
    `127.0.0.1:${display}`,
    `to=${display + 99}`,
    ...(websocket ? ['websocket=127.0.0.1:0'] : []),
    ...(options.password !== undefined ? ['password=on'] : []),
  ].join(',');
  const args = [
    '-nodefaults', '-vga', 'std', '-nic', 'none', '-display', 'none',
    '-vnc', vnc,
    '-monitor', `unix:${socketPath},server=on,wait=off`,
    ...(options.extraArgs ?? []),
  ];
  const proc = startProcess('qemu-system-x86_64', args);
  try {
    const info = await firstMonitorCommand(proc, socketPath, 'info vnc', deadline);
    const { vncPort, wsPort } = parseInfoVnc(info);
    if (vncPort === undefined || (websocket && wsPort === undefined)) throw new Error(`could not read the VNC ports from "info vnc":\n${info}`);
    if (options.password !== undefined) {
      const answer = await hmpCommand(socketPath, `set_password vnc ${options.password}`, Math.max(200, deadline - Date.now()));
      if (answer.trim() !== '') throw new Error(`set_password vnc failed: ${answer.trim()}`);
    }
    await waitForBanner(proc, 'QEMU VNC', vncPort, deadline);
    return { proc, vncPort, wsPort: websocket ? wsPort : undefined };
  } catch (e) {
    await stopProcess(proc, 1000).catch(() => {});
    throw await startupError(proc, 'QEMU', e);
  }
}

/**
 * Starts a diskless QEMU VM with its VNC server on 127.0.0.1 and resolves once the password (if
 * any) is set and the RFB port sends `RFB 003.008\n`. The caller must `stop()` it.
 */
export async function startQemu(options: QemuOptions = {}): Promise<QemuServer> {
  if (options.password !== undefined && (options.password.length === 0 || options.password.length > MAX_PASSWORD || /\s/.test(options.password))) {
    throw new Error(`startQemu: the VNC password must be 1–${MAX_PASSWORD} characters without spaces (got ${options.password.length})`);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-qemu-'));
  const monitorSocket = join(dir, 'monitor.sock');
  let launched: Launched | undefined;
  try {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3 && !launched && Date.now() < deadline; attempt++) {
      try {
        launched = await launchOnce(options, monitorSocket, deadline);
      } catch (e) {
        lastError = e as Error;
        if (!/Address already in use|Failed to find an available port/i.test((e as Error & { serverLog?: string }).serverLog ?? '')) break;
      }
    }
    if (!launched) throw lastError ?? new Error('QEMU start timed out');
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const { proc, vncPort, wsPort } = launched;
  let queue: Promise<unknown> = Promise.resolve();
  const monitor = (command: string, timeoutMs = 5000): Promise<string> => {
    const result = queue.then(() => hmpCommand(monitorSocket, command, timeoutMs));
    queue = result.catch(() => {});
    return result;
  };
  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    vncPort,
    wsPort,
    wsUrl: wsPort !== undefined ? `ws://127.0.0.1:${wsPort}/` : undefined,
    display: vncPort - BASE_PORT,
    password: options.password,
    pid: proc.pid,
    monitorSocket,
    monitor,
    stop: () => (stopped ??= stopProcess(proc, 5000).finally(() => rm(dir, { recursive: true, force: true }))),
    kill: (signal = 'SIGKILL') => void proc.child.kill(signal),
    log: () => proc.log(),
  };
}
