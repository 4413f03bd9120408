#!/usr/bin/env node
/**
 * `vnc-agent`: drive a remote desktop over VNC from the shell. Run `vnc-agent --help`.
 *
 * Exit codes: 0 success, 1 runtime error, 2 usage error, 130 interrupted.
 */
import { readFileSync } from 'node:fs';
import { helpText, parseCommandLine, UsageError, type ParseResult } from './args.js';
import { RUNNERS, runnerName, type CliContext } from './dispatch.js';
import { isMcpCommand } from './mcp-args.js';
import { formatError, formatUsageError } from './output.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** The package version, from the package.json two levels above this file (dist/cli/ or src/cli/). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function main(argv: string[]): Promise<number> {
  const env = process.env;
  if (argv[0] === 'show-trace') {
    const { runShowTrace } = await import('./show-trace.js');
    const interrupted = new Promise<void>((done) => ['SIGINT', 'SIGTERM'].forEach((signal) => process.once(signal, () => done())));
    return runShowTrace(argv.slice(1), { stdout: (text) => void process.stdout.write(text), stderr: (text) => void process.stderr.write(text), env, interrupted });
  }
  // `vnc-agent mcp` serves until its client leaves; its code (and the MCP SDK) loads only for it.
  if (isMcpCommand(argv)) return (await import('./mcp.js')).runMcp(argv, env, packageVersion());
  let parsed: ParseResult;
  try {
    parsed = parseCommandLine(argv, env);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(formatUsageError(error));
      return EXIT_USAGE;
    }
    // A bug in the parser: say so without a password-bearing argv.
    process.stderr.write(formatError(error, { debug: argv.includes('--debug'), password: env.VNC_PASSWORD, secrets: [env.VNC_TICKET] }));
    return EXIT_FAILURE;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(helpText(packageVersion(), parsed.topic));
    return EXIT_OK;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  const ctx: CliContext = {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    readStdin,
    env,
  };
  const run = await RUNNERS[runnerName(parsed)]();
  return run(parsed, ctx);
}

// --insecure makes the library warn once (process.emitWarning, code VNC_TLS_VERIFY_OFF). Node prints
// warnings itself, unless NODE_NO_WARNINGS or --no-warnings silence them all; this one is about
// security, so then vnc-agent prints it.
if (process.env.NODE_NO_WARNINGS === '1' || process.execArgv.includes('--no-warnings')) {
  process.on('warning', (warning: Error & { code?: string }) => {
    if (warning.code === 'VNC_TLS_VERIFY_OFF') process.stderr.write(`vnc-agent: warning: ${warning.message}\n`);
  });
}

// A closed stdout (`vnc-agent --help | head -1`) is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Everything is closed by now; should a handle linger anyway, do not hang the shell script.
setTimeout(() => process.exit(code), 2000).unref();
