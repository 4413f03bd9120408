/**
 * Runs one parsed `vnc-agent` command: connect, act, disconnect. Output goes through `CliIO` so
 * the runner does not depend on the process it runs in.
 */
import { readFile } from 'node:fs/promises';
import { VNCAgentBridge, type VNCAgentBridgeOptions } from '../bridge/bridge.js';
import { TCPVNCConnection, type VNCConnection } from '../bridge/connection.js';
import { keyEventsForText } from '../bridge/key-chord.js';
import type { Point } from '../bridge/mouse.js';
import type { LaunchedTarget, TargetConfig } from '../config/index.js';
import { VNCConfigError, VNCStateError, VNCTimeoutError } from '../errors.js';
import type { Command, GlobalOptions } from './args.js';
import { CliError, redactAll, secretsOf } from './output.js';
import { loadPointer, savePointer, targetServerKey, tcpServerKey, webSocketServerKey } from './pointer-state.js';

// The targets layer (YAML, launchers, providers) and WebSocket are loaded only by the commands that use them.
export interface CliIO {
  /** Command output. */
  stdout(text: string): void;
  /** Diagnostics (--debug). */
  stderr(text: string): void;
  /** All of stdin, as UTF-8 (for `type -` and `clipboard set -`). */
  readStdin(): Promise<string>;
  env: Readonly<Record<string, string | undefined>>;
}

type Json = Record<string, unknown>;

/** What a run learns that its error report needs: filled in as the run goes. */
export interface RunReport {
  /** More values to mask (a target's credentials and header values). */
  secrets: string[];
  /** The timeout in effect once known: a target's own unless --timeout overrides it. */
  timeoutMs?: number;
}

/**
 * Runs `command`; throws on failure. Aborting `signal` disconnects, which ends any wait (and stops a
 * launch under way). With --target, the target's launch (if any) runs for the duration of the command.
 */
