/**
 * The `vnc-agent` command line, parsed: pure functions from argv (and the environment) to a
 * description of what to run. Nothing here connects, reads files or prints; usage mistakes throw a
 * `UsageError` that names what is wrong and carries the one-line usage of the subcommand.
 */
import { parseArgs } from 'node:util';
import { keyEventsForText, parseChord } from '../bridge/key-chord.js';
import type { MouseButton, Point } from '../bridge/mouse.js';
import { VNCConfigError } from '../errors.js';
import { PIXEL_ENCODINGS } from '../rfb/encodings/index.js';
import { KEYBOARD_LAYOUT_NAMES } from '../rfb/keyboard-layouts/index.js';
import type { Rect } from '../rfb/framebuffer.js';
import type { CompressionLevel, Quality } from '../rfb/quality.js';
import { expandUrlTemplate, maskUrl, templatePlaceholders } from '../transport/url-template.js';
import { closest as closestName } from '../transport/suggest.js';
import { isTextCommand, parseTextCommand, TEXT_COMMAND_NAMES, TEXT_COMMAND_OPTIONS, TEXT_COMMANDS, type TextCommand } from './text-commands.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 5900;
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const DEFAULT_STILL_MS = 500;
export const DEFAULT_DRAG_STEPS = 10;
/** Node timers overflow past 2^31-1 ms (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A command line that cannot be run as written. `usage` is the one-line usage to show with it. */
export class UsageError extends Error {
  readonly usage: string;

