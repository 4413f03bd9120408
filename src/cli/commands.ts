/**
 * Runs one parsed `vnc-agent` command: connect, act, disconnect. Output goes through `CliIO` so
 * the runner does not depend on the process it runs in.
 */
import { keyEventsForText } from '../bridge/key-chord.js';
import { VNCAgentBridge, VNCStateError, VNCTimeoutError, type Point } from '../index.js';
import type { Command, GlobalOptions } from './args.js';
import { CliError } from './output.js';
import { loadPointer, savePointer } from './pointer-state.js';

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

/** Runs `command`; throws on failure. Aborting `signal` disconnects, which ends any wait. */
export async function runCommand(globals: GlobalOptions, command: Command, io: CliIO, signal?: AbortSignal): Promise<void> {
  const { host, port } = globals;
  const remote = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const debug = (text: string) => {
    if (globals.debug) io.stderr(`vnc-agent: debug: ${text}\n`);
  };
  const print = (human: string | undefined, json: Json) => {
    if (globals.json) io.stdout(`${JSON.stringify(json)}\n`);
    else if (human !== undefined) io.stdout(human);
  };

  // Everything that can fail without the server fails before connecting.
  if (command.name === 'position') {
    const point = await loadPointer(io.env, host, port);
    if (!point) throw noPointer(remote);
    print(`${point.x} ${point.y}\n`, { ...point });
    return;
  }
  let pointer: Point | undefined;
  if ((command.name === 'click' || command.name === 'scroll') && command.at === undefined) {
    pointer = await loadPointer(io.env, host, port);
    if (!pointer) throw noPointer(remote, command.name);
    debug(`the pointer was last put at ${pointer.x},${pointer.y}`);
  }
  let text: string | undefined;
  if ((command.name === 'type' || command.name === 'clipboard-set') && command.text === undefined) {
    text = await io.readStdin();
    debug(`read ${text.length} characters from stdin`);
    if (command.name === 'type') keyEventsForText(text);
  }

  const bridge = new VNCAgentBridge({
    host,
    port,
    password: globals.password,
    username: globals.username,
    shared: globals.shared,
    timeoutMs: globals.timeoutMs,
    typingDelayMs: globals.typingDelayMs,
  });
  const onAbort = () => void bridge.disconnect().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) throw new CliError('interrupted');
    debug(`connecting to ${remote} (${globals.shared ? 'shared' : 'exclusive'}, timeout ${globals.timeoutMs / 1000} s${globals.password ? ', with a password' : ''})`);
    await bridge.connect();
    const info = bridge.info;
    debug(`connected: ${JSON.stringify(info.name)} ${info.width}x${info.height}, RFB ${info.protocolVersion}, ${info.securityTypeName}`);

    const remember = async () => {
      const position = bridge.mouse.position;
      try {
        await savePointer(io.env, host, port, position);
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
        const png = await bridge.screen.screenshot({ path: command.file, region: command.region });
        const width = command.region?.width ?? info.width;
        const height = command.region?.height ?? info.height;
        print(`${command.file} (${width}x${height}, ${png.length} bytes)\n`, { path: command.file, width, height, bytes: png.length });
        break;
      }
      case 'move':
        await bridge.mouse.move(command.x, command.y);
        await remember();
        break;
      case 'click': {
        const at = command.at ?? (pointer as Point);
        await bridge.mouse.click(at.x, at.y, { button: command.button, count: command.double ? 2 : 1 });
        await remember();
        break;
      }
      case 'drag':
        await bridge.mouse.drag(command.from, command.to, { button: command.button, steps: command.steps });
        await remember();
        break;
      case 'type':
        await bridge.keyboard.type(command.text ?? (text as string), { delayMs: command.delayMs });
        break;
      case 'key':
        for (const chord of command.chords) await bridge.keyboard.press(chord);
        break;
      case 'scroll': {
        const at = command.at ?? (pointer as Point);
        await bridge.scroll.scroll(command.direction, command.amount, at);
        await remember();
        break;
      }
      case 'clipboard-get': {
        const clipboard = await bridge.clipboard.getText().catch((error: unknown) => {
          if (!(error instanceof VNCTimeoutError)) throw error;
          throw new CliError(
            `The server announced no clipboard text within ${globals.timeoutMs / 1000} s.`,
            'hint: servers announce clipboard text when it changes: copy something on the remote desktop while vnc-agent waits',
            { cause: error },
          );
        });
        print(clipboard, { text: clipboard });
        break;
      }
      case 'clipboard-set':
        await bridge.clipboard.setText(command.text ?? (text as string));
        if (command.holdMs > 0) {
          debug(`holding the connection for ${command.holdMs / 1000} s`);
          await stayConnected(bridge, command.holdMs, signal);
        }
        break;
      case 'wait-stable': {
        const started = Date.now();
        await bridge.screen.waitForStable({ stillMs: command.stillMs, region: command.region });
        const elapsedMs = Date.now() - started;
        print(`stable: no change for ${command.stillMs} ms (waited ${elapsedMs} ms)\n`, { stable: true, stillMs: command.stillMs, elapsedMs });
        break;
      }
      case 'wait-change': {
        const started = Date.now();
        await bridge.screen.waitForChange(undefined, { region: command.region });
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
    await bridge.disconnect().catch(() => undefined);
    debug('disconnected');
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
