/**
 * Starts websockify (the Python WebSocket-to-TCP proxy noVNC and many kiosks use) in front of a VNC
 * server, on 127.0.0.1 only.
 *
 * - One fixed target (`{ target }`): every path is proxied to it (websockify ignores the path).
 * - Tokens (`{ tokens }`): a TokenFile (`SECRET: host:port` per line); clients add `?token=SECRET`.
 *   An unknown or missing token makes websockify close the TCP connection before any HTTP reply, so
 *   a client sees a reset / "socket hang up", never a 401/404.
 * - TLS (`tls`): `--cert/--key`; with `sslOnly` plain `ws://` is refused, otherwise both schemes share
 *   the port.
 *
 * websockify forks one child per connection; `stop()` kills those too (by PID), so nothing is left.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { childPids, delay, freePort, isAlive, startProcess, stopProcess, type StartedProcess } from './processes.js';
import { startupError } from './server-startup.js';

export interface WebsockifyTarget {
  host: string;
  port: number;
}

export type WebsockifyRoute = { target: WebsockifyTarget } | { tokens: Record<string, WebsockifyTarget> };

export interface WebsockifyOptions {
  tls?: { certPath: string; keyPath: string; sslOnly?: boolean };
  /** Overall start-up limit, default 15 s. */
  timeoutMs?: number;
  /** Appended to the websockify command line. */
  extraArgs?: string[];
}

export interface Websockify {
  host: '127.0.0.1';
  port: number;
  /** 'wss' when started with `tls`, else 'ws' (without `sslOnly` both work on the same port). */
  scheme: 'ws' | 'wss';
  /** `${scheme}://127.0.0.1:${port}${path}`; path defaults to '/'. */
  url(path?: string): string;
  /** The URL for a token: `url('/?token=' + token)` (token mode). */
  tokenUrl(token: string): string;
  /** The TokenFile (token mode only). */
  tokenFile?: string;
  pid: number;
  /** SIGTERM (SIGKILL after 5 s) websockify and any per-connection children; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** websockify's captured output (`--verbose`). */
  log(): string;
}

/** All descendants of `pid` (children, grandchildren, …), from /proc. */
function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of childPids(queue.shift()!)) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Resolves when a TCP connection to 127.0.0.1:port succeeds, rejects otherwise (bounded). */
function tcpAccepts(port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP connect to 127.0.0.1:${port} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * Resolves when a WebSocket upgrade to `url` gets 101; rejects with what happened otherwise.
 * Certificate checks are off here only: this probes readiness, not trust.
 */
function upgradeSucceeds(url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { rejectUnauthorized: false, handshakeTimeout: timeoutMs });
    const done = (error?: Error): void => {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      if (error) reject(error);
      else resolve();
    };
    ws.once('upgrade', () => done());
    ws.once('unexpected-response', (_req, res) => done(new Error(`upgrade to ${url} got HTTP ${res.statusCode}`)));
    ws.once('error', (e) => done(e));
  });
}

/** Writes `SECRET: host:port` lines. */
async function writeTokenFile(dir: string, tokens: Record<string, WebsockifyTarget>): Promise<string> {
  for (const token of Object.keys(tokens)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(token)) throw new Error(`startWebsockify: token ${JSON.stringify(token)} must match [A-Za-z0-9_.-]+`);
  }
  const file = join(dir, 'tokens.cfg');
  const text = Object.entries(tokens).map(([token, t]) => `${token}: ${t.host}:${t.port}\n`).join('');
  await writeFile(file, text);
  return file;
}

interface Launched {
  proc: StartedProcess;
  port: number;
}

/** One attempt: spawn on a fresh port, wait for TCP and a 101. Kills it on failure. */
async function launchOnce(route: WebsockifyRoute, options: WebsockifyOptions, tokenFile: string | undefined, deadline: number): Promise<Launched> {
  const port = await freePort();
  const scheme = options.tls ? 'wss' : 'ws';
  const tlsArgs = options.tls ? ['--cert', options.tls.certPath, '--key', options.tls.keyPath, ...(options.tls.sslOnly ? ['--ssl-only'] : [])] : [];
  const routeArgs = 'target' in route ? [`${route.target.host}:${route.target.port}`] : ['--token-plugin', 'TokenFile', '--token-source', tokenFile!];
  const args = ['--verbose', ...tlsArgs, ...(options.extraArgs ?? []), `127.0.0.1:${port}`, ...routeArgs];
  const proc = startProcess('websockify', args);
  // A probe with a path (target mode ignores it) or the first token; with no tokens, TCP only.
  const firstToken = 'tokens' in route ? Object.keys(route.tokens)[0] : undefined;
  const probeUrl = 'target' in route ? `${scheme}://127.0.0.1:${port}/` : firstToken !== undefined ? `${scheme}://127.0.0.1:${port}/?token=${firstToken}` : undefined;
  let lastError = '';
  try {
    while (Date.now() < deadline) {
      if (proc.hasExited()) throw new Error('websockify exited before it accepted connections');
      try {
        await tcpAccepts(port, Math.max(100, Math.min(1000, deadline - Date.now())));
        if (probeUrl) await upgradeSucceeds(probeUrl, Math.max(100, Math.min(3000, deadline - Date.now())));
        return { proc, port };
      } catch (e) {
        lastError = (e as Error).message;
      }
      await delay(50);
    }
    throw new Error(`websockify on port ${port} not ready within the deadline: ${lastError}`);
  } catch (e) {
    await killTree(proc);
    throw await startupError(proc, 'websockify', e);
  }
}

/** Stops websockify and then SIGKILLs any per-connection children that outlived it. */
async function killTree(proc: StartedProcess): Promise<void> {
  const children = descendants(proc.pid);
  await stopProcess(proc, 5000);
  const left = [...children, ...descendants(proc.pid)].filter(isAlive);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const until = Date.now() + 5000;
  while (left.some(isAlive) && Date.now() < until) await delay(20);
}

/**
 * Starts websockify on a free 127.0.0.1 port and resolves once it accepts TCP and answers a valid
 * WebSocket upgrade with 101 (that probe opens and at once closes one connection to the target).
 * Retries on port races. The caller must `stop()` it.
 */
export async function startWebsockify(route: WebsockifyRoute, options: WebsockifyOptions = {}): Promise<Websockify> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-websockify-'));
  let launched: Launched | undefined;
  let tokenFile: string | undefined;
  try {
    tokenFile = 'tokens' in route ? await writeTokenFile(dir, route.tokens) : undefined;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 5 && !launched && Date.now() < deadline; attempt++) {
      try {
        launched = await launchOnce(route, options, tokenFile, deadline);
      } catch (e) {
        lastError = e as Error;
        if (!/Address already in use/i.test((e as Error & { serverLog?: string }).serverLog ?? '')) break;
      }
    }
    if (!launched) throw lastError ?? new Error('websockify start timed out');
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const { proc, port } = launched;
  const scheme = options.tls ? 'wss' : 'ws';
  const url = (path = '/'): string => `${scheme}://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`;
  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    scheme,
    url,
    tokenUrl: (token) => url(`/?token=${encodeURIComponent(token)}`),
    tokenFile,
    pid: proc.pid,
    stop: () => (stopped ??= killTree(proc).finally(() => rm(dir, { recursive: true, force: true }))),
    log: () => proc.log(),
  };
}