  constructor(message: string, usage: string) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

export interface GlobalOptions {
  host: string;
  port: number;
  /** From --password, else VNC_PASSWORD; never print it. */
  password: string | undefined;
  username: string | undefined;
  /** Connect timeout and the bound of every wait. */
  timeoutMs: number;
  /** undefined: the library's default. */
  typingDelayMs: number | undefined;
  /** --layout: the remote keyboard layout ("us", "de", …); undefined: none (or the target's). */
  keyboardLayout: string | undefined;
  /** ClientInit shared flag (false with --exclusive). */
  shared: boolean;
  debug: boolean;
  json: boolean;
  /** --ca-file: a PEM certificate file to trust for TLS (read when running, not here). */
  caFile: string | undefined;
  /** --insecure: do not verify the server's TLS certificate. */
  insecure: boolean;
  /** --url: connect through a WebSocket; undefined: plain TCP to host:port. */
  websocket: WebSocketOptions | undefined;
  /** --target: connect to a target of the targets file instead (host, port and the rest unused). */
  target: TargetSelection | undefined;
  /** --encodings: pixel encodings to offer, best first (lower case); undefined: all (or the target's). */
  encodings: string[] | undefined;
  /** --quality; undefined: lossless (or the target's). */
  quality: Quality | undefined;
  /** --compression; undefined: the server's choice. */
  compressionLevel: CompressionLevel | undefined;
}

/** --target NAME [--config FILE]. */
export interface TargetSelection {
  name: string;
  /** --config; undefined: vnc.targets.yaml in the working folder, else the embedded default. */
  config: string | undefined;
  /** The --timeout given, which overrides the target's; undefined: the target's. */
  timeoutMs: number | undefined;
}

/** The WebSocket half of the global options (with --url). `host` and `port` fill ${host}/${port}. */
export interface WebSocketOptions {
  /** --url as given; the placeholders are filled when connecting. */
  urlTemplate: string;
  /** The filled URL as it may be printed: query values and the ticket as ***. */
  remote: string;
  /** Whether the template uses ${port} (else `port` is only the URL's own port). */
  usesPort: boolean;
  /** From --ticket, else VNC_TICKET; never print it. */
  ticket: string | undefined;
  /** --var NAME=VALUE, for ${NAME}. */
  vars: Record<string, string>;
  /** --header 'Name: value'; the values are secrets (Authorization, Cookie). */
  headers: Record<string, string>;
  /** --subprotocol: ['binary'] (default) or [] (none). */
  subprotocols: string[];
}

export type ScrollDirection = 'up' | 'down' | 'left' | 'right';

export type Command =
  | { name: 'info' }
  | { name: 'screenshot'; file: string; region: Rect | undefined }
  | { name: 'move'; x: number; y: number }
  | { name: 'click'; at: Point | undefined; button: MouseButton; double: boolean }
  | { name: 'drag'; from: Point; to: Point; steps: number; button: MouseButton }
  /** `text` undefined: read it from stdin (`type -`). */
  | { name: 'type'; text: string | undefined; delayMs: number | undefined }
  | { name: 'key'; chords: string[] }
  | { name: 'scroll'; direction: ScrollDirection; amount: number; at: Point | undefined }
  | { name: 'clipboard-get' }
  /** `text` undefined: read it from stdin (`clipboard set -`). */
  | { name: 'clipboard-set'; text: string | undefined; holdMs: number }
  | { name: 'wait-stable'; stillMs: number; region: Rect | undefined }
  | { name: 'wait-change'; region: Rect | undefined }
  | { name: 'position' }
  | TextCommand;

/** `vnc-agent targets [--config FILE] [--json]`: list and validate the targets file; no connection. */
export interface TargetsOptions {
  config: string | undefined;
  json: boolean;
  debug: boolean;
}

export type ParseResult =
  | { kind: 'help'; topic: CommandName | undefined }
  | { kind: 'version' }
  | { kind: 'targets'; options: TargetsOptions }
  | { kind: 'run'; globals: GlobalOptions; command: Command };

// ---------------------------------------------------------------------------------------------
// The subcommands: usage, description, examples, and the options each one takes.

export const COMMAND_NAMES = [
  'info',
  'screenshot',
  'move',
  'click',
  'drag',
  'type',
  'key',
  'scroll',
  'clipboard',
  'wait-stable',
  'wait-change',
  ...TEXT_COMMAND_NAMES,
  'position',
  'targets',
  'help',
] as const;

export type CommandName = (typeof COMMAND_NAMES)[number];

interface CommandSpec {
  /** Arguments after the command name, as shown in usage lines. */
  synopsis: string;
  summary: string;
  examples: string[];
  /** Options that only this command takes. */
  options: string[];
  /** Global options worth listing in this command's own help. */
  globals?: string[];
}

export const COMMANDS: Record<CommandName, CommandSpec> = {
  ...TEXT_COMMANDS,
  info: {
    synopsis: '',
    summary: "Print the server's desktop name, screen size, RFB version, security type and clipboard support.",
    examples: ['vnc-agent --display 1 info', 'vnc-agent --json info'],
    options: [],
  },
  screenshot: {
    synopsis: 'FILE [--region X,Y,W,H]',
    summary: 'Save the screen (or a region of it) as a PNG file; prints the path and size.',
    examples: ['vnc-agent screenshot shot.png', 'vnc-agent screenshot top-left.png --region 0,0,640,400'],
    options: ['region'],
  },
  move: {
    synopsis: 'X Y',
    summary: 'Move the pointer to (X, Y).',
    examples: ['vnc-agent move 300 200'],
    options: [],
  },
  click: {
    synopsis: '[X Y] [--button left|right|middle] [--double]',
    summary: 'Click at (X, Y), or without X Y where vnc-agent last put the pointer on this server.',
    examples: ['vnc-agent click 300 200', 'vnc-agent click 300 200 --button right', 'vnc-agent click --double'],
    options: ['button', 'double'],
  },
  drag: {
    synopsis: 'X1 Y1 X2 Y2 [--steps N] [--button left|right|middle]',
    summary: `Press at (X1, Y1), move in N steps (default ${DEFAULT_DRAG_STEPS}) to (X2, Y2), release there.`,
    examples: ['vnc-agent drag 100 100 400 300', 'vnc-agent drag 100 100 400 300 --steps 30 --button middle'],
    options: ['steps', 'button'],
  },
  type: {
    synopsis: 'TEXT|- [--delay MS]',
    summary: 'Type Unicode text ("-" reads it from stdin); a newline presses Return, a tab Tab.',
    examples: ["vnc-agent type 'héllo wörld'", "vnc-agent type $'ls -l\\n'", 'cat notes.txt | vnc-agent type - --delay 0'],
    options: ['delay'],
  },
  key: {
    synopsis: 'CHORD...',
    summary: 'Press keys or chords one after another (names joined by "+", e.g. ctrl+alt+t, Return, F5).',
    examples: ['vnc-agent key ctrl+alt+t', 'vnc-agent key ctrl+a BackSpace Return'],
    options: [],
  },
  scroll: {
    synopsis: 'up|down|left|right [N] [--at X,Y]',
    summary: 'Turn the mouse wheel N steps (default 1) at X,Y, or where vnc-agent last put the pointer.',
    examples: ['vnc-agent scroll down 5 --at 640,400', 'vnc-agent scroll up'],
    options: ['at'],
  },
  clipboard: {
    synopsis: 'get | clipboard set TEXT|- [--hold SECONDS]',
    summary:
      "get: print the server's clipboard text as soon as the server announces it (up to --timeout); servers " +
      'announce text when it is copied, TigerVNC not what was copied before vnc-agent connected. ' +
      'set: make TEXT the clipboard ("-" reads stdin). TigerVNC forgets text a client set once that client ' +
      'disconnects, so --hold SECONDS keeps the connection open that long for something on the desktop to paste it.',
    examples: ['vnc-agent clipboard get', "vnc-agent clipboard set 'some text' --hold 30"],
    options: ['hold'],
  },
  'wait-stable': {
    synopsis: '[--still MS] [--region X,Y,W,H]',
    summary: `Wait until the screen (or region) has not changed for MS milliseconds (default ${DEFAULT_STILL_MS}); exit 1 after --timeout.`,
    examples: ['vnc-agent --timeout 30 wait-stable --still 1000'],
    options: ['still', 'region'],
  },
  'wait-change': {
    synopsis: '[--region X,Y,W,H]',
    summary: 'Wait until the screen (or region) changes from how it was on connecting; exit 1 after --timeout.',
    examples: ['vnc-agent wait-change --region 0,0,1280,40 && echo "the top bar changed"'],
    options: ['region'],
  },
  position: {
    synopsis: '',
    summary: 'Print where vnc-agent last put the pointer on this server (VNC cannot report the real pointer). No connection.',
    examples: ['vnc-agent --json position'],
    options: [],
  },
  targets: {
    synopsis: '[--config FILE] [--json]',
    summary:
      'List the targets of the targets file (vnc.targets.yaml, as the test framework reads it) and the projects they ' +
      'expand to, and validate it: exit 0 when it is valid, 2 with every problem as FILE:LINE:COLUMN. Connects to ' +
      'nothing, runs no provider and launches nothing; ${env:NAME} values are filled in (a missing variable is a problem).',
    examples: ['vnc-agent targets', 'vnc-agent targets --config ci/vnc.targets.yaml --json'],
    options: [],
    globals: ['config', 'json'],
  },
  help: {
    synopsis: '[COMMAND]',
    summary: 'Show this help, or the help of one command.',
    examples: ['vnc-agent help click'],
    options: [],
  },
};

/** The one-line usage of a command, or of the whole program. */
export function usageLine(command?: CommandName): string {
  if (command === undefined) return `usage: vnc-agent [options] <${COMMAND_NAMES.join('|')}> [arguments]`;
  const { synopsis } = COMMANDS[command];
  if (command === 'targets') return `usage: vnc-agent targets${synopsis ? ` ${synopsis}` : ''}`;
  return `usage: vnc-agent [options] ${command}${synopsis ? ` ${synopsis}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Options.

interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder in help, for string options. */
  value?: string;
  help: string;
  /** Never echo this option's value in error messages. */
  secret?: boolean;
  /** May be given more than once. */
  repeatable?: boolean;
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  host: { type: 'string', value: 'HOST', help: `VNC server host (default ${DEFAULT_HOST}); with --url it fills \${host}` },
  port: { type: 'string', value: 'PORT', help: `VNC server port (default ${DEFAULT_PORT}); with --url it fills \${port}, no default` },
  display: { type: 'string', value: 'N', help: 'X display number instead of --port: port 5900+N' },
  password: { type: 'string', value: 'PW', help: 'VNC password (prefer VNC_PASSWORD: argv is visible to other users)', secret: true },
  username: { type: 'string', value: 'USER', help: 'user name, for servers that ask for one' },
  timeout: { type: 'string', value: 'SECONDS', help: `limit for connecting and for each wait (default ${DEFAULT_TIMEOUT_SECONDS})` },
  'typing-delay': { type: 'string', value: 'MS', help: 'pause after each typed character (default 33, about 30 keys/s)' },
  layout: { type: 'string', value: 'NAME', help: `the remote keyboard layout, for VM consoles and other fixed-layout servers: ${KEYBOARD_LAYOUT_NAMES.join(', ')}` },
  encodings: {
    type: 'string',
    value: 'LIST',
    help: `pixel encodings to offer, best first, comma-separated: ${PIXEL_ENCODINGS.map((encoding) => encoding.name).join(', ')}; raw is always offered (last unless listed). Default: all, in that order`,
  },
  quality: {
    type: 'string',
    value: 'lossless|0..9',
    help: 'lossless (default): no JPEG, exact pixels; 0 (smallest) to 9 (best): let Tight servers send JPEG for photo-like areas',
  },
  compression: { type: 'string', value: '0..9', help: "zlib effort to ask the server for: 0 (fastest) to 9 (smallest); default: the server's choice" },
  exclusive: { type: 'boolean', help: 'ask the server to disconnect other clients (default: shared)' },
  json: { type: 'boolean', help: 'machine-readable output (info, screenshot, clipboard get, pointer commands, waits, targets)' },
  debug: { type: 'boolean', help: 'show stack traces and connection progress on stderr' },
  help: { type: 'boolean', short: 'h', help: 'show help (with a command: that command\'s help)' },
  version: { type: 'boolean', help: 'print the version' },
};

export const COMMAND_OPTIONS: Record<string, OptionSpec> = {
  region: { type: 'string', value: 'X,Y,W,H', help: 'part of the screen: left, top, width, height in pixels' },
  button: { type: 'string', value: 'BUTTON', help: 'left (default), right or middle' },
  double: { type: 'boolean', help: 'double click' },
  steps: { type: 'string', value: 'N', help: `pointer moves between the two points (default ${DEFAULT_DRAG_STEPS})` },
  delay: { type: 'string', value: 'MS', help: 'pause after each typed character, overrides --typing-delay' },
  at: { type: 'string', value: 'X,Y', help: 'move the pointer here first' },
  hold: { type: 'string', value: 'SECONDS', help: 'stay connected this long after setting the clipboard' },
  still: { type: 'string', value: 'MS', help: `how long the screen must stay unchanged (default ${DEFAULT_STILL_MS})` },
  ...TEXT_COMMAND_OPTIONS,
};

/** Global options for WebSocket connections (--ca-file and --insecure also for VeNCrypt over TCP). */
export const WEBSOCKET_OPTIONS: Record<string, OptionSpec> = {
  url: {
    type: 'string',
    value: 'TEMPLATE',
    help: 'connect through this ws:// or wss:// URL instead of TCP; ${host}, ${port}, ${ticket}, ${password} and --var names are filled in',
    secret: true,
  },
  ticket: { type: 'string', value: 'T', help: 'ticket or token for ${ticket}; also the VNC password when none is given (prefer VNC_TICKET)', secret: true },
  var: { type: 'string', value: 'NAME=VALUE', help: 'the value of ${NAME} in the URL (repeatable)', repeatable: true },
  header: {
    type: 'string',
    value: "'NAME: VALUE'",
    help: 'an HTTP header for the WebSocket upgrade, e.g. Authorization or Cookie (repeatable; values are never printed)',
    repeatable: true,
    secret: true,
  },
  subprotocol: { type: 'string', value: 'binary|none', help: 'WebSocket subprotocol to offer (default binary; none: offer none)' },
  'ca-file': { type: 'string', value: 'PEM', help: "trust this certificate (the server's own or its CA's) for wss:// and VeNCrypt" },
  insecure: { type: 'boolean', help: "do not verify the server's TLS certificate (warns on stderr; only on a network you trust)" },
};

/** Global options for connecting to a target of the targets file (and for the targets command). */
export const TARGET_OPTIONS: Record<string, OptionSpec> = {
  target: {
    type: 'string',
    value: 'NAME',
    help: 'connect to this target of the targets file as the test fixture does; a target with launch: is started for this command and stopped after it',
  },
  config: { type: 'string', value: 'FILE', help: 'the targets file (default vnc.targets.yaml in the current folder, else the embedded local desktop)' },
};

const ALL_OPTIONS: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...WEBSOCKET_OPTIONS, ...TARGET_OPTIONS, ...COMMAND_OPTIONS };

