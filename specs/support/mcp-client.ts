/**
 * The MCP SDK's own client, driving the built `vnc-agent mcp` (dist/cli/main.js): over stdio (the
 * client spawns the server) or Streamable HTTP (the test starts the server and reads its URL from
 * stderr). Results are decoded for assertions: text, and the image as RGBA pixels.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Transformer } from '@napi-rs/image';
import { decodePng } from '../../src/index.js';
import type { RgbaImage } from './desktop.js';
import { delay, stopProcess, track } from './processes.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export function checkBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
}

export interface ToolResult {
  isError: boolean;
  /** All text content, joined by newlines. */
  text: string;
  /** The image content decoded (PNG or JPEG), if any. */
  image: (RgbaImage & { mimeType: string; bytes: number }) | undefined;
  raw: CallToolResult;
}

export interface McpSession {
  client: Client;
  /** The server process (stdio only). */
  pid: number | undefined;
  call(name: string, args?: Record<string, unknown>): Promise<ToolResult>;
  /** The server's stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/** An environment without the caller's VNC secrets. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !/^VNC_/.test(name)) env[name] = value;
  return { ...env, ...extra };
}

export async function decodeResult(raw: CallToolResult): Promise<ToolResult> {
  const text = raw.content.flatMap((item) => (item.type === 'text' ? [item.text] : [])).join('\n');
  const imageItem = raw.content.find((item) => item.type === 'image');
  let image: ToolResult['image'];
  if (imageItem && imageItem.type === 'image') {
    const bytes = Buffer.from(imageItem.data, 'base64');
    if (imageItem.mimeType === 'image/png') {
      image = { ...decodePng(bytes), mimeType: imageItem.mimeType, bytes: bytes.length };
    } else {
      const transformer = new Transformer(bytes);
      const { width, height } = await transformer.metadata();
      image = { width, height, data: Buffer.from(await transformer.rawPixels()), mimeType: imageItem.mimeType, bytes: bytes.length };
    }
  }
  return { isError: raw.isError === true, text, image, raw };
}

function session(client: Client, stderr: () => string, close: () => Promise<void>, pid?: number): McpSession {
  return {
    client,
    pid,
    stderr,
    close,
    async call(name, args = {}) {
      const raw = (await client.callTool({ name, arguments: args }, undefined, { timeout: 30_000 })) as CallToolResult;
      return decodeResult(raw);
    },
  };
}

/** Spawns `node dist/cli/main.js mcp …args` through the SDK's stdio client and initializes. */
export async function connectStdio(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<McpSession> {
  checkBuilt();
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', ...args], env: options.env ?? cleanEnv(), cwd: options.cwd, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'vnc-agent-tests', version: '1.0.0' });
  try {
    await client.connect(transport, { timeout: 20_000 });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new Error(`${(error as Error).message}\n--- server stderr ---\n${stderr}`);
  }
  const pid = transport.pid;
  return session(client, () => stderr, async () => {
    await client.close().catch(() => undefined);
    // The server ends when stdin closes; make sure it did.
    const until = Date.now() + 5000;
    while (pid !== null && Date.now() < until && isRunning(pid)) await delay(20);
    if (pid !== null && isRunning(pid)) process.kill(pid, 'SIGKILL');
  }, pid ?? undefined);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface HttpServerProcess {
  url: string;
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `vnc-agent mcp --http 0 …args` and resolves with the URL it prints once listening. */
export async function startHttpServer(args: string[], options: { env?: Record<string, string> } = {}): Promise<HttpServerProcess> {
  checkBuilt();
  const child = spawn(process.execPath, [CLI, 'mcp', '--http', '0', ...args], { env: options.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + 15_000;
  let url: string | undefined;
  while (!url && !done && Date.now() < deadline) {
    url = /Streamable HTTP at (http:\/\/\S+)/.exec(stderr)?.[1];
    if (!url) await delay(20);
  }
  if (!url) {
    await stopProcess(child, 2000);
    throw new Error(`vnc-agent mcp --http did not start:\n${stderr}`);
  }
  return { url, stderr: () => stderr, exited, stop: () => stopProcess(child, 5000) };
}

/** The SDK's Streamable HTTP client against `url`, with optional headers (a bearer token). */
export async function connectHttp(url: string, headers: Record<string, string> = {}): Promise<McpSession> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: 'vnc-agent-tests', version: '1.0.0' });
  await client.connect(transport, { timeout: 20_000 });
  return session(client, () => '', async () => {
    await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  });
}
