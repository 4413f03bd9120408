/**
 * Providers: a user module that returns fresh credentials (a ticket, a password, a certificate…)
 * right before each connection — Proxmox tickets live 40 s and each new one resets the VM's VNC
 * password, so every test and every retry asks again. The library calls the module; it never talks
 * to a management API itself.
 *
 * ```ts
 * // fixtures/my-provider.ts, named in the YAML as `provider: ./fixtures/my-provider.ts`
 * import type { TargetProvider } from 'vnc-agent-bridge';
 * const provider: TargetProvider = async ({ target, attempt, signal }) => ({ ticket: await fetchTicket(signal) });
 * export default provider;
 * ```
 */
import { pathToFileURL } from 'node:url';
import { VNCConfigError } from '../errors.js';
import { didYouMean, formatLocation } from './problems.js';
import { isFile } from './schema.js';
import type { TargetConfig } from './types.js';

export interface ProviderContext {
  /** The target's name (with matrix values, e.g. `app[size=1280x800]`). */
  target: string;
  /** Its name under `targets:`. */
  baseName: string;
  /** Its matrix values. */
  params: Readonly<Record<string, string>>;
  /** Which try this is, as the caller counts (the Playwright fixture passes the retry number, 0 first). */
  attempt: number;
  /** Aborted when the provider's time is up: pass it to fetch(). */
  signal: AbortSignal;
  /** What the YAML says about where to connect (no credentials): a provider may build on it. */
  connection?: { type: 'tcp' | 'websocket'; host?: string; port?: number; vars: Readonly<Record<string, string | number>> };
}

/** What a provider may return; every field is optional and wins over the YAML's value. */
export interface ProviderResult {
  ticket?: string;
  password?: string;
  username?: string;
  host?: string;
  /** A number, or digits as text (as APIs often return them). */
  port?: number | string;
  /** A certificate (or CA) in PEM to trust for this connection. */
  certificatePem?: string;
  /** WebSocket upgrade headers, merged over the YAML's (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** URL template values, merged over the YAML's `vars` (e.g. `{ vncPort: 5900 }`). */
  vars?: Record<string, string | number>;
}

/** A provider module's default export (or its export named `provider`). */
export type TargetProvider = (context: ProviderContext) => ProviderResult | Promise<ProviderResult>;

/** A provider's answer, checked: `port` is a number. */
export interface ProviderValues extends Omit<ProviderResult, 'port'> {
  port?: number;
}

export interface RunProviderOptions {
  attempt?: number;
  signal?: AbortSignal;
  /** Environment values to keep out of error messages (those of secret-looking names); default process.env. */
  env?: NodeJS.ProcessEnv;
}

const RESULT_KEYS = ['ticket', 'password', 'username', 'host', 'port', 'certificatePem', 'headers', 'vars'];
const TEXT_KEYS = ['ticket', 'password', 'username', 'host', 'certificatePem'] as const;
const RESERVED_VARS = ['host', 'port', 'ticket', 'password'];
const SECRET_NAME = /TOKEN|SECRET|PASS|KEY|TICKET|AUTH|COOKIE|CRED/i;

function providerError(target: TargetConfig, message: string): VNCConfigError {
  const provider = target.provider!;
  return new VNCConfigError(`${formatLocation(provider.source)}: provider "${provider.modulePath}" of target "${target.name}" ${message}`);
}

/** Values a message must not show: the target's credentials and headers, and secret-looking environment variables. */
export function knownSecrets(target: TargetConfig, env: NodeJS.ProcessEnv = process.env, extra: readonly (string | undefined)[] = []): string[] {
  const known = [target.credentials.password, target.credentials.ticket, ...extra];
  if (target.connection?.type === 'websocket') known.push(...Object.values(target.connection.headers));
  const fromEnv: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!SECRET_NAME.test(name) || value === undefined) continue;
    fromEnv.push(value);
    // "USER@REALM!ID=SECRET": the part after the last "=" is the secret itself.
    const cut = value.lastIndexOf('=');
    if (cut >= 0) fromEnv.push(value.slice(cut + 1));
  }
  // Very short values would mask ordinary words; environment values are only guesses, so longer still.
  const secrets = [...known.filter((value) => value !== undefined && value.length >= 3), ...fromEnv.filter((value) => value.length >= 6)] as string[];
  return [...new Set(secrets)].sort((a, b) => b.length - a.length);
}

/** The forms a secret takes when quoted in messages: as written, URL-encoded (both styles), base64. */
function secretForms(secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+'), Buffer.from(secret).toString('base64')];
  return [...new Set(forms)];
}