/** What a target says itself: how to connect, and with which credentials. */
const CONNECTION_OPTIONS = ['host', 'port', 'display', 'password', 'username', 'url', 'ticket', 'var', 'header', 'subprotocol', 'ca-file', 'insecure'];

/** The only options of the targets command (besides --help and --version). */
const TARGETS_COMMAND_OPTIONS = ['config', 'json', 'debug'];

/** The names --encodings takes. */
export const ENCODING_NAMES: readonly string[] = PIXEL_ENCODINGS.map((encoding) => encoding.name);

/** The one-line usage of --target. */
export function targetUsageLine(): string {
  return 'usage: vnc-agent --target NAME [--config FILE] [options] COMMAND [arguments]';
}

/** The options that only make sense with --url. */
const URL_ONLY = ['ticket', 'var', 'header', 'subprotocol'];

/** The one-line usage of the WebSocket options, shown with their usage errors. */
export function websocketUsageLine(): string {
  return (
    "usage: vnc-agent --url TEMPLATE [--host HOST] [--port PORT] [--ticket T] [--var NAME=VALUE]... [--header 'NAME: VALUE']... " +
    '[--subprotocol binary|none] [--ca-file PEM | --insecure] [options] COMMAND [arguments]'
  );
}

// ---------------------------------------------------------------------------------------------
// Suggestions.


/** The known name closest to `input`: a typo, or a name it begins. */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  return closestName(input, candidates, { prefix: true });
}

// ---------------------------------------------------------------------------------------------
// Values.

const WHOLE = /^\d+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

function quote(text: string): string {
  return JSON.stringify(text);
}

