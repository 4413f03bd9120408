/**
 * What `vnc-agent` prints when something fails: one line with the message, at most one hint line,
 * and (with --debug) the stack and its causes. The password, the ticket and header values are
 * masked in all of it.
 */
import { VNCError, VNCTimeoutError } from '../errors.js';
import { UsageError, type GlobalOptions } from './args.js';

/** A runtime failure found by the CLI itself (exit code 1), with an optional hint line. */
export class CliError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.hint = hint;
  }
}

/**
 * A mistake in what the command line names, found only when running (an unknown --target, a
 * targets file that cannot be read or has problems): exit code 2. `details` are printed one per
 * line after the message (e.g. each problem as FILE:LINE:COLUMN: …).
 */
export class CliUsageError extends CliError {
  readonly details: readonly string[];

  constructor(message: string, options: { hint?: string; details?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.hint, { cause: options.cause });
    this.name = 'CliUsageError';
    this.details = options.details ?? [];
  }
}

export interface ErrorReportOptions {
  debug: boolean;
  /** Masked wherever it would appear. */
  password?: string;
  /** More secrets to mask (see `secretsOf`). */
  secrets?: readonly (string | undefined)[];
  /** The --timeout in effect, for the timeout hint. */
  timeoutMs?: number;
}

/** Replaces every occurrence of `secret` in `text`. */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}

/** Replaces every occurrence of each secret, longest first (so no part of a longer one is left). */
export function redactAll(text: string, secrets: readonly (string | undefined)[]): string {
  const sorted = [...new Set(secrets.filter((secret): secret is string => !!secret))].sort((a, b) => b.length - a.length);
  return sorted.reduce(redact, text);
}

/** Header values (and parts of them) shorter than this are not masked: they would mask ordinary text. */
const MIN_SECRET_VALUE = 3;
const MIN_SECRET_PART = 6;

/**
 * Everything of a run that must never be printed: the password, the ticket, every header value, as
 * they are and as they appear URL-encoded; and the credential inside a header value
 * ("Bearer TOKEN", "PVEAPIToken=user@pam!id=SECRET", "PVEAuthCookie=TICKET; other=…").
 */
export function secretsOf(globals: Pick<GlobalOptions, 'password' | 'websocket'>): string[] {
  const secrets: string[] = [];
  const add = (secret: string | undefined) => {
    if (!secret) return;
    secrets.push(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) secrets.push(encoded);
  };
  add(globals.password);
  add(globals.websocket?.ticket);
  for (const value of Object.values(globals.websocket?.headers ?? {})) {
    if (value.length >= MIN_SECRET_VALUE) add(value);
    const parts = [value.slice(value.indexOf(' ') + 1), ...value.split(';')];
    for (const part of parts.flatMap((part) => [part.trim(), part.slice(part.indexOf('=') + 1).trim(), part.slice(part.lastIndexOf('=') + 1).trim()])) {
      if (part.length >= MIN_SECRET_PART) add(part);
    }
  }
  return [...new Set(secrets)];
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
  if (error instanceof CliUsageError) lines.push(...error.details.map(oneLine));
  const hint = hintFor(error, options);
  if (hint) lines.push(hint);
  if (options.debug) lines.push(...stackOf(error));
  return `${redactAll(lines.join('\n'), [options.password, ...(options.secrets ?? [])])}\n`;
}

/** The text for stderr for a usage error: what is wrong, then the usage line. */
export function formatUsageError(error: UsageError): string {
  return `vnc-agent: ${oneLine(error.message)}\n${error.usage}\n`;
}
