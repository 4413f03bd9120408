/**
 * The MCP server's pure parts: screenshot scaling (exact answers), the `vnc-agent mcp` command line,
 * the HTTP bind rule, and masking. The server itself is proven end to end in specs/e2e/mcp*.spec.ts.
 */
import { expect, test } from '@playwright/test';
import { isMcpCommand, MCP_USAGE, parseMcpCommandLine, type McpCommandLine } from '../../src/cli/mcp-args.js';
import { UsageError } from '../../src/cli/args.js';
import { isLoopbackBind } from '../../src/mcp/http.js';
import { DEFAULT_SETTINGS, instructionsFor, mappingFor, McpContext, scaleFrame, scaleOf, toolsFor, type McpTarget } from '../../src/mcp/index.js';

function frame(width: number, height: number, pixels: number[][]): { width: number; height: number; data: Buffer } {
  return { width, height, data: Buffer.from(pixels.flatMap(([r, g, b]) => [r, g, b, 255])) };
}

function rgb(image: { data: Buffer }): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < image.data.length; i += 4) out.push([image.data[i], image.data[i + 1], image.data[i + 2]]);
  return out;
}

test.describe('screenshot scaling', () => {
  test('the long edge fits max size, the aspect ratio is kept, small screens are never enlarged', () => {
    expect(mappingFor(1920, 1080, 1280)).toEqual({ screenWidth: 1920, screenHeight: 1080, width: 1280, height: 720 });
    expect(mappingFor(1080, 1920, 1280)).toEqual({ screenWidth: 1080, screenHeight: 1920, width: 720, height: 1280 });
    expect(mappingFor(1280, 800, 640)).toMatchObject({ width: 640, height: 400 });
    expect(mappingFor(720, 400, 1280)).toMatchObject({ width: 720, height: 400 });
    expect(scaleOf(mappingFor(1920, 1080, 1280))).toBe(0.6667);
    expect(scaleOf(mappingFor(720, 400, 1280))).toBe(1);
  });

  test('each output pixel is the mean of the screen pixels it covers (exact answers)', () => {
    // 2×2 → 1×1: the mean, rounded.
    expect(rgb(scaleFrame(frame(2, 2, [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 255]]), 1, 1))).toEqual([[128, 64, 128]]);
    // 3 → 2: output 0 covers source 0 fully and half of 1; output 1 half of 1 and 2 fully.
    expect(rgb(scaleFrame(frame(3, 1, [[0, 0, 0], [90, 90, 90], [255, 255, 255]]), 2, 1))).toEqual([[30, 30, 30], [200, 200, 200]]);
    // A solid colour stays exactly that colour at any scale.
    const solid = frame(7, 5, Array.from({ length: 35 }, () => [0x20, 0x40, 0x80]));
    expect(new Set(rgb(scaleFrame(solid, 3, 2)).map(String))).toEqual(new Set(['32,64,128']));
    // The same size is the frame itself.
    expect(scaleFrame(solid, 7, 5)).toBe(solid);
  });
});

