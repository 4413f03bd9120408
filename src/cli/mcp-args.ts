/**
 * `vnc-agent mcp` on the command line: its own options, taken out of argv; the connection options
 * left are parsed by the CLI's own parser (so they mean and check exactly what they do for every
 * other command). Pure: no I/O.
 */
import { parseArgs } from 'node:util';
import { closest, COMMAND_OPTIONS, GLOBAL_OPTIONS, parseCommandLine, TARGET_OPTIONS, UsageError, WEBSOCKET_OPTIONS, type GlobalOptions } from './args.js';

export const MCP_USAGE =
  'usage: vnc-agent mcp [--host H --port P | --url TEMPLATE … | --target NAME [--config FILE] | --targets FILE] [--http PORT [--bind ADDR]] ' +
  '[--read-only] [--max-size PX] [--format png|jpeg] [--no-auto-screenshot] [options]';

export const MCP_TOKEN_ENV = 'VNC_MCP_TOKEN';
const DEFAULT_BIND = '127.0.0.1';

interface McpOptionSpec {
  type: 'string' | 'boolean';
  value?: string;
  help: string;
}

export const MCP_OPTIONS: Record<string, McpOptionSpec> = {
  targets: { type: 'string', value: 'FILE', help: 'serve every target of this targets file; the agent picks one with use_target (list_targets lists them)' },
  http: { type: 'string', value: 'PORT', help: `serve Streamable HTTP at http://ADDR:PORT/mcp instead of stdio (0: a free port, printed on stderr)` },
  bind: { type: 'string', value: 'ADDR', help: `address for --http (default ${DEFAULT_BIND}); any other than 127.0.0.1, ::1 or localhost needs ${MCP_TOKEN_ENV}` },
  'read-only': { type: 'boolean', help: 'serve only the tools that look (screenshot, cursor_position, wait, clipboard_get, read_text, find_text, list_targets, use_target)' },
  'max-size': { type: 'string', value: 'PX', help: 'long edge of screenshots, in pixels (default 1280); coordinates are in that space' },
  format: { type: 'string', value: 'png|jpeg', help: 'screenshot format (default png)' },
  'jpeg-quality': { type: 'string', value: '1..100', help: 'JPEG quality (default 80)' },
  'no-auto-screenshot': { type: 'boolean', help: 'actions return no screenshot (by default they wait until the screen is still and return one)' },
  'settle-ms': { type: 'string', value: 'MS', help: 'bound on that wait after an action (default 2000)' },
  'still-ms': { type: 'string', value: 'MS', help: 'how long the screen must not change to count as still (default 300)' },
};

export interface McpCommandLine {
  kind: 'mcp';
  globals: GlobalOptions;
  /** --targets FILE: serve all targets of the file. */
  targetsFile: string | undefined;
  http: { port: number; host: string } | undefined;
  readOnly: boolean;
  maxSize: number;
  format: 'png' | 'jpeg';
  jpegQuality: number;
  screenshotAfterAction: boolean;
  settleTimeoutMs: number;
  stillMs: number;
}

export type McpParseResult = McpCommandLine | { kind: 'help' };

const ALL_OPTIONS = { ...GLOBAL_OPTIONS, ...WEBSOCKET_OPTIONS, ...TARGET_OPTIONS, ...COMMAND_OPTIONS, ...MCP_OPTIONS };

interface Token {
  kind: 'option' | 'positional' | 'option-terminator';
  name?: string;
  value?: string;
  index: number;
  inlineValue?: boolean;
}

function tokensOf(argv: readonly string[]): Token[] {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(ALL_OPTIONS)) options[name] = 'short' in spec && spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  // Negative numbers are not options here (as in the CLI's own parser).
  const masked = argv.map((arg) => (/^-[\d.]/.test(arg) ? `\u0000${arg}` : arg));
  return (parseArgs({ args: masked, options, strict: false, allowPositionals: true, tokens: true }) as unknown as { tokens: Token[] }).tokens;
}

/** Whether argv runs `vnc-agent mcp` (its first argument that is not an option is "mcp"). */
export function isMcpCommand(argv: readonly string[]): boolean {
  const first = tokensOf(argv).find((token) => token.kind === 'positional' || token.kind === 'option-terminator');
  return first?.kind === 'positional' && first.value === 'mcp';
}

