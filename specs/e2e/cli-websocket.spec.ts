/**
 * The built `vnc-agent` command over WebSocket: a real TigerVNC Xvnc behind a real websockify in
 * token mode, over ws:// and over wss:// with a self-signed certificate. Checks what reaches the X
 * server, what is printed, and that the token and header values never are. Needs `npm run build`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng } from '../../src/index.js';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/certs.js';
import { hexToRgb, pointerLocation, readFileWhenContains, startXterm, xdotool } from '../support/desktop.js';
import { expect, test } from '../support/fixtures.js';
import { run, type RunResult } from '../support/processes.js';
import { startWebsockify, type Websockify } from '../support/websockify.js';
import { DEFAULT_BACKGROUND } from '../support/xvnc.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** The websockify token that routes to the test's Xvnc (a secret: it must never be printed). */
const TOKEN = 'tok-Zq9xW3-secret';
/** noVNC's URL shape, for websockify's TokenFile plugin. */
const TEMPLATE = 'ws://${host}:${port}/websockify?token=${ticket}';
const TLS_TEMPLATE = 'wss://${host}:${port}/websockify?token=${ticket}';
const VERIFY_OFF = 'TLS certificate verification is OFF for 127.0.0.1';

test.beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
});

let scratch: string;
test.beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vnc-agent-cli-ws-e2e-'));
});
test.afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Test-local environment: no VNC_PASSWORD or VNC_TICKET from outside, pointer state in the scratch folder. */
function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VNC_AGENT_STATE_DIR: join(scratch, 'state'), ...extra };
  if (!('VNC_PASSWORD' in extra)) delete env.VNC_PASSWORD;
  if (!('VNC_TICKET' in extra)) delete env.VNC_TICKET;
  delete env.NODE_NO_WARNINGS;
  return env;
}

function cli(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], { env: options.env ?? cliEnv(), input: options.input, timeoutMs: 30_000 });
}

/** `--url TEMPLATE --port N` for a websockify. */
const via = (proxy: Websockify, template = proxy.scheme === 'wss' ? TLS_TEMPLATE : TEMPLATE): string[] => ['--url', template, '--port', String(proxy.port)];

/** Expects a failure reported in one or two lines, without a stack trace. */
function expectShortError(result: RunResult, code: number): string[] {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(lines[0]).toMatch(/^vnc-agent: /);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines;
}

const occurrences = (text: string, part: string): number => text.split(part).length - 1;

