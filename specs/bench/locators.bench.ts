/**
 * Locator figures (run with `VNC_BENCH=1 npx playwright test --project=bench specs/bench/locators.bench.ts`;
 * not part of `npm test`). Asserts nothing about time: prints, on a 1920×1080 Xvnc with two dialogs,
 *
 * - getByText: the first look (OCR of the whole screen), then a poll on the unchanged screen
 *   (count(), the locator's cost on top of the cached reading), beside screen.words() (the reading alone);
 * - getByImage: the first look (the template search over the whole screen), then a poll on the
 *   unchanged screen (the search is reused until something repaints where it looked);
 * - an action on a target that has long been shown and still: locator hover() (look + still check +
 *   move; no wait, the session's repaint history shows it still) beside mouse.move at known coordinates.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from '@playwright/test';
import { VNCAgentBridge } from '../../src/index.js';
import { blocks, showPicture, writePicture } from '../support/pictures.js';
import { xmessageScreen } from '../support/text-screens.js';
import { startXvnc } from '../support/xvnc.js';

test.describe.configure({ timeout: 300_000 });

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `median ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms (n=${values.length})`;
}

async function timeEach(count: number, action: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await action();
    times.push(performance.now() - started);
  }
  return times;
}

test('locators: first look, polls on a still screen, action overhead', async () => {
  const server = await startXvnc({ geometry: '1920x1080' });
  const dir = await mkdtemp(join(tmpdir(), 'locators-bench-'));
  const vnc = await new VNCAgentBridge({ host: server.host, port: server.port, timeoutMs: 30_000 }).connect();
  const windows = [
    await xmessageScreen(server, { message: 'Keep the changes?', buttons: ['Apply', 'Discard'], x: 300, y: 200 }).show(false),
    await xmessageScreen(server, { message: 'Update ready', buttons: ['Postpone', 'Install'], x: 1200, y: 700 }).show(false),
  ];
  const picture = await writePicture(join(dir, 'picture.png'), blocks(48, 32, 2));
  const shownPicture = showPicture(server, picture, 900, 500);
  try {
    await shownPicture.geometry();
    await vnc.screen.waitForStable({ stillMs: 500 });
    const lines: string[] = [];

    const discard = vnc.getByText('Discard');
    let started = performance.now();
    await discard.count();
    lines.push(`getByText first look (1920×1080, OCR of the whole screen):  ${(performance.now() - started).toFixed(0)} ms`);
    lines.push(`getByText poll, unchanged screen (count()):                 ${stats(await timeEach(200, () => discard.count()))}`);
    lines.push(`  reference: screen.words() on the unchanged screen:        ${stats(await timeEach(200, () => vnc.screen.words()))}`);
    const image = vnc.getByImage(picture);
    started = performance.now();
    await image.count();
    lines.push(`getByImage first look (template search of the whole screen): ${(performance.now() - started).toFixed(0)} ms`);
    lines.push(`getByImage poll, unchanged screen (the search reused):      ${stats(await timeEach(50, () => image.count()))}`);

    // Acting on a target already shown and still: hover (no screen change follows).
    const install = vnc.getByText('Install');
    await install.hover();
    const box = (await install.boundingBox())!;
    const x = box.x + Math.floor(box.width / 2);
    const y = box.y + Math.floor(box.height / 2);
    lines.push(`locator hover(), target shown and still:                    ${stats(await timeEach(20, () => install.hover()))}`);
    lines.push(`  reference: mouse.move at known coordinates:               ${stats(await timeEach(20, () => vnc.mouse.move(x, y)))}`);
    lines.push(`RSS with the OCR engine loaded (one connection):            ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    console.log(`\nLocator figures (1920×1080 Xvnc, two xmessage dialogs and a picture)\n${lines.join('\n')}\n`);
  } finally {
    await vnc.disconnect();
    await shownPicture.stop();
    for (const window of windows) await window.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
