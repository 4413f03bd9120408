/**
 * `vnc-agent mcp` over stdio, driven by the MCP SDK's own client (which spawns the built CLI),
 * against a real Xvnc. Every effect is checked on the X server: xwd pixels, xdotool's pointer, an
 * xterm writing what it receives to a file, xclip.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clipboardGet, clipboardOwn, pointerLocation, readFileWhenContains, rootPixels, startXterm, type DisplayTarget, type RgbaImage } from '../support/desktop.js';
import { differingPixels } from '../support/compare-screens.js';
import { expect, test, XVNC_PASSWORD } from '../support/fixtures.js';
import { MCP_USAGE } from '../../src/cli/mcp-args.js';
import { CLI, cleanEnv, connectStdio, type McpSession, type ToolResult } from '../support/mcp-client.js';
import { delay, run } from '../support/processes.js';
import { watchRootButtons, watchRootKeys } from '../support/x-events.js';

const tcp = (server: { port: number }): string[] => ['--host', '127.0.0.1', '--port', String(server.port)];
const withPassword = (extra: Record<string, string> = {}) => cleanEnv({ VNC_PASSWORD: XVNC_PASSWORD, ...extra });

let sessions: McpSession[] = [];
async function open(args: string[], options: Parameters<typeof connectStdio>[1] = {}): Promise<McpSession> {
  const session = await connectStdio(args, options);
  sessions.push(session);
  return session;
}
test.afterEach(async () => {
  await Promise.all(sessions.map((session) => session.close()));
  sessions = [];
});

function ok(result: ToolResult): ToolResult {
  expect(result.isError, result.text).toBe(false);
  return result;
}

/** The mean of each 2×2 block: the screen at half size, computed independently of the server. */
function halve(image: RgbaImage): RgbaImage {
  const width = image.width / 2;
  const height = image.height / 2;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const at = (dx: number, dy: number) => image.data[((2 * y + dy) * image.width + 2 * x + dx) * 4 + c];
        data[(y * width + x) * 4 + c] = Math.round((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1)) / 4);
      }
      data[(y * width + x) * 4 + 3] = 255;
    }
  }
  return { width, height, data };
}

/** Where two same-sized images differ by more than `tolerance` in any channel (up to 5). */
function farPixels(a: RgbaImage, b: RgbaImage, tolerance: number): string[] {
  const found: string[] = [];
  for (let i = 0; i < a.data.length && found.length < 5; i += 4) {
    if ([0, 1, 2].some((c) => Math.abs(a.data[i + c] - b.data[i + c]) > tolerance)) {
      found.push(`${(i / 4) % a.width},${Math.floor(i / 4 / a.width)}: ${a.data.subarray(i, i + 3).toString('hex')} vs ${b.data.subarray(i, i + 3).toString('hex')}`);
    }
  }
  return found;
}

/** Screenshots (after moving the pointer out of the way) until one matches the X server's pixels. */
async function expectScreenshotMatches(session: McpSession, server: DisplayTarget, expected: (truth: RgbaImage) => RgbaImage, tolerance: number): Promise<ToolResult> {
  let differences: string[] = [];
  let shot: ToolResult | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    shot = ok(await session.call('wait', { until_still: true, still_ms: 300 }));
    const truth = expected(await rootPixels(server));
    shot = ok(await session.call('screenshot'));
    expect([shot.image!.width, shot.image!.height]).toEqual([truth.width, truth.height]);
    differences = tolerance === 0 ? differingPixels(shot.image!, truth) : farPixels(shot.image!, truth, tolerance);
    if (differences.length === 0) return shot;
  }
  expect(differences).toEqual([]);
  return shot!;
}

