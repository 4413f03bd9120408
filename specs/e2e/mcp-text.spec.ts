/**
 * The text tools of `vnc-agent mcp` (OCR): read_text, find_text and click_text on real xmessage
 * dialogs on Xvnc, proven by xmessage itself (-print writes the clicked button, the exit code is
 * 101 + its index) and by where the X server drew each word (text-screens.ts). Coordinates are
 * checked in screenshot space: find_text's box is the X server's box at half scale, and its
 * centre, passed to click, presses the button.
 */
import { expect, test } from '../support/fixtures.js';
import { connectStdio, type McpSession, type ToolResult } from '../support/mcp-client.js';
import { showKnownText, xmessageScreen, type ShownWindow } from '../support/text-screens.js';

test.describe.configure({ timeout: 120_000 });

const windows: ShownWindow[] = [];
let session: McpSession | undefined;
test.afterEach(async () => {
  await session?.close();
  session = undefined;
  for (const window of windows.splice(0)) await window.stop();
});

function ok(result: ToolResult): ToolResult {
  expect(result.isError, result.text).toBe(false);
  return result;
}

async function xmessage(server: Parameters<typeof showKnownText>[0], message: string, buttons: string[], x: number, y: number): Promise<ShownWindow> {
  const window = await showKnownText(server, xmessageScreen(server, { message, buttons, x, y }));
  windows.push(window);
  return window;
}

test('read_text reads a dialog; find_text gives the box the X server drew (at half scale), and click at its centre presses it', async ({ xvnc }) => {
  const shown = await xmessage(xvnc, 'Keep the changes?', ['Apply', 'Discard'], 200, 150);
  const truth = shown.words.find((word) => word.text === 'Discard')!.box;
  session = await connectStdio(['--host', '127.0.0.1', '--port', String(xvnc.port), '--max-size', '640']);
  const found = ok(await session.call('find_text', { text: 'Discard', timeout_ms: 20_000 }));
  expect(found.text, found.text).toContain('"Discard" found once (screenshot pixels):');
  const [, bx, by, bw, bh, cx, cy] = (/^0: ".*Discard.*" at x=(\d+) y=(\d+) width=(\d+) height=(\d+), centre \((\d+), (\d+)\)$/m.exec(found.text) ?? []).map(Number);
  // The OCR box holds the word's pixels (plus a little margin), in the 640x400 space.
  expect(bx).toBeLessThanOrEqual(Math.floor(truth.x / 2));
  expect(by).toBeLessThanOrEqual(Math.floor(truth.y / 2));
  expect(bx + bw).toBeGreaterThanOrEqual(Math.ceil((truth.x + truth.width) / 2));
  expect(by + bh).toBeGreaterThanOrEqual(Math.ceil((truth.y + truth.height) / 2));
  expect(bw).toBeLessThan(truth.width);
  const text = ok(await session.call('read_text')).text;
  expect(text).toMatch(/keep the changes\?/i);
  expect(text).toMatch(/Apply\W+Discard/);

  ok(await session.call('click', { x: cx, y: cy }));
  expect(await shown.exited).toBe(102);
  expect(shown.stdout()).toBe('Discard\n');
  const missing = ok(await session.call('find_text', { text: 'Discard' }));
  expect(missing.text).toMatch(/^"Discard" is not on the screen: /);
});

test('click_text presses the button by its label; several matches ask for nth; --read-only has no click_text', async ({ xvnc }) => {
  const shown = await xmessage(xvnc, 'Install the update now?', ['Postpone', 'Install'], 300, 200);
  session = await connectStdio(['--host', '127.0.0.1', '--port', String(xvnc.port)]);
  const several = await session.call('click_text', { text: 'Install', timeout_ms: 20_000 });
  expect(several.isError, several.text).toBe(true);
  expect(several.text).toMatch(/"Install" is read in 2 places; pass nth to pick one \(screenshot pixels\):\n0: ".*Install.* at x=\d+ y=\d+ width=\d+ height=\d+, centre \(\d+, \d+\)\n1: ".*Install.*"/);

  const clicked = ok(await session.call('click_text', { text: 'Install', nth: -1, timeout_ms: 20_000 }));
  expect(clicked.text).toMatch(/^Clicked ".*Install.*" at x=/m);
  expect(await shown.exited).toBe(102);
  expect(shown.stdout()).toBe('Install\n');

  const readOnly = await connectStdio(['--host', '127.0.0.1', '--port', String(xvnc.port), '--read-only']);
  try {
    const names = (await readOnly.client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['read_text', 'find_text']));
    expect(names).not.toContain('click_text');
  } finally {
    await readOnly.close();
  }
});
