/**
 * The text tools of `vnc-agent mcp` (OCR): read_text, find_text and click_text on real xmessage
 * dialogs on Xvnc, proven by xmessage itself (-print writes the clicked button, the exit code is
 * 101 + its index). Coordinates are checked in screenshot space: find_text's centre, passed to
 * click, presses the button.
 */
import { startDialog, type Dialog } from '../support/dialogs.js';
import { expect, test } from '../support/fixtures.js';
import { connectStdio, type McpSession, type ToolResult } from '../support/mcp-client.js';

test.describe.configure({ timeout: 120_000 });

const dialogs: Dialog[] = [];
let session: McpSession | undefined;
test.afterEach(async () => {
  await session?.close();
  session = undefined;
  for (const dialog of dialogs.splice(0)) await dialog.stop();
});

function ok(result: ToolResult): ToolResult {
  expect(result.isError, result.text).toBe(false);
  return result;
}

function dialog(server: Parameters<typeof startDialog>[0], argv: string[]): Dialog {
  const started = startDialog(server, argv);
  dialogs.push(started);
  return started;
}

test('read_text reads a dialog; find_text gives the centre of its button in screenshot space, and click there presses it', async ({ xvnc }) => {
  const xmessage = dialog(xvnc, ['xmessage', '-geometry', '+200+150', '-buttons', 'Apply,Discard', '-print', 'Keep the changes?']);
  session = await connectStdio(['--host', '127.0.0.1', '--port', String(xvnc.port), '--max-size', '640']);
  const found = ok(await session.call('find_text', { text: 'Discard', timeout_ms: 20_000 }));
  const [, x, y] = /^0: ".*Discard.*" at x=\d+ y=\d+ width=\d+ height=\d+, centre \((\d+), (\d+)\)$/m.exec(found.text) ?? [];
  expect(found.text, found.text).toContain('"Discard" found once (screenshot pixels):');
  const text = ok(await session.call('read_text')).text;
  // OCR takes xmessage's frame for brackets ("[keep the changes?", "(Apply) (Discard)").
  expect(text).toMatch(/keep the changes\?/i);
  expect(text).toMatch(/Apply\W+Discard/);
  // The dialog is at 200,150 on the 1280x800 screen: at half scale its button is beyond 100,75.
  expect(Number(x)).toBeGreaterThan(100);
  expect(Number(y)).toBeGreaterThan(75);
  ok(await session.call('click', { x: Number(x), y: Number(y) }));
  expect(await xmessage.exit()).toBe(102);
  expect(xmessage.stdout()).toBe('Discard\n');

  const missing = ok(await session.call('find_text', { text: 'Discard' }));
  expect(missing.text).toMatch(/^"Discard" is not on the screen: /);
});

test('click_text presses the button by its label; several matches ask for nth; --read-only has no click_text', async ({ xvnc }) => {
  const xmessage = dialog(xvnc, ['xmessage', '-geometry', '+300+200', '-buttons', 'Postpone,Install', '-print', 'Install the update now?']);
  session = await connectStdio(['--host', '127.0.0.1', '--port', String(xvnc.port)]);
  const several = await session.call('click_text', { text: 'Install', timeout_ms: 20_000 });
  expect(several.isError, several.text).toBe(true);
  expect(several.text).toMatch(/"Install" is read in 2 places; pass nth to pick one \(screenshot pixels\):\n0: ".*Install.* at x=\d+ y=\d+ width=\d+ height=\d+, centre \(\d+, \d+\)\n1: ".*Install.*"/);

  const clicked = ok(await session.call('click_text', { text: 'Install', nth: -1, timeout_ms: 20_000 }));
  expect(clicked.text).toMatch(/^Clicked ".*Install.*" at x=/m);
  expect(await xmessage.exit()).toBe(102);
  expect(xmessage.stdout()).toBe('Install\n');

  const readOnly = await connectStdio(['--host', '127.0.0.1', '--port', String(xvnc.port), '--read-only']);
  try {
    const names = (await readOnly.client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['read_text', 'find_text']));
    expect(names).not.toContain('click_text');
  } finally {
    await readOnly.close();
  }
});