test.describe('vnc-agent --url: websockify token mode', () => {
  let proxy: Websockify;
  test.beforeEach(async ({ xvnc }) => {
    proxy = await startWebsockify({ tokens: { [TOKEN]: { host: '127.0.0.1', port: xvnc.port } } });
  });
  test.afterEach(async () => {
    await proxy.stop();
  });

  test('info works and prints the URL with token=***, never the token', async () => {
    const result = await cli([...via(proxy), '--ticket', TOKEN, 'info']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^size:\s+1280x800$/m);
    expect(result.stdout).toMatch(/^security:\s+None \(1\)$/m);
    expect(result.stdout).toContain(`\nremote:            ws://127.0.0.1:${proxy.port}/websockify?token=***\n`);
    expect(result.stdout).not.toContain(TOKEN);

    // The token from VNC_TICKET; --json; --debug says where it connects, masked, and what it sends.
    const json = await cli([...via(proxy), '--json', '--debug', '--header', 'Authorization: Bearer hdr-Secret-42', 'info'], {
      env: cliEnv({ VNC_TICKET: TOKEN }),
    });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ width: 1280, height: 800, remote: `ws://127.0.0.1:${proxy.port}/websockify?token=***` });
    expect(json.stderr).toContain(
      `vnc-agent: debug: connecting to ws://127.0.0.1:${proxy.port}/websockify?token=*** (WebSocket, shared, timeout 10 s, with a ticket, header Authorization, subprotocol binary)`,
    );
    expect(json.stderr).toContain('vnc-agent: debug: connected');
    for (const secret of [TOKEN, 'hdr-Secret-42']) expect(json.stdout + json.stderr).not.toContain(secret);

    // --subprotocol none: websockify takes a connection that offers no subprotocol too.
    const none = await cli([...via(proxy), '--ticket', TOKEN, '--subprotocol', 'none', 'info']);
    expect(none.code, none.stderr).toBe(0);
  });

  test('a wrong token: exit 1, "unknown or expired", no token printed (not even with --debug)', async () => {
    const wrong = 'wrong-tok-Kp2v';
    const result = await cli([...via(proxy), '--ticket', wrong, 'info']);
    const lines = expectShortError(result, 1);
    expect(lines[0]).toContain(`ws://127.0.0.1:${proxy.port}/websockify?token=***`);
    expect(lines[0]).toContain('the token is unknown or expired');
    expect(result.stdout + result.stderr).not.toContain(wrong);

    const debug = await cli([...via(proxy), '--debug', '--header', 'Cookie: session=cookie-Secret-77', 'info'], { env: cliEnv({ VNC_TICKET: wrong }) });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toContain('the token is unknown or expired');
    expect(debug.stderr).toMatch(/\n\s+at /); // the stack, with its causes
    for (const secret of [wrong, 'cookie-Secret-77']) expect(debug.stdout + debug.stderr).not.toContain(secret);

    // Usage mistakes about the WebSocket options exit 2 before connecting.
    const noTicket = await cli([...via(proxy), 'info']);
    expect(expectShortError(noTicket, 2)[0]).toBe('vnc-agent: the --url template uses ${ticket}: give it with --ticket T or in VNC_TICKET');
    const noPort = await cli(['--url', TEMPLATE, '--ticket', TOKEN, 'info']);
    expect(expectShortError(noPort, 2)[0]).toBe('vnc-agent: the --url template uses ${port}: give it with --port (with --url there is no default port)');
    const header = await cli([...via(proxy), '--ticket', TOKEN, '--header', `Authorization Bearer ${TOKEN}`, 'info']);
    expect(expectShortError(header, 2)[1]).toMatch(/^usage: vnc-agent --url TEMPLATE /);
    expect(header.stderr).not.toContain(TOKEN);
  });

  test('screenshot over WebSocket writes the real screen', async ({ xvnc }) => {
    await xdotool(xvnc, ['mousemove', '--sync', '1200', '700']); // keep the pointer away from the pixels checked
    const file = join(scratch, 'ws-shot.png');
    const result = await cli([...via(proxy), '--ticket', TOKEN, 'screenshot', file]);
    expect(result.code, result.stderr).toBe(0);
    const png = await readFile(file);
    expect(result.stdout).toBe(`${file} (1280x800, ${png.length} bytes)\n`);
    const image = decodePng(png);
    expect([image.width, image.height]).toEqual([1280, 800]);
    const at = (x: number, y: number) => [...image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3)];
    expect(at(5, 5)).toEqual(hexToRgb(DEFAULT_BACKGROUND));
    expect(at(1279, 0)).toEqual(hexToRgb(DEFAULT_BACKGROUND));

    const part = join(scratch, 'ws-region.png');
    const region = await cli([...via(proxy), '--ticket', TOKEN, '--json', 'screenshot', part, '--region', '10,20,300,200']);
    expect(region.code, region.stderr).toBe(0);
    expect(JSON.parse(region.stdout)).toEqual({ path: part, width: 300, height: 200, bytes: (await readFile(part)).length });
  });

  test('move, position and type over WebSocket reach the X server', async ({ xvnc }) => {
    const sink = join(scratch, 'typed.txt');
    const xterm = await startXterm(xvnc, { sinkFile: sink });
    try {
      const ws = [...via(proxy), '--ticket', TOKEN];
      const { x, y, width, height } = xterm.geometry;
      const [cx, cy] = [x + Math.floor(width / 2), y + Math.floor(height / 2)];
      const moved = await cli([...ws, 'move', String(cx), String(cy)]); // focus follows the pointer
      expect(moved.code, moved.stderr).toBe(0);
      expect(await pointerLocation(xvnc)).toEqual({ x: cx, y: cy });
      // The pointer is remembered per WebSocket desktop (not per ticket), and apart from TCP.
      expect((await cli([...ws, 'position'])).stdout).toBe(`${cx} ${cy}\n`);
      expect((await cli([...via(proxy), '--ticket', 'another-ticket', 'position'])).stdout).toBe(`${cx} ${cy}\n`);
      const tcp = await cli(['--port', String(xvnc.port), 'position']);
      expect(tcp.code).toBe(1);

      const typed = await cli([...ws, 'type', 'over websocket: héllo ✓\n']);
      expect(typed.code, typed.stderr).toBe(0);
      expect(typed.stdout).toBe('');
      const piped = await cli([...ws, '--typing-delay', '5', 'type', '-'], { input: 'from stdin\n' });
      expect(piped.code, piped.stderr).toBe(0);
      expect(await readFileWhenContains(sink, 'from stdin\n')).toBe('over websocket: héllo ✓\nfrom stdin\n');
    } finally {
      await xterm.stop();
    }
  });
});