/** A whole number ≥ `min` (and ≤ `max`). */
function wholeNumber(text: string, what: string, usage: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = WHOLE.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${what} must be a whole number ${range}, got ${quote(text)}`, usage);
  }
  return value;
}

/** A decimal number; `positive` excludes 0. */
function decimalNumber(text: string, what: string, unit: string, usage: string, positive: boolean, max: number): number {
  const value = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || (positive ? value <= 0 : value < 0) || value > max) {
    throw new UsageError(`${what} must be a ${positive ? 'positive number' : 'number ≥ 0'} of ${unit}, got ${quote(text)}`, usage);
  }
  return value;
}

function seconds(text: string, what: string, usage: string, positive: boolean): number {
  return Math.round(decimalNumber(text, what, 'seconds', usage, positive, MAX_TIMER_MS / 1000) * 1000);
}

function milliseconds(text: string, what: string, usage: string, positive: boolean): number {
  return decimalNumber(text, what, 'milliseconds', usage, positive, MAX_TIMER_MS);
}

/** "X,Y,W,H": four whole numbers, width and height > 0. */
export function parseRegion(text: string, usage: string, what = '--region'): Rect {
  const parts = text.split(',').map((part) => part.trim());
  const invalid = () => new UsageError(`${what} must be X,Y,W,H: four whole numbers ≥ 0 with W and H > 0, e.g. 10,20,300,200; got ${quote(text)}`, usage);
  if (parts.length !== 4 || !parts.every((part) => WHOLE.test(part))) throw invalid();
  const [x, y, width, height] = parts.map(Number);
  if (width === 0 || height === 0 || ![x, y, width, height].every(Number.isSafeInteger)) throw invalid();
  return { x, y, width, height };
}

/** "X,Y": two whole numbers ≥ 0. */
export function parsePoint(text: string, usage: string, what = '--at'): Point {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length !== 2 || !parts.every((part) => WHOLE.test(part) && Number.isSafeInteger(Number(part)))) {
    throw new UsageError(`${what} must be X,Y: two whole numbers ≥ 0, e.g. 640,400; got ${quote(text)}`, usage);
  }
  return { x: Number(parts[0]), y: Number(parts[1]) };
}

function mouseButton(text: string, usage: string): MouseButton {
  if (text === 'left' || text === 'right' || text === 'middle') return text;
  throw new UsageError(`--button must be left, right or middle, got ${quote(text)}`, usage);
}

// ---------------------------------------------------------------------------------------------
// The command line.

/**
 * Arguments that look like negative numbers ("-5", "-1.5", "-5,10") would read as short options;
 * they are masked before parseArgs and unmasked after, so that "-5" reaches the number checks
 * (and their messages) instead of failing as an unknown option "-5".
 */
const MASK = '\u0000';
const NEGATIVE = /^-[\d.]/;
const unmask = (text: string): string => (text.startsWith(MASK) ? text.slice(MASK.length) : text);

interface Token {
  kind: 'option' | 'positional' | 'option-terminator';
  name?: string;
  rawName?: string;
  value?: string;
  inlineValue?: boolean;
  index?: number;
}

/**
 * Parses `vnc-agent` arguments (without `node` and the script). `env` supplies VNC_PASSWORD.
 * Options may come before or after the command. Throws `UsageError`.
 */
export function parseCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParseResult {
  const masked = argv.map((arg) => (NEGATIVE.test(arg) ? MASK + arg : arg));
  const parseOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(ALL_OPTIONS)) parseOptions[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  const { tokens } = parseArgs({ args: masked, options: parseOptions, strict: false, allowPositionals: true, tokens: true }) as { tokens: Token[] };

  const positionals = tokens.filter((token) => token.kind === 'positional').map((token) => unmask(token.value ?? ''));
  const options = tokens.filter((token) => token.kind === 'option');
  const commandWord = positionals[0];
  const command = commandWord !== undefined && (COMMAND_NAMES as readonly string[]).includes(commandWord) ? (commandWord as CommandName) : undefined;
  const usage = usageLine(command);

  // --help and --version win over everything else on the line.
  if (options.some((token) => token.name === 'help' && token.value === undefined)) {
    return { kind: 'help', topic: command === 'help' ? helpTopic(positionals[1]) : command };
  }
  if (options.some((token) => token.name === 'version' && token.value === undefined)) return { kind: 'version' };

  // Options: known, meant for this command, with a value exactly when they take one.
  const values = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  for (const token of options) {
    const name = token.name ?? '';
    const raw = unmask(token.rawName ?? `--${name}`);
    const spec = Object.hasOwn(ALL_OPTIONS, name) ? ALL_OPTIONS[name] : undefined;
    if (!spec) {
      const guess = raw.startsWith('--') ? closest(raw.slice(2), Object.keys(ALL_OPTIONS)) : undefined;
      const original = raw.startsWith('--') || token.index === undefined ? raw : (argv[token.index] ?? raw);
      const hint = guess ? ` (did you mean --${guess}?)` : ` (to pass ${quote(original)} as an argument, put it after "--")`;
      throw new UsageError(`unknown option ${raw}${hint}`, usage);
    }
    const display = `--${name}`;
    if (Object.hasOwn(COMMAND_OPTIONS, name)) {
      const takers = COMMAND_NAMES.filter((candidate) => COMMANDS[candidate].options.includes(name));
      if (command === undefined) {
        if (commandWord === undefined) throw new UsageError(`option ${display} belongs to a command (${takers.join(', ')}), but no command was given`, usage);
      } else if (!COMMANDS[command].options.includes(name)) {
        throw new UsageError(`option ${display} does not apply to ${command} (it is for ${takers.join(', ')})`, usage);
      }
    }
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`option ${display} takes no value`, usage);
      values.set(name, true);
      continue;
    }
    const value = token.value === undefined ? undefined : unmask(token.value);
    if (value === undefined || (!token.inlineValue && value.startsWith('-') && !NEGATIVE.test(value))) {
      const hint = value === undefined ? '' : ` (for a value that starts with "-", write ${display}=VALUE)`;
      throw new UsageError(`option ${display} needs a value${hint}`, usage);
    }
    if (spec.repeatable) {
      lists.set(name, [...(lists.get(name) ?? []), value]);
      continue;
    }
    if (values.has(name)) {
      throw new UsageError(`option ${display} is given twice${spec.secret ? '' : ` (${quote(String(values.get(name)))} and ${quote(value)})`}`, usage);
    }
    values.set(name, value);
  }
  const string = (name: string) => values.get(name) as string | undefined;

  if (commandWord === undefined) throw new UsageError('missing command (run "vnc-agent --help" for the list)', usage);
  if (command === undefined) {
    const guess = closest(commandWord, COMMAND_NAMES);
    throw new UsageError(`unknown command ${quote(commandWord)}${guess ? ` (did you mean ${guess}?)` : ''}`, usage);
  }
  if (command === 'help') {
    if (positionals.length > 2) throw new UsageError(`unexpected argument ${quote(positionals[2])}`, usage);
    return { kind: 'help', topic: helpTopic(positionals[1]) };
  }
  if (command === 'targets') return { kind: 'targets', options: parseTargetsCommand(positionals.slice(1), string, values, lists, usage) };

  const globals = parseGlobals(string, values, lists, env, usage);
  return { kind: 'run', globals, command: parseCommand(command, positionals.slice(1), string, values, usage) };
}

function helpTopic(word: string | undefined): CommandName | undefined {
  if (word === undefined) return undefined;
  if ((COMMAND_NAMES as readonly string[]).includes(word)) return word as CommandName;
  const guess = closest(word, COMMAND_NAMES);
  throw new UsageError(`no help for unknown command ${quote(word)}${guess ? ` (did you mean ${guess}?)` : ''}`, usageLine('help'));
}

/** `targets [--config FILE] [--json]`: no argument, and no option about connecting. */
function parseTargetsCommand(
  args: string[],
  string: (name: string) => string | undefined,
  values: Map<string, string | true>,
  lists: Map<string, string[]>,
  usage: string,
): TargetsOptions {
  if (args.length > 0) throw new UsageError(`targets: unexpected argument ${quote(args[0])}`, usage);
  if (values.has('target')) {
    throw new UsageError('option --target does not apply to targets (it lists every target; to connect to one, give --target NAME with another command)', usage);
  }
  const stray = [...values.keys(), ...lists.keys()].find((name) => !TARGETS_COMMAND_OPTIONS.includes(name));
  if (stray !== undefined) throw new UsageError(`option --${stray} does not apply to targets (it reads the targets file and connects to nothing)`, usage);
  const config = string('config');
  if (config !== undefined && config.trim() === '') throw new UsageError('--config must not be empty', usage);
  return { config, json: values.has('json'), debug: values.has('debug') };
}

/** --target NAME [--config FILE]: checked against the options a target replaces. */
function parseTarget(string: (name: string) => string | undefined, values: Map<string, string | true>, lists: Map<string, string[]>): Omit<TargetSelection, 'timeoutMs'> | undefined {
  const usage = targetUsageLine();
  const name = string('target');
  const config = string('config');
  if (name === undefined) {
    if (config !== undefined) throw new UsageError('option --config needs --target NAME (or the targets command): it names the targets file to read the target from', usage);
    return undefined;
  }
  if (name.trim() === '') throw new UsageError('--target must not be empty: give a target name (vnc-agent targets lists them)', usage);
  if (config !== undefined && config.trim() === '') throw new UsageError('--config must not be empty', usage);
  const given = CONNECTION_OPTIONS.filter((option) => values.has(option) || lists.has(option)).map((option) => `--${option}`);
  if (given.length > 0) {
    throw new UsageError(
      `${given.join(', ')} cannot be combined with --target: the target carries its own connection and credentials (change them in the targets file, or drop --target)`,
      usage,
    );
  }
  return { name, config };
}

/** --encodings tight,zrle,raw: known names, each once. */
function parseEncodings(text: string, usage: string): string[] {
  const names = text.split(',').map((name) => name.trim().toLowerCase());
  if (names.some((name) => name === '')) {
    throw new UsageError(`--encodings must be encoding names separated by commas, e.g. tight,zrle,raw; got ${quote(text)}`, usage);
  }
  for (const [index, name] of names.entries()) {
    if (!ENCODING_NAMES.includes(name)) {
      const guess = closest(name, ENCODING_NAMES);
      throw new UsageError(`--encodings: unknown encoding ${quote(name)}${guess ? ` (did you mean ${guess}?)` : ''}: this client decodes ${ENCODING_NAMES.join(', ')}`, usage);
    }
    if (names.indexOf(name) !== index) throw new UsageError(`--encodings lists ${name} twice`, usage);
  }
  return names;
}

/** --quality lossless|0..9. */
function parseQuality(text: string, usage: string): Quality {
  if (text.toLowerCase() === 'lossless') return 'lossless';
  if (/^\d$/.test(text)) return Number(text) as Quality;
  throw new UsageError(`--quality must be lossless or a JPEG quality level from 0 (smallest) to 9 (best), got ${quote(text)}`, usage);
}

function parseGlobals(
  string: (name: string) => string | undefined,
  values: Map<string, string | true>,
  lists: Map<string, string[]>,
  env: Readonly<Record<string, string | undefined>>,
  usage: string,
): GlobalOptions {
  const target = parseTarget(string, values, lists);
  const encodingsText = string('encodings');
  const qualityText = string('quality');
  const compressionText = string('compression');
  const picture = {
    encodings: encodingsText === undefined ? undefined : parseEncodings(encodingsText, usage),
    quality: qualityText === undefined ? undefined : parseQuality(qualityText, usage),
    compressionLevel: compressionText === undefined ? undefined : (wholeNumber(compressionText, '--compression', usage, 0, 9) as CompressionLevel),
  };
  const timeoutText = string('timeout');
  const timeoutMs = timeoutText === undefined ? undefined : Math.max(1, seconds(timeoutText, '--timeout', usage, true));
  const typingDelayText = string('typing-delay');
  const typingDelayMs = typingDelayText === undefined ? undefined : milliseconds(typingDelayText, '--typing-delay', usage, false);
  const keyboardLayout = parseLayout(string('layout'), usage);
  if (target !== undefined) {
    return {
      host: DEFAULT_HOST,
      port: DEFAULT_PORT,
      password: undefined,
      username: undefined,
      timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000,
      typingDelayMs,
      keyboardLayout,
      shared: !values.has('exclusive'),
      debug: values.has('debug'),
      json: values.has('json'),
      caFile: undefined,
      insecure: false,
      websocket: undefined,
      target: { ...target, timeoutMs },
      ...picture,
    };
  }

  const hostText = string('host');
  const host = hostText ?? DEFAULT_HOST;
  if (host.trim() === '') throw new UsageError('--host must not be empty', usage);
  if (/^[^:]*:\d*$/.test(host)) {
    throw new UsageError(`--host takes a host name or address only, got ${quote(host)}: give the port with --port or --display`, usage);
  }
  const portText = string('port');
  const displayText = string('display');
  if (portText !== undefined && displayText !== undefined) throw new UsageError('use either --port or --display, not both', usage);
  let port = DEFAULT_PORT;
  if (portText !== undefined) port = wholeNumber(portText, '--port', usage, 1, 65535);
  if (displayText !== undefined) port = DEFAULT_PORT + wholeNumber(displayText.replace(/^:/, ''), '--display', usage, 0, 65535 - DEFAULT_PORT);

  const flagPassword = string('password');
  const envPassword = env.VNC_PASSWORD === '' ? undefined : env.VNC_PASSWORD;
  const password = flagPassword ?? envPassword;

  const caFile = string('ca-file');
  const insecure = values.has('insecure');
  const wsUsage = websocketUsageLine();
  if (caFile !== undefined && insecure) throw new UsageError('use either --ca-file (trust this certificate) or --insecure (trust any), not both', wsUsage);
  if (caFile !== undefined && caFile.trim() === '') throw new UsageError('--ca-file must not be empty', wsUsage);

  const urlTemplate = string('url');
  let websocket: WebSocketOptions | undefined;
  if (urlTemplate === undefined) {
    const stray = URL_ONLY.find((name) => values.has(name) || lists.has(name));
    if (stray !== undefined) throw new UsageError(`option --${stray} needs --url (it is for WebSocket connections)`, wsUsage);
  } else {
    if (displayText !== undefined) {
      throw new UsageError('--display does not apply with --url: give the port the URL needs with --port', wsUsage);
    }
    websocket = parseWebSocket({ urlTemplate, host, hostGiven: hostText !== undefined, port: portText === undefined ? undefined : port, password, caFile, insecure }, string, lists, env, wsUsage);
    if (portText === undefined) port = urlPort(websocket);
  }

  return {
    host,
    port,
    password,
    username: string('username'),
    timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000,
    typingDelayMs,
    keyboardLayout,
    shared: !values.has('exclusive'),
    debug: values.has('debug'),
    json: values.has('json'),
    caFile,
    insecure,
    websocket,
    target: undefined,
    ...picture,
  };
}

/** Placeholder names, as the URL templates take them. */
const PLACEHOLDER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names with an option of their own. */
const RESERVED_VARS = ['host', 'port', 'ticket', 'password'];
/** An HTTP header name (an RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the WebSocket handshake sets itself. */
const HANDSHAKE_HEADERS = ['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol'];

interface UrlContext {
  urlTemplate: string;
  host: string;
  hostGiven: boolean;
  /** undefined: no --port. */
  port: number | undefined;
  password: string | undefined;
  caFile: string | undefined;
  insecure: boolean;
}

/**
 * The --url options, checked as far as they can be without connecting: every placeholder has a
 * value, every value is used, and the filled template is a ws:// or wss:// URL. No message shows
 * the ticket, the password, a header value or the URL's query.
 */
function parseWebSocket(
  context: UrlContext,
  string: (name: string) => string | undefined,
  lists: Map<string, string[]>,
  env: Readonly<Record<string, string | undefined>>,
  usage: string,
): WebSocketOptions {
  const { urlTemplate, host, port, password } = context;
  if (urlTemplate.trim() === '') throw new UsageError("--url must not be empty: give a ws:// or wss:// URL, e.g. 'ws://${host}:${port}/'", usage);
  const flagTicket = string('ticket');
  if (flagTicket === '') throw new UsageError('--ticket must not be empty', usage);
  const ticket = flagTicket ?? (env.VNC_TICKET === '' ? undefined : env.VNC_TICKET);
  const vars = parseVars(lists.get('var') ?? [], usage);
  const headers = parseHeaders(lists.get('header') ?? [], usage);
  const subprotocolText = string('subprotocol') ?? 'binary';
  if (subprotocolText !== 'binary' && subprotocolText !== 'none') {
    throw new UsageError(`--subprotocol must be binary or none, got ${quote(subprotocolText)}`, usage);
  }

  const placeholders = templatePlaceholders(urlTemplate);
  for (const name of placeholders) {
    if (!PLACEHOLDER_NAME.test(name) || name === 'host') continue; // a bad name: expandUrlTemplate says so below
    if (name === 'port') {
      if (port === undefined) throw new UsageError('the --url template uses ${port}: give it with --port (with --url there is no default port)', usage);
    } else if (name === 'ticket') {
      if (ticket === undefined) throw new UsageError('the --url template uses ${ticket}: give it with --ticket T or in VNC_TICKET', usage);
    } else if (name === 'password') {
      if (password === undefined) throw new UsageError('the --url template uses ${password}: give it with --password or in VNC_PASSWORD', usage);
    } else if (!Object.hasOwn(vars, name)) {
      const guess = closest(name, Object.keys(vars).filter((given) => !placeholders.includes(given)));
      throw new UsageError(`the --url template uses \${${name}}: give its value with --var ${name}=VALUE${guess ? ` (--var ${guess} is given: a typo?)` : ''}`, usage);
    }
  }
  if (context.hostGiven && !placeholders.includes('host')) throw new UsageError('--host has no effect: the --url template has no ${host}', usage);
  if (port !== undefined && !placeholders.includes('port')) throw new UsageError('--port has no effect: the --url template has no ${port}', usage);
  for (const name of Object.keys(vars)) {
    if (!placeholders.includes(name)) throw new UsageError(`--var ${name} has no effect: the --url template has no \${${name}}`, usage);
  }

  let url: URL;
  try {
    url = expandUrlTemplate(urlTemplate, { host, port: port ?? 0, ticket, password, ...vars });
  } catch (error) {
    if (error instanceof VNCConfigError) throw new UsageError(`--url: ${error.message}`, usage);
    throw error;
  }
  if (url.protocol === 'ws:' && (context.caFile !== undefined || context.insecure)) {
    throw new UsageError(`--${context.insecure ? 'insecure' : 'ca-file'} applies to wss:// URLs only: this one is ws://, without TLS`, usage);
  }
  return {
    urlTemplate,
    remote: maskUrl(url, [ticket, password]),
    usesPort: placeholders.includes('port'),
    ticket,
    vars,
    headers,
    subprotocols: subprotocolText === 'binary' ? ['binary'] : [],
  };
}

