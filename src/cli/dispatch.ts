/**
 * Which module runs each command. Modules are imported only when their command runs, so
 * `vnc-agent --help` loads the argument parser and nothing else, and `vnc-agent screenshot` never
 * loads the YAML parser, WebSocket or the targets layer. A new command is one line in RUNNERS.
 */
import type { Command, ParseResult } from './args.js';

/** What a runner may use of the process it runs in. */
export interface CliContext {
  /** Command output. */
  stdout(text: string): void;
  /** Diagnostics and error reports. */
  stderr(text: string): void;
  /** All of stdin, as UTF-8. */
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

/** A parsed command line that runs something (help and --version are answered by main). */
export type RunnableParse = Exclude<ParseResult, { kind: 'help' } | { kind: 'version' }>;

/** Runs one command line; resolves to the exit code (it reports its own errors on ctx.stderr). */
export type Runner = (parsed: RunnableParse, ctx: CliContext) => Promise<number>;

/** The names the table is keyed by: each connecting command's name, and each other kind of command line. */
export type RunnerName = Command['name'] | Exclude<RunnableParse['kind'], 'run'>;

const connected = async (): Promise<Runner> => (await import('./connected.js')).runConnected;

/** Command name → its runner's module, loaded on first use. */
export const RUNNERS: Record<RunnerName, () => Promise<Runner>> = {
  info: connected,
  screenshot: connected,
  move: connected,
  click: connected,
  drag: connected,
  type: connected,
  key: connected,
  scroll: connected,
  'clipboard-get': connected,
  'clipboard-set': connected,
  'wait-stable': connected,
  'wait-change': connected,
  position: connected,
  text: connected,
  'find-text': connected,
  'click-text': connected,
  'wait-text': connected,
  targets: async () => (await import('./targets-command.js')).runTargetsCommand,
};

/** The table's key for a parsed command line. */
export function runnerName(parsed: RunnableParse): RunnerName {
  return parsed.kind === 'run' ? parsed.command.name : parsed.kind;
}
