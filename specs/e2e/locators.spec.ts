/**
 * getByText on a real Xvnc with real programs, proven by the programs themselves: xmessage prints
 * the button clicked, zenity exits 1 on Cancel and prints what was typed into its entry. Plus
 * auto-waiting (a dialog that appears 1.5 s late), the matchers, strictness and the timeout's
 * "closest words".
 */
import { VNCAgentBridge, VNCInputError, VNCTimeoutError } from '../../src/index.js';
import { expect } from '../../src/test/index.js';
import { startDialog, type Dialog } from '../support/dialogs.js';
import { test } from '../support/fixtures.js';

test.describe.configure({ timeout: 90_000 });

let vnc: VNCAgentBridge;
const dialogs: Dialog[] = [];

test.beforeEach(async ({ xvnc }) => {
  vnc = await new VNCAgentBridge({ host: xvnc.host, port: xvnc.port, timeoutMs: 20_000, typingDelayMs: 10 }).connect();
});
test.afterEach(async () => {
  await vnc.disconnect();
  for (const dialog of dialogs.splice(0)) await dialog.stop();
});

function dialog(server: Parameters<typeof startDialog>[0], argv: string[], delayS = 0): Dialog {
  const started = startDialog(server, argv, delayS);
  dialogs.push(started);
  return started;
}

test("getByText('Discard').click() makes xmessage print Discard, and the dialog is then hidden", async ({ xvnc }) => {
  const xmessage = dialog(xvnc, ['xmessage', '-geometry', '+200+150', '-buttons', 'Apply,Discard', '-print', 'Keep the changes?']);
  await vnc.getByText('Discard').click();
  expect(await xmessage.exit()).toBe(102); // xmessage exits 101 + the button's index
  expect(xmessage.stdout()).toBe('Discard\n');
  await expect(vnc.getByText('Keep the changes')).toBeHidden();
});

test("getByText('Cancel').click() makes zenity --question exit 1", async ({ xvnc }) => {
  const zenity = dialog(xvnc, ['zenity', '--question', '--text', 'Delete the report?', '--ok-label', 'Delete', '--cancel-label', 'Cancel']);
  await expect(vnc.getByText('Delete the report?')).toBeVisible();
  await vnc.getByText('Cancel').click();
  expect(await zenity.exit(), zenity.log()).toBe(1);
});

test('fill() into zenity --entry arrives: zenity prints it', async ({ xvnc }) => {
  const zenity = dialog(xvnc, ['zenity', '--entry', '--title', 'Who', '--text', 'Your name:']);
  await vnc.getByText('Your name').fill('Ada Lovelace');
  await vnc.getByText('OK', { exact: true }).click();
  expect(await zenity.exit(), zenity.log()).toBe(0);
  expect(zenity.stdout()).toBe('Ada Lovelace\n');
});

test('a button that appears after 1.5 s is clicked with no wait in the spec', async ({ xvnc }) => {
  const late = dialog(xvnc, ['xmessage', '-geometry', '+500+300', '-buttons', 'Postpone,Install', '-print', 'Update ready'], 1.5);
  await vnc.getByText('Install').click();
  expect(await late.exit()).toBe(102);
  expect(late.stdout()).toBe('Install\n');
});

test('toHaveCount(2) for a word shown twice; two matches without nth/first are a VNCInputError with both boxes', async ({ xvnc }) => {
  const xmessage = dialog(xvnc, ['xmessage', '-geometry', '+100+100', '-buttons', 'Banana,Cherry', '-print', 'Banana split']);
  const banana = vnc.getByText('Banana');
  await expect(banana).toHaveCount(2);
  const error = await banana.click().catch((e: unknown) => e as Error);
  expect(error).toBeInstanceOf(VNCInputError);
  expect((error as Error).message).toMatch(/^getByText\("Banana"\) matches 2 places on the screen: \(\d+, \d+, \d+×\d+\) "[^"]*Banana[^"]*", \(\d+, \d+, \d+×\d+\) "[^"]*Banana[^"]*"\. Pick one with/);
  // Reading order: the message line first, the button below it.
  const [text, button] = await banana.all();
  expect((await text.boundingBox())!.y).toBeLessThan((await button.boundingBox())!.y);
  await banana.last().click();
  expect(await xmessage.exit()).toBe(101);
  expect(xmessage.stdout()).toBe('Banana\n');
});

test('a word that is not there is a VNCTimeoutError within the timeout, naming the closest words', async ({ xvnc }) => {
  dialog(xvnc, ['xmessage', '-geometry', '+300+200', '-buttons', 'Apply,Discard', 'Nothing to see']);
  await expect(vnc.getByText('Discard')).toBeVisible();
  const error = await vnc
    .getByText('Dismiss')
    .click({ timeout: 1500 })
    .catch((e: unknown) => e as Error);
  expect(error).toBeInstanceOf(VNCTimeoutError);
  expect((error as VNCTimeoutError).timeoutMs).toBe(1500);
  expect((error as Error).message).toMatch(/^getByText\("Dismiss"\)\.click: waited 1500 ms for getByText\("Dismiss"\), but it is not on the screen; closest: .*"[^"]*Discard[^"]*" at \(\d+, \d+, \d+×\d+\)/);
});

test('screen.text, toShowText and a region', async ({ xvnc }) => {
  dialog(xvnc, ['xmessage', '-geometry', '+40+600', '-buttons', 'Close', 'Region check']);
  await expect(vnc).toShowText('Region check');
  await expect(vnc).toShowText(/region CHECK/i, { region: { x: 0, y: 560, width: 600, height: 200 } });
  await expect(vnc).not.toShowText('Region check', { region: { x: 0, y: 0, width: 600, height: 400 }, timeout: 500 });
  expect(await vnc.getByText('Region check').within({ x: 0, y: 0, width: 1280, height: 400 }).count()).toBe(0);
});