/** The port a filled URL connects to, when the template does not use ${port}: its own, else 80/443. */
function urlPort(websocket: WebSocketOptions): number {
  const url = new URL(websocket.remote);
  return url.port ? Number(url.port) : url.protocol === 'wss:' ? 443 : 80;
}

/** --var NAME=VALUE, each name once, none of the names that have an option of their own. */
function parseVars(texts: readonly string[], usage: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const text of texts) {
    const equals = text.indexOf('=');
    const name = equals < 0 ? text : text.slice(0, equals);
    if (RESERVED_VARS.includes(name)) {
      throw new UsageError(`--var ${name}=… is not allowed: give ${name} with --${name}${name === 'password' || name === 'ticket' ? ' (or its environment variable)' : ''}`, usage);
    }
    if (equals < 0) throw new UsageError(`--var must be name=value, e.g. --var vmid=100; got ${quote(text)}`, usage);
    if (!PLACEHOLDER_NAME.test(name)) {
      throw new UsageError(`--var must be name=value with a name of letters, digits and _ (not starting with a digit), e.g. --var vmid=100; got the name ${quote(name)}`, usage);
    }
    if (Object.hasOwn(vars, name)) throw new UsageError(`--var ${name} is given twice`, usage);
    const value = text.slice(equals + 1);
    if (value === '') throw new UsageError(`--var ${name}= has an empty value: write name=value, e.g. --var vmid=100`, usage);
    vars[name] = value;
  }
  return vars;
}

