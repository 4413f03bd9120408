/**
 * Runs one tool call: the handler, then (after an action) a wait until the screen settles and a
 * fresh screenshot; a note when the connection was made again; one stderr line; and errors as
 * tool results (isError) the model can read. Nothing that leaves here shows a secret.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { VNCTimeoutError } from '../index.js';
import { describeError, type McpContext } from './context.js';
import { screenshotContent } from './snapshot.js';
import type { ToolDefinition, ToolOutcome } from './tool.js';

type Content = CallToolResult['content'][number];

export async function runTool(context: McpContext, tool: ToolDefinition, args: Record<string, unknown>): Promise<CallToolResult> {
  const started = performance.now();
  const target = context.target.name;
  let outcome: ToolOutcome;
  try {
    outcome = await tool.handle(context, args as never);
  } catch (error) {
    const lost = context.lostReason();
    const lines = context.takeNotes();
    if (lost !== undefined) lines.push(`The connection to ${target} was lost: ${lost}`);
    lines.push(`${tool.name} failed: ${describeError(error)}`);
    if (lost !== undefined) lines.push('The next tool call connects again.');
    context.log(`${target}: ${tool.name} failed after ${Math.round(performance.now() - started)} ms: ${describeError(error)}`);
    return { isError: true, content: [{ type: 'text', text: context.redact(lines.join('\n')) }] };
  }

  const content: Content[] = [];
  const lines = [...context.takeNotes(), ...outcome.lines];
  const wantsScreenshot = outcome.screenshot === 'always' || (outcome.screenshot === 'after-action' && context.settings.screenshotAfterAction);
  if (wantsScreenshot) {
    try {
      const bridge = await context.bridge();
      if (outcome.screenshot === 'after-action') {
        const { settleTimeoutMs, stillMs } = context.settings;
        await bridge.screen.waitForStable({ stillMs, timeoutMs: settleTimeoutMs }).catch((error: unknown) => {
          if (!(error instanceof VNCTimeoutError)) throw error;
          lines.push(`The screen was still changing after ${settleTimeoutMs} ms; the screenshot shows it at that moment.`);
        });
      }
      content.push(...(await screenshotContent(context, bridge, outcome.format)));
    } catch (error) {
      lines.push(`No screenshot: ${describeError(error)}${context.lostReason() !== undefined ? ' (the connection is lost; the next tool call connects again)' : ''}`);
    }
  }
  const ms = Math.round(performance.now() - started);
  context.log(`${target}: ${outcome.log} (${ms} ms)`);
  const text = context.redact(lines.join('\n'));
  return { content: [...(text ? [{ type: 'text' as const, text }] : []), ...content.map((item) => (item.type === 'text' ? { ...item, text: context.redact(item.text) } : item))] };
}
