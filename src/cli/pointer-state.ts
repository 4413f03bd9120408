/**
 * Where vnc-agent last put the pointer, per server. VNC has no message that reports the pointer
 * position, and each command is a new connection that starts with no idea where the pointer is, so
 * `click` and `scroll` without coordinates use the position a previous command left behind.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Point } from '../index.js';

type Env = Readonly<Record<string, string | undefined>>;

/** $VNC_AGENT_STATE_DIR, else $XDG_RUNTIME_DIR/vnc-agent, else <tmp>/vnc-agent-<uid>. */
export function stateDir(env: Env): string {
  if (env.VNC_AGENT_STATE_DIR) return env.VNC_AGENT_STATE_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'vnc-agent');
  return join(tmpdir(), `vnc-agent-${process.getuid?.() ?? 'user'}`);
}

/** Which desktop a position belongs to: host and port for TCP, a digest of the URL's parts for a WebSocket. */
export type ServerKey = string;

/** The key of a TCP server. */
export function tcpServerKey(host: string, port: number): ServerKey {
  return `${host}_${port}`;
}

/**
 * The key of a WebSocket desktop: the template, host, port and --var values, hashed. Not the ticket
 * (Proxmox issues a new one per connection) and not the headers: they are credentials, not places.
 */
export function webSocketServerKey(parts: { urlTemplate: string; host: string; port: number; vars: Readonly<Record<string, string>> }): ServerKey {
  const vars = Object.entries(parts.vars).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const digest = createHash('sha256').update(JSON.stringify([parts.urlTemplate, parts.host, parts.port, vars])).digest('hex');
  return `ws-${digest.slice(0, 24)}`;
}

/**
 * The key of a target of a targets file: the file's path and the target's name, hashed (a launched
 * target serves on a new port each time, but it is the same desktop as far as the user is concerned).
 */
export function targetServerKey(file: string, name: string): ServerKey {
  const digest = createHash('sha256').update(JSON.stringify([file, name])).digest('hex');
  return `target-${digest.slice(0, 24)}`;
}

function stateFile(env: Env, key: ServerKey): string {
  return join(stateDir(env), `pointer-${key.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

/** The last position recorded for a server, or undefined. */
export async function loadPointer(env: Env, key: ServerKey): Promise<Point | undefined> {
  try {
    const data = JSON.parse(await readFile(stateFile(env, key), 'utf8')) as Partial<Point>;
    const valid = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
    return valid(data.x) && valid(data.y) ? { x: data.x as number, y: data.y as number } : undefined;
  } catch {
    return undefined;
  }
}

/** Records the position for a server (atomically: a reader never sees half a file). */
export async function savePointer(env: Env, key: ServerKey, point: Point): Promise<void> {
  const file = stateFile(env, key);
  await mkdir(stateDir(env), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ x: point.x, y: point.y, at: new Date().toISOString() })}\n`, { mode: 0o600 });
  await rename(temporary, file);
}