/** --header 'Name: value'. Messages name the header at most, never its value. */
function parseHeaders(texts: readonly string[], usage: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const text of texts) {
    const colon = text.indexOf(':');
    if (colon < 0) {
      throw new UsageError(`--header must be 'Name: value', e.g. 'Authorization: PVEAPIToken=…'; the one given has no ":" (its text is not shown: it may be secret)`, usage);
    }
    const name = text.slice(0, colon).trim();
    const value = text.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name)) {
      throw new UsageError(`--header must be 'Name: value' with a header name before the ":" (letters, digits and -, e.g. Authorization or Cookie)`, usage);
    }
    if (/[\r\n\0]/.test(value)) throw new UsageError(`--header ${name}: the value must be one line of text`, usage);
    const key = name.toLowerCase();
    if (HANDSHAKE_HEADERS.includes(key)) {
      throw new UsageError(`--header ${name} is not allowed: the WebSocket handshake sets it${key === 'sec-websocket-protocol' ? ' (use --subprotocol)' : ''}`, usage);
    }
    if (seen.has(key)) throw new UsageError(`--header ${name} is given twice`, usage);
    seen.add(key);
    headers[name] = value;
  }
  return headers;
}

function parseCommand(
  name: CommandName,
  args: string[],
  string: (name: string) => string | undefined,
  values: Map<string, string | true>,
  usage: string,
): Command {
  /** Checks the number of arguments: at least `min`, at most `max`. */
  const count = (min: number, max: number, missing: () => string) => {
    if (args.length < min) throw new UsageError(missing(), usage);
    if (args.length > max) {
      throw new UsageError(`${name}: unexpected argument ${quote(args[max])}${name === 'type' ? ' (quote TEXT that contains spaces)' : ''}`, usage);
    }
  };
  const coordinate = (index: number, what: string) => wholeNumber(args[index], `${name}: ${what}`, usage);
  const region = () => {
    const text = string('region');
    return text === undefined ? undefined : parseRegion(text, usage);
  };
  const button = () => {
    const text = string('button');
    return text === undefined ? 'left' : mouseButton(text, usage);
  };

  if (isTextCommand(name)) {
    return parseTextCommand(name, {
      args,
      has: (option) => values.has(option),
      string,
      region,
      button,
      fail: (message) => {
        throw new UsageError(message, usage);
      },
    });
  }
  switch (name) {
    case 'info':
    case 'position':
      count(0, 0, () => '');
      return { name };
    case 'screenshot':
      count(1, 1, () => 'screenshot: missing FILE (where to write the PNG)');
      if (args[0] === '') throw new UsageError('screenshot: FILE must not be empty', usage);
      return { name, file: args[0], region: region() };
    case 'move':
      count(2, 2, () => (args.length === 0 ? 'move: missing X and Y' : `move: missing Y (got only X ${quote(args[0])})`));
      return { name, x: coordinate(0, 'X'), y: coordinate(1, 'Y') };
    case 'click': {
      count(0, 2, () => '');
      if (args.length === 1) throw new UsageError(`click: missing Y (got only X ${quote(args[0])}; give both X and Y, or neither to click where the pointer is)`, usage);
      const at = args.length === 2 ? { x: coordinate(0, 'X'), y: coordinate(1, 'Y') } : undefined;
      return { name, at, button: button(), double: values.has('double') };
    }
    case 'drag': {
      const names = ['X1', 'Y1', 'X2', 'Y2'];
      count(4, 4, () => `drag: missing ${names.slice(args.length).join(', ')}`);
      const steps = string('steps');
      return {
        name,
        from: { x: coordinate(0, 'X1'), y: coordinate(1, 'Y1') },
        to: { x: coordinate(2, 'X2'), y: coordinate(3, 'Y2') },
        steps: steps === undefined ? DEFAULT_DRAG_STEPS : wholeNumber(steps, '--steps', usage, 1, 10_000),
        button: button(),
      };
    }
    case 'type': {
      count(1, 1, () => 'type: missing TEXT (or "-" to read it from stdin)');
      const delay = string('delay');
      const text = args[0] === '-' ? undefined : args[0];
      if (text !== undefined) checkTypeable(text, usage);
      return { name, text, delayMs: delay === undefined ? undefined : milliseconds(delay, '--delay', usage, false) };
    }
    case 'key':
      count(1, Infinity, () => 'key: missing CHORD (e.g. Return, ctrl+c, ctrl+alt+t)');
      for (const chord of args) {
        try {
          parseChord(chord);
        } catch (error) {
          throw new UsageError(`key: ${(error as Error).message}`, usage);
        }
      }
      return { name, chords: args };
    case 'scroll': {
      count(1, 2, () => 'scroll: missing direction (up, down, left or right)');
      const direction = args[0];
      if (direction !== 'up' && direction !== 'down' && direction !== 'left' && direction !== 'right') {
        throw new UsageError(`scroll: unknown direction ${quote(direction)}: use up, down, left or right`, usage);
      }
      const at = string('at');
      return {
        name,
        direction,
        amount: args.length === 2 ? wholeNumber(args[1], 'scroll: N', usage, 1, 1000) : 1,
        at: at === undefined ? undefined : parsePoint(at, usage),
      };
    }
    case 'clipboard': {
      const action = args[0];
      const get = usageLine('clipboard');
      if (action === undefined) throw new UsageError('clipboard: missing action: get or set', get);
      if (action === 'get') {
        if (values.has('hold')) throw new UsageError('option --hold does not apply to clipboard get (it is for clipboard set)', usage);
        if (args.length > 1) throw new UsageError(`clipboard get: unexpected argument ${quote(args[1])}`, usage);
        return { name: 'clipboard-get' };
      }
      if (action === 'set') {
        if (args.length < 2) throw new UsageError('clipboard set: missing TEXT (or "-" to read it from stdin)', usage);
        if (args.length > 2) throw new UsageError(`clipboard set: unexpected argument ${quote(args[2])} (quote TEXT that contains spaces)`, usage);
        const hold = string('hold');
        return { name: 'clipboard-set', text: args[1] === '-' ? undefined : args[1], holdMs: hold === undefined ? 0 : seconds(hold, '--hold', usage, false) };
      }
      const guess = closest(action, ['get', 'set']);
      throw new UsageError(`clipboard: unknown action ${quote(action)}${guess ? ` (did you mean ${guess}?)` : ''}: use get or set`, usage);
    }
    case 'wait-stable': {
      count(0, 0, () => '');
      const still = string('still');
      return { name, stillMs: still === undefined ? DEFAULT_STILL_MS : milliseconds(still, '--still', usage, true), region: region() };
    }
    case 'wait-change':
      count(0, 0, () => '');
      return { name, region: region() };
    case 'help':
    case 'targets':
      throw new Error(`unreachable: ${name} is handled by parseCommandLine`);
  }
}