export async function runCommand(globals: GlobalOptions, command: Command, io: CliIO, signal?: AbortSignal, report: RunReport = { secrets: [] }): Promise<void> {
  const { host, port, websocket } = globals;
  const env = io.env as NodeJS.ProcessEnv;
  // --target: the targets file and the target, found (or reported, exit 2) before anything else.
  const targets = globals.target ? await import('./targets.js') : undefined;
  const targetsFile = globals.target && targets ? targets.loadTargetsFile(globals.target.config, io.env) : undefined;
  const target = globals.target && targets && targetsFile ? targets.findTarget(targetsFile, globals.target.name) : undefined;
  const config = target ? await import('../config/index.js') : undefined;
  if (target) report.secrets.push(...(await targetSecrets(target)));
  const remote = target ? `target ${target.name}` : websocket ? websocket.remote : host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const key = target
    ? targetServerKey(targetsFile!.file, target.name)
    : websocket
      ? webSocketServerKey({ ...websocket, host, port })
      : tcpServerKey(host, port);
  const secrets = [...secretsOf(globals), ...report.secrets];
  const debug = (text: string) => {
    if (globals.debug) io.stderr(redactAll(`vnc-agent: debug: ${text}\n`, secrets));
  };
  const print = (human: string | undefined, json: Json) => {
    if (globals.json) io.stdout(`${JSON.stringify(json)}\n`);
    else if (human !== undefined) io.stdout(human);
  };

  // Everything that can fail without the server fails before connecting.
  if (command.name === 'position') {
    const point = await loadPointer(io.env, key);
    if (!point) throw noPointer(remote);
    print(`${point.x} ${point.y}\n`, { ...point });
    return;
  }
  let pointer: Point | undefined;
  if ((command.name === 'click' || command.name === 'scroll') && command.at === undefined) {
    pointer = await loadPointer(io.env, key);
    if (!pointer) throw noPointer(remote, command.name);
    debug(`the pointer was last put at ${pointer.x},${pointer.y}`);
  }
  let text: string | undefined;
  if ((command.name === 'type' || command.name === 'clipboard-set') && command.text === undefined) {
    text = await io.readStdin();
    debug(`read ${text.length} characters from stdin`);
    if (command.name === 'type') keyEventsForText(text);
  }

  const certificatePem = globals.caFile === undefined ? undefined : await readCaFile(globals.caFile);
  const picture: Pick<VNCAgentBridgeOptions, 'encodings' | 'quality' | 'compressionLevel' | 'keyboardLayout'> = {
    ...(globals.keyboardLayout !== undefined ? { keyboardLayout: globals.keyboardLayout } : {}),
    ...(globals.encodings ? { encodings: globals.encodings } : {}),
    ...(globals.quality !== undefined ? { quality: globals.quality } : {}),
    ...(globals.compressionLevel !== undefined ? { compressionLevel: globals.compressionLevel } : {}),
  };
  let timeoutMs = globals.timeoutMs;
  let launched: LaunchedTarget | undefined;
  let bridge: VNCAgentBridge | undefined;
  const onAbort = () => void bridge?.disconnect().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  const interrupted = () => {
    if (signal?.aborted) throw new CliError('interrupted');
  };
  try {
    interrupted();
    if (target && config && globals.target) {
      const { launchTarget, resolveTarget } = config;
      debug(`target ${describeTargetSource(target)}`);
      if (target.launch) {
        debug(`launching ${target.name} (${target.launch.kind === 'local-desktop' ? `local desktop ${target.launch.geometry}` : `command, serving on ${target.launch.host}:${target.launch.port}`}); it stops when this command ends`);
        launched = await launchTarget(target, { signal, env }).catch((error: unknown) => {
          if (!(error instanceof VNCTimeoutError) || signal?.aborted) throw error;
          throw new CliError(error.message, 'hint: a launch has its own limit, launch.timeoutMs in the targets file (not --timeout)', { cause: error });
        });
        debug(`launched: VNC on ${launched.host}:${launched.port}${launched.reused ? ' (an existing server, reused)' : ''}`);
        interrupted();
      }
      if (target.provider) debug(`asking the provider ${target.provider.modulePath} (attempt 0)`);
      const resolved = await resolveTarget(target, { attempt: 0, launched, signal, env });
      interrupted();
      timeoutMs = globals.target.timeoutMs ?? resolved.timeoutMs ?? globals.timeoutMs;
      bridge = new VNCAgentBridge({
        ...resolved,
        shared: globals.shared,
        timeoutMs,
        typingDelayMs: globals.typingDelayMs ?? resolved.typingDelayMs,
        ...picture,
      });
    } else {
      bridge = new VNCAgentBridge({
        connection: await makeConnection(globals, certificatePem),
        shared: globals.shared,
        timeoutMs,
        typingDelayMs: globals.typingDelayMs,
        ...picture,
      });
    }
    report.timeoutMs = timeoutMs;
    const connected = bridge;
    debug(`connecting to ${connected.remote} (${connectionNotes(globals, timeoutMs).join(', ')})`);
    await connected.connect();
    const info = connected.info;
    debug(`connected: ${JSON.stringify(info.name)} ${info.width}x${info.height}, RFB ${info.protocolVersion}, ${info.securityTypeName}`);

    const remember = async () => {
      const position = connected.mouse.position;
      try {
        await savePointer(io.env, key, position);
      } catch (error) {
        debug(`could not record the pointer position: ${(error as Error).message}`);
      }
      print(undefined, { ...position });
    };

    switch (command.name) {
      case 'info':
        print(
          [
            `name:              ${info.name}`,
            `size:              ${info.width}x${info.height}`,
            `protocol:          RFB ${info.protocolVersion} (server announced ${info.serverVersion})`,
            `security:          ${info.securityTypeName}`,
            `extendedClipboard: ${info.extendedClipboard ? 'yes' : 'no'}`,
            `remote:            ${info.remote}`,
            '',
          ].join('\n'),
          { ...info },
        );
        break;
      case 'screenshot': {
        const png = await connected.screen.screenshot({ path: command.file, region: command.region });
        const width = command.region?.width ?? info.width;
        const height = command.region?.height ?? info.height;
        print(`${command.file} (${width}x${height}, ${png.length} bytes)\n`, { path: command.file, width, height, bytes: png.length });
        break;
      }
      case 'move':
        await connected.mouse.move(command.x, command.y);
        await remember();
        break;
      case 'click': {
        const at = command.at ?? (pointer as Point);
        await connected.mouse.click(at.x, at.y, { button: command.button, count: command.double ? 2 : 1 });
        await remember();
        break;
      }
      case 'drag':
        await connected.mouse.drag(command.from, command.to, { button: command.button, steps: command.steps });
        await remember();
        break;
      case 'type':
        await connected.keyboard.type(command.text ?? (text as string), { delayMs: command.delayMs });
        break;
      case 'key':
        for (const chord of command.chords) await connected.keyboard.press(chord);
        break;
      case 'scroll': {
        const at = command.at ?? (pointer as Point);
        await connected.scroll.scroll(command.direction, command.amount, at);
        await remember();
        break;
      }
      case 'clipboard-get': {
        const clipboard = await connected.clipboard.getText().catch((error: unknown) => {
          if (!(error instanceof VNCTimeoutError)) throw error;
          throw new CliError(
            `The server announced no clipboard text within ${timeoutMs / 1000} s.`,
            'hint: servers announce clipboard text when it changes: copy something on the remote desktop while vnc-agent waits',
            { cause: error },
          );
        });
        print(clipboard, { text: clipboard });
        break;
      }
      case 'clipboard-set':
        await connected.clipboard.setText(command.text ?? (text as string));
        if (command.holdMs > 0) {
          debug(`holding the connection for ${command.holdMs / 1000} s`);
          await stayConnected(connected, command.holdMs, signal);
        }
        break;
      case 'wait-stable': {
        const started = Date.now();
        await connected.screen.waitForStable({ stillMs: command.stillMs, region: command.region });
        const elapsedMs = Date.now() - started;
        print(`stable: no change for ${command.stillMs} ms (waited ${elapsedMs} ms)\n`, { stable: true, stillMs: command.stillMs, elapsedMs });
        break;
      }
      case 'text':
      case 'find-text':
      case 'click-text':
      case 'wait-text': {
        // Loaded only now: the OCR engine and locators are not needed by any other command.
        const { runTextCommand } = await import('./text-run.js');
        const { moved } = await runTextCommand(connected, command, print);
        if (moved) await remember();
        break;
      }
      case 'wait-change': {
        const started = Date.now();
        await connected.screen.waitForChange(undefined, { region: command.region });
        const elapsedMs = Date.now() - started;
        print(`changed after ${elapsedMs} ms\n`, { changed: true, elapsedMs });
        break;
      }
    }
  } catch (error) {
    if (signal?.aborted) throw new CliError('interrupted', undefined);
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (bridge) {
      await bridge.disconnect().catch(() => undefined);
      debug('disconnected');
    }
    if (launched && target) {
      await launched.stop().catch(() => undefined);
      debug(`stopped ${target.name}${launched.reused ? ' (nothing: the server was running before)' : ''}`);
    }
  }
}

