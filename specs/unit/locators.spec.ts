/**
 * The locator machinery (lazy descriptions, the one waiting/actionability routine, strictness,
 * errors naming what was seen) on a fake screen whose "OCR" reads words the spec placed. The same
 * behaviour on real servers and programs: specs/e2e/locators*.spec.ts.
 */
import { expect, test } from '@playwright/test';
import { imageLocator, STILL_MS, textLocator } from '../../src/bridge/locators/index.js';
import { VNCInputError, VNCTimeoutError } from '../../src/errors.js';
import { FakeScreen } from '../support/fake-screen.js';

const SAVE = { text: 'Save', box: { x: 100, y: 50, width: 40, height: 14 } };
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setup(timeoutMs = 2000) {
  const screen = new FakeScreen();
  const host = screen.host(timeoutMs);
  const byText = (text: string | RegExp, options = {}) => textLocator(host, text, options, screen.textBackend());
  return { screen, host, byText };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

test.describe('a text locator', () => {
  test('is lazy: creating and refining it reads nothing', async () => {
    const { screen, byText } = setup();
    const locator = byText('Save').within({ x: 0, y: 0, width: 300, height: 200 }).nth(1).first().last();
    expect(screen.reads).toEqual([]);
    expect(String(locator)).toBe('getByText("Save").within((0, 0, 300×200)).nth(1).first().last()');
  });

  test('click presses and releases the left button in the middle of the match, and reports box and point', async () => {
    const { screen, byText } = setup();
    screen.show(SAVE);
    const match = await byText('save').click();
    expect(match.box).toEqual(SAVE.box);
    expect(screen.pointerEvents().map(({ mask, x, y }) => ({ mask, x, y }))).toEqual([
      { mask: 0, x: 120, y: 57 },
      { mask: 1, x: 120, y: 57 },
      { mask: 0, x: 120, y: 57 },
    ]);
    expect(screen.details).toEqual([{ box: SAVE.box, point: { x: 120, y: 57 }, label: 'getByText("save").click()' }]);
  });

  test('click honours button, clickCount and position; dblclick clicks twice; hover only moves', async () => {
    const { screen, byText } = setup();
    screen.show(SAVE);
    await byText('Save').click({ button: 'right', clickCount: 2, position: { x: 3, y: 4 } });
    expect(screen.pointerEvents().map(({ mask, x, y }) => `${mask}@${x},${y}`)).toEqual(['0@103,54', '4@103,54', '0@103,54', '4@103,54', '0@103,54']);
    screen.events.length = 0;
    await byText('Save').dblclick();
    expect(screen.pointerEvents().map(({ mask }) => mask)).toEqual([0, 1, 0, 1, 0]);
    screen.events.length = 0;
    await byText('Save').hover();
    expect(screen.pointerEvents().map(({ mask, x, y }) => `${mask}@${x},${y}`)).toEqual(['0@120,57']);
  });

  test('fill clicks, then types; press clicks, then presses the chord', async () => {
    const { screen, byText } = setup();
    screen.show({ text: 'Name:', box: { x: 10, y: 10, width: 50, height: 14 } });
    await byText('Name').fill('Ab');
    const keys = screen.events.filter((event) => event.kind === 'key');
    const firstKey = screen.events.findIndex((event) => event.kind === 'key');
    expect(screen.events.slice(0, firstKey).filter((event) => event.kind === 'pointer')).toHaveLength(3);
    // A (shift + a) then b, pressed and released.
    expect(keys.filter((key) => key.kind === 'key' && key.down).map((key) => key.kind === 'key' && key.keysym)).toContain(0x41);
    expect(keys.filter((key) => key.kind === 'key' && key.down).map((key) => key.kind === 'key' && key.keysym)).toContain(0x62);
    screen.events.length = 0;
    await byText('Name').press('ctrl+s');
    expect(screen.events.filter((event) => event.kind === 'key').map((key) => key.kind === 'key' && `${key.keysym.toString(16)}${key.down ? '↓' : '↑'}`)).toEqual(['ffe3↓', '73↓', '73↑', 'ffe3↑']);
  });

  test('waits for text that appears later, looking again only when the screen repaints', async () => {
    const { screen, byText } = setup();
    const clicked = byText('Save').click();
    await delay(200);
    const readsBefore = screen.reads.length;
    expect(readsBefore).toBe(1); // nothing repainted: nothing to read again
    screen.show(SAVE);
    await clicked;
    expect(screen.pointerEvents().at(-1)).toMatchObject({ mask: 0, x: 120, y: 57 });
  });

  test('acts only once the area around the match has been still for a while', async () => {
    const { screen, byText } = setup();
    screen.show(SAVE);
    const clicked = byText('Save').click();
    for (let i = 0; i < 6; i++) {
      await delay(40);
      screen.repaint({ x: 95, y: 45, width: 50, height: 24 }); // fading in
    }
    const lastRepaint = screen.events.filter((event) => event.kind === 'repaint').at(-1)!;
    await clicked;
    const press = screen.pointerEvents().find((event) => event.mask === 1)!;
    expect(screen.events.indexOf(press)).toBeGreaterThan(screen.events.indexOf(lastRepaint));
    // A repaint elsewhere does not hold the action back (checked by order, not by time).
    screen.events.length = 0;
    const again = byText('Save').click();
    screen.repaint({ x: 400, y: 400, width: 10, height: 10 });
    await again;
    expect(screen.pointerEvents().some((event) => event.mask === 1)).toBe(true);
  });

  test('a match that never stops changing ends in a VNCTimeoutError saying so', async () => {
    const { screen, byText } = setup(600);
    screen.show(SAVE);
    const timer = setInterval(() => screen.repaint(SAVE.box), STILL_MS / 3);
    try {
      const error = await failure(byText('Save').click());
      expect(error).toBeInstanceOf(VNCTimeoutError);
      expect(error.message).toContain('getByText("Save").click: getByText("Save") was found at (100, 50, 40×14), but the area around it kept changing for 600 ms');
    } finally {
      clearInterval(timer);
    }
    expect(screen.pointerEvents()).toEqual([]);
  });

  test('missing text is a VNCTimeoutError after the timeout, naming the closest words and where they are', async () => {
    const { screen, byText } = setup(500);
    screen.show(SAVE, { text: 'Cancel', box: { x: 200, y: 50, width: 50, height: 14 } });
    const error = await failure(byText('Sve').click());
    expect(error).toBeInstanceOf(VNCTimeoutError);
    expect((error as VNCTimeoutError).timeoutMs).toBe(500);
    expect(error.message).toBe(
      'getByText("Sve").click: waited 500 ms for getByText("Sve"), but it is not on the screen; closest: "Save" at (100, 50, 40×14), "Cancel" at (200, 50, 50×14).',
    );
    expect(screen.pointerEvents()).toEqual([]);
  });

  test('several matches are a VNCInputError naming how many and where, unless first/last/nth picks one', async () => {
    const { screen, byText } = setup();
    const left = { text: 'OK', box: { x: 10, y: 100, width: 20, height: 14 } };
    const right = { text: 'OK', box: { x: 300, y: 101, width: 20, height: 14 } };
    const below = { text: 'OK', box: { x: 5, y: 300, width: 20, height: 14 } };
    screen.show(below, right, left);
    const error = await failure(byText('OK').click());
    expect(error).toBeInstanceOf(VNCInputError);
    expect(error.message).toBe(
      'getByText("OK") matches 3 places on the screen: (10, 100, 20×14) "OK", (300, 101, 20×14) "OK", (5, 300, 20×14) "OK". ' +
        'Pick one with .first(), .last() or .nth(i), or narrow the search with .within(region) or { exact: true }.',
    );
    expect(screen.pointerEvents()).toEqual([]);
    expect(await byText('OK').first().boundingBox()).toEqual(left.box);
    expect(await byText('OK').nth(1).boundingBox()).toEqual(right.box);
    expect(await byText('OK').last().boundingBox()).toEqual(below.box);
    expect(await byText('OK').nth(-2).boundingBox()).toEqual(right.box);
    expect(await byText('OK').nth(3).boundingBox()).toBeNull();
    expect(await byText('OK').count()).toBe(3);
    expect(await byText('OK').within({ x: 0, y: 0, width: 640, height: 200 }).count()).toBe(2);
    const all = await byText('OK').all();
    expect(await Promise.all(all.map((locator) => locator.boundingBox()))).toEqual([left.box, right.box, below.box]);
    await byText('OK').nth(2).click();
    expect(screen.pointerEvents().at(-1)).toMatchObject({ x: 15, y: 307 });
  });

  test('nth beyond the matches times out saying how many there are', async () => {
    const { screen, byText } = setup(300);
    screen.show(SAVE);
    const error = await failure(byText('Save').nth(2).click());
    expect(error).toBeInstanceOf(VNCTimeoutError);
    expect(error.message).toContain('it matched only 1 place(s), (100, 50, 40×14) "Save", so .nth(2) has nothing to pick.');
  });

  test('one place matched twice (overlapping runs of words) counts once', async () => {
    const { screen, byText } = setup();
    screen.show({ text: 'Save', box: { x: 100, y: 50, width: 40, height: 14 } }, { text: 'Save as', box: { x: 100, y: 50, width: 70, height: 14 } });
    expect(await byText('Save').count()).toBe(1);
    await byText('Save').click();
  });

  test('within and region read only that part of the screen', async () => {
    const { screen, byText } = setup();
    screen.show(SAVE);
    expect(await byText('Save', { region: { x: 0, y: 0, width: 200, height: 100 } }).count()).toBe(1);
    expect(await byText('Save').within({ x: 200, y: 0, width: 100, height: 100 }).count()).toBe(0);
    expect(screen.reads).toEqual([
      { x: 0, y: 0, width: 200, height: 100 },
      { x: 200, y: 0, width: 100, height: 100 },
    ]);
    // Partly off screen: only the part on it is read.
    await byText('Save').within({ x: 600, y: 400, width: 100, height: 100 }).count();
    expect(screen.reads.at(-1)).toEqual({ x: 600, y: 400, width: 40, height: 80 });
  });

  test('waitFor waits for visible and for hidden', async () => {
    const { screen, byText } = setup();
    const visible = byText('Save').waitFor();
    await delay(50);
    screen.show(SAVE);
    await visible;
    const hidden = byText('Save').waitFor({ state: 'hidden' });
    await delay(50);
    screen.hide('Save');
    await hidden;
    expect(await byText('Save').count()).toBe(0);
    expect(await byText('Save').boundingBox()).toBeNull();
  });

  test('waitFor hidden times out naming where the text still is', async () => {
    const { screen, byText } = setup(300);
    screen.show(SAVE);
    const error = await failure(byText('Save').waitFor({ state: 'hidden' }));
    expect(error).toBeInstanceOf(VNCTimeoutError);
    expect(error.message).toBe('getByText("Save").waitFor: waited 300 ms for getByText("Save") to disappear, but it is still on the screen at (100, 50, 40×14) "Save".');
  });

  test('a disconnect ends the wait with the connection error', async () => {
    const { screen, byText } = setup(5000);
    const clicked = byText('Save').click();
    await delay(50);
    screen.close();
    const error = await failure(clicked);
    expect(error.message).toBe('The server closed the connection.');
  });

  test('bad input is refused at once with what to do', async () => {
    const { byText } = setup();
    expect(() => byText('')).toThrow(new VNCInputError('getByText needs a non-empty string or a RegExp, got "".'));
    expect(() => byText('Save').nth(1.5)).toThrow(/pass a whole number \(0 is the first match, -1 the last\)/);
    expect(() => byText('Save', { region: { x: 0, y: 0, width: 0, height: 5 } })).toThrow(VNCInputError);
    expect(() => byText('Save').within({ x: 0, y: 0, width: 10, height: 10 }).within({ x: 50, y: 50, width: 10, height: 10 })).toThrow(/does not overlap/);
    await expect(byText('Save').click({ clickCount: 0 })).rejects.toThrow(/clickCount 0 is not valid/);
    await expect(byText('Save').click({ timeout: -1 })).rejects.toThrow(VNCInputError);
    await expect(byText('Save').waitFor({ state: 'gone' as 'hidden' })).rejects.toThrow(/use 'visible' or 'hidden'/);
    await expect(byText('Save').within({ x: 700, y: 0, width: 10, height: 10 }).count()).rejects.toThrow(/outside the 640x480 screen/);
  });
});

test.describe('an image locator', () => {
  /** A 6×6 two-colour pattern. */
  function pattern() {
    const data = Buffer.alloc(6 * 6 * 4);
    for (let i = 0; i < 36; i++) {
      const dark = (i % 6) + Math.floor(i / 6) < 6;
      data.set(dark ? [20, 20, 20, 255] : [240, 200, 0, 255], i * 4);
    }
    return { width: 6, height: 6, data };
  }

  function paintPattern(screen: FakeScreen, x: number, y: number) {
    const { data } = pattern();
    screen.framebuffer.putRows(x, y, 6, 6, data);
    screen.repaint({ x, y, width: 6, height: 6 });
  }

  test('finds every copy in reading order, strictly, and clicks the chosen one', async () => {
    const screen = new FakeScreen(200, 100);
    const host = screen.host();
    paintPattern(screen, 150, 10);
    paintPattern(screen, 20, 60);
    paintPattern(screen, 30, 12);
    const locator = imageLocator(host, pattern());
    expect(String(locator)).toBe('getByImage(<image 6x6>)');
    expect(await locator.count()).toBe(3);
    expect((await locator.matches()).map((match) => [match.box.x, match.box.y, match.similarity])).toEqual([
      [30, 12, 1],
      [150, 10, 1],
      [20, 60, 1],
    ]);
    await expect(locator.click()).rejects.toThrow(/getByImage\(<image 6x6>\) matches 3 places on the screen: \(30, 12, 6×6\), \(150, 10, 6×6\), \(20, 60, 6×6\)/);
    await locator.nth(1).click();
    expect(screen.pointerEvents().at(-1)).toMatchObject({ x: 153, y: 13 });
  });

  test('a missing image times out naming the best similarity and where', async () => {
    const screen = new FakeScreen(200, 100);
    paintPattern(screen, 40, 40);
    screen.paint({ x: 40, y: 40, width: 2, height: 2 }, [240, 200, 0]);
    const error = await failure(imageLocator(screen.host(300), pattern()).click());
    expect(error).toBeInstanceOf(VNCTimeoutError);
    expect(error.message).toMatch(/^getByImage\(<image 6x6>\)\.click: waited 300 ms for getByImage\(<image 6x6>\), but it is not on the screen; the closest place was \(40, 40, 6×6\) with similarity 0\.\d+ \(0\.95 needed\)\.$/);
  });

  test('a search is reused until the screen repaints where it looked', async () => {
    const screen = new FakeScreen(200, 100);
    paintPattern(screen, 150, 10);
    const locator = imageLocator(screen.host(), pattern()).within({ x: 100, y: 0, width: 100, height: 50 });
    expect(await locator.count()).toBe(1);
    // Pixels changed behind the client's back (no update): the last search stands.
    screen.framebuffer.fill({ x: 150, y: 10, width: 6, height: 6 }, 0, 0, 0);
    screen.repaint({ x: 0, y: 90, width: 10, height: 10 }); // outside the area searched
    expect(await locator.count()).toBe(1);
    screen.repaint({ x: 150, y: 10, width: 6, height: 6 });
    expect(await locator.count()).toBe(0);
  });

  test('a missing PNG file is a VNCInputError on first use, not at creation', async () => {
    const screen = new FakeScreen(200, 100);
    const locator = imageLocator(screen.host(), '/nonexistent/button.png');
    await expect(locator.count()).rejects.toThrow(/Cannot read the image file \/nonexistent\/button\.png/);
  });
});
