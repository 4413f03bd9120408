/**
 * Image search against a real Xvnc: a piece of an xterm is cut from one capture, the window is
 * moved with xdotool, and the bridge must find the piece at its new place and click there (the
 * click position is checked on the X server with xdotool). A piece that is mostly the window's
 * white must not be "found" (and clicked) on a blank part of it, and a plain piece is refused.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, VNCInputError, VNCTimeoutError, type Frame, type VNCAgentBridge } from '../../src/index.js';
import { pointerLocation, startXterm, windowGeometry, xdotool, type Xterm } from '../support/desktop.js';
import { expect, test } from '../support/bridge-fixtures.js';

const TEXT = 'FIND ME 42';

/** The bounding box of dark (text) pixels inside `area` of a capture, or null when there are none. */
function darkBox(frame: Frame, area: { x: number; y: number; width: number; height: number }) {
  let box: { left: number; top: number; right: number; bottom: number } | null = null;
  for (let y = area.y; y < area.y + area.height; y++) {
    for (let x = area.x; x < area.x + area.width; x++) {
      const i = (y * frame.width + x) * 4;
      if (frame.data[i] + frame.data[i + 1] + frame.data[i + 2] > 200) continue;
      box = box
        ? { left: Math.min(box.left, x), top: Math.min(box.top, y), right: Math.max(box.right, x), bottom: Math.max(box.bottom, y) }
        : { left: x, top: y, right: x, bottom: y };
    }
  }
  return box;
}

function cut(frame: Frame, x: number, y: number, width: number, height: number): Frame {
  const out = Buffer.alloc(width * height * 4);
  for (let row = 0; row < height; row++) frame.data.copy(out, row * width * 4, ((y + row) * frame.width + x) * 4, ((y + row) * frame.width + x + width) * 4);
  return { width, height, data: out };
}

type Box = { left: number; top: number; right: number; bottom: number };

/** The number of dark (text) pixels in a frame. */
function darkPixels(frame: Frame): number {
  let count = 0;
  for (let i = 0; i < frame.width * frame.height * 4; i += 4) if (frame.data[i] + frame.data[i + 1] + frame.data[i + 2] <= 200) count++;
  return count;
}

/**
 * Starts an xterm showing TEXT at its top-left and returns it with a 40×20 needle cut around the
 * text's start, the capture it was cut from, the text's box and the window's inside.
 */
async function xtermWithNeedle(
  vnc: VNCAgentBridge,
  server: Parameters<typeof startXterm>[0],
): Promise<{ xterm: Xterm; needle: Frame; at: { x: number; y: number }; frame: Frame; text: Box; inside: { x: number; y: number; width: number; height: number } }> {
  const xterm = await startXterm(server, { geometry: '24x3+60+80', command: ['sh', '-c', `printf '${TEXT}'; exec sleep 600`] });
  // The window's inside (xterm's border is a pixel or two), until the text is drawn.
  const inside = { x: xterm.geometry.x + 3, y: xterm.geometry.y + 3, width: xterm.geometry.width - 6, height: xterm.geometry.height - 6 };
  await expect.poll(() => darkBox(vnc.screen.capture(), inside)?.right ?? 0, { timeout: 10_000 }).toBeGreaterThan(inside.x + 40);
  const frame = await vnc.screen.waitForStable({ stillMs: 300 });
  const text = darkBox(frame, inside)!;
  const at = { x: text.left - 2, y: text.top - 4 };
  const needle = cut(frame, at.x, at.y, 40, 20);
  expect(darkBox(needle, { x: 0, y: 0, width: 40, height: 20 }), 'the needle shows text').not.toBeNull();
  return { xterm, needle, at, frame, text, inside };
}