/** What the --debug "connecting" line says about the connection: never a secret, only whether it is there. */
function connectionNotes(globals: GlobalOptions, timeoutMs: number): string[] {
  const { websocket } = globals;
  const notes = [globals.shared ? 'shared' : 'exclusive', `timeout ${timeoutMs / 1000} s`];
  if (globals.encodings) notes.push(`encodings ${globals.encodings.join(', ')}`);
  if (globals.quality !== undefined) notes.push(`quality ${globals.quality}`);
  if (globals.compressionLevel !== undefined) notes.push(`compression ${globals.compressionLevel}`);
  if (websocket) {
    notes.unshift('WebSocket');
    if (websocket.ticket) notes.push('with a ticket');
    const headers = Object.keys(websocket.headers);
    if (headers.length > 0) notes.push(`header${headers.length > 1 ? 's' : ''} ${headers.join(', ')}`);
    notes.push(websocket.subprotocols.length > 0 ? `subprotocol ${websocket.subprotocols.join(', ')}` : 'no subprotocol');
  }
  if (globals.password) notes.push('with a password');
  if (globals.caFile !== undefined) notes.push(`trusting ${globals.caFile}`);
  if (globals.insecure) notes.push('TLS certificate not verified');
  return notes;
}

/** A target's credentials and header values, as they are and URL-encoded: never printed. */
async function targetSecrets(target: TargetConfig): Promise<string[]> {
  const { knownSecrets } = await import('../config/provider.js');
  // No environment: its values would only be guesses here, and short ones would mask ordinary text.
  const secrets = knownSecrets(target, {});
  return [...new Set([...secrets, ...secrets.map(encodeURIComponent)])];
}

