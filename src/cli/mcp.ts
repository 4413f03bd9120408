/**
 * `vnc-agent mcp`: builds the targets from the command line (the CLI's own connection options, a
 * --target, or every target of --targets FILE) and runs the MCP server of src/mcp until the client
 * goes away or the process is interrupted. Loaded only for this command.
 */
import { knownSecrets } from '../config/provider.js';
import { describeTarget, launchTarget, resolveTarget, VNCAgentBridge, type LaunchedTarget, type TargetConfig, type VNCAgentBridgeOptions } from '../index.js';
import { serveMcp, type ConnectedTarget, type McpTarget } from '../mcp/index.js';
import { UsageError, type GlobalOptions } from './args.js';
import { makeConnection, readCaFile } from './commands.js';
import { MCP_TOKEN_ENV, mcpHelpText, parseMcpCommandLine, type McpCommandLine } from './mcp-args.js';
import { CliUsageError, formatError, formatUsageError, secretsOf } from './output.js';
import { findTarget, loadTargetsFile } from './targets.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A server that stops answering without closing (a network cut) ends the session after this long,
 * so the next tool call connects again instead of acting on a frozen picture.
 */
const STALL_TIMEOUT_MS = 30_000;

/** The picture and input settings the command line overrides, and the stall detection a long-lived server needs. */
function overrides(globals: GlobalOptions): Pick<VNCAgentBridgeOptions, 'encodings' | 'quality' | 'compressionLevel' | 'shared' | 'stallTimeoutMs'> {
  return {
    shared: globals.shared,
    stallTimeoutMs: STALL_TIMEOUT_MS,
    ...(globals.encodings ? { encodings: globals.encodings } : {}),
    ...(globals.quality !== undefined ? { quality: globals.quality } : {}),
    ...(globals.compressionLevel !== undefined ? { compressionLevel: globals.compressionLevel } : {}),
  };
}

/** Connects `bridge`; on failure it is closed again before the error goes up. */
async function connected(bridge: VNCAgentBridge, secrets: readonly (string | undefined)[]): Promise<ConnectedTarget> {
  try {
    await bridge.connect();
  } catch (error) {
    await bridge.disconnect().catch(() => undefined);
    throw error;
  }
  return { bridge, secrets: secrets.filter((secret): secret is string => !!secret) };
}

/** The desktop the plain connection options (--host/--port, --url …) describe. */
async function commandLineTarget(globals: GlobalOptions): Promise<McpTarget> {
  const certificatePem = globals.caFile === undefined ? undefined : await readCaFile(globals.caFile);
  const probe = await makeConnection(globals, certificatePem);
  return {
    name: probe.remote,
    description: `VNC at ${probe.remote}`,
    connect: async () =>
      connected(
        new VNCAgentBridge({ connection: await makeConnection(globals, certificatePem), timeoutMs: globals.timeoutMs, typingDelayMs: globals.typingDelayMs, ...overrides(globals) }),
        [],
      ),
  };
}

/** A target of the targets file: launched on first use (stopped at the end), its provider asked on every connection. */
function fileTarget(target: TargetConfig, globals: GlobalOptions, env: Env): McpTarget {
  let launched: Promise<LaunchedTarget> | undefined;
  const processEnv = env as NodeJS.ProcessEnv;
  return {
    name: target.name,
    description: describeTarget(target).replace(`${target.name}: `, ''),
    async connect(attempt) {
      if (target.launch) {
        launched ??= launchTarget(target, { env: processEnv }).catch((error: unknown) => {
          launched = undefined;
          throw error;
        });
      }
      const running = launched ? await launched : undefined;
      const resolved = await resolveTarget(target, { attempt, launched: running, env: processEnv });
      const bridge = new VNCAgentBridge({
        ...resolved,
        timeoutMs: globals.target?.timeoutMs ?? resolved.timeoutMs ?? globals.timeoutMs,
        typingDelayMs: globals.typingDelayMs ?? resolved.typingDelayMs,
        ...overrides(globals),
      });
      const credentials = resolved.connection?.credentials;
      return connected(bridge, [...knownSecrets(target, processEnv), resolved.password, credentials?.password, running?.password]);
    },
    async close() {
      const running = await launched?.catch(() => undefined);
      await running?.stop();
    },
  };
}

async function targetsOf(command: McpCommandLine, env: Env): Promise<McpTarget[]> {
  const { globals } = command;
  if (command.targetsFile !== undefined) {
    const file = loadTargetsFile(command.targetsFile, env);
    return file.targets.map((target) => fileTarget(target, globals, env));
  }
  if (globals.target) {
    const file = loadTargetsFile(globals.target.config, env);
    return [fileTarget(findTarget(file, globals.target.name), globals, env)];
  }
  return [await commandLineTarget(globals)];
}

/** Runs `vnc-agent … mcp …`; resolves to the exit code. */
export async function runMcp(argv: readonly string[], env: Env, version: string): Promise<number> {
  let command: McpCommandLine;
  try {
    const parsed = parseMcpCommandLine(argv, env);
    if (parsed.kind === 'help') {
      process.stdout.write(mcpHelpText(version));
      return 0;
    }
    command = parsed;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(formatUsageError(error));
      return 2;
    }
    throw error;
  }
  const { globals } = command;
  const token = env[MCP_TOKEN_ENV] === '' ? undefined : env[MCP_TOKEN_ENV];
  const secrets = [...secretsOf(globals), token];
  const log = (line: string) => void process.stderr.write(`vnc-agent mcp: ${line}\n`);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const targets = await targetsOf(command, env);
    await serveMcp({
      targets,
      version,
      secrets,
      log,
      signal: controller.signal,
      settings: {
        maxSize: command.maxSize,
        format: command.format,
        jpegQuality: command.jpegQuality,
        screenshotAfterAction: command.screenshotAfterAction,
        settleTimeoutMs: command.settleTimeoutMs,
        stillMs: command.stillMs,
        readOnly: command.readOnly,
      },
      http: command.http && { ...command.http, token, tokenSource: MCP_TOKEN_ENV },
    });
    return controller.signal.aborted ? 130 : 0;
  } catch (error) {
    process.stderr.write(formatError(error, { debug: globals.debug, password: globals.password, secrets }));
    return error instanceof CliUsageError ? 2 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