function parseLayout(text: string | undefined, usage: string): string | undefined {
  if (text === undefined) return undefined;
  const name = text.trim().toLowerCase();
  if (!(KEYBOARD_LAYOUT_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`--layout: unknown keyboard layout ${quote(text)}; use one of ${KEYBOARD_LAYOUT_NAMES.join(', ')}`, usage);
  }
  return name;
}

/** Rejects text with characters no key can type (control characters other than \n, \r, \t). */
function checkTypeable(text: string, usage: string): void {
  try {
    keyEventsForText(text);
  } catch (error) {
    throw new UsageError(`type: ${(error as Error).message}`, usage);
  }
}

// ---------------------------------------------------------------------------------------------
// Help.

function optionLines(options: Record<string, OptionSpec>, names = Object.keys(options)): string[] {
  const labels = names.map((name) => {
    const spec = options[name];
    const short = spec.short ? `-${spec.short}, ` : '';
    return `${short}--${name}${spec.type === 'string' ? ` ${spec.value}` : ''}`;
  });
  const width = Math.max(...labels.map((label) => label.length)) + 2;
  return names.flatMap((name, i) => {
    const [first, ...rest] = wrap(options[name].help, 2 + width, 104);
    return [`  ${labels[i].padEnd(width)}${first.trimStart()}`, ...rest];
  });
}

const ENVIRONMENT = [
  'Environment:',
  '  VNC_PASSWORD          the password when --password is not given (safer: argv is visible in ps)',
  '  VNC_TICKET            the ticket when --ticket is not given (with --url)',
  '  VNC_AGENT_STATE_DIR   where vnc-agent remembers the last pointer position per server',
  '                        (default $XDG_RUNTIME_DIR/vnc-agent, else the temp dir)',
];

