/**
 * The `launch:` part of the targets file's schema (`preset: local-desktop` or `command:`, and
 * `scope:`), and the host and port readers the connection shares with it.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Limits } from '../rfb/constants.js';
import type { YamlMap, YamlNode } from './document.js';
import { didYouMean } from './problems.js';
import type { SchemaContext } from './schema.js';
import type { LaunchConfig, LaunchScope, TargetConnection } from './types.js';
import { entry, type Reader } from './values.js';

/** Bound on starting `preset: local-desktop`. */
export const DEFAULT_DESKTOP_LAUNCH_TIMEOUT_MS = 15_000;
/** Bound on a `command:` launch serving VNC. */
export const DEFAULT_COMMAND_LAUNCH_TIMEOUT_MS = 30_000;
export const DEFAULT_GEOMETRY = '1280x800';
export const LAUNCH_PRESETS = ['local-desktop'] as const;
export const LAUNCH_SCOPES = ['worker', 'test'] as const;

const PRESET_KEYS = ['preset', 'geometry', 'depth', 'timeoutMs', 'scope'];
const COMMAND_KEYS = ['command', 'host', 'port', 'reuseExisting', 'timeoutMs', 'env', 'cwd', 'scope'];
const HOST = /^[^\s/?#@]+$/;
const GEOMETRY = /^(\d+)x(\d+)$/;

export function readHost(node: YamlNode, path: string, reader: Reader): string | undefined {
  const host = reader.text(node, path, { nonEmpty: true });
  if (!host) return undefined;
  if (!HOST.test(host.value)) {
    reader.problem(node.at, `${path}: ${host.fromEnv ? 'the value from the environment' : JSON.stringify(host.value)} is not a host name or address (no scheme, path or spaces).`);
    return undefined;
  }
  return host.value;
}

export function readPort(node: YamlNode, path: string, reader: Reader): number | undefined {
  return reader.integer(node, path, 1, 65535, 'a port, a whole number from 1 to 65535');
}

function readGeometry(node: YamlNode, path: string, reader: Reader): string | undefined {
  const text = reader.string(node, path);
  if (text === undefined) return undefined;
  const match = GEOMETRY.exec(text.trim());
  const max = Limits.maxFramebufferSide;
  if (!match || Number(match[1]) < 16 || Number(match[2]) < 16 || Number(match[1]) > max || Number(match[2]) > max) {
    reader.problem(node.at, `${path}: expected a screen size WIDTHxHEIGHT such as 1280x800 (each side 16 to ${max}), got ${JSON.stringify(text)}.`);
    return undefined;
  }
  return `${Number(match[1])}x${Number(match[2])}`;
}

/**
 * `scope: worker | test` of a launch. The local desktop defaults to `test` (a fresh desktop per test
 * costs about a second, and no test sees another's windows, typing or clipboard); a command defaults
 * to `worker` (it may boot a whole VM).
 */
function readScope(map: YamlMap, path: string, reader: Reader, fallback: LaunchScope): LaunchScope | undefined {
  const scopeEntry = entry(map, 'scope');
  if (!scopeEntry) return fallback;
  const scope = reader.string(scopeEntry.value, `${path}.scope`);
  if (scope === undefined) return undefined;
  if ((LAUNCH_SCOPES as readonly string[]).includes(scope)) return scope as LaunchScope;
  reader.problem(scopeEntry.value.at, `${path}.scope: expected worker (one launch per test worker, shared by its tests) or test (a fresh launch for every test), got ${JSON.stringify(scope)}.${didYouMean(scope, LAUNCH_SCOPES)}`);
  return undefined;
}

export function readLaunch(node: YamlNode, path: string, reader: Reader, context: SchemaContext, connection: TargetConnection | undefined, connectionWritten: boolean): LaunchConfig | undefined {
  const map = reader.map(node, path, '{ preset: local-desktop } or { command: "…", port: N }');
  if (!map) return undefined;
  const presetEntry = entry(map, 'preset');
  const commandEntry = entry(map, 'command');
  if ((presetEntry && commandEntry) || (!presetEntry && !commandEntry)) {
    reader.keys(map, path, [...new Set([...PRESET_KEYS, ...COMMAND_KEYS])]);
    reader.problem(map.at, `${path}: give exactly one of \`preset: local-desktop\` or \`command:\` (a command that serves VNC).`);
    return undefined;
  }
  const before = context.problems.count;
  const timeoutEntry = entry(map, 'timeoutMs');
  const timeoutMs = timeoutEntry ? reader.integer(timeoutEntry.value, `${path}.timeoutMs`, 1, 3_600_000) : undefined;
  if (presetEntry) {
    reader.keys(map, path, PRESET_KEYS, Object.fromEntries(COMMAND_KEYS.map((key) => [key, 'Only a `command:` launch takes it.'])));
    const preset = reader.string(presetEntry.value, `${path}.preset`);
    if (preset !== undefined && !(LAUNCH_PRESETS as readonly string[]).includes(preset)) {
      reader.problem(presetEntry.value.at, `${path}.preset: unknown preset "${preset}".${didYouMean(preset, LAUNCH_PRESETS)} Known: ${LAUNCH_PRESETS.join(', ')}.`);
    }
    const geometryEntry = entry(map, 'geometry');
    const geometry = geometryEntry ? readGeometry(geometryEntry.value, `${path}.geometry`, reader) : DEFAULT_GEOMETRY;
    const depthEntry = entry(map, 'depth');
    let depth: 16 | 24 | 32 = 24;
    if (depthEntry) {
      const value = reader.integer(depthEntry.value, `${path}.depth`, 16, 32, '16, 24 or 32');
      if (value === 16 || value === 24 || value === 32) depth = value;
      else if (value !== undefined) reader.problem(depthEntry.value.at, `${path}.depth: expected 16, 24 or 32, got ${value}.`);
    }
    const scope = readScope(map, path, reader, 'test');
    if (context.problems.count > before || geometry === undefined || scope === undefined) return undefined;
    return { kind: 'local-desktop', geometry, depth, timeoutMs: timeoutMs ?? DEFAULT_DESKTOP_LAUNCH_TIMEOUT_MS, scope, source: map.at };
  }

  reader.keys(map, path, COMMAND_KEYS, Object.fromEntries(PRESET_KEYS.filter((key) => !COMMAND_KEYS.includes(key)).map((key) => [key, 'Only `preset: local-desktop` takes it.'])));
  const commandNode = commandEntry!.value;
  const command: string | string[] | undefined =
    commandNode.kind === 'seq'
      ? reader.stringList(commandNode, `${path}.command`, (part) => (part === '' ? 'an argument may not be empty.' : undefined))
      : reader.string(commandNode, `${path}.command`, { nonEmpty: true });
  if (Array.isArray(command) && command.length === 0) reader.problem(commandNode.at, `${path}.command: the argument list is empty.`);
  const hostEntry = entry(map, 'host');
  const tcp = connection?.type === 'tcp' ? connection : undefined;
  const host = hostEntry ? readHost(hostEntry.value, `${path}.host`, reader) : (tcp?.host ?? '127.0.0.1');
  const portEntry = entry(map, 'port');
  const port = portEntry ? readPort(portEntry.value, `${path}.port`, reader) : tcp?.port;
  // A written connection that failed to read has its own problem; do not add a second one here.
  if (!portEntry && !tcp && (connection !== undefined || !connectionWritten)) {
    reader.problem(map.at, `${path}: missing \`port:\`, the port where the command serves VNC (needed without a tcp connection).`);
  }
  const reuseEntry = entry(map, 'reuseExisting');
  const reuseExisting = reuseEntry ? reader.boolean(reuseEntry.value, `${path}.reuseExisting`) : false;
  const envEntry = entry(map, 'env');
  const env = envEntry ? reader.stringMap(envEntry.value, `${path}.env`, { secret: true }) : {};
  const cwdEntry = entry(map, 'cwd');
  let cwd = context.dir;
  if (cwdEntry) {
    const written = reader.string(cwdEntry.value, `${path}.cwd`, { nonEmpty: true });
    if (written !== undefined) {
      cwd = resolve(context.dir, written);
      if (!existsSync(cwd) || !statSync(cwd).isDirectory()) reader.problem(cwdEntry.value.at, `${path}.cwd: folder "${written}" not found (looked for ${cwd}; the path is relative to the targets file).`);
    }
  }
  const scope = readScope(map, path, reader, 'worker');
  if (context.problems.count > before || command === undefined || host === undefined || port === undefined || reuseExisting === undefined || env === undefined || scope === undefined) return undefined;
  return { kind: 'command', command, host, port, reuseExisting, timeoutMs: timeoutMs ?? DEFAULT_COMMAND_LAUNCH_TIMEOUT_MS, env, cwd, scope, source: map.at };
}
