/**
 * The commands that connect to a server (info, screenshot, click …): runs one with Ctrl-C handling
 * and reports its failure with every secret masked.
 */
import { runCommand, type RunReport } from './commands.js';
import type { CliContext, RunnableParse } from './dispatch.js';
import { CliError, CliUsageError, formatError, secretsOf } from './output.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

export async function runConnected(parsed: RunnableParse, ctx: CliContext): Promise<number> {
  if (parsed.kind !== 'run') throw new Error(`runConnected got a "${parsed.kind}" command line`);
  const { globals, command } = parsed;
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(signal === 'SIGINT' ? EXIT_INTERRUPTED : 128 + 15);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const report: RunReport = { secrets: [] };
  try {
    await runCommand(globals, command, ctx, controller.signal, report);
    return EXIT_OK;
  } catch (error) {
    if (controller.signal.aborted) {
      ctx.stderr(formatError(new CliError('interrupted'), { debug: false }));
      return EXIT_INTERRUPTED;
    }
    const secrets = [...secretsOf(globals), ...report.secrets];
    // With --target and no --timeout, the timeout in effect is the target's (the error knows it, when it is a timeout).
    const timeoutMs = report.timeoutMs ?? (globals.target && globals.target.timeoutMs === undefined ? undefined : globals.timeoutMs);
    ctx.stderr(formatError(error, { debug: globals.debug, password: globals.password, secrets, timeoutMs }));
    return error instanceof CliUsageError ? EXIT_USAGE : EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