const WEBSOCKET_NOTES = [
  "  Put TEMPLATE in single quotes so that the shell leaves ${...} alone. A value is URL-encoded where it",
  '  lands in the path or query. The URL is printed with every query value as *** and without the ticket;',
  '  tickets, passwords and header values are never printed. --ca-file and --insecure also apply to',
  '  VeNCrypt over plain TCP.',
  '',
  'WebSocket examples:',
  '  websockify / noVNC with a token file (the token picks the desktop):',
  "      $ vnc-agent --url 'wss://${host}:${port}/websockify?token=${ticket}' --host vnc.example --port 6080 \\",
  '          --ticket "$TOKEN" info',
  "  QEMU's own WebSocket listener (-vnc :1,websocket=5701):",
  "      $ vnc-agent --url 'ws://${host}:${port}/' --host 10.0.0.5 --port 5701 screenshot vm.png",
  '  Proxmox VE console (ticket and port from POST /nodes/pve/qemu/100/vncproxy with websocket=1;',
  '  the ticket is also the VNC password):',
  "      $ vnc-agent --url 'wss://${host}:${port}/api2/json/nodes/${node}/qemu/${vmid}/vncwebsocket?port=${vncPort}&vncticket=${ticket}' \\",
  '          --host pve.example --port 8006 --var node=pve --var vmid=100 --var vncPort=5900 \\',
  '          --ticket "$VNC_TICKET" --header "Authorization: PVEAPIToken=$PVE_API_TOKEN" --ca-file pve-ssl.pem info',
  '  A server with a self-signed certificate, trusted by its PEM file:',
  "      $ vnc-agent --url 'wss://${host}:${port}/' --host 10.0.0.5 --port 5701 --ca-file server.pem info",
];

const TARGET_NOTES = [
  '  --target reads the test framework\'s targets file and connects exactly as its vnc fixture does: the',
  "  same connection, credentials and settings, the target's provider asked once (attempt 0). A target",
  '  with launch: is started for the command and stopped when the command ends: a launched local',
  '  desktop lives only as long as one command, which suits info and screenshot (what move, click or',
  '  type did is gone with it). --target replaces --host, --port, --display, --url, --password and the',
  "  other connection options; --timeout, --typing-delay, --encodings, --quality and --compression",
  "  override the file's values. An unknown target or a targets file with problems exits with 2.",
  "  Quote matrix names for the shell: --target 'app[size=1920x1080]'.",
  '',
  'Target examples:',
  '  List and check the targets (exit 2 with FILE:LINE:COLUMN problems):',
  '      $ vnc-agent targets',
  '      $ vnc-agent targets --config ci/vnc.targets.yaml --json',
  '  The embedded local desktop (no vnc.targets.yaml here): started, photographed, stopped:',
  '      $ vnc-agent --target local screenshot desktop.png',
  '  A target of another file, its own settings overridden:',
  "      $ vnc-agent --target 'app[size=1920x1080]' --config ci/vnc.targets.yaml --timeout 30 info",
  '',
  'Encoding examples (every command, with TCP, --url and --target alike):',
  '      $ vnc-agent --encodings zrle,raw screenshot exact.png',
  '      $ vnc-agent --encodings tight --quality 5 --compression 9 screenshot slow-link.png',
];

const EXIT_CODES = [
  'Exit codes:',
  '  0    success',
  '  1    runtime error: connection refused or lost, authentication failed, timed out, bad input for',
  '       this screen (e.g. a point off screen), file not writable, a target failed to launch',
  '  2    usage error: unknown command or option, missing or invalid argument, an unknown --target,',
  '       a targets file that cannot be read or has problems',
  '  130  interrupted (Ctrl-C)',
];

/** The full help, or one command's help. */
export function helpText(version: string, topic?: CommandName): string {
  if (topic !== undefined && topic !== 'help') {
    const spec = COMMANDS[topic];
    const lines = [usageLine(topic), '', ...wrap(spec.summary, 0, 100)];
    if (spec.options.length > 0) lines.push('', 'Options:', ...optionLines(COMMAND_OPTIONS, spec.options));
    if (spec.globals) lines.push('', 'Options:', ...optionLines({ ...GLOBAL_OPTIONS, ...TARGET_OPTIONS }, spec.globals));
    lines.push('', 'Examples:', ...spec.examples.map((example) => `  ${example}`), '', 'Global options and exit codes: vnc-agent --help');
    return `${lines.join('\n')}\n`;
  }
  const commands = COMMAND_NAMES.flatMap((name) => {
    const spec = COMMANDS[name];
    return [`  ${name}${spec.synopsis ? ` ${spec.synopsis}` : ''}`, ...wrap(spec.summary, 6, 96), ...spec.examples.map((example) => `      $ ${example}`)];
  });
  const lines = [
    `vnc-agent ${version}: drive a remote desktop over VNC from the shell.`,
    'Each command connects, acts, and disconnects.',
    '',
    'Usage: vnc-agent [options] COMMAND [arguments]',
    "       vnc-agent --url TEMPLATE [--host H] [--port P] [--ticket T] [--var NAME=VALUE]... [--header 'NAME: VALUE']...",
    '                 [--subprotocol binary|none] [--ca-file PEM | --insecure] [options] COMMAND [arguments]',
    '       vnc-agent --target NAME [--config FILE] [options] COMMAND [arguments]',
    '       vnc-agent targets [--config FILE] [--json]',
    '       vnc-agent show-trace FILE [--serve] [--port N] [--no-open]   (a test\'s vnc-trace.zip; show-trace --help)',
    '       vnc-agent mcp [connection options | --targets FILE] [--http PORT] [--read-only]   (an MCP server for AI agents; vnc-agent mcp --help)',
    '       (options include --encodings LIST, --quality lossless|0..9 and --compression 0..9)',
    '',
    'Commands:',
    ...commands,
    '',
    'Global options (before or after the command):',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'WebSocket options (--url: websockify/noVNC, QEMU websocket=, Proxmox VE vncwebsocket, x11vnc):',
    ...optionLines(WEBSOCKET_OPTIONS),
    '',
    ...WEBSOCKET_NOTES,
    '',
    'Target options (the targets file of the test framework, vnc.targets.yaml):',
    ...optionLines(TARGET_OPTIONS),
    '',
    ...TARGET_NOTES,
    '',
    'Command options:',
    ...optionLines(COMMAND_OPTIONS),
    '',
    'Coordinates are whole pixels from the top-left corner. Text that starts with "-" goes after "--":',
    '  vnc-agent type -- -n. Without X Y, click and scroll act where vnc-agent last put the pointer.',
    '',
    ...ENVIRONMENT,
    '',
    ...EXIT_CODES,
  ];
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, indent: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(' '.repeat(indent) + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(' '.repeat(indent) + line);
  return lines;
}
