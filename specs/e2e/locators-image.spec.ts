/**
 * getByImage on a real Xvnc: known pictures shown by ImageMagick's `display`, found where the X
 * server says their window is, hovered there (pointer checked with xdotool), waited for when they
 * appear late and when they go away, and refused when ambiguous.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VNCAgentBridge, VNCInputError, VNCTimeoutError } from '../../src/index.js';
import { pointerLocation } from '../support/desktop.js';
import { blocks, showPicture, writePicture, type ShownPicture } from '../support/pictures.js';
import { expect, test } from '../support/fixtures.js';

let dir: string;
let picture: string;
let other: string;
const windows: ShownPicture[] = [];

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'locators-image-'));
  picture = await writePicture(join(dir, 'picture.png'), blocks(48, 32, 1));
  other = await writePicture(join(dir, 'other.png'), blocks(48, 32, 5));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let vnc: VNCAgentBridge;
test.beforeEach(async ({ xvnc }) => {
  vnc = await new VNCAgentBridge({ host: xvnc.host, port: xvnc.port, timeoutMs: 8000 }).connect();
});
test.afterEach(async () => {
  await vnc.disconnect();
  for (const window of windows.splice(0)) await window.stop();
});

function show(server: Parameters<typeof showPicture>[0], path: string, x: number, y: number, delayS = 0): ShownPicture {
  const window = showPicture(server, path, x, y, delayS);
  windows.push(window);
  return window;
}

test('a picture is found where the X server put it, and hovered in its middle', async ({ xvnc }) => {
  const window = show(xvnc, picture, 300, 200);
  const truth = await window.geometry();
  const locator = vnc.getByImage(picture);
  await locator.waitFor();
  expect(await locator.boundingBox()).toEqual({ x: truth.x, y: truth.y, width: 48, height: 32 });
  const match = await locator.hover();
  expect(match.similarity).toBeGreaterThan(0.99);
  expect(await pointerLocation(xvnc)).toEqual({ x: truth.x + 24, y: truth.y + 16 });
});

test('a picture that appears after 1.5 s is acted on without any wait in the spec, and waited away', async ({ xvnc }) => {
  const window = show(xvnc, picture, 500, 420, 1.5);
  await vnc.getByImage(picture).hover();
  const truth = await window.geometry();
  expect(await pointerLocation(xvnc)).toEqual({ x: truth.x + 24, y: truth.y + 16 });
  await window.stop();
  await vnc.getByImage(picture).waitFor({ state: 'hidden' });
  expect(await vnc.getByImage(picture).count()).toBe(0);
});

test('two copies are a VNCInputError naming both places; nth/first/last pick one', async ({ xvnc }) => {
  const left = show(xvnc, picture, 100, 600);
  const right = show(xvnc, picture, 700, 598);
  const [a, b] = [await left.geometry(), await right.geometry()];
  await vnc.getByImage(picture).last().waitFor();
  const error = await vnc.getByImage(picture).hover().catch((e: unknown) => e as Error);
  expect(error).toBeInstanceOf(VNCInputError);
  expect((error as Error).message).toContain(`matches 2 places on the screen: (${a.x}, ${a.y}, 48×32), (${b.x}, ${b.y}, 48×32).`);
  await vnc.getByImage(picture).last().hover();
  expect(await pointerLocation(xvnc)).toEqual({ x: b.x + 24, y: b.y + 16 });
  await vnc.getByImage(picture).first().hover();
  expect(await pointerLocation(xvnc)).toEqual({ x: a.x + 24, y: a.y + 16 });
});

test('a picture that is not shown is a VNCTimeoutError naming the best similarity and where', async ({ xvnc }) => {
  show(xvnc, picture, 300, 200);
  await vnc.getByImage(picture).waitFor();
  const error = await vnc.getByImage(other).hover({ timeout: 1000 }).catch((e: unknown) => e as Error);
  expect(error).toBeInstanceOf(VNCTimeoutError);
  expect((error as Error).message).toMatch(/^getByImage\(".*other\.png"\)\.hover: waited 1000 ms for getByImage\(".*other\.png"\), but it is not on the screen; the closest place was \(\d+, \d+, 48×32\) with similarity 0\.\d{3} \(0\.95 needed\)\.$/);
});

test('the older image API keeps working next to the locator', async ({ xvnc }) => {
  const truth = await show(xvnc, picture, 320, 240).geometry();
  expect(await vnc.screen.waitForImage(picture)).toMatchObject({ x: truth.x, y: truth.y });
  await vnc.mouse.clickImage(picture);
  expect(await pointerLocation(xvnc)).toEqual({ x: truth.x + 24, y: truth.y + 16 });
});
