/** `vnc-agent targets`: list and validate the targets file (loaded only for this command). */
import type { CliContext, RunnableParse } from './dispatch.js';
import { CliUsageError, formatError } from './output.js';
import { runTargets } from './targets.js';

export async function runTargetsCommand(parsed: RunnableParse, ctx: CliContext): Promise<number> {
  if (parsed.kind !== 'targets') throw new Error(`runTargetsCommand got a "${parsed.kind}" command line`);
  const { debug } = parsed.options;
  try {
    return runTargets(parsed.options, { stdout: ctx.stdout, env: ctx.env });
  } catch (error) {
    ctx.stderr(formatError(error, { debug }));
    return error instanceof CliUsageError ? 2 : 1;
  }
}
