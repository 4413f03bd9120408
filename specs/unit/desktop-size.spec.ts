/**
 * Resizing the remote desktop (rfbproto SetDesktopSize, answered by ExtendedDesktopSize) and the
 * DesktopName pseudo-encoding, byte for byte through RFBClient over a FakeTransport.
 */
import { expect, test } from '@playwright/test';

import { VNCInputError, VNCProtocolError, VNCStateError, VNCTimeoutError } from '../../src/errors.js';
import { RFBClient } from '../../src/rfb/client.js';
import {
  banner,
  concat,
  desktopNameRect,
  desktopSizeRect,
  extendedDesktopSizeRect,
  FakeTransport,
  framebufferUpdate,
  hex,
  patternPixels,
  rawRect,
  securityResult,
  securityTypes,
  serverInit,
  u32,
} from '../support/rfb-bytes.js';

const W = 8;
const H = 4;

/** A connected client; `announce` puts an ExtendedDesktopSize rectangle (screen id 7, flags 3) in the first update. */
async function connected(announce = true): Promise<{ client: RFBClient; transport: FakeTransport; writtenBefore: number }> {
  const transport = new FakeTransport();
  const starting = RFBClient.start(transport, { credentials: {}, timeoutMs: 2000 });
  const first = framebufferUpdate([
    ...(announce ? [extendedDesktopSizeRect(W, H, { screens: [{ id: 7, x: 0, y: 0, width: W, height: H, flags: 3 }] })] : []),
    rawRect(0, 0, W, H, patternPixels(W, H)),
  ]);
  transport.deliver(concat(banner('3.8'), securityTypes([1]), securityResult(0), serverInit({ width: W, height: H, name: 'first name' }), first));
  const client = await starting;
  return { client, transport, writtenBefore: transport.writtenBytes.length };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test.describe('SetDesktopSize', () => {
  test('the message: 251, padding, width, height, one screen with the server\'s id and flags, filling the desktop', async () => {
    const { client, transport, writtenBefore } = await connected();
    const resizing = client.setDesktopSize(1024, 768, 2000);
    const sent = hex(transport.writtenBytes.subarray(writtenBefore));
    expect(sent).toBe('fb00' + '0400' + '0300' + '01' + '00' + '00000007' + '0000' + '0000' + '0400' + '0300' + '00000003');
    // The answer: reason 1 (this client), status 0, the new size; then the server repaints.
    transport.deliver(framebufferUpdate([extendedDesktopSizeRect(1024, 768, { reason: 1, status: 0, screens: [{ id: 7, x: 0, y: 0, width: 1024, height: 768, flags: 3 }] })]));
    await resizing;
    expect([client.framebuffer.width, client.framebuffer.height]).toEqual([1024, 768]);
    await client.close();
  });

  for (const [status, text] of [
    [1, 'resizing is prohibited by the server'],
    [2, 'the server is out of resources for that size'],
    [3, 'the server calls the screen layout invalid'],
    [9, 'unknown status 9'],
  ] as const) {
    test(`status ${status} → VNCInputError "${text}", the framebuffer unchanged`, async () => {
      const { client, transport } = await connected();
      const resizing = client.setDesktopSize(100, 50, 2000);
      transport.deliver(framebufferUpdate([extendedDesktopSizeRect(W, H, { reason: 1, status })]));
      const error = await resizing.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(VNCInputError);
      expect((error as Error).message).toBe(`fake-server:5900 refused to resize the desktop to 100x50: ${(error as Error).message.split(': ').slice(1).join(': ')}`);
      expect((error as Error).message).toContain(text);
      expect([client.framebuffer.width, client.framebuffer.height]).toEqual([W, H]);
      await client.close();
    });
  }

  test('status 4 (forwarded, QEMU): resolves when the size later changes, whatever announces it', async () => {
    const { client, transport } = await connected();
    const resizing = client.setDesktopSize(640, 480, 2000);
    let settled = false;
    void resizing.then(() => (settled = true));
    transport.deliver(framebufferUpdate([extendedDesktopSizeRect(W, H, { reason: 1, status: 4 })]));
    await tick();
    expect(settled).toBe(false);
    transport.deliver(framebufferUpdate([desktopSizeRect(640, 480)]));
    await resizing;
    expect(client.framebuffer.width).toBe(640);
    await client.close();
  });

  test('a server that never announced ExtendedDesktopSize: refused at once, nothing sent', async () => {
    const { client, transport, writtenBefore } = await connected(false);
    expect(client.canResize).toBe(false);
    const error = await client.setDesktopSize(100, 50, 2000).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VNCInputError);
    expect((error as Error).message).toContain('does not let clients resize its desktop');
    expect(transport.writtenBytes.length).toBe(writtenBefore);
    await client.close();
  });

  test('no answer → VNCTimeoutError; a second request while one waits → VNCStateError; the same size → at once', async () => {
    const { client } = await connected();
    await client.setDesktopSize(W, H, 50);
    const first = client.setDesktopSize(100, 50, 100);
    const second = await client.setDesktopSize(200, 50, 100).catch((caught: unknown) => caught);
    expect(second).toBeInstanceOf(VNCStateError);
    const error = await first.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VNCTimeoutError);
    expect((error as Error).message).toContain('did not resize the desktop to 100x50 within 100 ms');
    await client.close();
  });

  test('the connection closing rejects a waiting request', async () => {
    const { client, transport } = await connected();
    const resizing = client.setDesktopSize(100, 50, 2000);
    transport.serverClose(new Error('reset'));
    const error = await resizing.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('reset');
  });

  test('another client\'s resize (reason 2) does not settle this client\'s request', async () => {
    const { client, transport } = await connected();
    const resizing = client.setDesktopSize(100, 50, 150);
    transport.deliver(framebufferUpdate([extendedDesktopSizeRect(300, 200, { reason: 2, status: 0 })]));
    expect(client.framebuffer.width).toBe(300);
    expect(await resizing.catch((caught: unknown) => caught)).toBeInstanceOf(VNCTimeoutError);
    await client.close();
  });
});

test.describe('DesktopName (-307)', () => {
  test('a rename changes desktopName and emits "name" (UTF-8)', async () => {
    const { client, transport } = await connected();
    expect(client.desktopName).toBe('first name');
    const names: string[] = [];
    client.on('name', (name) => names.push(name));
    transport.deliver(framebufferUpdate([desktopNameRect('zweiter Näme ✓')]), 'bytewise');
    expect(names).toEqual(['zweiter Näme ✓']);
    expect(client.desktopName).toBe('zweiter Näme ✓');
    // The rename carries no pixels and the session goes on.
    transport.deliver(framebufferUpdate([rawRect(0, 0, 1, 1, patternPixels(1, 1))]));
    expect(client.isClosed).toBe(false);
    await client.close();
  });

  test('a name over the limit is refused on its length, before its bytes are awaited', async () => {
    const { client, transport } = await connected();
    transport.deliver(framebufferUpdate([concat(desktopNameRect('').subarray(0, 12), u32(70_000))]));
    expect(client.isClosed).toBe(true);
    expect(client.closeReason).toBeInstanceOf(VNCProtocolError);
    expect(client.closeReason!.message).toContain('70000 bytes, more than the 65536-byte limit');
  });
});