/** `text` with every secret, in every form it is commonly quoted in, replaced by `***`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  const forms = secrets.flatMap(secretForms).sort((a, b) => b.length - a.length);
  for (const form of forms) masked = masked.split(form).join('***');
  return masked;
}

function errorSummary(error: unknown, secrets: readonly string[]): string {
  if (error instanceof Error) return `${error.name}: ${maskSecrets(error.message, secrets)}`;
  return `a non-Error value (${typeof error})`;
}

async function importProvider(target: TargetConfig, secrets: readonly string[]): Promise<TargetProvider> {
  const { module, modulePath } = target.provider!;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(module).href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw providerError(target, `could not be loaded: this Node cannot import ${modulePath} (TypeScript). Write the provider as .js or .mjs, or run under Playwright's test runner (or tsx), which load TypeScript.`);
    }
    if (!isFile(module)) throw providerError(target, `was not found at ${module}. The path is relative to the targets file.`);
    const moduleSyntax = error instanceof SyntaxError && /\b(export|import)\b/.test(error.message) && /\.[cm]?ts$/.test(module);
    const hint = moduleSyntax ? ' A TypeScript provider is loaded as an ES module only where the nearest package.json says "type": "module" (or name it .mts).' : '';
    throw providerError(target, `could not be loaded (${errorSummary(error, secrets)}). Fix the module so it imports cleanly.${hint}`);
  }
  const candidate = typeof loaded.default === 'function' ? loaded.default : loaded.provider;
  if (typeof candidate !== 'function') {
    const exported = Object.keys(loaded);
    throw providerError(
      target,
      `exports no provider function (it exports ${exported.length > 0 ? exported.join(', ') : 'nothing'}). Write \`export default async function provider({ target, attempt }) { return { ticket } }\` or \`export const provider = …\`.`,
    );
  }
  return candidate as TargetProvider;
}

/** Checks a provider's answer; returns the list of problems (field: what is wrong), values never shown. */
function checkResult(result: unknown): { values?: ProviderValues; problems: string[] } {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    return { problems: [`returned ${result === null ? 'null' : Array.isArray(result) ? 'a list' : typeof result}, not an object`] };
  }
  const record = result as Record<string, unknown>;
  const problems: string[] = [];
  const values: ProviderValues = {};
  for (const key of Object.keys(record)) {
    if (!RESULT_KEYS.includes(key)) problems.push(`unknown field "${key}".${didYouMean(key, RESULT_KEYS)}`);
  }
  for (const key of TEXT_KEYS) {
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') problems.push(`${key}: expected non-empty text, got ${value === '' ? 'empty text' : typeof value}`);
    else values[key] = value;
  }
  const port = record.port;
  if (port !== undefined) {
    const number = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65535) problems.push(`port: expected a whole number from 1 to 65535, got ${typeof port === 'number' ? port : typeof port}`);
    else values.port = number;
  }
  for (const key of ['headers', 'vars'] as const) {
    const value = record[key];
    if (value === undefined) continue;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${key}: expected an object of names to ${key === 'headers' ? 'text' : 'text or numbers'}`);
      continue;
    }
    const entries = Object.entries(value as Record<string, unknown>);
    const bad = entries.filter(([, item]) => !(typeof item === 'string' || (key === 'vars' && typeof item === 'number' && Number.isFinite(item))));
    for (const [name] of bad) problems.push(`${key}.${name}: expected ${key === 'headers' ? 'text' : 'text or a number'}`);
    if (key === 'vars') {
      for (const [name] of entries) if (RESERVED_VARS.includes(name)) problems.push(`vars.${name}: return "${name}" as its own field, not in vars`);
    }
    if (bad.length === 0) values[key] = Object.fromEntries(entries) as Record<string, string>;
  }
  return problems.length > 0 ? { problems } : { values, problems };
}

/**
 * Calls the target's provider (a fresh call every time: tickets are single-use and short-lived),
 * bounded by its `timeoutMs`, and checks the answer. Every failure is a `VNCConfigError` that names
 * the `provider:` line and what to fix; known secret values are masked in it.
 */
export async function runProvider(target: TargetConfig, options: RunProviderOptions = {}): Promise<ProviderValues> {
  const provider = target.provider;
  if (!provider) return {};
  const secrets = knownSecrets(target, options.env);
  const run = await importProvider(target, secrets);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const connection = target.connection;
  const context: ProviderContext = {
    target: target.name,
    baseName: target.baseName,
    params: { ...target.params },
    attempt: options.attempt ?? 0,
    signal: controller.signal,
    ...(connection ? { connection: { type: connection.type, host: connection.host, port: connection.port, vars: connection.type === 'websocket' ? { ...connection.vars } : {} } } : {}),
  };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = Symbol('timed out');
  const deadline = new Promise<typeof timedOut>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), provider.timeoutMs);
  });
  let result: unknown;
  try {
    result = await Promise.race([Promise.resolve().then(() => run(context)), deadline]);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw providerError(target, `failed: ${errorSummary(error, secrets)}. Fix the provider (or what it reads: environment variables, the server's API) and run again.`);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (result === timedOut) {
    controller.abort(new Error('The provider timed out'));
    throw providerError(
      target,
      `did not answer within ${provider.timeoutMs} ms (attempt ${context.attempt}). Make it faster, pass \`signal\` to what it awaits, or raise the bound: \`provider: { module: ${provider.modulePath}, timeoutMs: … }\`.`,
    );
  }
  const { values, problems } = checkResult(result);
  if (!values) {
    throw providerError(
      target,
      `returned a bad value: ${problems.join('; ')}. Return an object with any of: ${RESULT_KEYS.join(', ')} (text; port a number; headers and vars objects).`,
    );
  }
  return values;
}