test.describe('vnc-agent mcp over stdio', () => {
  test('mistakes found before serving exit with a message: an unknown target (2), a bad option (2), help (0)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-mcp-'));
    try {
      await writeFile(join(dir, 'vnc.targets.yaml'), ['targets:', '  vm:', '    connection: { type: tcp, host: 127.0.0.1, port: 5999 }', ''].join('\n'));
      const unknown = await run(process.execPath, [CLI, 'mcp', '--target', 'wm'], { cwd: dir, env: cleanEnv(), timeoutMs: 20_000 });
      expect(unknown.code).toBe(2);
      expect(unknown.stdout).toBe('');
      expect(unknown.stderr).toContain('vnc-agent: unknown target "wm" (did you mean vm?)');
      const option = await run(process.execPath, [CLI, 'mcp', '--max-size', 'big'], { env: cleanEnv(), timeoutMs: 20_000 });
      expect(option.code).toBe(2);
      expect(option.stderr).toBe(`vnc-agent: --max-size must be a whole number from 64 to 10000, got "big"\n${MCP_USAGE}\n`);
      const help = await run(process.execPath, [CLI, 'mcp', '--help'], { env: cleanEnv(), timeoutMs: 20_000 });
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^vnc-agent \S+ mcp: an MCP server that lets AI agents see and operate a VNC desktop\.\n/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('lists its tools, each taking points in screenshot space, with instructions; --read-only lists only the looking tools', async ({ xvncWithPassword }) => {
    const session = await open(tcp(xvncWithPassword), { env: withPassword() });
    const { tools } = await session.client.listTools();
    const names = tools.map((tool) => tool.name).sort();
    expect(names).toEqual(
      [
        ...['click', 'click_text', 'clipboard_get', 'clipboard_set', 'cursor_position', 'drag', 'find_text', 'hold_key', 'key'],
        ...['mouse_down', 'mouse_up', 'move', 'read_text', 'screenshot', 'scroll', 'type', 'wait'],
      ].sort(),
    );
    for (const name of ['click', 'move', 'drag', 'scroll', 'mouse_down', 'mouse_up']) {
      expect(tools.find((tool) => tool.name === name)!.description).toContain('in the space of the last screenshot');
    }
    expect(tools.find((tool) => tool.name === 'click')!.inputSchema.properties).toMatchObject({ x: { type: 'number' }, y: { type: 'number' }, button: { enum: ['left', 'right', 'middle'] } });
    expect(tools.find((tool) => tool.name === 'screenshot')!.annotations).toMatchObject({ readOnlyHint: true });
    expect(tools.find((tool) => tool.name === 'click')!.annotations).toMatchObject({ readOnlyHint: false });
    const instructions = session.client.getInstructions() ?? '';
    expect(instructions).toContain('pixel space of the last screenshot');
    expect(instructions).toContain('returns a fresh screenshot');

    const readOnly = await open([...tcp(xvncWithPassword), '--read-only'], { env: withPassword() });
    expect((await readOnly.client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['clipboard_get', 'cursor_position', 'find_text', 'read_text', 'screenshot', 'wait']);
    const refused = await readOnly.client.callTool({ name: 'click', arguments: { x: 1, y: 1 } });
    expect(refused.isError).toBe(true);
    expect(await pointerLocation(xvncWithPassword)).not.toEqual({ x: 2, y: 2 });
  });

  test('screenshot pixels match xwd -root: exactly at scale 1, and as the mean of each 2×2 block at scale 0.5', async ({ xvncWithPassword }) => {
    const xterm = await startXterm(xvncWithPassword, { geometry: '60x10+100+80', command: ['sh', '-c', 'printf "MCP screenshots: the quick brown fox 0123456789"; sleep 600'] });
    try {
      const full = await open(tcp(xvncWithPassword), { env: withPassword() });
      ok(await full.call('move', { x: 1279, y: 799 }));
      const shot = await expectScreenshotMatches(full, xvncWithPassword, (truth) => truth, 0);
      expect(shot.image!.mimeType).toBe('image/png');
      expect(shot.text).toContain('Screenshot 1280x800');

      const half = await open([...tcp(xvncWithPassword), '--max-size', '640'], { env: withPassword() });
      ok(await half.call('move', { x: 639, y: 399 }));
      const scaled = await expectScreenshotMatches(half, xvncWithPassword, halve, 1);
      expect(scaled.text).toContain('Screenshot 640x400 of the 1280x800 screen (scale 0.5)');

      const jpeg = ok(await half.call('screenshot', { format: 'jpeg' }));
      expect(jpeg.image).toMatchObject({ mimeType: 'image/jpeg', width: 640, height: 400 });
    } finally {
      await xterm.stop();
    }
  });

  test('click at scaled coordinates moves the real pointer to the mapped point and returns the settled screen; points off the screenshot are a tool error', async ({ xvncWithPassword }) => {
    const session = await open([...tcp(xvncWithPassword), '--max-size', '640'], { env: withPassword() });
    const clicked = ok(await session.call('click', { x: 100, y: 50 }));
    expect(await pointerLocation(xvncWithPassword)).toEqual({ x: 200, y: 100 });
    expect(clicked.text).toContain('Clicked: left click at (100, 50) → screen (200, 100).');
    expect(clicked.image).toMatchObject({ width: 640, height: 400 });
    ok(await session.call('move', { x: 639, y: 399 }));
    expect(await pointerLocation(xvncWithPassword)).toEqual({ x: 1278, y: 798 });
    expect(ok(await session.call('cursor_position')).text).toContain('x=639 y=399');

    const off = await session.call('click', { x: 640, y: 10 });
    expect(off.isError).toBe(true);
    expect(off.text).toContain('VNCInputError (EINPUT)');
    expect(off.text).toContain('0 ≤ x < 640 and 0 ≤ y < 400');
    expect(await pointerLocation(xvncWithPassword)).toEqual({ x: 1278, y: 798 });

    const quiet = await open([...tcp(xvncWithPassword), '--no-auto-screenshot'], { env: withPassword() });
    const bare = ok(await quiet.call('click', { x: 300, y: 200 }));
    expect(bare.image).toBeUndefined();
    expect(await pointerLocation(xvncWithPassword)).toEqual({ x: 300, y: 200 });
  });

  test('scroll, mouse_down/mouse_up and drag reach the X server at the mapped points; hold_key holds the key down until it returns', async ({ xvncWithPassword }) => {
    const session = await open([...tcp(xvncWithPassword), '--max-size', '640', '--no-auto-screenshot'], { env: withPassword() });
    const buttons = await watchRootButtons(xvncWithPassword);
    try {
      ok(await session.call('scroll', { direction: 'down', amount: 2, x: 50, y: 60 }));
      ok(await session.call('mouse_down', { x: 10, y: 10, button: 'right' }));
      ok(await session.call('mouse_up', { x: 20, y: 20, button: 'right' }));
      ok(await session.call('drag', { start_x: 5, start_y: 5, end_x: 50, end_y: 50, button: 'middle', steps: 5 }));
      expect(await buttons.events(8)).toEqual([
        'press 5 @100,120', 'release 5 @100,120', 'press 5 @100,120', 'release 5 @100,120',
        'press 3 @20,20', 'release 3 @40,40',
        'press 2 @10,10', 'release 2 @100,100',
      ]);
    } finally {
      await buttons.stop();
    }
    const keys = await watchRootKeys(xvncWithPassword);
    try {
      // While the call runs the key is down (pressed, not yet released); when it returns, released.
      let returned = false;
      const holding = session.call('hold_key', { keys: 'shift', duration_ms: 3000 }).finally(() => (returned = true));
      const whileHeld = (await keys.events(1)).map((event) => event.replace(/ @\d+$/, ''));
      expect(returned).toBe(false);
      expect(whileHeld).toEqual(['press Shift_L']);
      ok(await holding);
      expect((await keys.events(2)).map((event) => event.replace(/ @\d+$/, ''))).toEqual(['press Shift_L', 'release Shift_L']);
    } finally {
      await keys.stop();
    }
  });

  test('type arrives in an xterm; a key chord (ctrl+u erases the line) works; the log counts typed characters and never shows them', async ({ xvncWithPassword }) => {
    const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-mcp-'));
    const sink = join(dir, 'typed.txt');
    const xterm = await startXterm(xvncWithPassword, { geometry: '80x24+40+40', sinkFile: sink });
    try {
      const session = await open([...tcp(xvncWithPassword), '--max-size', '640'], { env: withPassword() });
      const { x, y, width, height } = xterm.geometry;
      ok(await session.call('click', { x: Math.floor((x + width / 2) / 2), y: Math.floor((y + height / 2) / 2) }));
      ok(await session.call('type', { text: 'wrong words' }));
      ok(await session.call('key', { keys: 'ctrl+u' }));
      const typed = ok(await session.call('type', { text: 'héllo MCP: <tab>\n' }));
      expect(typed.text).toContain('Typed 17 characters.');
      expect(await readFileWhenContains(sink, '\n')).toBe('héllo MCP: <tab>\n');
      expect(session.stderr()).toMatch(/vnc-agent mcp: 127\.0\.0\.1:\d+: type 17 characters \(\d+ ms\)\n/);
      expect(session.stderr()).toMatch(/: key ctrl\+u \(\d+ ms\)\n/);
      expect(session.stderr()).not.toContain('héllo');
      expect(session.stderr()).not.toContain('wrong words');
    } finally {
      await xterm.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('clipboard_set is what xclip reads on the desktop; clipboard_get reads what the desktop copied', async ({ xvncWithPassword }) => {
    const session = await open(tcp(xvncWithPassword), { env: withPassword() });
    ok(await session.call('clipboard_set', { text: 'from the agent ✓' }));
    let seen = '';
    for (let i = 0; i < 100 && seen !== 'from the agent ✓'; i++) {
      seen = await clipboardGet(xvncWithPassword);
      if (seen !== 'from the agent ✓') await delay(50);
    }
    expect(seen).toBe('from the agent ✓');

    const owner = await clipboardOwn(xvncWithPassword, 'copied on the desktop');
    try {
      let text = '';
      for (let i = 0; i < 50 && text !== 'copied on the desktop'; i++) {
        text = ok(await session.call('clipboard_get', { timeout_ms: 2000 })).text;
        if (text !== 'copied on the desktop') await delay(50);
      }
      expect(text).toBe('copied on the desktop');
    } finally {
      await owner.stop();
    }
  });

  test('a wrong password is a tool error naming the class and code, with no secret in the result or the log', async ({ xvncWithPassword }) => {
    const wrong = 'Wr0ngPassw0rd';
    const session = await open(tcp(xvncWithPassword), { env: cleanEnv({ VNC_PASSWORD: wrong }) });
    const result = await session.call('screenshot');
    expect(result.isError).toBe(true);
    expect(result.text).toMatch(/^screenshot failed: VNCAuthenticationError \(EAUTH\): .+/);
    expect(result.image).toBeUndefined();
    expect(result.text).not.toContain(wrong);
    // Xvnc compares only the first 8 characters: no prefix of the password either.
    expect(result.text).not.toContain(wrong.slice(0, 8));
    expect(session.stderr()).toContain('screenshot failed');
    expect(session.stderr()).not.toContain(wrong.slice(0, 8));
  });
});
