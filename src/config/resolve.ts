/**
 * From a loaded target to `new VNCAgentBridge(options)`: ask the provider (fresh, every time),
 * lay its values over the YAML's, build the connection. And a one-line description of a target
 * that shows no secret.
 */
import type { VNCAgentBridgeOptions } from '../bridge/bridge.js';
import { TCPVNCConnection, type VNCConnection } from '../bridge/connection.js';
import { WebSocketVNCConnection } from '../bridge/websocket-connection.js';
import { VNCConfigError } from '../errors.js';
import type { LaunchedTarget } from './launch.js';
import { assertResolved, formatLocation } from './problems.js';
import { runProvider, type ProviderValues } from './provider.js';
import { literalAuthority } from './schema.js';
import type { TargetConfig } from './types.js';

export interface ResolveTargetOptions {
  /** Passed to the provider (the Playwright fixture passes the retry number, 0 first). Default 0. */
  attempt?: number;
  /** The running launch of this target: where `preset: local-desktop` (or a command) serves. */
  launched?: Pick<LaunchedTarget, 'host' | 'port' | 'password'>;
  /** Aborts the provider call. */
  signal?: AbortSignal;
  /** Environment values to keep out of provider error messages; default process.env. */
  env?: NodeJS.ProcessEnv;
}

function targetError(target: TargetConfig, message: string, cause?: unknown): VNCConfigError {
  return new VNCConfigError(`${formatLocation(target.source)}: target "${target.name}": ${message}`, cause === undefined ? undefined : { cause });
}

/**
 * Options for `new VNCAgentBridge(…)` that reach `target`: runs its provider (every call: tickets
 * are single-use), merges the provider's values over the YAML's, and builds the connection.
 * A target reached through its launch (`preset: local-desktop`) needs `launched` (what
 * `launchTarget` returned); without it the options have no connection, and the caller adds
 * `host` and `port`.
 */
export async function resolveTarget(target: TargetConfig, options: ResolveTargetOptions = {}): Promise<VNCAgentBridgeOptions> {
  assertResolved(target);
  const provided = await runProvider(target, { attempt: options.attempt, signal: options.signal, env: options.env });
  const connection = buildConnection(target, provided, options.launched);
  const password = provided.password ?? target.credentials.password;
  const username = provided.username ?? target.credentials.username;
  return {
    // A launched target without `launched`: the caller adds host and port (and the bridge says so if not).
    ...(connection ? { connection } : { ...(password !== undefined ? { password } : {}), ...(username !== undefined ? { username } : {}) }),
    timeoutMs: target.timeoutMs,
    typingDelayMs: target.typingDelayMs,
    ...(target.keyboardLayout ? { keyboardLayout: target.keyboardLayout } : {}),
    ...(target.pasteChord ? { pasteChord: target.pasteChord } : {}),
    quality: target.quality,
    ...(target.encodings ? { encodings: [...target.encodings] } : {}),
    ...(target.size ? { size: { ...target.size } } : {}),
  };
}

function buildConnection(target: TargetConfig, provided: ProviderValues, launched: ResolveTargetOptions['launched']): VNCConnection | undefined {
  const credentials = {
    password: provided.password ?? launched?.password ?? target.credentials.password,
    username: provided.username ?? target.credentials.username,
    ticket: provided.ticket ?? target.credentials.ticket,
  };
  const yaml = target.connection;
  try {
    if (yaml === undefined || yaml.type === 'tcp') {
      const host = provided.host ?? launched?.host ?? yaml?.host;
      const port = provided.port ?? launched?.port ?? yaml?.port;
      if (host === undefined || port === undefined) return undefined;
      return new TCPVNCConnection({
        host,
        port,
        password: credentials.password ?? credentials.ticket,
        username: credentials.username,
        certificatePem: provided.certificatePem ?? yaml?.certificate?.pem,
        verifySsl: yaml?.verifyTls,
      });
    }
    const literal = literalAuthority(yaml.url);
    const host = provided.host ?? yaml.host ?? literal.host;
    const port = provided.port ?? yaml.port ?? literal.port;
    if (host === undefined || port === undefined) {
      throw targetError(target, `the WebSocket URL needs a ${host === undefined ? 'host' : 'port'}: write \`${host === undefined ? 'host' : 'port'}:\` in the connection, or return it from the provider.`);
    }
    return new WebSocketVNCConnection({
      urlTemplate: yaml.url,
      host,
      port,
      ticket: credentials.ticket,
      password: credentials.password,
      username: credentials.username,
      vars: { ...yaml.vars, ...provided.vars },
      headers: { ...yaml.headers, ...provided.headers },
      ...(yaml.subprotocols ? { subprotocols: yaml.subprotocols } : {}),
      certificatePem: provided.certificatePem ?? yaml.certificate?.pem,
      verifySsl: yaml.verifyTls,
      timeoutMs: yaml.timeoutMs,
    });
  } catch (error) {
    if (error instanceof VNCConfigError && !error.message.startsWith(formatLocation(target.source))) {
      throw targetError(target, `${error.message}${target.provider ? ' (values from the YAML and its provider)' : ''}`, error);
    }
    throw error;
  }
}

/** The template as written, query values masked unless they are placeholders. */
function printableTemplate(template: string): string {
  const [base, query] = template.split(/\?(.*)/s, 2);
  if (query === undefined) return base;
  const parts = query.split('&').map((part) => {
    const [key, value = ''] = part.split(/=(.*)/s, 2);
    return /^(\$\{[^}]*\})*$/.test(value) ? part : `${key}=***`;
  });
  return `${base}?${parts.join('&')}`;
}

/**
 * One line about a target, safe to print (no password, ticket or header value):
 * `kiosk: websocket wss://${host}:${port}/websockify?token=${ticket} (host kiosk.example.com:443); ticket; tags smoke (vnc.targets.yaml:12:3)`.
 */
export function describeTarget(target: TargetConfig): string {
  const parts: string[] = [];
  const { connection, launch } = target;
  if (connection?.type === 'tcp') parts.push(`tcp ${connection.host}:${connection.port}`);
  if (connection?.type === 'websocket') {
    const at = connection.host !== undefined ? ` (host ${connection.host}${connection.port !== undefined ? `:${connection.port}` : ''})` : '';
    parts.push(`websocket ${printableTemplate(connection.urlAsWritten)}${at}`);
  }
  if (launch?.kind === 'local-desktop') parts.push(`launch local-desktop ${launch.geometry}`);
  if (launch?.kind === 'command') parts.push(`launch command on ${launch.host}:${launch.port}${launch.reuseExisting ? ' (or reuse)' : ''}`);
  const credentials = (['password', 'username', 'ticket'] as const).filter((key) => target.credentials[key] !== undefined);
  if (credentials.length > 0) parts.push(credentials.join(', '));
  if (target.provider) parts.push(`provider ${target.provider.modulePath}`);
  if (target.tags.length > 0) parts.push(`tags ${target.tags.join(', ')}`);
  if (target.shared) parts.push('shared');
  if (target.specs) parts.push(`specs ${target.specs.join(', ')}`);
  if (target.grep) parts.push(`grep ${target.grep.join(', ')}`);
  if (target.unresolved) parts.push(`needs ${[...new Set(target.unresolved.map((problem) => problem.variable))].join(', ')} (unset or empty)`);
  return `${target.name}: ${parts.join('; ')} (${formatLocation(target.source)})`;
}