/** `NAME (FILE:LINE:COLUMN)`, for --debug. */
function describeTargetSource(target: TargetConfig): string {
  const { source } = target;
  return `${target.name} (${source.file}:${source.line}:${source.column})`;
}

/** The --ca-file's text; a file that cannot be read is a CliError that says why. */
export async function readCaFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new CliError(`Cannot read the --ca-file ${JSON.stringify(path)}: ${why}.`, "hint: give the PEM file of the server's certificate, or of the CA that signed it", {
      cause: error,
    });
  }
}

/** The TCP or (with --url) WebSocket connection the options describe. */
export async function makeConnection(globals: GlobalOptions, certificatePem: string | undefined): Promise<VNCConnection> {
  const { host, port, password, username, websocket } = globals;
  const verifySsl = globals.insecure ? false : undefined;
  if (!websocket) return new TCPVNCConnection({ host, port, password, username, certificatePem, verifySsl });
  const { WebSocketVNCConnection } = await import('../bridge/websocket-connection.js');
  try {
    return new WebSocketVNCConnection({
      urlTemplate: websocket.urlTemplate,
      host,
      port,
      ticket: websocket.ticket,
      password,
      username,
      vars: websocket.vars,
      headers: websocket.headers,
      subprotocols: websocket.subprotocols,
      certificatePem,
      verifySsl,
    });
  } catch (error) {
    if (error instanceof VNCConfigError && globals.caFile !== undefined && /certificatePem/.test(error.message)) {
      throw new CliError(error.message, `hint: --ca-file ${globals.caFile} must hold a PEM certificate ("-----BEGIN CERTIFICATE-----" …)`, { cause: error });
    }
    throw error;
  }
}

function noPointer(remote: string, command?: string): CliError {
  return new CliError(
    `${command ? `${command} without coordinates: ` : ''}vnc-agent has not put the pointer anywhere on ${remote} yet (VNC cannot report where it is)`,
    command === 'scroll' ? 'hint: give --at X,Y, or run "vnc-agent move X Y" first' : 'hint: give X Y, or run "vnc-agent move X Y" first',
  );
}

/** Keeps the connection open for `ms`, unless the server closes it or `signal` aborts. */
async function stayConnected(bridge: VNCAgentBridge, ms: number, signal: AbortSignal | undefined): Promise<void> {
  const session = bridge.session();
  await new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown) => {
      clearTimeout(timer);
      session.off('closed', onClosed);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onClosed = (error?: unknown) => finish(error ?? new VNCStateError(`The connection to ${bridge.remote} closed while holding the clipboard.`));
    const onAbort = () => finish(new CliError('interrupted'));
    const timer = setTimeout(() => finish(), ms);
    session.on('closed', onClosed);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
