/**
 * `vnc-agent mcp`: the MCP server over stdio, or Streamable HTTP with `http`. The command line
 * (src/cli/mcp.ts) builds the targets; this layer knows nothing of argv.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { McpContext } from './context.js';
import type { HttpOptions } from './http.js';
import { createMcpServer } from './server.js';
import type { McpLogger, McpSettings, McpTarget } from './types.js';

export { McpContext, describeError } from './context.js';
export { createMcpServer, instructionsFor, toolsFor } from './server.js';
export { mappingFor, scaleFrame, encodeImage, scaleOf, type ImageFormat, type ScreenMapping } from './image.js';
export type { HttpOptions, HttpServer } from './http.js';
export { DEFAULT_SETTINGS, type McpSettings, type McpTarget, type ConnectedTarget, type McpLogger } from './types.js';

export interface McpServeOptions {
  targets: readonly McpTarget[];
  settings: McpSettings;
  version: string;
  /** Values to mask everywhere (the CLI's password, ticket, header values). */
  secrets?: readonly (string | undefined)[];
  log: McpLogger;
  /** Serve over Streamable HTTP instead of stdio. */
  http?: HttpOptions;
  /** Ends the server (the CLI's SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

/** Serves until stdin closes (stdio) or `signal` aborts; then disconnects and stops launched targets. */
export async function serveMcp(options: McpServeOptions): Promise<void> {
  const context = new McpContext(options.targets, options.settings, { secrets: options.secrets, log: options.log });
  const { signal } = options;
  try {
    if (options.http) {
      // Loaded only for --http: stdio servers never pay for the HTTP stack.
      const { serveHttp } = await import('./http.js');
      const http = await serveHttp(() => createMcpServer(context, options.version), options.http);
      options.log(`serving MCP over Streamable HTTP at ${http.url} (${options.targets.length === 1 ? `target ${options.targets[0].name}` : `${options.targets.length} targets`}${options.settings.readOnly ? ', read-only' : ''})`);
      await new Promise<void>((resolve) => {
        if (signal?.aborted) resolve();
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      await http.close();
      return;
    }
    const server = createMcpServer(context, options.version);
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => {
      transport.onclose = () => resolve();
      process.stdin.once('end', () => resolve());
      process.stdin.once('close', () => resolve());
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.connect(transport);
    options.log(`serving MCP on stdio (${options.targets.length === 1 ? `target ${options.targets[0].name}` : `${options.targets.length} targets`}${options.settings.readOnly ? ', read-only' : ''})`);
    await closed;
    await server.close().catch(() => undefined);
  } finally {
    await context.close();
  }
}
