/** The MCP server: the tool list for the settings and targets, and the instructions for the model. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpContext } from './context.js';
import { runTool } from './run-tool.js';
import type { ToolDefinition } from './tool.js';
import { clipboardTools } from './tools/clipboard.js';
import { keyboardTools } from './tools/keyboard.js';
import { mouseTools } from './tools/mouse.js';
import { screenshotTools } from './tools/screenshot.js';
import { targetTools } from './tools/targets.js';
import { textTools } from './tools/text.js';
import { waitTools } from './tools/wait.js';

/** The tools served: all, or (read-only) those that only look; the target tools when there are several targets. */
export function toolsFor(context: McpContext): ToolDefinition[] {
  const tools = [
    ...screenshotTools,
    ...mouseTools,
    ...keyboardTools,
    ...waitTools,
    ...clipboardTools,
    ...textTools,
    ...(context.targets.length > 1 ? targetTools : []),
  ] as unknown as ToolDefinition[];
  return context.settings.readOnly ? tools.filter((tool) => tool.readOnly) : tools;
}

export function instructionsFor(context: McpContext): string {
  const { settings } = context;
  const lines = [
    'This server operates a remote desktop over VNC, the way a person at its screen would.',
    `Start with screenshot. Screenshots are scaled so their long edge is at most ${settings.maxSize} px; every x, y you pass is in the pixel space of the last screenshot, and the server maps it to the real screen.`,
  ];
  if (settings.readOnly) {
    lines.push(
      'This server is read-only: it can look (screenshot, wait, read_text, find_text, clipboard_get) but not click or type.',
      'read_text and find_text read the screen by OCR; find_text gives the box and centre of a label.',
    );
  } else {
    lines.push(
      settings.screenshotAfterAction
        ? `After each action (click, type, key, …) the server waits until the screen has been still for ${settings.stillMs} ms (at most ${settings.settleTimeoutMs} ms) and returns a fresh screenshot, so there is no need to sleep or to take another one. Use wait for slower changes (a program starting).`
        : 'Actions return without a screenshot: call screenshot (or wait with until_still) to see their effect.',
      'The keyboard goes to whatever has the focus: click into a field before typing.',
      'read_text, find_text and click_text read the screen by OCR: find_text gives the box and centre of a label, click_text clicks it.',
    );
  }
  lines.push('If the connection is lost, the tool call says so and the next call connects again.');
  if (context.targets.length > 1) lines.push(`There are ${context.targets.length} desktops (list_targets); use_target switches between them. Now using ${context.target.name}.`);
  return lines.join('\n');
}

export function createMcpServer(context: McpContext, version: string): McpServer {
  const server = new McpServer({ name: 'vnc-agent', version }, { instructions: instructionsFor(context) });
  for (const tool of toolsFor(context)) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.schema,
        annotations: { title: tool.title, readOnlyHint: tool.readOnly, destructiveHint: !tool.readOnly, openWorldHint: true },
      },
      (args: Record<string, unknown>) => runTool(context, tool, args),
    );
  }
  return server;
}
