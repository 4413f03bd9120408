/**
 * Streamable HTTP for `vnc-agent mcp --http PORT`: one MCP session per client at /mcp, all sharing
 * the same desktops. On a loopback address only local programs can reach it; on any other
 * address a bearer token is required, and when a token is set every request must carry it.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { VNCConfigError } from '../index.js';

export interface HttpOptions {
  /** 0 picks a free port (the log line says which). */
  port: number;
  /** Address to bind; default 127.0.0.1. */
  host: string;
  /** Bearer token clients must send (`Authorization: Bearer …`); required unless `host` is loopback. */
  token: string | undefined;
  /** Where the token came from, for the error when it is missing (e.g. "VNC_MCP_TOKEN"). */
  tokenSource: string;
}

export interface HttpServer {
  /** http://HOST:PORT/mcp */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Whether binding `host` keeps the server to this machine's own programs without a token: the
 * usual loopback names only. Other addresses (even 127.0.0.2, or 0.0.0.0) need the token.
 */
export function isLoopbackBind(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1].trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

export async function serveHttp(makeServer: () => McpServer, options: HttpOptions): Promise<HttpServer> {
  const { host, token } = options;
  if (!isLoopbackBind(host) && !token) {
    throw new VNCConfigError(
      `Serving MCP on ${host} needs a bearer token: anyone who can reach that address could operate the desktop. Set ${options.tokenSource} to a long random value (clients send "Authorization: Bearer <token>"), or bind 127.0.0.1.`,
    );
  }
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let port = options.port;
  const hostPart = host.includes(':') ? `[${host}]` : host;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/mcp') return reply(res, 404, 'Not found: the MCP endpoint is /mcp.');
    if (token && !bearerMatches(req.headers.authorization, token)) {
      return reply(res, 401, 'Unauthorized: send "Authorization: Bearer <token>" with the token the server was started with.', { 'www-authenticate': 'Bearer' });
    }
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId !== undefined) return reply(res, 404, 'Unknown MCP session: it ended or the server restarted; initialize a new one.');
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, created),
        // Loopback without a token: refuse other Host headers, so a web page cannot reach it by DNS rebinding.
        ...(token ? {} : { enableDnsRebindingProtection: true, allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`] }),
      });
      created.onclose = () => {
        if (created.sessionId) sessions.delete(created.sessionId);
      };
      await makeServer().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => reply(res, 500, `Internal error: ${error instanceof Error ? error.name : 'failure'}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new VNCConfigError(`Cannot serve MCP on ${hostPart}:${options.port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}.`, { cause: error })),
    );
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${hostPart}:${port}/mcp`,
    port,
    async close() {
      await Promise.all([...sessions.values()].map((transport) => transport.close().catch(() => undefined)));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
