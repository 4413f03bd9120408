/**
 * What `vnc-agent` prints when something fails: one line with the message, at most one hint line,
 * and (with --debug) the stack and its causes. The password is masked in all of it.
 */
import { VNCError, VNCTimeoutError } from '../index.js';
import { UsageError } from './args.js';

/** A runtime failure found by the CLI itself (exit code 1), with an optional hint line. */
export class CliError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.hint = hint;
  }
}

export interface ErrorReportOptions {
  debug: boolean;
  /** Masked wherever it would appear. */
  password?: string;
  /** The --timeout in effect, for the timeout hint. */
  timeoutMs?: number;
}

/** Replaces every occurrence of `secret` in `text`. */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}

/** Collapses a message onto one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function hintFor(error: unknown, options: ErrorReportOptions): string | undefined {
  if (error instanceof CliError) return error.hint;
  if (error instanceof VNCTimeoutError) {
    const seconds = (options.timeoutMs ?? error.timeoutMs) / 1000;
    return `hint: --timeout is ${seconds} s; give a larger one to wait longer`;
  }
  if (error instanceof VNCError) return undefined;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'EROFS') return 'hint: check the file path and its permissions';
  return undefined;
}

function stackOf(error: unknown): string[] {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const text = current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current);
    lines.push(depth === 0 ? text : `caused by: ${text}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines;
}

/** The text for stderr (ending in a newline) for a failed run. */
export function formatError(error: unknown, options: ErrorReportOptions): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = [`vnc-agent: ${oneLine(message) || 'failed'}`];
  const hint = hintFor(error, options);
  if (hint) lines.push(hint);
  if (options.debug) lines.push(...stackOf(error));
  return `${redact(lines.join('\n'), options.password)}\n`;
}

/** The text for stderr for a usage error: what is wrong, then the usage line. */
export function formatUsageError(error: UsageError): string {
  return `vnc-agent: ${oneLine(error.message)}\n${error.usage}\n`;
}