test.describe('vnc-agent mcp command line', () => {
  const parse = (argv: string[], env: Record<string, string> = {}): McpCommandLine => {
    const result = parseMcpCommandLine(argv, env);
    if (result.kind !== 'mcp') throw new Error(`expected mcp, got ${result.kind}`);
    return result;
  };
  const usage = (argv: string[]): string => {
    try {
      parseMcpCommandLine(argv, {});
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).usage).toBe(MCP_USAGE);
      return (error as UsageError).message;
    }
    throw new Error(`expected a usage error for ${argv.join(' ')}`);
  };

  test('is recognised wherever the options put it, and only as the command word', () => {
    expect(isMcpCommand(['mcp'])).toBe(true);
    expect(isMcpCommand(['--host', 'mcp', 'info'])).toBe(false);
    expect(isMcpCommand(['--port', '5901', 'mcp', '--read-only'])).toBe(true);
    expect(isMcpCommand(['info'])).toBe(false);
    expect(isMcpCommand(['--', 'mcp'])).toBe(false);
  });

  test('defaults, the connection options of every command, and its own options', () => {
    const plain = parse(['mcp', '--host', '10.0.0.5', '--display', '1'], { VNC_PASSWORD: 'pw123456' });
    expect(plain).toMatchObject({ targetsFile: undefined, http: undefined, readOnly: false, maxSize: 1280, format: 'png', jpegQuality: 80, screenshotAfterAction: true, settleTimeoutMs: 2000, stillMs: 300 });
    expect(plain.globals).toMatchObject({ host: '10.0.0.5', port: 5901, password: 'pw123456' });
    const all = parse(['--read-only', 'mcp', '--target', 'local', '--http', '8931', '--bind', '0.0.0.0', '--max-size', '1024', '--format', 'jpeg', '--jpeg-quality', '60', '--settle-ms', '5000', '--still-ms', '100']);
    expect(all).toMatchObject({ http: { port: 8931, host: '0.0.0.0' }, readOnly: true, maxSize: 1024, format: 'jpeg', jpegQuality: 60, settleTimeoutMs: 5000, stillMs: 100 });
    expect(all.globals.target).toMatchObject({ name: 'local' });
    expect(parse(['mcp', '--targets', 'ci.yaml', '--no-auto-screenshot'])).toMatchObject({ targetsFile: 'ci.yaml', screenshotAfterAction: false });
    expect(parse(['mcp', '--http', '0']).http).toEqual({ port: 0, host: '127.0.0.1' });
    expect(parseMcpCommandLine(['mcp', '--help'])).toEqual({ kind: 'help' });
  });

  test('usage errors say what is wrong', () => {
    expect(usage(['mcp', 'extra'])).toBe('mcp takes no arguments, got "extra"');
    expect(usage(['mcp', '--targets', 'a.yaml', '--host', 'x'])).toBe('--host cannot be combined with --targets: the targets file says how to reach each desktop');
    expect(usage(['mcp', '--targets', 'a.yaml', '--target', 'x'])).toContain('--target cannot be combined with --targets');
    expect(usage(['mcp', '--bind', '0.0.0.0'])).toBe('option --bind needs --http PORT (stdio has no address)');
    expect(usage(['mcp', '--format', 'gif'])).toBe('--format must be png or jpeg, got "gif"');
    expect(usage(['mcp', '--jpeg-quality', '50'])).toBe('option --jpeg-quality needs --format jpeg');
    expect(usage(['mcp', '--max-size', '10'])).toBe('--max-size must be a whole number from 64 to 10000, got "10"');
    expect(usage(['mcp', '--http', '70000'])).toBe('--http must be a whole number from 0 to 65535, got "70000"');
    expect(usage(['mcp', '--no-auto-screenshot', '--settle-ms', '100'])).toBe('option --settle-ms has no effect with --no-auto-screenshot');
    expect(usage(['mcp', '--json'])).toBe('option --json does not apply to mcp (it speaks MCP)');
    expect(usage(['mcp', '--read-only', '--read-only'])).toBe('option --read-only is given twice');
    expect(usage(['mcp', '--button', 'left'])).toMatch(/^option --button does not apply to mcp \(it is for click, drag\b/);
    expect(usage(['mcp', '--hots', 'x'])).toBe('unknown option --hots (did you mean --host?)');
  });
});

test.describe('tools and instructions', () => {
  const target = (name: string): McpTarget => ({ name, description: 'tcp 127.0.0.1:5901', connect: () => Promise.reject(new Error('not in this test')) });

  test('read-only serves and mentions only the looking tools; the target tools come with several targets', () => {
    const readOnly = new McpContext([target('vm')], { ...DEFAULT_SETTINGS, readOnly: true });
    expect(toolsFor(readOnly).map((tool) => tool.name).sort()).toEqual(['clipboard_get', 'cursor_position', 'find_text', 'read_text', 'screenshot', 'wait']);
    expect(instructionsFor(readOnly)).toContain('This server is read-only');
    expect(instructionsFor(readOnly)).not.toMatch(/click_text|After each action|click into a field/);
    const two = new McpContext([target('a'), target('b')], DEFAULT_SETTINGS);
    expect(toolsFor(two).map((tool) => tool.name)).toEqual(expect.arrayContaining(['list_targets', 'use_target', 'click_text', 'type']));
    expect(instructionsFor(two)).toContain('There are 2 desktops (list_targets); use_target switches between them. Now using a.');
    expect(instructionsFor(new McpContext([target('a')], { ...DEFAULT_SETTINGS, screenshotAfterAction: false }))).toContain('Actions return without a screenshot');
  });
});

test.describe('safety', () => {
  test('without a token only the loopback names may be bound (127.0.0.2 and 0.0.0.0 need one)', () => {
    expect(['127.0.0.1', '::1', 'localhost'].map(isLoopbackBind)).toEqual([true, true, true]);
    expect(['127.0.0.2', '0.0.0.0', '::', '192.168.1.10'].map(isLoopbackBind)).toEqual([false, false, false, false]);
  });

  test('every secret is masked in what leaves the server, as written, URL-encoded and base64', () => {
    const target: McpTarget = { name: 'vm', description: 'tcp 127.0.0.1:5901', connect: () => Promise.reject(new Error('not in this test')) };
    const lines: string[] = [];
    const context = new McpContext([target], DEFAULT_SETTINGS, { secrets: ['s3cr3t p@ss', undefined, 'ab'], log: (line) => lines.push(line) });
    expect(context.redact('pw s3cr3t p@ss, s3cr3t%20p%40ss, czNjcjN0IHBAc3M=; ab stays')).toBe('pw ***, ***, ***; ab stays');
    context.log('failed with s3cr3t p@ss\nand more');
    expect(lines).toEqual(['failed with *** and more']);
  });
});
