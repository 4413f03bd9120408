/**
 * `launch:` — start a target's VNC server before the tests, like Playwright's `webServer`:
 * - `command:` runs a command (with `sh -c`, or an argv list) in its own process group and waits
 *   until `host:port` sends an RFB banner; with `reuseExisting: true` a server that already answers
 *   there is used instead. `stop()` ends the whole group.
 * - `preset: local-desktop` starts Xvnc and an xterm (see local-desktop.ts).
 * Whatever is still running when this process exits is killed.
 */
import { VNCConfigError, VNCTimeoutError } from '../errors.js';
import { startLocalDesktop } from './local-desktop.js';
import { findExecutable, indentOutput, servesVnc, spawnGroup, waitForVnc } from './processes.js';
import { assertResolved, formatLocation } from './problems.js';
import { knownSecrets, maskSecrets } from './provider.js';
import type { CommandLaunch, TargetConfig } from './types.js';

export interface LaunchedTarget {
  /** Where the server listens. */
  host: string;
  port: number;
  /** A password the launched server asks for, if any. */
  password?: string;
  /** The X display (`preset: local-desktop`). */
  display?: number;
  /** The environment to run X programs on that display with (DISPLAY set). */
  env?: NodeJS.ProcessEnv;
  /** True when `reuseExisting` found a server already running (then `stop()` leaves it alone). */
  reused: boolean;
  /** Process group ids of what was started (empty when reused). */
  pids: number[];
  /** The last lines of the launched processes' output. */
  log(): string;
  /** Stops what was started and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

export interface LaunchTargetOptions {
  /** Aborting stops what was started and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The environment the launch starts from (before `launch.env`); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Starts the target's `launch:` and resolves once it serves VNC. */
export async function launchTarget(target: TargetConfig, options: LaunchTargetOptions = {}): Promise<LaunchedTarget> {
  assertResolved(target);
  const launch = target.launch;
  if (!launch) {
    throw new VNCConfigError(`${formatLocation(target.source)}: target "${target.name}" has no \`launch:\`, so there is nothing to start: connect to it directly.`);
  }
  options.signal?.throwIfAborted();
  if (launch.kind === 'local-desktop') return startLocalDesktop(launch, { targetName: target.name, signal: options.signal, env: options.env });
  return launchCommand(target, launch, options);
}

async function launchCommand(target: TargetConfig, launch: CommandLaunch, options: LaunchTargetOptions): Promise<LaunchedTarget> {
  const { host, port } = launch;
  const where = `${formatLocation(launch.source)}: target "${target.name}"`;
  if (await servesVnc(host, port)) {
    if (!launch.reuseExisting) {
      throw new VNCConfigError(`${where}: a VNC server already answers on ${host}:${port}. Stop it, or set \`reuseExisting: true\` in \`launch:\` to use it.`);
    }
    return { host, port, password: target.credentials.password, reused: true, pids: [], log: () => '', stop: async () => undefined };
  }
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), ...launch.env };
  let file = '/bin/sh';
  let args = ['-c', launch.command as string];
  if (Array.isArray(launch.command)) {
    const [program, ...rest] = launch.command;
    const found = findExecutable(program, env);
    if (found === undefined) throw new VNCConfigError(`${where}: the launch command "${program}" was not found on the PATH.`);
    file = found;
    args = rest;
  }
  const proc = spawnGroup(file, args, { env, cwd: launch.cwd });
  const secrets = knownSecrets(target, env, Object.values(launch.env));
  const output = (): string => maskSecrets(proc.logTail(20), secrets);
  const result = await waitForVnc(host, port, Date.now() + launch.timeoutMs, proc, options.signal);
  if (!result.ready) {
    await proc.stop(1000);
    if (result.why === 'aborted') throw options.signal!.reason;
    if (result.why === 'exited') {
      const { code, signal } = await proc.exited;
      throw new VNCConfigError(`${where}: the launch command exited (${code !== null ? `code ${code}` : `signal ${signal}`}) before serving VNC on ${host}:${port}. Its last output:\n${indentOutput(output())}`);
    }
    throw new VNCTimeoutError(
      `${where}: the launch command did not serve VNC on ${host}:${port} within ${launch.timeoutMs} ms (${result.lastError}). Check its port, or raise \`launch.timeoutMs\`. Its last output:\n${indentOutput(output())}`,
      launch.timeoutMs,
    );
  }
  return {
    host,
    port,
    password: target.credentials.password,
    reused: false,
    pids: [proc.pid],
    log: output,
    stop: () => proc.stop(),
  };
}
