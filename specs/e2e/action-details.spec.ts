/**
 * The mouse tells traces where it acted (`vnc.actionDetails`): each move, press, release, click
 * and drag reports one detail whose point is where the X server's pointer really is (xdotool),
 * compound actions report themselves rather than their parts, and a listener that throws does not
 * break the action.
 */
import { expect, test } from '@playwright/test';
import type { ActionDetail } from '../../src/bridge/action-details.js';
import { VNCAgentBridge } from '../../src/index.js';
import { pointerLocation } from '../support/desktop.js';
import { startXvnc, type XvncServer } from '../support/xvnc.js';

let server: XvncServer;

test.beforeAll(async () => {
  server = await startXvnc({ geometry: '640x480' });
});

test.afterAll(async () => {
  await server?.stop();
});

/** Waits (bounded) until the X pointer is at `point`: pointer events are asynchronous. */
async function expectPointerAt(point: { x: number; y: number } | undefined): Promise<void> {
  await expect.poll(() => pointerLocation(server), { timeout: 5000 }).toEqual(point);
}

test('moves, presses, clicks and drags report one detail each, at the pointer the X server has', async () => {
  await using vnc = await new VNCAgentBridge({ host: server.host, port: server.port }).connect();
  const details: ActionDetail[] = [];
  const off = vnc.actionDetails.on((detail) => details.push(detail));
  vnc.actionDetails.on(() => {
    throw new Error('a broken listener');
  });

  await vnc.mouse.move(10, 20);
  expect(details).toEqual([{ point: { x: 10, y: 20 }, label: 'move' }]);
  await expectPointerAt(details[0].point);

  await vnc.mouse.click(100, 120);
  expect(details.slice(1)).toEqual([{ point: { x: 100, y: 120 }, label: 'click left' }]);
  await expectPointerAt(details[1].point);

  await vnc.mouse.doubleClick(130, 140, { button: 'right' });
  expect(details.slice(2)).toEqual([{ point: { x: 130, y: 140 }, label: 'click right ×2' }]);

  await vnc.mouse.down('middle');
  await vnc.mouse.up('middle');
  expect(details.slice(3)).toEqual([
    { point: { x: 130, y: 140 }, label: 'down middle' },
    { point: { x: 130, y: 140 }, label: 'up middle' },
  ]);

  await vnc.mouse.drag({ x: 200, y: 200 }, { x: 300, y: 250 }, { steps: 4 });
  expect(details.slice(5)).toEqual([{ point: { x: 200, y: 200 }, drag: { from: { x: 200, y: 200 }, to: { x: 300, y: 250 } }, label: 'drag left' }]);
  await expectPointerAt({ x: 300, y: 250 });

  // After a drag the mouse reports again (nothing stays silenced).
  await vnc.mouse.move(5, 6);
  expect(details.at(-1)).toEqual({ point: { x: 5, y: 6 }, label: 'move' });

  // A point off the screen is refused before anything is sent or reported.
  const before = details.length;
  await expect(vnc.mouse.drag({ x: -1, y: 0 }, { x: 10, y: 10 })).rejects.toThrow(/off the 640x480 screen/);
  expect(details).toHaveLength(before);
  off();
  await vnc.mouse.move(7, 8);
  expect(details).toHaveLength(before);
});
