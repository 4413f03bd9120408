/**
 * Locator actions as test steps (src/test/steps.ts): one step per action, titled with the locator
 * and the action, refinements and all() kept instrumented, fill(…, { secret: true }) masked, and the
 * raw locator reachable for matchers. The bridge is not connected: each body fails with
 * VNCStateError, after its step began.
 */
import { expect, test } from '@playwright/test';
import { ScreenLocator, VNCAgentBridge, VNCStateError } from '../../src/index.js';
import { instrumentBridge, rawLocator } from '../../src/test/steps.js';

function instrumented() {
  const titles: string[] = [];
  const after: string[] = [];
  const vnc = instrumentBridge(
    new VNCAgentBridge({ host: '127.0.0.1', port: 1 }),
    async (title, body) => {
      titles.push(title);
      return body();
    },
    async (title) => void after.push(title),
  );
  return { vnc, titles, after };
}

test('each locator action is one step titled with the locator and the action', async () => {
  const { vnc, titles, after } = instrumented();
  await expect(vnc.getByText('Save').click()).rejects.toThrow(VNCStateError);
  await expect(vnc.getByText(/sa.e/i, { exact: true }).nth(1).within({ x: 0, y: 0, width: 10, height: 20 }).dblclick({ button: 'right' })).rejects.toThrow(VNCStateError);
  await expect(vnc.getByImage('ok.png').last().hover()).rejects.toThrow(VNCStateError);
  await expect(vnc.getByText('Name').press('ctrl+a')).rejects.toThrow(VNCStateError);
  await expect(vnc.getByText('Name').waitFor({ state: 'hidden' })).rejects.toThrow(VNCStateError);
  await expect(vnc.getByText('Name').count()).rejects.toThrow(VNCStateError);
  expect(titles).toEqual([
    'getByText("Save").click()',
    'getByText(/sa.e/i, { exact: true }).nth(1).within((0, 0, 10×20)).dblclick({"button":"right"})',
    'getByImage("ok.png").last().hover()',
    'getByText("Name").press("ctrl+a")',
    'getByText("Name").waitFor({"state":"hidden"})',
    'getByText("Name").count()',
  ]);
  expect(after).toEqual([]); // frames are taken after an action succeeded only
});

test('fill with { secret: true } is masked in the step title; without it the text shows', async () => {
  const { vnc, titles } = instrumented();
  await expect(vnc.getByText('Password').fill('hunter2', { secret: true })).rejects.toThrow(VNCStateError);
  await expect(vnc.getByText('User').fill('alice')).rejects.toThrow(VNCStateError);
  expect(titles).toEqual(['getByText("Password").fill(***)', 'getByText("User").fill("alice")']);
  expect(titles.join()).not.toContain('hunter2');
});

test('refined locators stay instrumented; the raw locator is reachable and makes no steps', async () => {
  const { vnc, titles } = instrumented();
  const locator = vnc.getByText('OK').first();
  expect(locator).toBeInstanceOf(ScreenLocator);
  expect(String(locator)).toBe('getByText("OK").first()');
  const raw = rawLocator(locator);
  expect(raw).not.toBe(locator);
  expect(rawLocator(raw)).toBe(raw);
  await expect(raw.click()).rejects.toThrow(VNCStateError);
  expect(titles).toEqual([]);
});