test.describe('vnc-agent --url: wss:// with a self-signed certificate', () => {
  let cert: SelfSignedCert;
  let proxy: Websockify;
  test.beforeEach(async ({ xvnc }) => {
    cert = await makeSelfSignedCert();
    proxy = await startWebsockify({ tokens: { [TOKEN]: { host: '127.0.0.1', port: xvnc.port } } }, { tls: { certPath: cert.certPath, keyPath: cert.keyPath } });
    expect(proxy.scheme).toBe('wss');
  });
  test.afterEach(async () => {
    await proxy?.stop();
    await cert?.cleanup();
  });

  test('fails without --ca-file and says how to fix it; works with --ca-file', async () => {
    const untrusted = await cli([...via(proxy), '--ticket', TOKEN, 'info']);
    const lines = expectShortError(untrusted, 1);
    expect(lines[0]).toContain(`The TLS certificate of wss://127.0.0.1:${proxy.port}/websockify?token=*** is self-signed and not trusted.`);
    expect(lines[0]).toContain('--ca-file PEM');
    expect(lines[0]).toContain('--insecure');
    expect(untrusted.stdout + untrusted.stderr).not.toContain(TOKEN);

    const trusted = await cli([...via(proxy), '--ticket', TOKEN, '--ca-file', cert.certPath, 'info']);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.stderr).toBe('');
    expect(trusted.stdout).toContain(`\nremote:            wss://127.0.0.1:${proxy.port}/websockify?token=***\n`);
    expect(trusted.stdout).not.toContain(TOKEN);

    // A --ca-file that is not there, or not a certificate: exit 1 before connecting, saying so.
    const missing = join(scratch, 'missing.pem');
    const absent = await cli([...via(proxy), '--ticket', TOKEN, '--ca-file', missing, 'info']);
    expect(expectShortError(absent, 1)).toEqual([
      `vnc-agent: Cannot read the --ca-file ${JSON.stringify(missing)}: there is no such file.`,
      "hint: give the PEM file of the server's certificate, or of the CA that signed it",
    ]);
    const notPem = join(scratch, 'not-a-cert.pem');
    await writeFile(notPem, 'hello\n');
    const garbage = await cli([...via(proxy), '--ticket', TOKEN, '--ca-file', notPem, 'info']);
    const garbageLines = expectShortError(garbage, 1);
    expect(garbageLines[0]).toMatch(/^vnc-agent: certificatePem is not a PEM certificate/);
    expect(garbageLines[1]).toBe(`hint: --ca-file ${notPem} must hold a PEM certificate ("-----BEGIN CERTIFICATE-----" …)`);
  });

  test('--insecure works and warns once on stderr', async ({ xvnc }) => {
    const result = await cli([...via(proxy), '--ticket', TOKEN, '--insecure', 'info']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^size:\s+1280x800$/m);
    expect(occurrences(result.stderr, VERIFY_OFF)).toBe(1);
    expect(result.stderr).not.toContain(TOKEN);
    // Shown even when Node's own warnings are turned off.
    const silenced = await cli([...via(proxy), '--ticket', TOKEN, '--insecure', 'info'], { env: { ...cliEnv(), NODE_NO_WARNINGS: '1' } });
    expect(silenced.code, silenced.stderr).toBe(0);
    expect(occurrences(silenced.stderr, `vnc-agent: warning: ${VERIFY_OFF}`)).toBe(1);
    expect(occurrences(silenced.stderr, VERIFY_OFF)).toBe(1);

    // type and screenshot over wss:// too (one warning per run).
    const sink = join(scratch, 'typed-tls.txt');
    const xterm = await startXterm(xvnc, { sinkFile: sink, geometry: '40x5+60+60' });
    try {
      await xterm.focus();
      const typed = await cli([...via(proxy), '--ticket', TOKEN, '--insecure', 'type', 'over wss ✓\n']);
      expect(typed.code, typed.stderr).toBe(0);
      expect(occurrences(typed.stderr, VERIFY_OFF)).toBe(1);
      expect(await readFileWhenContains(sink, '✓\n')).toBe('over wss ✓\n');
    } finally {
      await xterm.stop();
    }
    const file = join(scratch, 'tls-shot.png');
    const shot = await cli([...via(proxy), '--ticket', TOKEN, '--ca-file', cert.certPath, 'screenshot', file, '--region', '1000,600,100,100']);
    expect(shot.code, shot.stderr).toBe(0);
    const image = decodePng(await readFile(file));
    expect([image.width, image.height]).toEqual([100, 100]);
  });
});
