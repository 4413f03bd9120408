/**
 * getByText on a real Xvnc with real programs (the OCR test screens of specs/support/text-screens.ts),
 * proven by the programs themselves: xmessage prints the button clicked, zenity exits 1 on Cancel
 * and prints what was typed into its entry; found boxes are checked against where the X server drew
 * the words. Plus auto-waiting (a dialog that appears 1.5 s late), the matchers, strictness and the
 * timeout's "closest words".
 */
import { VNCAgentBridge, VNCInputError, VNCTimeoutError, type Rect } from '../../src/index.js';
import { expect } from '../../src/test/index.js';
import { xdotool } from '../support/desktop.js';
import { test } from '../support/fixtures.js';
import { delay, run } from '../support/processes.js';
import { showKnownText, xmessageScreen, zenityScreen, type ShownWindow } from '../support/text-screens.js';

test.describe.configure({ timeout: 90_000 });

let vnc: VNCAgentBridge;
const windows: Array<Promise<ShownWindow>> = [];

test.beforeEach(async ({ xvnc }) => {
  vnc = await new VNCAgentBridge({ host: xvnc.host, port: xvnc.port, timeoutMs: 20_000, typingDelayMs: 10 }).connect();
  // Out of the way: a pointer left over a button (by an earlier spec) highlights it.
  await vnc.mouse.move(1270, 790);
});
test.afterEach(async () => {
  await vnc.disconnect();
  for (const window of windows.splice(0)) await (await window.catch(() => undefined))?.stop();
});

function shown(window: Promise<ShownWindow>): Promise<ShownWindow> {
  windows.push(window);
  return window;
}

/** The program's exit code, or a failure after 10 s. */
async function exitOf(window: ShownWindow): Promise<number | null> {
  const code = await Promise.race([window.exited, delay(10_000).then(() => 'still running' as const)]);
  if (code === 'still running') throw new Error(`window ${window.windowId} did not close: the click did not reach its button`);
  await delay(100); // its last stdout bytes
  return code;
}

function contains(outer: Rect, inner: Rect, slack = 3): boolean {
  return inner.x >= outer.x - slack && inner.y >= outer.y - slack && inner.x + inner.width <= outer.x + outer.width + slack && inner.y + inner.height <= outer.y + outer.height + slack;
}

test("getByText('Discard').click() makes xmessage print Discard, at the box the X server drew; then toBeHidden", async ({ xvnc }) => {
  const xmessage = await shown(showKnownText(xvnc, xmessageScreen(xvnc, { message: 'Keep the changes?', buttons: ['Apply', 'Discard'], x: 200, y: 150 })));
  const truth = xmessage.words.find((word) => word.text === 'Discard')!.box;
  const match = await vnc.getByText('Discard').click();
  expect(contains(match.box, truth), `found ${JSON.stringify(match.box)}, drawn at ${JSON.stringify(truth)}`).toBe(true);
  expect(await exitOf(xmessage)).toBe(102); // xmessage exits 101 + the button's index
  expect(xmessage.stdout()).toBe('Discard\n');
  await expect(vnc.getByText('Keep the changes')).toBeHidden();
});

test("getByText('Cancel').click() makes zenity --question exit 1", async ({ xvnc }) => {
  const zenity = await shown(
    zenityScreen(xvnc, { args: ['--question', '--text', 'Delete the report?', '--ok-label', 'Delete', '--cancel-label', 'Cancel'], layout: { lines: [] }, x: 300, y: 200 }).show(false),
  );
  await expect(vnc.getByText('Delete the report?')).toBeVisible();
  await vnc.getByText('Cancel').click();
  expect(await exitOf(zenity)).toBe(1);
});

test('fill() into zenity --entry arrives: zenity prints it', async ({ xvnc }) => {
  const zenity = await shown(zenityScreen(xvnc, { args: ['--entry', '--text', 'Your name:'], layout: { lines: [] }, x: 300, y: 200 }).show(false));
  await vnc.getByText('Your name').fill('Ada Lovelace');
  await vnc.getByText('OK', { exact: true }).click();
  expect(await exitOf(zenity)).toBe(0);
  expect(zenity.stdout()).toBe('Ada Lovelace\n');
});

test('a button that appears after 1.5 s is clicked with no wait in the spec', async ({ xvnc }) => {
  // The dialog starts 1.5 s from now, in the background; the spec clicks at once.
  const late = shown(delay(1500).then(() => xmessageScreen(xvnc, { message: 'Update ready', buttons: ['Postpone', 'Install'], x: 500, y: 300 }).show(false)));
  await vnc.getByText('Install').click();
  const xmessage = await late;
  expect(await exitOf(xmessage)).toBe(102);
  expect(xmessage.stdout()).toBe('Install\n');
});

