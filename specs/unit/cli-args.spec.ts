/**
 * The `vnc-agent` command line, parsed without running anything: every subcommand's arguments,
 * the global options and their defaults, and the exact message of every usage error.
 */
import { test, expect } from '@playwright/test';

import {
  COMMAND_NAMES,
  type Command,
  type GlobalOptions,
  closest,
  ENCODING_NAMES,
  helpText,
  parseCommandLine,
  targetUsageLine,
  usageLine,
  UsageError,
  websocketUsageLine,
} from '../../src/cli/args.js';
import { CliError, CliUsageError, formatError, formatUsageError, redact, redactAll, secretsOf } from '../../src/cli/output.js';
import { VNCAuthenticationError, VNCTimeoutError } from '../../src/errors.js';

type Env = Record<string, string | undefined>;

/** Parses a command line that must be runnable. */
function parse(argv: string[], env: Env = {}): { globals: GlobalOptions; command: Command } {
  const result = parseCommandLine(argv, env);
  if (result.kind !== 'run') throw new Error(`expected a runnable command line, got ${result.kind}`);
  return result;
}

const command = (...argv: string[]): Command => parse(argv).command;

/** Parses a command line that must be a usage error, and returns the error. */
function usageError(argv: string[], env: Env = {}): UsageError {
  try {
    parseCommandLine(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}

const message = (...argv: string[]): string => usageError(argv).message;

test.describe('global options', () => {
  test('defaults', () => {
    expect(parse(['info']).globals).toEqual({
      host: '127.0.0.1',
      port: 5900,
      password: undefined,
      username: undefined,
      timeoutMs: 10_000,
      typingDelayMs: undefined,
      shared: true,
      debug: false,
      json: false,
      caFile: undefined,
      insecure: false,
      websocket: undefined,
      target: undefined,
      encodings: undefined,
      quality: undefined,
      compressionLevel: undefined,
    });
  });

  test('every global option, before or after the command', () => {
    const options = ['--host', 'vnc.example', '--port', '5901', '--password', 'pw', '--username', 'me', '--timeout', '2.5'];
    const flags = ['--typing-delay', '0', '--exclusive', '--debug', '--json'];
    const expected: GlobalOptions = {
      host: 'vnc.example',
      port: 5901,
      password: 'pw',
      username: 'me',
      timeoutMs: 2500,
      typingDelayMs: 0,
      shared: false,
      debug: true,
      json: true,
      caFile: undefined,
      insecure: false,
      websocket: undefined,
      target: undefined,
      encodings: undefined,
      quality: undefined,
      compressionLevel: undefined,
    };
    expect(parse([...options, ...flags, 'info']).globals).toEqual(expected);
    expect(parse(['info', ...options, ...flags]).globals).toEqual(expected);
    expect(parse([...options, 'info', ...flags]).globals).toEqual(expected);
    expect(parse(['--host=vnc.example', '--port=5901', '--timeout=2.5', 'info']).globals).toMatchObject({ host: 'vnc.example', port: 5901, timeoutMs: 2500 });
  });

  test('--display N is port 5900+N', () => {
    expect(parse(['--display', '3', 'info']).globals.port).toBe(5903);
    expect(parse(['--display', ':3', 'info']).globals.port).toBe(5903);
    expect(parse(['--display', '0', 'info']).globals.port).toBe(5900);
  });

  test('the password comes from --password, else VNC_PASSWORD', () => {
    expect(parse(['info'], { VNC_PASSWORD: 'from-env' }).globals.password).toBe('from-env');
    expect(parse(['--password', 'from-flag', 'info'], { VNC_PASSWORD: 'from-env' }).globals.password).toBe('from-flag');
    expect(parse(['info'], { VNC_PASSWORD: '' }).globals.password).toBeUndefined();
    expect(parse(['--password=-starts-with-dash', 'info']).globals.password).toBe('-starts-with-dash');
  });

  test('--timeout and --typing-delay take decimals', () => {
    expect(parse(['--timeout', '0.5', 'info']).globals.timeoutMs).toBe(500);
    expect(parse(['--timeout', '30', 'info']).globals.timeoutMs).toBe(30_000);
    expect(parse(['--typing-delay', '12.5', 'info']).globals.typingDelayMs).toBe(12.5);
  });

  test('invalid global values say what is wrong', () => {
    expect(message('--timeout', '0', 'info')).toBe('--timeout must be a positive number of seconds, got "0"');
    expect(message('--timeout', '-1', 'info')).toBe('--timeout must be a positive number of seconds, got "-1"');
    expect(message('--timeout', 'soon', 'info')).toBe('--timeout must be a positive number of seconds, got "soon"');
    expect(message('--timeout', '1e3', 'info')).toBe('--timeout must be a positive number of seconds, got "1e3"');
    expect(message('--typing-delay', '-5', 'info')).toBe('--typing-delay must be a number ≥ 0 of milliseconds, got "-5"');
    expect(message('--port', '0', 'info')).toBe('--port must be a whole number from 1 to 65535, got "0"');
    expect(message('--port', '65536', 'info')).toBe('--port must be a whole number from 1 to 65535, got "65536"');
    expect(message('--port', 'vnc', 'info')).toBe('--port must be a whole number from 1 to 65535, got "vnc"');
    expect(message('--display', '-1', 'info')).toBe('--display must be a whole number from 0 to 59635, got "-1"');
    expect(message('--port', '5901', '--display', '1', 'info')).toBe('use either --port or --display, not both');
    expect(message('--host', '10.0.0.5:5901', 'info')).toBe(
      '--host takes a host name or address only, got "10.0.0.5:5901": give the port with --port or --display',
    );
    expect(message('--host', '', 'info')).toBe('--host must not be empty');
    expect(parse(['--host', '::1', 'info']).globals.host).toBe('::1');
  });

  test('option mistakes say what is wrong', () => {
    expect(message('--tiemout', '3', 'info')).toBe('unknown option --tiemout (did you mean --timeout?)');
    expect(message('info', '--frobnicate')).toBe('unknown option --frobnicate (to pass "--frobnicate" as an argument, put it after "--")');
    expect(message('type', '-abc')).toBe('unknown option -a (to pass "-abc" as an argument, put it after "--")');
    expect(message('info', '--host')).toBe('option --host needs a value');
    expect(message('--host', '--debug', 'info')).toBe('option --host needs a value (for a value that starts with "-", write --host=VALUE)');
    expect(message('--debug=yes', 'info')).toBe('option --debug takes no value');
    expect(message('--port', '5901', '--port', '5902', 'info')).toBe('option --port is given twice ("5901" and "5902")');
    expect(message('move', '1', '2', '--button', 'left')).toBe('option --button does not apply to move (it is for click, drag, click-text)');
    expect(message('--region', '0,0,1,1')).toBe('option --region belongs to a command (screenshot, wait-stable, wait-change, text, find-text, click-text, wait-text), but no command was given');
  });

  test('errors about --password never show it', () => {
    const twice = usageError(['--password', 'hunter2', '--password', 'hunter3', 'info']);
    expect(twice.message).toBe('option --password is given twice');
    const dashed = usageError(['--password', '-hunter2', 'info']);
    expect(dashed.message).toBe('option --password needs a value (for a value that starts with "-", write --password=VALUE)');
    const unknown = usageError(['--pasword=hunter2', 'info']);
    expect(unknown.message).toBe('unknown option --pasword (did you mean --password?)');
    const unknownNoGuess = usageError(['--pw=hunter2', 'info']);
    expect(unknownNoGuess.message).not.toContain('hunter2');
    for (const error of [twice, dashed, unknown, unknownNoGuess]) expect(formatUsageError(error)).not.toMatch(/hunter[23]/);
  });
});

test.describe('help, version, and the command word', () => {
  test('--help, -h, help COMMAND and --version', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help', topic: undefined });
    expect(parseCommandLine(['-h'])).toEqual({ kind: 'help', topic: undefined });
    expect(parseCommandLine(['click', '--help'])).toEqual({ kind: 'help', topic: 'click' });
    expect(parseCommandLine(['click', '10', '--bogus', '-h'])).toEqual({ kind: 'help', topic: 'click' });
    expect(parseCommandLine(['help'])).toEqual({ kind: 'help', topic: undefined });
    expect(parseCommandLine(['help', 'scroll'])).toEqual({ kind: 'help', topic: 'scroll' });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
    expect(message('help', 'scrol')).toBe('no help for unknown command "scrol" (did you mean scroll?)');
  });

  test('a missing or unknown command', () => {
    const missing = usageError([]);
    expect(missing.message).toBe('missing command (run "vnc-agent --help" for the list)');
    expect(missing.usage).toBe(usageLine());
    expect(usageError(['--debug']).message).toBe('missing command (run "vnc-agent --help" for the list)');

    const unknown = usageError(['clik', '10', '20']);
    expect(unknown.message).toBe('unknown command "clik" (did you mean click?)');
    expect(unknown.usage).toBe(usageLine());
    expect(unknown.usage).toContain('info|screenshot|move|click|drag|type|key|scroll|clipboard|wait-stable|wait-change');
    expect(message('screen', 'a.png')).toBe('unknown command "screen" (did you mean screenshot?)');
    expect(message('tpye', 'x')).toBe('unknown command "tpye" (did you mean type?)');
    expect(message('wait-stabel')).toBe('unknown command "wait-stabel" (did you mean wait-stable?)');
    expect(message('wait-chnage')).toBe('unknown command "wait-chnage" (did you mean wait-change?)');
    expect(message('frobnicate')).toBe('unknown command "frobnicate"');
  });

  test('closest', () => {
    expect(closest('clik', ['click', 'key'])).toBe('click');
    expect(closest('CLICK', ['click', 'key'])).toBe('click');
    expect(closest('zzz', ['click', 'key'])).toBeUndefined();
  });

  test('usage errors carry the one-line usage of their command', () => {
    expect(usageError(['move', '1']).usage).toBe('usage: vnc-agent [options] move X Y');
    expect(usageError(['click', '10']).usage).toBe('usage: vnc-agent [options] click [X Y] [--button left|right|middle] [--double]');
    expect(usageError(['scroll', 'sideways', '3']).usage).toBe('usage: vnc-agent [options] scroll up|down|left|right [N] [--at X,Y]');
    expect(usageError(['--timeout', '0', 'type', 'x']).usage).toBe('usage: vnc-agent [options] type TEXT|- [--delay MS]');
    expect(formatUsageError(usageError(['click', '10']))).toBe(
      'vnc-agent: click: missing Y (got only X "10"; give both X and Y, or neither to click where the pointer is)\n' +
        'usage: vnc-agent [options] click [X Y] [--button left|right|middle] [--double]\n',
    );
  });

  test('the help lists every command with an example, the environment and the exit codes', () => {
    const help = helpText('1.2.3');
    expect(help).toContain('vnc-agent 1.2.3');
    for (const name of COMMAND_NAMES) {
      expect(help).toContain(`\n  ${name}`);
      expect(help).toContain(`$ vnc-agent`);
    }
    for (const line of ['$ vnc-agent screenshot shot.png', '$ vnc-agent key ctrl+alt+t', '$ vnc-agent wait-change', '--hold SECONDS']) {
      expect(help).toContain(line);
    }
    expect(help.replace(/\s+/g, ' ')).toContain('TigerVNC forgets text a client set once that client disconnects, so --hold SECONDS keeps the connection open');
    expect(help).toContain('VNC_PASSWORD');
    expect(help).toContain('VNC_AGENT_STATE_DIR');
    expect(help).toMatch(/Exit codes:\n  0 +success\n  1 +runtime error/);
    expect(help).toMatch(/\n  2 +usage error/);
    const click = helpText('1.2.3', 'click');
    expect(click.split('\n')[0]).toBe(usageLine('click'));
    expect(click).toContain('--double');
    expect(click).toContain('vnc-agent click 300 200');
  });
});

test.describe('subcommands', () => {
  test('info and position', () => {
    expect(command('info')).toEqual({ name: 'info' });
    expect(command('position')).toEqual({ name: 'position' });
    expect(message('info', 'now')).toBe('info: unexpected argument "now"');
  });

  test('screenshot FILE [--region X,Y,W,H]', () => {
    expect(command('screenshot', 'out/shot.png')).toEqual({ name: 'screenshot', file: 'out/shot.png', region: undefined });
    expect(command('screenshot', 'a.png', '--region', '10,20,300,200')).toEqual({
      name: 'screenshot',
      file: 'a.png',
      region: { x: 10, y: 20, width: 300, height: 200 },
    });
    expect(command('screenshot', 'a.png', '--region', ' 10, 20 ,300,200')).toMatchObject({ region: { x: 10, y: 20, width: 300, height: 200 } });
    expect(message('screenshot')).toBe('screenshot: missing FILE (where to write the PNG)');
    expect(message('screenshot', 'a.png', 'b.png')).toBe('screenshot: unexpected argument "b.png"');
    const region = (text: string) =>
      `--region must be X,Y,W,H: four whole numbers ≥ 0 with W and H > 0, e.g. 10,20,300,200; got ${JSON.stringify(text)}`;
    expect(message('screenshot', 'a.png', '--region', '10,20,300')).toBe(region('10,20,300'));
    expect(message('screenshot', 'a.png', '--region', '10,20,0,200')).toBe(region('10,20,0,200'));
    expect(message('screenshot', 'a.png', '--region', '-10,20,300,200')).toBe(region('-10,20,300,200'));
    expect(message('screenshot', 'a.png', '--region', '10,20,300.5,200')).toBe(region('10,20,300.5,200'));
    expect(message('screenshot', 'a.png', '--region', 'top')).toBe(region('top'));
  });

  test('move X Y', () => {
    expect(command('move', '300', '200')).toEqual({ name: 'move', x: 300, y: 200 });
    expect(command('move', '0', '0')).toEqual({ name: 'move', x: 0, y: 0 });
    expect(message('move')).toBe('move: missing X and Y');
    expect(message('move', '300')).toBe('move: missing Y (got only X "300")');
    expect(message('move', '-5', '10')).toBe('move: X must be a whole number ≥ 0, got "-5"');
    expect(message('move', '5', '-10')).toBe('move: Y must be a whole number ≥ 0, got "-10"');
    expect(message('move', '1.5', '10')).toBe('move: X must be a whole number ≥ 0, got "1.5"');
    expect(message('move', 'x', '10')).toBe('move: X must be a whole number ≥ 0, got "x"');
    expect(message('move', '1', '2', '3')).toBe('move: unexpected argument "3"');
  });

  test('click [X Y] [--button B] [--double]', () => {
    expect(command('click')).toEqual({ name: 'click', at: undefined, button: 'left', double: false });
    expect(command('click', '10', '20')).toEqual({ name: 'click', at: { x: 10, y: 20 }, button: 'left', double: false });
    expect(command('click', '10', '20', '--button', 'right', '--double')).toEqual({ name: 'click', at: { x: 10, y: 20 }, button: 'right', double: true });
    expect(command('click', '--button=middle')).toMatchObject({ button: 'middle', at: undefined });
    expect(message('click', '10')).toBe('click: missing Y (got only X "10"; give both X and Y, or neither to click where the pointer is)');
    expect(message('click', '10', '-20')).toBe('click: Y must be a whole number ≥ 0, got "-20"');
    expect(message('click', '1', '2', '--button', 'top')).toBe('--button must be left, right or middle, got "top"');
    expect(message('click', '1', '2', '3')).toBe('click: unexpected argument "3"');
  });

  test('drag X1 Y1 X2 Y2 [--steps N] [--button B]', () => {
    expect(command('drag', '1', '2', '30', '40')).toEqual({ name: 'drag', from: { x: 1, y: 2 }, to: { x: 30, y: 40 }, steps: 10, button: 'left' });
    expect(command('drag', '1', '2', '30', '40', '--steps', '3', '--button', 'right')).toMatchObject({ steps: 3, button: 'right' });
    expect(message('drag', '1', '2')).toBe('drag: missing X2, Y2');
    expect(message('drag')).toBe('drag: missing X1, Y1, X2, Y2');
    expect(message('drag', '1', '2', '3', '-4')).toBe('drag: Y2 must be a whole number ≥ 0, got "-4"');
    expect(message('drag', '1', '2', '3', '4', '--steps', '0')).toBe('--steps must be a whole number from 1 to 10000, got "0"');
  });

  test('type TEXT|- [--delay MS]', () => {
    expect(command('type', 'héllo wörld\n')).toEqual({ name: 'type', text: 'héllo wörld\n', delayMs: undefined });
    expect(command('type', '-')).toEqual({ name: 'type', text: undefined, delayMs: undefined });
    expect(command('type', 'x', '--delay', '0')).toEqual({ name: 'type', text: 'x', delayMs: 0 });
    expect(command('type', '--', '-n')).toEqual({ name: 'type', text: '-n', delayMs: undefined });
    expect(command('type', '-42')).toEqual({ name: 'type', text: '-42', delayMs: undefined });
    expect(command('type', '')).toEqual({ name: 'type', text: '', delayMs: undefined });
    expect(message('type')).toBe('type: missing TEXT (or "-" to read it from stdin)');
    expect(message('type', 'hello', 'world')).toBe('type: unexpected argument "world" (quote TEXT that contains spaces)');
    expect(message('type', 'x', '--delay', '-1')).toBe('--delay must be a number ≥ 0 of milliseconds, got "-1"');
    expect(message('type', 'bell\u0007')).toMatch(/^type: Cannot type character U\+0007 at index 4 of the text/);
  });

  test('key CHORD...', () => {
    expect(command('key', 'ctrl+alt+t')).toEqual({ name: 'key', chords: ['ctrl+alt+t'] });
    expect(command('key', 'ctrl+a', 'BackSpace', 'Return')).toEqual({ name: 'key', chords: ['ctrl+a', 'BackSpace', 'Return'] });
    expect(message('key')).toBe('key: missing CHORD (e.g. Return, ctrl+c, ctrl+alt+t)');
    expect(message('key', 'ctrl+entr')).toMatch(/^key: Unknown key "entr" in "ctrl\+entr"/);
    expect(message('key', 'ctrl+')).toMatch(/^key: Empty key name after the last "\+" in "ctrl\+"/);
  });

  test('scroll up|down|left|right [N] [--at X,Y]', () => {
    expect(command('scroll', 'down', '3')).toEqual({ name: 'scroll', direction: 'down', amount: 3, at: undefined });
    expect(command('scroll', 'up')).toEqual({ name: 'scroll', direction: 'up', amount: 1, at: undefined });
    expect(command('scroll', 'left', '2', '--at', '640,400')).toEqual({ name: 'scroll', direction: 'left', amount: 2, at: { x: 640, y: 400 } });
    expect(command('scroll', 'right', '--at=0,0')).toMatchObject({ direction: 'right', at: { x: 0, y: 0 } });
    expect(message('scroll', 'sideways', '3')).toBe('scroll: unknown direction "sideways": use up, down, left or right');
    expect(message('scroll')).toBe('scroll: missing direction (up, down, left or right)');
    expect(message('scroll', 'up', '0')).toBe('scroll: N must be a whole number from 1 to 1000, got "0"');
    expect(message('scroll', 'up', '-2')).toBe('scroll: N must be a whole number from 1 to 1000, got "-2"');
    expect(message('scroll', 'up', '3', '4')).toBe('scroll: unexpected argument "4"');
    expect(message('scroll', 'up', '--at', '10')).toBe('--at must be X,Y: two whole numbers ≥ 0, e.g. 640,400; got "10"');
    expect(message('scroll', 'up', '--at', '-5,10')).toBe('--at must be X,Y: two whole numbers ≥ 0, e.g. 640,400; got "-5,10"');
  });

  test('clipboard get | clipboard set TEXT|- [--hold SECONDS]', () => {
    expect(command('clipboard', 'get')).toEqual({ name: 'clipboard-get' });
    expect(command('clipboard', 'set', 'some text')).toEqual({ name: 'clipboard-set', text: 'some text', holdMs: 0 });
    expect(command('clipboard', 'set', 'x', '--hold', '3')).toEqual({ name: 'clipboard-set', text: 'x', holdMs: 3000 });
    expect(command('clipboard', 'set', '-', '--hold', '0.25')).toEqual({ name: 'clipboard-set', text: undefined, holdMs: 250 });
    expect(message('clipboard')).toBe('clipboard: missing action: get or set');
    expect(message('clipboard', 'gte')).toBe('clipboard: unknown action "gte" (did you mean get?): use get or set');
    expect(message('clipboard', 'set')).toBe('clipboard set: missing TEXT (or "-" to read it from stdin)');
    expect(message('clipboard', 'set', 'a', 'b')).toBe('clipboard set: unexpected argument "b" (quote TEXT that contains spaces)');
    expect(message('clipboard', 'get', 'now')).toBe('clipboard get: unexpected argument "now"');
    expect(message('clipboard', 'get', '--hold', '3')).toBe('option --hold does not apply to clipboard get (it is for clipboard set)');
    expect(message('clipboard', 'set', 'x', '--hold', '-3')).toBe('--hold must be a number ≥ 0 of seconds, got "-3"');
    expect(usageError(['clipboard']).usage).toBe('usage: vnc-agent [options] clipboard get | clipboard set TEXT|- [--hold SECONDS]');
  });

  test('wait-stable [--still MS] [--region] and wait-change [--region]', () => {
    expect(command('wait-stable')).toEqual({ name: 'wait-stable', stillMs: 500, region: undefined });
    expect(command('wait-stable', '--still', '1000', '--region', '0,0,100,50')).toEqual({
      name: 'wait-stable',
      stillMs: 1000,
      region: { x: 0, y: 0, width: 100, height: 50 },
    });
    expect(command('wait-change')).toEqual({ name: 'wait-change', region: undefined });
    expect(command('wait-change', '--region', '10,20,300,200')).toEqual({ name: 'wait-change', region: { x: 10, y: 20, width: 300, height: 200 } });
    expect(message('wait-stable', '--still', '0')).toBe('--still must be a positive number of milliseconds, got "0"');
    expect(message('wait-change', '--still', '100')).toBe('option --still does not apply to wait-change (it is for wait-stable)');
    expect(message('wait-change', 'now')).toBe('wait-change: unexpected argument "now"');
  });
});

test.describe('WebSocket options (--url)', () => {
  const QEMU = 'ws://${host}:${port}/';
  const TOKEN = 'wss://${host}:${port}/websockify?token=${ticket}';
  const PROXMOX = 'wss://${host}:${port}/api2/json/nodes/${node}/qemu/${vmid}/vncwebsocket?port=${vncPort}&vncticket=${ticket}';
  const ws = (argv: string[], env: Env = {}) => {
    const { globals } = parse(argv, env);
    if (!globals.websocket) throw new Error('expected --url to select a WebSocket connection');
    return { ...globals.websocket, host: globals.host, port: globals.port, globals };
  };
  /** A usage error of the WebSocket options: its message, after checking it carries their usage line. */
  const wsMessage = (...argv: string[]): string => {
    const error = usageError(argv);
    expect(error.usage).toBe(websocketUsageLine());
    return error.message;
  };

  test('--url selects a WebSocket; --host and --port fill ${host} and ${port}', () => {
    expect(parse(['--url', QEMU, '--port', '5701', 'info']).globals).toEqual({
      host: '127.0.0.1',
      port: 5701,
      password: undefined,
      username: undefined,
      timeoutMs: 10_000,
      typingDelayMs: undefined,
      shared: true,
      debug: false,
      json: false,
      caFile: undefined,
      insecure: false,
      websocket: {
        urlTemplate: QEMU,
        remote: 'ws://127.0.0.1:5701/',
        usesPort: true,
        ticket: undefined,
        vars: {},
        headers: {},
        subprotocols: ['binary'],
      },
      target: undefined,
      encodings: undefined,
      quality: undefined,
      compressionLevel: undefined,
    });
    expect(ws(['--url', QEMU, '--host', 'qemu.example', '--port', '5701', 'screenshot', 'a.png'])).toMatchObject({
      host: 'qemu.example',
      port: 5701,
      remote: 'ws://qemu.example:5701/',
    });
    expect(ws(['info', `--url=${QEMU}`, '--port=5701', '--host=10.0.0.5']).remote).toBe('ws://10.0.0.5:5701/');
    // A template without ${port}: the port is the URL's own (for the pointer memory), else the scheme's.
    expect(ws(['--url', 'ws://vnc.example:6080/websockify', 'info'])).toMatchObject({ port: 6080, usesPort: false, remote: 'ws://vnc.example:6080/websockify' });
    expect(ws(['--url', 'wss://vnc.example/websockify', 'info'])).toMatchObject({ port: 443, usesPort: false });
    expect(ws(['--url', 'ws://vnc.example/', 'info']).port).toBe(80);
    // Without --url, TCP as before, whatever VNC_TICKET holds.
    expect(parse(['info'], { VNC_TICKET: 'tk' }).globals.websocket).toBeUndefined();
  });

  test('--ticket, else VNC_TICKET; the printable URL shows neither', () => {
    expect(ws(['--url', TOKEN, '--port', '6080', '--ticket', 'tok-1', 'info'])).toMatchObject({
      ticket: 'tok-1',
      remote: 'wss://127.0.0.1:6080/websockify?token=***',
    });
    expect(ws(['--url', TOKEN, '--port', '6080', 'info'], { VNC_TICKET: 'from-env' }).ticket).toBe('from-env');
    expect(ws(['--url', TOKEN, '--port', '6080', '--ticket', 'from-flag', 'info'], { VNC_TICKET: 'from-env' }).ticket).toBe('from-flag');
    expect(ws(['--url', TOKEN, '--port', '6080', '--ticket=-dash', 'info']).ticket).toBe('-dash');
    expect(ws(['--url', 'ws://h:1/${ticket}/x', '--ticket', 'pa th', 'info']).remote).toBe('ws://h:1/***/x');
    expect(ws(['--url', 'ws://h:1/?p=${password}', 'info'], { VNC_PASSWORD: 'pw' }).remote).toBe('ws://h:1/?p=***');
    // Query values written into the template are masked too.
    expect(ws(['--url', 'ws://h:1/?token=inline-secret', 'info']).remote).toBe('ws://h:1/?token=***');

    expect(wsMessage('--url', TOKEN, '--port', '6080', 'info')).toBe('the --url template uses ${ticket}: give it with --ticket T or in VNC_TICKET');
    expect(usageError(['--url', TOKEN, '--port', '6080', 'info'], { VNC_TICKET: '' }).message).toContain('uses ${ticket}');
    expect(wsMessage('--url', TOKEN, '--port', '6080', '--ticket', '', 'info')).toBe('--ticket must not be empty');
    expect(wsMessage('--url', 'ws://h:1/?p=${password}', 'info')).toBe('the --url template uses ${password}: give it with --password or in VNC_PASSWORD');
    const twice = usageError(['--url', TOKEN, '--port', '6080', '--ticket', 'tk-one', '--ticket', 'tk-two', 'info']);
    expect(twice.message).toBe('option --ticket is given twice');
    const dashed = usageError(['--url', TOKEN, '--port', '6080', '--ticket', '-tk-dash', 'info']);
    expect(dashed.message).toBe('option --ticket needs a value (for a value that starts with "-", write --ticket=VALUE)');
    for (const error of [twice, dashed]) expect(formatUsageError(error)).not.toMatch(/tk-(one|two|dash)/);
  });

  test('--var NAME=VALUE fills ${NAME}, repeatable (Proxmox)', () => {
    const proxmox = ws([
      '--url', PROXMOX, '--host', 'pve.example', '--port', '8006',
      '--var', 'node=pve', '--var', 'vmid=100', '--var=vncPort=5900', '--ticket', 'PVEVNC:ABC/+=', 'info',
    ]);
    expect(proxmox.vars).toEqual({ node: 'pve', vmid: '100', vncPort: '5900' });
    expect(proxmox.remote).toBe('wss://pve.example:8006/api2/json/nodes/pve/qemu/100/vncwebsocket?port=***&vncticket=***');
    expect(ws(['--url', 'ws://h:1/${path}', '--var', 'path=a=b', 'info']).vars).toEqual({ path: 'a=b' });
    expect(ws(['--url', 'ws://h:1/${path}', '--var', 'path=a b', 'info']).remote).toBe('ws://h:1/a%20b');

    expect(wsMessage('--url', 'ws://h:1/${vmid}', '--var', 'vmid', 'info')).toBe('--var must be name=value, e.g. --var vmid=100; got "vmid"');
    expect(wsMessage('--url', 'ws://h:1/${vmid}', '--var', '=100', 'info')).toBe(
      '--var must be name=value with a name of letters, digits and _ (not starting with a digit), e.g. --var vmid=100; got the name ""',
    );
    expect(wsMessage('--url', 'ws://h:1/${vmid}', '--var', '1vm=100', 'info')).toContain('got the name "1vm"');
    expect(wsMessage('--url', 'ws://h:1/${vmid}', '--var', 'vmid=', 'info')).toBe('--var vmid= has an empty value: write name=value, e.g. --var vmid=100');
    expect(wsMessage('--url', 'ws://h:1/${vmid}', '--var', 'vmid=1', '--var', 'vmid=2', 'info')).toBe('--var vmid is given twice');
    expect(wsMessage('--url', 'ws://h:1/', '--var', 'vmid=1', 'info')).toBe('--var vmid has no effect: the --url template has no ${vmid}');
    expect(wsMessage('--url', 'ws://h:1/${vmid}', 'info')).toBe('the --url template uses ${vmid}: give its value with --var vmid=VALUE');
    expect(wsMessage('--url', 'ws://h:1/${vmid}', '--var', 'vimd=100', 'info')).toBe(
      'the --url template uses ${vmid}: give its value with --var vmid=VALUE (--var vimd is given: a typo?)',
    );
  });

  test('--var may not set host, port, ticket or password, and never shows their values', () => {
    expect(wsMessage('--url', QEMU, '--port', '1', '--var', 'host=evil', 'info')).toBe('--var host=… is not allowed: give host with --host');
    expect(wsMessage('--url', QEMU, '--port', '1', '--var', 'port=1', 'info')).toBe('--var port=… is not allowed: give port with --port');
    expect(wsMessage('--url', QEMU, '--port', '1', '--var', 'ticket=tk-secret', 'info')).toBe(
      '--var ticket=… is not allowed: give ticket with --ticket (or its environment variable)',
    );
    expect(wsMessage('--url', QEMU, '--port', '1', '--var', 'password=pw-secret', 'info')).toBe(
      '--var password=… is not allowed: give password with --password (or its environment variable)',
    );
    expect(wsMessage('--url', QEMU, '--port', '1', '--var', 'ticket', 'info')).toContain('--var ticket=… is not allowed');
  });

  test("--header 'Name: value', repeatable; errors never show the value", () => {
    expect(
      ws([
        '--url', QEMU, '--port', '1',
        '--header', 'Authorization: PVEAPIToken=root@pam!vnc=1234-abcd',
        '--header=Cookie:PVEAuthCookie=PVE:root@pam:65F0::sig/+=',
        '--header', 'Origin: http://127.0.0.1:1',
        '--header', 'X-Empty:',
        'info',
      ]).headers,
    ).toEqual({
      Authorization: 'PVEAPIToken=root@pam!vnc=1234-abcd',
      Cookie: 'PVEAuthCookie=PVE:root@pam:65F0::sig/+=',
      Origin: 'http://127.0.0.1:1',
      'X-Empty': '',
    });

    const noColon = usageError(['--url', QEMU, '--port', '1', '--header', 'Authorization PVEAPIToken=hdr-secret', 'info']);
    expect(noColon.message).toBe(
      `--header must be 'Name: value', e.g. 'Authorization: PVEAPIToken=…'; the one given has no ":" (its text is not shown: it may be secret)`,
    );
    const badName = usageError(['--url', QEMU, '--port', '1', '--header', 'Bearer hdr-secret: x', 'info']);
    expect(badName.message).toBe(`--header must be 'Name: value' with a header name before the ":" (letters, digits and -, e.g. Authorization or Cookie)`);
    expect(wsMessage('--url', QEMU, '--port', '1', '--header', ': hdr-secret', 'info')).toBe(badName.message);
    const twice = usageError(['--url', QEMU, '--port', '1', '--header', 'Cookie: a=hdr-secret', '--header', 'cookie: b=hdr-secret', 'info']);
    expect(twice.message).toBe('--header cookie is given twice');
    const multiline = usageError(['--url', QEMU, '--port', '1', '--header', 'Cookie: hdr-secret\r\nX-Evil: 1', 'info']);
    expect(multiline.message).toBe('--header Cookie: the value must be one line of text');
    for (const error of [noColon, badName, twice, multiline]) {
      expect(error.usage).toBe(websocketUsageLine());
      expect(formatUsageError(error)).not.toContain('hdr-secret');
    }
    expect(wsMessage('--url', QEMU, '--port', '1', '--header', 'Sec-WebSocket-Protocol: base64', 'info')).toBe(
      '--header Sec-WebSocket-Protocol is not allowed: the WebSocket handshake sets it (use --subprotocol)',
    );
    expect(wsMessage('--url', QEMU, '--port', '1', '--header', 'Upgrade: h2c', 'info')).toBe('--header Upgrade is not allowed: the WebSocket handshake sets it');
  });

  test('--subprotocol binary|none', () => {
    expect(ws(['--url', QEMU, '--port', '1', 'info']).subprotocols).toEqual(['binary']);
    expect(ws(['--url', QEMU, '--port', '1', '--subprotocol', 'binary', 'info']).subprotocols).toEqual(['binary']);
    expect(ws(['--url', QEMU, '--port', '1', '--subprotocol', 'none', 'info']).subprotocols).toEqual([]);
    expect(wsMessage('--url', QEMU, '--port', '1', '--subprotocol', 'base64', 'info')).toBe('--subprotocol must be binary or none, got "base64"');
    expect(wsMessage('--url', QEMU, '--port', '1', '--subprotocol', '', 'info')).toBe('--subprotocol must be binary or none, got ""');
  });

  test('--ca-file PEM and --insecure: for wss:// (and TCP, for VeNCrypt), not both, not for ws://', () => {
    const trusted = parse(['--url', TOKEN, '--port', '1', '--ticket', 't', '--ca-file', 'server.pem', 'info']).globals;
    expect([trusted.caFile, trusted.insecure]).toEqual(['server.pem', false]);
    const insecure = parse(['--url', TOKEN, '--port', '1', '--ticket', 't', '--insecure', 'info']).globals;
    expect([insecure.caFile, insecure.insecure]).toEqual([undefined, true]);
    expect(parse(['--ca-file', 'ca.pem', 'info']).globals).toMatchObject({ caFile: 'ca.pem', websocket: undefined });
    expect(parse(['--insecure', 'info']).globals).toMatchObject({ insecure: true, websocket: undefined });

    expect(wsMessage('--url', TOKEN, '--port', '1', '--ticket', 't', '--ca-file', 'a.pem', '--insecure', 'info')).toBe(
      'use either --ca-file (trust this certificate) or --insecure (trust any), not both',
    );
    expect(wsMessage('--url', QEMU, '--port', '1', '--ca-file', 'a.pem', 'info')).toBe('--ca-file applies to wss:// URLs only: this one is ws://, without TLS');
    expect(wsMessage('--url', QEMU, '--port', '1', '--insecure', 'info')).toBe('--insecure applies to wss:// URLs only: this one is ws://, without TLS');
    expect(wsMessage('--ca-file', '', 'info')).toBe('--ca-file must not be empty');
    expect(message('--insecure=yes', 'info')).toBe('option --insecure takes no value');
  });

  test('--url usage errors: ports, hosts, displays, bad templates, options without --url', () => {
    expect(wsMessage('--url', QEMU, 'info')).toBe('the --url template uses ${port}: give it with --port (with --url there is no default port)');
    expect(wsMessage('--url', QEMU, '--display', '1', 'info')).toBe('--display does not apply with --url: give the port the URL needs with --port');
    expect(wsMessage('--url', 'ws://vnc.example:6080/', '--port', '6080', 'info')).toBe('--port has no effect: the --url template has no ${port}');
    expect(wsMessage('--url', 'ws://vnc.example:6080/', '--host', 'vnc.example', 'info')).toBe('--host has no effect: the --url template has no ${host}');
    expect(wsMessage('--url', '', 'info')).toBe(`--url must not be empty: give a ws:// or wss:// URL, e.g. 'ws://\${host}:\${port}/'`);
    expect(wsMessage('--url', 'http://${host}:${port}/', '--port', '1', 'info')).toBe(
      '--url: The WebSocket URL must start with ws:// or wss://, not http:// (template: http://${host}:${port}/).',
    );
    expect(wsMessage('--url', 'ws://h:1/${1x}', 'info')).toBe(
      '--url: The URL template has an invalid placeholder "${1x}": names are letters, digits and _ (e.g. ${vmid}).',
    );
    expect(wsMessage('--url', 'vnc.example:6080', 'info')).toMatch(/^--url: The (URL template does not give a valid URL|WebSocket URL must start with ws:\/\/)/);
    // The template's query (which may hold an inline token) is not echoed.
    const twice = usageError(['--url', 'ws://h:1/?token=url-one', '--url', 'ws://h:1/?token=url-two', 'info']);
    expect(twice.message).toBe('option --url is given twice');
    expect(formatUsageError(usageError(['--url', 'http://h:1/?token=url-secret', 'info']))).not.toContain('url-secret');

    for (const [option, value] of [['--ticket', 't'], ['--var', 'a=b'], ['--header', 'A: b'], ['--subprotocol', 'none']]) {
      expect(wsMessage(option, value, 'info')).toBe(`option ${option} needs --url (it is for WebSocket connections)`);
    }
    expect(message('--tiket', 't', 'info')).toBe('unknown option --tiket (did you mean --ticket?)');
    expect(message('--insecur', 'info')).toBe('unknown option --insecur (did you mean --insecure?)');
  });

  test('the WebSocket options work with every command', () => {
    const flags = ['--url', TOKEN, '--port', '6080', '--ticket', 'tk'];
    for (const argv of [
      ['info'],
      ['screenshot', 'a.png', '--region', '0,0,10,10'],
      ['move', '1', '2'],
      ['click'],
      ['drag', '1', '2', '3', '4'],
      ['type', 'x'],
      ['key', 'Return'],
      ['scroll', 'down'],
      ['clipboard', 'get'],
      ['clipboard', 'set', 'x', '--hold', '1'],
      ['wait-stable'],
      ['wait-change'],
      ['position'],
    ]) {
      expect(parse([...flags, ...argv]).globals.websocket?.remote).toBe('wss://127.0.0.1:6080/websockify?token=***');
      expect(parse([...argv, ...flags]).globals.websocket?.ticket).toBe('tk');
    }
  });

  test('the help documents the WebSocket options, examples and VNC_TICKET', () => {
    const help = helpText('1.2.3');
    expect(help).toContain("vnc-agent --url TEMPLATE [--host H] [--port P] [--ticket T] [--var NAME=VALUE]... [--header 'NAME: VALUE']...");
    for (const option of ['--url TEMPLATE', '--ticket T', '--var NAME=VALUE', "--header 'NAME: VALUE'", '--subprotocol binary|none', '--ca-file PEM', '--insecure']) {
      expect(help).toContain(`\n  ${option} `);
    }
    expect(help).toContain("$ vnc-agent --url 'wss://${host}:${port}/websockify?token=${ticket}'");
    expect(help).toContain("$ vnc-agent --url 'ws://${host}:${port}/' --host 10.0.0.5 --port 5701");
    expect(help).toContain('/api2/json/nodes/${node}/qemu/${vmid}/vncwebsocket?port=${vncPort}&vncticket=${ticket}');
    expect(help).toContain('--var node=pve --var vmid=100 --var vncPort=5900');
    expect(help).toContain('--header "Authorization: PVEAPIToken=');
    expect(help).toMatch(/\n  VNC_TICKET +the ticket when --ticket is not given/);
    for (const line of help.split('\n')) {
      if (!line.includes('$ vnc-agent') && !line.startsWith('       vnc-agent') && !line.startsWith('          --')) expect(line.length, line).toBeLessThanOrEqual(110);
    }
  });
});

test.describe('targets: --target NAME [--config FILE] and the targets command', () => {
  /** A usage error of --target: its message, after checking it carries the --target usage line. */
  const targetMessage = (...argv: string[]): string => {
    const error = usageError(argv);
    expect(error.usage).toBe(targetUsageLine());
    return error.message;
  };

  test('--target NAME [--config FILE]: the target replaces host, port and credentials; --timeout overrides its own', () => {
    expect(parse(['--target', 'local', 'info'], { VNC_PASSWORD: 'ignored' }).globals).toEqual({
      host: '127.0.0.1',
      port: 5900,
      password: undefined,
      username: undefined,
      timeoutMs: 10_000,
      typingDelayMs: undefined,
      shared: true,
      debug: false,
      json: false,
      caFile: undefined,
      insecure: false,
      websocket: undefined,
      target: { name: 'local', config: undefined, timeoutMs: undefined },
      encodings: undefined,
      quality: undefined,
      compressionLevel: undefined,
    });
    expect(parse(['screenshot', 'a.png', '--target=app[size=1280x800]', '--config', 'ci/vnc.targets.yaml', '--timeout', '30']).globals).toMatchObject({
      target: { name: 'app[size=1280x800]', config: 'ci/vnc.targets.yaml', timeoutMs: 30_000 },
      timeoutMs: 30_000,
    });
    expect(parse(['--target', 'vm', '--typing-delay', '0', '--exclusive', '--json', '--debug', 'type', 'x']).globals).toMatchObject({
      typingDelayMs: 0,
      shared: false,
      json: true,
      debug: true,
    });
    // Every command takes it.
    for (const argv of [['info'], ['screenshot', 'a.png'], ['move', '1', '2'], ['click'], ['key', 'Return'], ['clipboard', 'get'], ['wait-stable'], ['position']]) {
      expect(parse(['--target', 'local', ...argv]).globals.target?.name).toBe('local');
    }
  });

  test('--target with a connection option, --config without --target, and empty values are usage errors', () => {
    const carries = 'cannot be combined with --target: the target carries its own connection and credentials (change them in the targets file, or drop --target)';
    expect(targetMessage('--target', 'local', '--host', 'h', 'info')).toBe(`--host ${carries}`);
    expect(targetMessage('--target', 'local', '--port', '5901', 'info')).toBe(`--port ${carries}`);
    expect(targetMessage('--target', 'local', '--display', '1', 'info')).toBe(`--display ${carries}`);
    expect(targetMessage('--target', 'local', '--url', 'ws://h/', 'info')).toBe(`--url ${carries}`);
    expect(targetMessage('--target', 'local', '--username', 'me', 'info')).toBe(`--username ${carries}`);
    expect(targetMessage('--target', 'local', '--ca-file', 'ca.pem', '--insecure', 'info')).toBe(`--ca-file, --insecure ${carries}`);
    expect(targetMessage('--target', 'local', '--var', 'a=1', '--header', 'A: b', '--ticket', 'tk', 'info')).toBe(`--ticket, --var, --header ${carries}`);
    const password = usageError(['--target', 'local', '--password', 'hunter2', 'info']);
    expect(password.message).toBe(`--password ${carries}`);
    expect(formatUsageError(password)).not.toContain('hunter2');
    expect(targetMessage('--config', 'vnc.targets.yaml', 'info')).toBe(
      'option --config needs --target NAME (or the targets command): it names the targets file to read the target from',
    );
    expect(targetMessage('--target', '', 'info')).toBe('--target must not be empty: give a target name (vnc-agent targets lists them)');
    expect(targetMessage('--target', 'local', '--config', ' ', 'info')).toBe('--config must not be empty');
    expect(message('info', '--target')).toBe('option --target needs a value');
    expect(message('--target', 'a', '--target', 'b', 'info')).toBe('option --target is given twice ("a" and "b")');
    expect(message('--traget', 'local', 'info')).toBe('unknown option --traget (did you mean --target?)');
    expect(message('--target', 'local')).toBe('missing command (run "vnc-agent --help" for the list)');
  });

  test('targets [--config FILE] [--json]: no arguments, no connection options', () => {
    expect(parseCommandLine(['targets'])).toEqual({ kind: 'targets', options: { config: undefined, json: false, debug: false } });
    expect(parseCommandLine(['--json', 'targets', '--config', 'ci/vnc.targets.yaml', '--debug'])).toEqual({
      kind: 'targets',
      options: { config: 'ci/vnc.targets.yaml', json: true, debug: true },
    });
    expect(parseCommandLine(['targets', '--help'])).toEqual({ kind: 'help', topic: 'targets' });
    expect(parseCommandLine(['help', 'targets'])).toEqual({ kind: 'help', topic: 'targets' });
    const usage = 'usage: vnc-agent targets [--config FILE] [--json]';
    expect(usageLine('targets')).toBe(usage);
    const error = usageError(['targets', 'extra']);
    expect([error.message, error.usage]).toEqual(['targets: unexpected argument "extra"', usage]);
    expect(message('targets', '--target', 'local')).toBe(
      'option --target does not apply to targets (it lists every target; to connect to one, give --target NAME with another command)',
    );
    for (const option of [['--host', 'h'], ['--port', '1'], ['--url', 'ws://h/'], ['--timeout', '3'], ['--encodings', 'raw'], ['--exclusive'], ['--var', 'a=1']]) {
      expect(message('targets', ...option)).toBe(`option ${option[0]} does not apply to targets (it reads the targets file and connects to nothing)`);
    }
    expect(message('targets', '--region', '0,0,1,1')).toBe('option --region does not apply to targets (it is for screenshot, wait-stable, wait-change, text, find-text, click-text, wait-text)');
    expect(message('targets', '--config', '')).toBe('--config must not be empty');
    expect(message('target')).toBe('unknown command "target" (did you mean targets?)');
  });
});

test.describe('picture options: --encodings, --quality, --compression', () => {
  test('--encodings LIST: known names, best first, any case; with every kind of connection', () => {
    expect(ENCODING_NAMES).toEqual(['copyrect', 'tight', 'zrle', 'hextile', 'zlib', 'rre', 'raw']);
    expect(parse(['--encodings', 'tight,zrle,raw', 'info']).globals.encodings).toEqual(['tight', 'zrle', 'raw']);
    expect(parse(['screenshot', 'a.png', '--encodings=ZRLE, Raw']).globals.encodings).toEqual(['zrle', 'raw']);
    expect(parse(['--encodings', 'zrle', 'info']).globals.encodings).toEqual(['zrle']);
    expect(parse(['--url', 'ws://h:1/', '--encodings', 'hextile', 'info']).globals).toMatchObject({ encodings: ['hextile'], websocket: { remote: 'ws://h:1/' } });
    expect(parse(['--target', 'local', '--encodings', 'tight', '--quality', '7', '--compression', '2', 'screenshot', 'a.png']).globals).toMatchObject({
      target: { name: 'local' },
      encodings: ['tight'],
      quality: 7,
      compressionLevel: 2,
    });
  });

  test('--encodings mistakes list the known names', () => {
    const known = 'this client decodes copyrect, tight, zrle, hextile, zlib, rre, raw';
    expect(message('--encodings', 'tight,jpeg', 'info')).toBe(`--encodings: unknown encoding "jpeg": ${known}`);
    expect(message('--encodings', 'zlre', 'info')).toBe(`--encodings: unknown encoding "zlre" (did you mean zrle?): ${known}`);
    expect(message('--encodings', 'hex', 'info')).toBe(`--encodings: unknown encoding "hex" (did you mean hextile?): ${known}`);
    expect(message('--encodings', 'tight,,raw', 'info')).toBe('--encodings must be encoding names separated by commas, e.g. tight,zrle,raw; got "tight,,raw"');
    expect(message('--encodings', '', 'info')).toBe('--encodings must be encoding names separated by commas, e.g. tight,zrle,raw; got ""');
    expect(message('--encodings', 'raw,zrle,RAW', 'info')).toBe('--encodings lists raw twice');
    expect(message('--encodings', 'raw', '--encodings', 'zrle', 'info')).toBe('option --encodings is given twice ("raw" and "zrle")');
    expect(usageError(['--encodings', 'x', 'screenshot', 'a.png']).usage).toBe(usageLine('screenshot'));
  });

  test('--quality lossless|0..9 and --compression 0..9', () => {
    expect(parse(['--quality', 'lossless', 'info']).globals.quality).toBe('lossless');
    expect(parse(['--quality', 'LOSSLESS', 'info']).globals.quality).toBe('lossless');
    expect(parse(['--quality', '0', 'info']).globals.quality).toBe(0);
    expect(parse(['--quality', '9', 'info']).globals.quality).toBe(9);
    expect(parse(['--compression', '0', 'info']).globals.compressionLevel).toBe(0);
    expect(parse(['--compression=9', 'info']).globals.compressionLevel).toBe(9);
    for (const bad of ['10', '-1', '5.5', 'high', '', '07']) {
      expect(message('--quality', bad, 'info')).toBe(`--quality must be lossless or a JPEG quality level from 0 (smallest) to 9 (best), got ${JSON.stringify(bad)}`);
    }
    for (const bad of ['10', '-1', '1.5', 'max']) {
      expect(message('--compression', bad, 'info')).toBe(`--compression must be a whole number from 0 to 9, got ${JSON.stringify(bad)}`);
    }
  });

  test('the help documents --target, --config, targets, the picture options and their examples', () => {
    const help = helpText('1.2.3');
    expect(help).toContain('\n       vnc-agent --target NAME [--config FILE] [options] COMMAND [arguments]\n');
    expect(help).toContain('\n       vnc-agent targets [--config FILE] [--json]\n');
    for (const option of ['--target NAME', '--config FILE', '--encodings LIST', '--quality lossless|0..9', '--compression 0..9']) {
      expect(help).toContain(`\n  ${option} `);
    }
    expect(help.replace(/\s+/g, ' ')).toContain('comma-separated: copyrect, tight, zrle, hextile, zlib, rre, raw; raw is always offered');
    const flat = help.replace(/\s+/g, ' ');
    expect(flat).toContain('a launched local desktop lives only as long as one command, which suits info and screenshot');
    expect(flat).toContain("the target's provider asked once (attempt 0)");
    for (const example of [
      '$ vnc-agent targets',
      '$ vnc-agent targets --config ci/vnc.targets.yaml --json',
      '$ vnc-agent --target local screenshot desktop.png',
      "$ vnc-agent --target 'app[size=1920x1080]' --config ci/vnc.targets.yaml --timeout 30 info",
      '$ vnc-agent --encodings zrle,raw screenshot exact.png',
      '$ vnc-agent --encodings tight --quality 5 --compression 9 screenshot slow-link.png',
    ]) {
      expect(help).toContain(example);
    }
    expect(help).toMatch(/\n  2 +usage error: .*an unknown --target,\n +a targets file that cannot be read or has problems/);
    const targets = helpText('1.2.3', 'targets');
    expect(targets.split('\n')[0]).toBe('usage: vnc-agent targets [--config FILE] [--json]');
    expect(targets).toContain('\n  --config FILE ');
    expect(targets).toContain('\n  --json ');
  });
});

test.describe('error reports', () => {
  test('a runtime usage error (unknown target, broken targets file): the message, one line per detail, the hint', () => {
    const error = new CliUsageError('/x/vnc.targets.yaml has 2 problems:', {
      details: ['/x/vnc.targets.yaml:3:5: targets.a: unknown key "pasword".', '/x/vnc.targets.yaml:7:15: targets.b.password: environment variable\nX is not set.'],
      hint: 'hint: fix them',
    });
    expect(error).toBeInstanceOf(CliError);
    expect(formatError(error, { debug: false })).toBe(
      'vnc-agent: /x/vnc.targets.yaml has 2 problems:\n' +
        '/x/vnc.targets.yaml:3:5: targets.a: unknown key "pasword".\n' +
        '/x/vnc.targets.yaml:7:15: targets.b.password: environment variable X is not set.\n' +
        'hint: fix them\n',
    );
  });

  test('one line and a hint, no stack, unless --debug', () => {
    const timeout = new VNCTimeoutError('The screen did not change within 2000 ms.', 2000);
    expect(formatError(timeout, { debug: false, timeoutMs: 2000 })).toBe(
      'vnc-agent: The screen did not change within 2000 ms.\nhint: --timeout is 2 s; give a larger one to wait longer\n',
    );
    const debug = formatError(timeout, { debug: true });
    expect(debug.split('\n').slice(0, 3)).toEqual([
      'vnc-agent: The screen did not change within 2000 ms.',
      'hint: --timeout is 2 s; give a larger one to wait longer',
      'VNCTimeoutError: The screen did not change within 2000 ms.',
    ]);
    expect(debug).toMatch(/\n {4}at /);
    expect(formatError(new CliError('nope', 'hint: do this'), { debug: false })).toBe('vnc-agent: nope\nhint: do this\n');
    expect(formatError(new Error('two\nlines'), { debug: false })).toBe('vnc-agent: two lines\n');
  });

  test('the password is masked everywhere, stack and causes included', () => {
    const cause = new Error('server said hunter2');
    const error = new VNCAuthenticationError('Authentication failed for hunter2.', { cause });
    const text = formatError(error, { debug: true, password: 'hunter2' });
    expect(text).not.toContain('hunter2');
    expect(text).toContain('vnc-agent: Authentication failed for ***.');
    expect(text).toContain('caused by: Error: server said ***');
    expect(redact('a-b-a', 'a')).toBe('***-b-***');
    expect(redact('abc', undefined)).toBe('abc');
  });

  test('tickets, header values and their credentials are masked too, URL-encoded or not', () => {
    const { globals } = parse([
      '--url', 'wss://${host}:${port}/x?vncticket=${ticket}', '--port', '8006',
      '--ticket', 'PVEVNC:T1/+=', '--password', 'pw-Secret',
      '--header', 'Authorization: PVEAPIToken=root@pam!vnc=uuid-1234',
      '--header', 'Cookie: PVEAuthCookie=cookie-5678; lang=en',
      '--header', 'X-Short: 1',
      'info',
    ]);
    const secrets = secretsOf(globals);
    for (const secret of ['PVEVNC:T1/+=', 'PVEVNC%3AT1%2F%2B%3D', 'pw-Secret', 'PVEAPIToken=root@pam!vnc=uuid-1234', 'root@pam!vnc=uuid-1234', 'uuid-1234', 'cookie-5678']) {
      expect(secrets).toContain(secret);
    }
    expect(secrets).not.toContain('1');
    expect(secrets).not.toContain('en');

    const cause = new Error('upgrade of wss://h/x?vncticket=PVEVNC%3AT1%2F%2B%3D failed; sent Authorization PVEAPIToken=root@pam!vnc=uuid-1234');
    const error = new VNCAuthenticationError('Ticket PVEVNC:T1/+= refused (token uuid-1234, cookie cookie-5678, password pw-Secret).', { cause });
    const text = formatError(error, { debug: true, password: globals.password, secrets });
    for (const secret of ['PVEVNC', 'T1/+=', '%3AT1', 'uuid-1234', 'cookie-5678', 'pw-Secret', 'root@pam']) expect(text).not.toContain(secret);
    expect(text).toContain('vnc-agent: Ticket *** refused (token ***, cookie ***, password ***).');
    expect(text).toContain('caused by: Error: upgrade of wss://h/x?vncticket=*** failed; sent Authorization ***');
    expect(redactAll('ab-abc', ['ab', 'abc'])).toBe('***-***');
    expect(redactAll('plain', [undefined, ''])).toBe('plain');
  });
});

test.describe('screen-text commands', () => {
  test('parse: text, find-text, click-text, wait-text with their options', () => {
    expect(parse(['text']).command).toEqual({ name: 'text', region: undefined });
    expect(parse(['text', '--region', '0,0,100,50']).command).toEqual({ name: 'text', region: { x: 0, y: 0, width: 100, height: 50 } });
    expect(parse(['find-text', 'Save as', '--exact']).command).toEqual({ name: 'find-text', text: 'Save as', region: undefined, exact: true });
    expect(parse(['click-text', 'OK', '--nth', '-1', '--button', 'right', '--double']).command).toEqual({
      name: 'click-text',
      text: 'OK',
      region: undefined,
      exact: false,
      nth: -1,
      double: true,
      button: 'right',
    });
    expect(parse(['wait-text', 'Loading', '--gone']).command).toEqual({ name: 'wait-text', text: 'Loading', region: undefined, exact: false, gone: true });
  });

  test('mistakes say what is wrong', () => {
    expect(message('click-text')).toBe('click-text: missing TEXT (the words to look for)');
    expect(message('find-text', 'a', 'b')).toBe('find-text: unexpected argument "b" (quote TEXT that contains spaces)');
    expect(message('wait-text', ' ')).toBe('wait-text: TEXT must not be empty');
    expect(message('click-text', 'OK', '--nth', 'last')).toBe('--nth must be a whole number (0 = first, -1 = last), got "last"');
    expect(message('text', 'Save')).toBe('text: unexpected argument "Save" (the text command reads the screen; to find a text use find-text)');
    expect(message('find-text', 'OK', '--gone')).toBe('option --gone does not apply to find-text (it is for wait-text)');
  });
});