test.describe('image search on a live screen', () => {
  test('waitForImage finds a cut-out after its window moved; clickImage clicks its centre', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    // Our own pointer, out of the way: Xvnc then keeps it out of this client's picture.
    await vnc.mouse.move(vnc.screen.width - 1, vnc.screen.height - 1);
    const { xterm, needle, at } = await xtermWithNeedle(vnc, xvnc);
    try {
      expect(await vnc.screen.find(needle)).toEqual({ x: at.x, y: at.y, width: 40, height: 20, similarity: 1 });
      const destination = { x: 640, y: 400, width: 640, height: 400 };
      expect(await vnc.screen.find(needle, { region: destination })).toBeNull();

      // Wait (in the region it will move to) while the window moves.
      const waiting = vnc.screen.waitForImage(needle, { region: destination, timeoutMs: 10_000 });
      const before = xterm.geometry;
      await xdotool(xvnc, ['windowmove', String(xterm.windowId), '900', '560']);
      const after = await windowGeometry(xvnc, xterm.windowId);
      expect([after.x, after.y]).toEqual([900, 560]);
      const moved = { x: at.x + after.x - before.x, y: at.y + after.y - before.y };
      expect(await waiting).toEqual({ ...moved, width: 40, height: 20, similarity: 1 });

      // Once the old place is repainted, the whole screen has the piece only at the new place.
      await expect.poll(async () => (await vnc.screen.find(needle))?.x, { timeout: 10_000 }).toBe(moved.x);
      const clicked = await vnc.mouse.clickImage(needle, { timeoutMs: 5000 });
      expect(clicked).toMatchObject(moved);
      await expect.poll(() => pointerLocation(xvnc)).toEqual({ x: moved.x + 20, y: moved.y + 10 });
      expect(vnc.mouse.position).toEqual({ x: moved.x + 20, y: moved.y + 10 });

      // The same from a PNG file, with an offset from the centre.
      const dir = await mkdtemp(join(tmpdir(), 'vnc-image-e2e-'));
      try {
        const file = join(dir, 'needle.png');
        await writeFile(file, encodePng(needle));
        await vnc.mouse.clickImage(file, { offset: { x: 7, y: -4 } });
        await expect.poll(() => pointerLocation(xvnc)).toEqual({ x: moved.x + 27, y: moved.y + 6 });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } finally {
      await xterm.stop();
    }
  });

  test('an image that never appears: find gives null, waitForImage and clickImage time out naming the closest match', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    await vnc.mouse.move(vnc.screen.width - 1, vnc.screen.height - 1);
    const { xterm, needle, at } = await xtermWithNeedle(vnc, xvnc);
    try {
      // The same piece in red: nowhere on the screen.
      const red = { ...needle, data: Buffer.from(needle.data) };
      for (let i = 0; i < red.data.length; i += 4) red.data[i] = 255;
      expect(await vnc.screen.find(red)).toBeNull();
      expect(await vnc.screen.find(red, { timeoutMs: 200 })).toBeNull();
      const started = Date.now();
      const error = await vnc.screen.waitForImage(red, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(error).toBeInstanceOf(VNCTimeoutError);
      expect((error as Error).message).toMatch(
        /^screen\.waitForImage: the 40x20 image did not appear on the screen \(similarity ≥ 0\.95\) within 300 ms; the closest seen was \(\d+, \d+\) with similarity 0\.\d{3}\.$/,
      );
      // The closest place is the piece's own: there only the text's colour differs, by a third of
      // the range (R 255 for 0) in the distinctive pixels, which sets the similarity.
      const [, x, y, similarity] = /\((\d+), (\d+)\) with similarity (\d\.\d+)/.exec((error as Error).message)!.map(Number);
      expect(Math.abs(x - at.x) <= 6 && Math.abs(y - at.y) <= 6, `closest at ${x},${y}, the piece is at ${at.x},${at.y}`).toBe(true);
      expect(similarity).toBeGreaterThan(0.6);
      expect(similarity).toBeLessThan(0.8);
      const click = await vnc.mouse.clickImage(red, { timeoutMs: 200, region: { x: 0, y: 0, width: 400, height: 300 } }).catch((e: unknown) => e);
      expect(click).toBeInstanceOf(VNCTimeoutError);
      expect((click as Error).message).toMatch(/^mouse\.clickImage: the 40x20 image did not appear on the screen region \{"x":0,"y":0,"width":400,"height":300\}.*closest seen was/);
      // The pointer did not move.
      expect(vnc.mouse.position).toEqual({ x: vnc.screen.width - 1, y: vnc.screen.height - 1 });
    } finally {
      await xterm.stop();
    }
  });

  test('a piece that is mostly background is not "found" on a blank area of that background; a plain piece is refused', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    const corner = { x: vnc.screen.width - 1, y: vnc.screen.height - 1 };
    await vnc.mouse.move(corner.x, corner.y);
    const { xterm, frame, text, inside } = await xtermWithNeedle(vnc, xvnc);
    try {
      // The bottom of the first letters and the blank line under them: a few per cent of the
      // piece is text, so by the mean difference alone any blank white area is 95 % or more alike.
      const letters = darkBox(frame, { x: text.left, y: inside.y, width: 38, height: inside.height })!;
      const at = { x: letters.left - 2, y: letters.bottom - 1 };
      const sparse = cut(frame, at.x, at.y, 40, 20);
      const dark = darkPixels(sparse);
      expect(dark, 'the piece shows the bottom of the letters').toBeGreaterThan(4);
      expect(dark / 800).toBeLessThan(0.05);
      // Right of the text and the cursor (the text's box includes it) the window is blank.
      const blank = { x: text.right + 4, y: inside.y, width: inside.x + inside.width - text.right - 4, height: inside.height };
      expect(blank.width).toBeGreaterThanOrEqual(40);
      expect(blank.height).toBeGreaterThanOrEqual(20);
      expect(darkBox(frame, blank), 'the blank part of the window').toBeNull();

      expect(await vnc.screen.find(sparse)).toEqual({ ...at, width: 40, height: 20, similarity: 1 });
      expect(await vnc.screen.find(sparse, { region: blank })).toBeNull();
      const missed = await vnc.mouse.clickImage(sparse, { region: blank, timeoutMs: 300 }).catch((e: unknown) => e);
      expect(missed).toBeInstanceOf(VNCTimeoutError);
      expect(vnc.mouse.position, 'nothing was clicked').toEqual(corner);

      // A plain piece (blank white) would match any white area: refused at once, not waited for.
      const plain = cut(frame, blank.x, blank.y, 40, 20);
      const started = Date.now();
      await expect(vnc.screen.waitForImage(plain, { timeoutMs: 10_000 })).rejects.toThrow(/^The 40x20 image to find has nothing distinctive: .* so it would match any area of that colour\./);
      await expect(vnc.mouse.clickImage(plain, { timeoutMs: 10_000 })).rejects.toBeInstanceOf(VNCInputError);
      await expect(vnc.screen.find(plain)).rejects.toThrow(/allowPlain: true/);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(vnc.mouse.position, 'nothing was clicked').toEqual(corner);
      // Unless asked for: then the first white area of that size, in the window (the only white).
      const found = await vnc.screen.find(plain, { allowPlain: true });
      expect(found).toMatchObject({ width: 40, height: 20, similarity: 1 });
      const box = xterm.geometry;
      expect(found!.x >= box.x && found!.y >= box.y && found!.x + 40 <= box.x + box.width && found!.y + 20 <= box.y + box.height, JSON.stringify(found)).toBe(true);
    } finally {
      await xterm.stop();
    }
  });
});
