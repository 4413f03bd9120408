/**
 * `vnc-agent mcp` beyond one plain TCP desktop: a lost connection made again (the provider asked
 * again), a WebSocket through websockify with a token, several targets of a targets file, and
 * Streamable HTTP with and without a bearer token. The SDK's own clients throughout.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pointerLocation } from '../support/desktop.js';
import { expect, test, XVNC_PASSWORD } from '../support/fixtures.js';
import { cleanEnv, connectHttp, connectStdio, startHttpServer, type McpSession, type ToolResult } from '../support/mcp-client.js';
import { startWebsockify } from '../support/websockify.js';
import { freePort, run } from '../support/processes.js';
import { readBanner, startXvnc } from '../support/xvnc.js';

let cleanups: Array<() => Promise<unknown>> = [];
test.afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});
async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-mcp-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
async function stdio(args: string[], options: Parameters<typeof connectStdio>[1] = {}): Promise<McpSession> {
  const session = await connectStdio(args, options);
  cleanups.push(() => session.close());
  return session;
}
/** POSTs an MCP initialize with node:http (fetch cannot set Host) and resolves with the status. */
function postInitialize(url: string, headers: Record<string, string>): Promise<number> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, timeout: 10_000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
    request.end(body);
  });
}

function ok(result: ToolResult): ToolResult {
  expect(result.isError, result.text).toBe(false);
  return result;
}

test.describe('vnc-agent mcp: connections', () => {
  test('a server killed mid-session: a clear tool error, and the next call connects again, asking the provider again', async () => {
    const dir = await folder();
    const first = await startXvnc({ geometry: '640x480' });
    cleanups.push(() => first.stop());
    await writeFile(join(dir, 'port'), String(first.port));
    await writeFile(
      join(dir, 'provider.mjs'),
      [
        "import { appendFileSync, readFileSync } from 'node:fs';",
        'export default async function provider({ attempt }) {',
        `  appendFileSync(${JSON.stringify(join(dir, 'calls'))}, attempt + '\\n');`,
        `  return { port: Number(readFileSync(${JSON.stringify(join(dir, 'port'))}, 'utf8')) };`,
        '}',
      ].join('\n'),
    );
    await writeFile(join(dir, 'vnc.targets.yaml'), ['targets:', '  vm:', '    connection: { type: tcp, host: 127.0.0.1, port: 1 }', '    provider: ./provider.mjs', ''].join('\n'));
    const session = await stdio(['--target', 'vm', '--config', join(dir, 'vnc.targets.yaml'), '--timeout', '5']);
    ok(await session.call('screenshot'));

    first.kill('SIGKILL');
    await first.stop();
    const failed = await session.call('click', { x: 10, y: 10 });
    expect(failed.isError).toBe(true);
    expect(failed.text).toMatch(/^The connection to vm was lost: VNC\w+Error \(E\w+\): .+\nclick failed: VNCConnectionError \(ECONNECT\): .+\nThe next tool call connects again\.$/);

    const second = await startXvnc({ geometry: '800x600' });
    cleanups.push(() => second.stop());
    await writeFile(join(dir, 'port'), String(second.port));
    // Back, on a screen of another size: coordinates from the old screenshot are refused.
    const back = await session.call('click', { x: 30, y: 40 });
    expect(back.isError).toBe(true);
    expect(back.text).toMatch(/^Reconnected to vm \(800x600\); the previous connection was lost: VNCConnectionError \(ECLOSED\): .+\n/);
    expect(back.text).toContain(
      'click failed: VNCInputError (EINPUT): The screen changed size from 640x480 to 800x600 since the last screenshot, so its coordinates may point elsewhere: take a screenshot and use its coordinates.',
    );
    expect(ok(await session.call('screenshot')).image).toMatchObject({ width: 800, height: 600 });
    ok(await session.call('click', { x: 30, y: 40 }));
    expect(await pointerLocation(second)).toEqual({ x: 30, y: 40 });
    expect(await readFile(join(dir, 'calls'), 'utf8')).toBe('0\n1\n2\n');
    expect(session.stderr()).toContain('vnc-agent mcp: vm: reconnected after: ');
  });

  test('a target with launch: starts on the first tool call, not before, and stops when the client leaves', async () => {
    const dir = await folder();
    const port = await freePort();
    const marker = `mcp-launch-${port}`;
    await writeFile(
      join(dir, 'vnc.targets.yaml'),
      [
        'targets:',
        '  launched:',
        `    connection: { type: tcp, host: 127.0.0.1, port: ${port} }`,
        '    launch:',
        `      command: [Xvnc, -rfbport, "${port}", -localhost, -nolisten, tcp, -SecurityTypes, None, -geometry, 640x480, -desktop, ${marker}, ":${port - 5900 + 100}"]`,
        '      timeoutMs: 15000',
        '',
      ].join('\n'),
    );
    const answers = () => readBanner(port, '127.0.0.1', 1000).then(() => true, () => false);
    const session = await connectStdio(['--target', 'launched'], { cwd: dir });
    try {
      expect(await answers()).toBe(false);
      const shot = ok(await session.call('screenshot'));
      expect(shot.image).toMatchObject({ width: 640, height: 480 });
      expect(await answers()).toBe(true);
    } finally {
      await session.close();
    }
    expect(await answers()).toBe(false);
    expect((await run('pgrep', ['-af', marker])).stdout.trim()).toBe('');
  });

  test('over a WebSocket (websockify with a token): the token appears in no result and no log line', async ({ xvnc }) => {
    const token = 'tok3n-S3cret-value';
    const proxy = await startWebsockify({ tokens: { [token]: { host: '127.0.0.1', port: xvnc.port } } });
    cleanups.push(() => proxy.stop());
    const session = await stdio(['--url', 'ws://${host}:${port}/?token=${ticket}', '--port', String(proxy.port)], { env: cleanEnv({ VNC_TICKET: token }) });
    const shot = ok(await session.call('screenshot'));
    expect(shot.image).toMatchObject({ width: 1280, height: 800 });
    ok(await session.call('click', { x: 200, y: 100 }));
    expect(await pointerLocation(xvnc)).toEqual({ x: 200, y: 100 });
    const wrong = await stdio(['--url', 'ws://${host}:${port}/?token=${ticket}', '--port', String(proxy.port), '--timeout', '3'], { env: cleanEnv({ VNC_TICKET: 'not-the-token' }) });
    const refused = await wrong.call('screenshot');
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(/screenshot failed: VNCConnectionError/);
    for (const text of [shot.text, refused.text, session.stderr(), wrong.stderr()]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain('not-the-token');
    }
  });

  test('--targets FILE serves two desktops: list_targets, use_target, each with its own pointer and password kept secret', async ({ xvnc, xvncWithPassword }) => {
    const dir = await folder();
    await writeFile(
      join(dir, 'two.yaml'),
      [
        'targets:',
        '  plain:',
        `    connection: { type: tcp, host: 127.0.0.1, port: ${xvnc.port} }`,
        '  locked:',
        `    connection: { type: tcp, host: 127.0.0.1, port: ${xvncWithPassword.port} }`,
        '    password: ${env:MCP_TEST_LOCKED_PW}',
        '',
      ].join('\n'),
    );
    const session = await stdio(['--targets', join(dir, 'two.yaml'), '--max-size', '640'], { env: cleanEnv({ MCP_TEST_LOCKED_PW: XVNC_PASSWORD }) });
    const names = (await session.client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['list_targets', 'use_target']));
    expect(session.client.getInstructions()).toContain('There are 2 desktops (list_targets)');

    const listed = ok(await session.call('list_targets'));
    expect(listed.text).toMatch(/^\* plain: tcp 127\.0\.0\.1:\d+/m);
    expect(listed.text).toMatch(/^ {2}locked: tcp 127\.0\.0\.1:\d+; password/m);
    ok(await session.call('click', { x: 10, y: 20 }));
    expect(await pointerLocation(xvnc)).toEqual({ x: 20, y: 40 });

    const used = ok(await session.call('use_target', { name: 'locked' }));
    expect(used.text).toContain('Now using locked');
    expect(used.image).toMatchObject({ width: 640, height: 400 });
    ok(await session.call('click', { x: 100, y: 150 }));
    expect(await pointerLocation(xvncWithPassword)).toEqual({ x: 200, y: 300 });
    expect(await pointerLocation(xvnc)).toEqual({ x: 20, y: 40 });
    expect(ok(await session.call('list_targets')).text).toMatch(/^\* locked: .*\(connected\)$/m);

    const unknown = await session.call('use_target', { name: 'lockd' });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toContain('Unknown target "lockd": the targets are plain, locked');
    expect(session.stderr()).not.toContain(XVNC_PASSWORD);
  });
});

