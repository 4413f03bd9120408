/**
 * RFBClient.holdUpdates(): while a hold is in force, server messages are kept and not painted
 * (screen.screenshot() reads the framebuffer across awaits under one); released, they are handled
 * in order. Through RFBClient over a FakeTransport.
 */
import { expect, test } from '@playwright/test';

import { RFBClient } from '../../src/rfb/client.js';
import { banner, concat, copyRect, FakeTransport, framebufferUpdate, rawRect, securityResult, securityTypes, serverInit, solidPixels } from '../support/rfb-bytes.js';

const W = 16;
const H = 8;

async function connected(): Promise<{ client: RFBClient; transport: FakeTransport }> {
  const transport = new FakeTransport();
  const starting = RFBClient.start(transport, { credentials: {}, timeoutMs: 1000 });
  // The handshake, then a first frame that paints every pixel (a CopyRect of the screen onto itself).
  transport.deliver(concat(banner('3.8'), securityTypes([1]), securityResult(0), serverInit({ width: W, height: H, name: 'hold' })));
  transport.deliver(framebufferUpdate([copyRect(0, 0, W, H, 0, 0)]));
  return { client: await starting, transport };
}

/** The framebuffer's R, G, B at (x, y). */
function pixel(client: RFBClient, x: number, y: number): number[] {
  const at = (y * W + x) * 4;
  return [...client.framebuffer.data.subarray(at, at + 3)];
}

test('an update that arrives while held is painted (and announced) only once released', async () => {
  const { client, transport } = await connected();
  const updates: number[] = [];
  client.on('update', (rects) => updates.push(rects.length));
  const release = client.holdUpdates();
  transport.deliver(framebufferUpdate([rawRect(1, 1, 2, 2, solidPixels(2, 2, [9, 8, 7]))]));
  expect(pixel(client, 1, 1)).toEqual([0, 0, 0]);
  expect(updates).toEqual([]);
  release();
  expect(pixel(client, 1, 1)).toEqual([9, 8, 7]);
  expect(updates).toEqual([1]);
  await client.close();
});

test('holds nest: the screen changes only when the last one is released; a second release does nothing', async () => {
  const { client, transport } = await connected();
  const first = client.holdUpdates();
  const second = client.holdUpdates();
  transport.deliver(framebufferUpdate([rawRect(0, 0, 1, 1, solidPixels(1, 1, [1, 2, 3]))]));
  first();
  first();
  expect(pixel(client, 0, 0)).toEqual([0, 0, 0]);
  second();
  expect(pixel(client, 0, 0)).toEqual([1, 2, 3]);
  await client.close();
});

test('several messages kept during a hold are handled in order, split anywhere', async () => {
  const { client, transport } = await connected();
  const release = client.holdUpdates();
  const bytes = concat(
    framebufferUpdate([rawRect(3, 3, 1, 1, solidPixels(1, 1, [10, 20, 30]))]),
    framebufferUpdate([rawRect(3, 3, 1, 1, solidPixels(1, 1, [40, 50, 60]))]),
  );
  transport.deliver(bytes, 'bytewise');
  expect(pixel(client, 3, 3)).toEqual([0, 0, 0]);
  release();
  expect(pixel(client, 3, 3)).toEqual([40, 50, 60]);
  await client.close();
});