function whole(text: string, what: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`, MCP_USAGE);
  return value;
}

/** Parses `vnc-agent … mcp …`. Throws UsageError (with the mcp usage line). */
export function parseMcpCommandLine(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): McpParseResult {
  const tokens = tokensOf(argv);
  const values = new Map<string, string | true>();
  const drop = new Set<number>();
  let commandSeen = false;
  let stray: string | undefined;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (!commandSeen && token.value === 'mcp') {
        commandSeen = true;
        drop.add(token.index);
      } else {
        stray ??= token.value?.replace(/^\u0000/, '');
      }
      continue;
    }
    if (token.kind !== 'option' || token.name === undefined) continue;
    if (token.name === 'help') return { kind: 'help' };
    if (!Object.hasOwn(ALL_OPTIONS, token.name)) {
      const guess = closest(token.name, Object.keys(ALL_OPTIONS));
      throw new UsageError(`unknown option --${token.name}${guess ? ` (did you mean --${guess}?)` : ''}`, MCP_USAGE);
    }
    const spec = Object.hasOwn(MCP_OPTIONS, token.name) ? MCP_OPTIONS[token.name] : undefined;
    if (!spec) continue;
    const display = `--${token.name}`;
    if (values.has(token.name)) throw new UsageError(`option ${display} is given twice`, MCP_USAGE);
    drop.add(token.index);
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`option ${display} takes no value`, MCP_USAGE);
      values.set(token.name, true);
      continue;
    }
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) throw new UsageError(`option ${display} needs a value`, MCP_USAGE);
    if (!token.inlineValue) drop.add(token.index + 1);
    values.set(token.name, token.value);
  }
  if (stray !== undefined) throw new UsageError(`mcp takes no arguments, got ${JSON.stringify(stray)}`, MCP_USAGE);
  const string = (name: string) => values.get(name) as string | undefined;

  const targetsFile = string('targets');
  if (targetsFile !== undefined) {
    if (targetsFile.trim() === '') throw new UsageError('--targets must not be empty: give the targets file', MCP_USAGE);
    const clash = ['target', 'config', 'host', 'port', 'display', 'password', 'username', 'url', 'ticket', 'var', 'header', 'subprotocol', 'ca-file', 'insecure'].find((name) =>
      tokens.some((token) => token.kind === 'option' && token.name === name),
    );
    if (clash !== undefined) throw new UsageError(`--${clash} cannot be combined with --targets: the targets file says how to reach each desktop`, MCP_USAGE);
  }

  // The rest are the CLI's connection options: parsed as for `info`, which takes no options of its own.
  const rest = argv.filter((_, index) => !drop.has(index));
  let globals: GlobalOptions;
  try {
    const parsed = parseCommandLine([...rest, 'info'], env);
    if (parsed.kind !== 'run') throw new UsageError('unexpected arguments', MCP_USAGE);
    globals = parsed.globals;
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(error.message.replace(/\binfo\b/g, 'mcp'), MCP_USAGE);
    throw error;
  }
  if (globals.json) throw new UsageError('option --json does not apply to mcp (it speaks MCP)', MCP_USAGE);

  const httpText = string('http');
  const bind = string('bind');
  if (bind !== undefined && httpText === undefined) throw new UsageError('option --bind needs --http PORT (stdio has no address)', MCP_USAGE);
  if (bind !== undefined && bind.trim() === '') throw new UsageError('--bind must not be empty', MCP_USAGE);
  const format = string('format') ?? 'png';
  if (format !== 'png' && format !== 'jpeg') throw new UsageError(`--format must be png or jpeg, got ${JSON.stringify(format)}`, MCP_USAGE);
  const quality = string('jpeg-quality');
  if (quality !== undefined && format !== 'jpeg') throw new UsageError('option --jpeg-quality needs --format jpeg', MCP_USAGE);
  const settle = string('settle-ms');
  const still = string('still-ms');
  const auto = !values.has('no-auto-screenshot');
  if (!auto && (settle !== undefined || still !== undefined)) {
    throw new UsageError(`option --${settle !== undefined ? 'settle-ms' : 'still-ms'} has no effect with --no-auto-screenshot`, MCP_USAGE);
  }
  return {
    kind: 'mcp',
    globals,
    targetsFile,
    http: httpText === undefined ? undefined : { port: whole(httpText, '--http', 0, 65535), host: bind ?? DEFAULT_BIND },
    readOnly: values.has('read-only'),
    maxSize: string('max-size') === undefined ? 1280 : whole(string('max-size')!, '--max-size', 64, 10_000),
    format,
    jpegQuality: quality === undefined ? 80 : whole(quality, '--jpeg-quality', 1, 100),
    screenshotAfterAction: auto,
    settleTimeoutMs: settle === undefined ? 2000 : whole(settle, '--settle-ms', 0, 60_000),
    stillMs: still === undefined ? 300 : whole(still, '--still-ms', 10, 10_000),
  };
}

export function mcpHelpText(version: string): string {
  const labels = Object.entries(MCP_OPTIONS).map(([name, spec]) => `--${name}${spec.value ? ` ${spec.value}` : ''}`);
  const width = Math.max(...labels.map((label) => label.length)) + 2;
  return [
    `vnc-agent ${version} mcp: an MCP server that lets AI agents see and operate a VNC desktop.`,
    '',
    MCP_USAGE,
    '',
    'Serves over stdio (for an MCP client that starts it), or Streamable HTTP with --http. The connection',
    'options are those of every vnc-agent command (vnc-agent --help): --host/--port/--password, --url/--ticket,',
    '--target NAME [--config FILE], --ca-file, --encodings, --timeout …. The connection stays open between tool',
    'calls and is made again after a loss (a provider is asked again).',
    '',
    'Options:',
    ...Object.values(MCP_OPTIONS).map((spec, i) => `  ${labels[i].padEnd(width)}${spec.help}`),
    '',
    'Tools: screenshot, click, move, drag, scroll, type, key, hold_key, mouse_down, mouse_up, cursor_position,',
    'wait, clipboard_get, clipboard_set, read_text, find_text, click_text (OCR), and list_targets, use_target with',
    'several targets. Coordinates are in the space of the last screenshot.',
    '',
    'Environment:',
    `  ${MCP_TOKEN_ENV}   bearer token HTTP clients must send ("Authorization: Bearer …"); required with --bind`,
    '                  other than a loopback name',
    '  VNC_PASSWORD, VNC_TICKET   as for every command',
    '',
    'Safety: no password, ticket, token or header value appears in a tool result or log line; every tool call',
    'is logged on stderr (one line; typed and clipboard text as a count only).',
    '',
    'Examples:',
    '  vnc-agent mcp --target local',
    '  VNC_PASSWORD=secret vnc-agent mcp --host 10.0.0.5 --display 1 --max-size 1024',
    '  vnc-agent mcp --targets vnc.targets.yaml --read-only',
    `  ${MCP_TOKEN_ENV}=$(openssl rand -hex 24) vnc-agent mcp --target local --http 8931 --bind 0.0.0.0`,
    '',
  ].join('\n');
}
