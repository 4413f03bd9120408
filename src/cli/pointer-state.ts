/**
 * Where vnc-agent last put the pointer, per server. VNC has no message that reports the pointer
 * position, and each command is a new connection that starts with no idea where the pointer is, so
 * `click` and `scroll` without coordinates use the position a previous command left behind.
 */
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

function stateFile(env: Env, host: string, port: number): string {
  return join(stateDir(env), `pointer-${`${host}_${port}`.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

/** The last position recorded for host:port, or undefined. */
export async function loadPointer(env: Env, host: string, port: number): Promise<Point | undefined> {
  try {
    const data = JSON.parse(await readFile(stateFile(env, host, port), 'utf8')) as Partial<Point>;
    const valid = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
    return valid(data.x) && valid(data.y) ? { x: data.x as number, y: data.y as number } : undefined;
  } catch {
    return undefined;
  }
}

/** Records the position for host:port (atomically: a reader never sees half a file). */
export async function savePointer(env: Env, host: string, port: number, point: Point): Promise<void> {
  const file = stateFile(env, host, port);
  await mkdir(stateDir(env), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ x: point.x, y: point.y, at: new Date().toISOString() })}\n`, { mode: 0o600 });
  await rename(temporary, file);
}