test.describe('vnc-agent mcp --http (Streamable HTTP)', () => {
  test('on 127.0.0.1: the SDK client over HTTP lists tools and clicks; a foreign Host header is refused', async ({ xvnc }) => {
    const server = await startHttpServer(['--host', '127.0.0.1', '--port', String(xvnc.port), '--max-size', '640']);
    cleanups.push(() => server.stop());
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const session = await connectHttp(server.url);
    cleanups.push(() => session.close());
    expect((await session.client.listTools()).tools.map((tool) => tool.name)).toContain('click');
    ok(await session.call('click', { x: 321, y: 123 }));
    expect(await pointerLocation(xvnc)).toEqual({ x: 642, y: 246 });
    expect(server.stderr()).toMatch(/click left click at \(321, 123\) → screen \(642, 246\) \(\d+ ms\)/);

    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host.
    const port = new URL(server.url).port;
    expect(await postInitialize(server.url, { host: `evil.example:${port}` })).toBe(403);
    expect(await postInitialize(server.url, { host: `localhost:${port}` })).toBe(200);
  });

  test('beyond loopback a bearer token is required: no token, no server; without the token a request is refused; with it the client works', async ({ xvnc }) => {
    const refusedStart = await startHttpServer(['--host', '127.0.0.1', '--port', String(xvnc.port), '--bind', '127.0.0.2']).catch((error: Error) => error);
    expect(refusedStart).toBeInstanceOf(Error);
    expect((refusedStart as Error).message).toContain('Serving MCP on 127.0.0.2 needs a bearer token');
    expect((refusedStart as Error).message).toContain('VNC_MCP_TOKEN');

    const token = 'b3arer-token-0123456789abcdef';
    const server = await startHttpServer(['--host', '127.0.0.1', '--port', String(xvnc.port), '--bind', '127.0.0.2'], { env: cleanEnv({ VNC_MCP_TOKEN: token }) });
    cleanups.push(() => server.stop());
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/mcp$/);

    const initialize = (authorization?: string) =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
      });
    const anonymous = await initialize();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect((await initialize('Bearer wrong-token')).status).toBe(401);
    await expect(connectHttp(server.url)).rejects.toThrow();

    const session = await connectHttp(server.url, { authorization: `Bearer ${token}` });
    cleanups.push(() => session.close());
    ok(await session.call('move', { x: 77, y: 88 }));
    expect(await pointerLocation(xvnc)).toEqual({ x: 77, y: 88 });
    expect(server.stderr()).not.toContain(token);
  });
});
