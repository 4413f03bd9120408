/**
 * The screen-text commands of `vnc-agent` (the built CLI) against a real Xvnc with xmessage dialogs:
 * `text` prints what is shown, `find-text` the boxes, `click-text` clicks (xmessage prints the
 * button), `wait-text` waits for text to appear and to go, and a missing text exits 1 naming the
 * closest words read.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { xdotool } from '../support/desktop.js';
import { expect, test } from '../support/fixtures.js';
import { delay, run } from '../support/processes.js';
import { xmessageScreen, type ShownWindow } from '../support/text-screens.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

test.describe.configure({ timeout: 120_000 });

let stateDir: string;
const windows: ShownWindow[] = [];
test.beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  stateDir = await mkdtemp(join(tmpdir(), 'cli-text-'));
});
test.afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});
test.afterEach(async ({ xvnc }) => {
  for (const window of windows.splice(0)) await window.stop();
  await xdotool(xvnc, ['mousemove', '1270', '790']); // leave no button highlighted under the pointer
});

function cli(port: number, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, VNC_AGENT_STATE_DIR: stateDir };
  delete env.VNC_PASSWORD;
  return run('node', [CLI, '--host', '127.0.0.1', '--port', String(port), ...args], { env, timeoutMs: 60_000 });
}

test('text, find-text, click-text and wait-text --gone on an xmessage dialog', async ({ xvnc }) => {
  const xmessage = await xmessageScreen(xvnc, { message: 'Keep the changes?', buttons: ['Apply', 'Discard'], x: 200, y: 150 }).show(false);
  windows.push(xmessage);

  const shown = await cli(xvnc.port, ['--timeout', '20', 'wait-text', 'Keep the changes']);
  expect(shown.code, shown.stderr).toBe(0);
  expect(shown.stdout).toMatch(/^shown after \d+ ms at \d+ \d+ \d+ \d+\n$/);

  const text = await cli(xvnc.port, ['text', '--region', '150,100,400,200']);
  expect(text.code, text.stderr).toBe(0);
  // OCR output as read (its accuracy is measured by the OCR benchmark, not asserted here).
  expect(text.stdout).toMatch(/keep the changes\?\n.*Apply.*Discard/i);

  const found = await cli(xvnc.port, ['--json', 'find-text', 'discard']);
  expect(found.code, found.stderr).toBe(0);
  const { matches } = JSON.parse(found.stdout) as { matches: { box: { x: number; y: number; width: number; height: number }; text: string }[] };
  expect(matches).toHaveLength(1);
  expect(matches[0].text).toContain('Discard');
  expect(matches[0].box.x).toBeGreaterThanOrEqual(200);
  expect(matches[0].box.y).toBeGreaterThanOrEqual(150);

  const clicked = await cli(xvnc.port, ['click-text', 'Discard']);
  expect(clicked.code, clicked.stderr).toBe(0);
  const box = matches[0].box;
  expect(clicked.stdout).toContain(`at ${box.x + Math.floor(box.width / 2)},${box.y + Math.floor(box.height / 2)}`);
  expect(await Promise.race([xmessage.exited, delay(10_000).then(() => 'still running')])).toBe(102);
  await delay(100); // its last stdout bytes
  expect(xmessage.stdout()).toBe('Discard\n');

  const gone = await cli(xvnc.port, ['--timeout', '20', 'wait-text', 'Keep the changes', '--gone']);
  expect(gone.code, gone.stderr).toBe(0);
  expect(gone.stdout).toMatch(/^gone after \d+ ms\n$/);
});

test('text that is not there: find-text and click-text exit 1 naming the closest words', async ({ xvnc }) => {
  windows.push(await xmessageScreen(xvnc, { message: 'Nothing to see', buttons: ['Apply', 'Discard'], x: 300, y: 300 }).show(false));
  expect((await cli(xvnc.port, ['--timeout', '20', 'wait-text', 'Discard'])).code).toBe(0);

  const found = await cli(xvnc.port, ['find-text', 'Dismiss']);
  expect(found.code).toBe(1);
  expect(found.stderr).toMatch(/No text "Dismiss" on the screen; closest: .*Discard/);

  const clicked = await cli(xvnc.port, ['--timeout', '8', 'click-text', 'Dismiss']);
  expect(clicked.code).toBe(1);
  expect(clicked.stderr).toMatch(/waited 8000 ms for getByText\("Dismiss"\), but it is not on the screen; closest: .*Discard/);
});