// The slide runs in its own shell, one xdotool per step: a single xdotool process buffers its moves
// and the window jumps only when it exits. On a loaded 2-core machine (OCR in the other worker) that
// shell can be descheduled for longer than the 150 ms a target must be still, and the dialog then
// really was still that long: a broken stability check fails every attempt, a stall only one.
test.describe(() => {
  test.describe.configure({ retries: 2 });
  test('a dialog that is still sliding is clicked where it comes to rest, not where it was first seen', async ({ xvnc }) => {
    const xmessage = await shown(xmessageScreen(xvnc, { message: 'Moving target', buttons: ['Stay', 'Discard'], x: 100, y: 120 }).show(false));
    // Slide the window 600 px to the right in 40 steps, about 40 ms apart, while the locator looks for the button.
    const moves = Array.from({ length: 40 }, (_, i) => `xdotool windowmove ${xmessage.windowId} ${100 + (i + 1) * 15} 120; sleep 0.04`).join('; ');
    const sliding = run('sh', ['-ec', moves], { env: xvnc.env, timeoutMs: 30_000 });
    await vnc.screen.waitForChange(undefined, { region: { x: 0, y: 60, width: 1280, height: 200 } }); // the slide has begun
    const match = await vnc.getByText('Discard').within({ x: 0, y: 60, width: 1280, height: 200 }).click();
    const slid = await sliding;
    expect(slid.code, slid.stderr).toBe(0); // every move landed: the dialog was not clicked away mid-slide
    expect(match.box.x).toBeGreaterThan(600); // found at its final place (it started near x = 150)
    expect(await exitOf(xmessage)).toBe(102);
    expect(xmessage.stdout()).toBe('Discard\n');
  });
});

test('toHaveCount(2) for a word shown twice; two matches without nth/first are a VNCInputError with both boxes', async ({ xvnc }) => {
  const xmessage = await shown(showKnownText(xvnc, xmessageScreen(xvnc, { message: 'Banana split', buttons: ['Banana', 'Cherry'], x: 100, y: 100 })));
  const [inText, onButton] = xmessage.words.filter((word) => word.text === 'Banana').map((word) => word.box);
  const banana = vnc.getByText('Banana');
  await expect(banana).toHaveCount(2);
  const error = await banana.click().catch((e: unknown) => e as Error);
  expect(error).toBeInstanceOf(VNCInputError);
  expect((error as Error).message).toMatch(/^getByText\("Banana"\) matches 2 places on the screen: \(\d+, \d+, \d+×\d+\) "[^"]*Banana[^"]*", \(\d+, \d+, \d+×\d+\) "[^"]*Banana[^"]*"\. Pick one with/);
  // Reading order: the message first, the button below it — each where the X server drew it.
  const [first, second] = await banana.all();
  expect(contains((await first.boundingBox())!, inText)).toBe(true);
  expect(contains((await second.boundingBox())!, onButton)).toBe(true);
  await banana.last().click();
  expect(await exitOf(xmessage)).toBe(101);
  expect(xmessage.stdout()).toBe('Banana\n');
});

test('a word that is not there is a VNCTimeoutError within the timeout, naming the closest words', async ({ xvnc }) => {
  await shown(xmessageScreen(xvnc, { message: 'Nothing to see', buttons: ['Apply', 'Discard'], x: 300, y: 200 }).show(false));
  await expect(vnc.getByText('Discard')).toBeVisible();
  const error = await vnc
    .getByText('Dismiss')
    .click({ timeout: 1500 })
    .catch((e: unknown) => e as Error);
  expect(error).toBeInstanceOf(VNCTimeoutError);
  expect((error as VNCTimeoutError).timeoutMs).toBe(1500);
  expect((error as Error).message).toMatch(/^getByText\("Dismiss"\)\.click: waited 1500 ms for getByText\("Dismiss"\), but it is not on the screen; closest: .*"[^"]*Discard[^"]*" at \(\d+, \d+, \d+×\d+\)/);
});

test('toShowText, .not, a region and within()', async ({ xvnc }) => {
  await shown(xmessageScreen(xvnc, { message: 'Region check', buttons: ['Close'], x: 40, y: 600 }).show(false));
  await expect(vnc).toShowText('Region check');
  await expect(vnc).toShowText(/region CHECK/i, { region: { x: 0, y: 560, width: 600, height: 200 } });
  await expect(vnc).not.toShowText('Region check', { region: { x: 0, y: 0, width: 600, height: 400 }, timeout: 500 });
  expect(await vnc.getByText('Region check').within({ x: 0, y: 0, width: 1280, height: 400 }).count()).toBe(0);
});
