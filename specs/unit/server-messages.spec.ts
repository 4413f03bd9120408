/**
 * Server-to-client messages (RFC 6143 §7.6, §7.7 and the rfbproto pseudo-encodings) through an
 * RFBClient that has finished its handshake over a FakeTransport (and, where clearer, through the
 * ServerMessageParser on its own). Pixels are checked against a naive model of the screen; every
 * scenario is replayed in every chunking; malformed input must end the session with a
 * VNCProtocolError, never a hang and never another exception type. A seeded fuzz loop closes.
 */
import { deflateSync } from 'node:zlib';

import { expect, test } from '@playwright/test';

import { VNCConnectionError, VNCError, VNCProtocolError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { RFBClient } from '../../src/rfb/client.js';
import type { CursorImage } from '../../src/rfb/encodings/cursor.js';
import { Framebuffer, type Rect } from '../../src/rfb/framebuffer.js';
import { ServerMessageParser } from '../../src/rfb/server-messages.js';
import { chooseEncodings, createDecoders } from '../../src/rfb/encodings/index.js';
import {
  ENCODING,
  FakeTransport,
  bell,
  challenge,
  chunkings,
  concat,
  copyRect,
  cursorRect,
  desktopSizeRect,
  extendedDesktopSizeRect,
  framebufferUpdate,
  lastRect,
  padding,
  parseClientMessages,
  patternPixels,
  prng,
  randomInt,
  randomSplit,
  rawRect,
  rectHeader,
  s32,
  securityResult,
  securityTypes,
  serverCutText,
  serverCutTextHeader,
  serverInit,
  banner,
  setColourMapEntries,
  solidPixels,
  u32,
  u8,
} from '../support/rfb-bytes.js';
import { ignoringHandler } from '../support/parser-handler.js';

// ---------------------------------------------------------------------------------------------
// A naive model of the screen: RGBA, alpha 255, CopyRect through a temporary buffer.

class Picture {
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.data = Buffer.alloc(width * height * 4);
    for (let i = 3; i < this.data.length; i += 4) this.data[i] = 255;
  }

  static of(width: number, height: number, rgbx: Uint8Array): Picture {
    const picture = new Picture(width, height);
    picture.put(0, 0, width, height, rgbx);
    return picture;
  }

  put(x: number, y: number, width: number, height: number, rgbx: Uint8Array): void {
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const from = (row * width + col) * 4;
        const to = ((y + row) * this.width + x + col) * 4;
        this.data[to] = rgbx[from];
        this.data[to + 1] = rgbx[from + 1];
        this.data[to + 2] = rgbx[from + 2];
        this.data[to + 3] = 255;
      }
    }
  }

  /** CopyRect the obvious way: read the whole source first, then write it. */
  copy(sourceX: number, sourceY: number, x: number, y: number, width: number, height: number): void {
    const temp: number[] = [];
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const from = ((sourceY + row) * this.width + sourceX + col) * 4;
        temp.push(this.data[from], this.data[from + 1], this.data[from + 2], 0);
      }
    }
    this.put(x, y, width, height, Uint8Array.from(temp));
  }
}

function expectPicture(framebuffer: Framebuffer, picture: Picture, what = 'framebuffer'): void {
  const frame = framebuffer.capture();
  expect({ width: frame.width, height: frame.height }, `${what} size`).toEqual({ width: picture.width, height: picture.height });
  if (!frame.data.equals(picture.data)) {
    // Name the first differing pixel rather than dumping two buffers.
    for (let i = 0; i < frame.data.length; i += 4) {
      const got = [...frame.data.subarray(i, i + 4)];
      const want = [...picture.data.subarray(i, i + 4)];
      const pixel = i / 4;
      expect(got, `${what}: pixel (${pixel % picture.width},${Math.floor(pixel / picture.width)}) RGBA`).toEqual(want);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A connected session

const W = 16;
const H = 8;
const BASE = patternPixels(W, H, 3);

type SessionEvent =
  | { type: 'update'; rects: Rect[] }
  | { type: 'resize'; width: number; height: number }
  | { type: 'cursor'; cursor: CursorImage | null }
  | { type: 'bell' }
  | { type: 'clipboard'; text: string }
  | { type: 'closed'; error: VNCError | undefined };

interface Session {
  client: RFBClient;
  transport: FakeTransport;
  events: SessionEvent[];
  /** The screen the client should show, as the spec computes it. */
  picture: Picture;
  /** An exception that escaped the transport's data callback, if any. */
  escaped?: unknown;
  /** Delivers server bytes (in the given pieces) and records anything that escapes. */
  deliver(chunks: readonly Uint8Array[]): void;
  /** Client messages written since the session was set up. */
  messagesSinceSetup(): ReturnType<typeof parseClientMessages>;
}

/** A client that completed its handshake and first frame (`base`, default a W×H pattern). */
async function session(width = W, height = H, base: Uint8Array = width === W && height === H ? BASE : patternPixels(width, height, 3)): Promise<Session> {
  const transport = new FakeTransport();
  const starting = RFBClient.start(transport, { credentials: {}, timeoutMs: 2000 });
  transport.deliver(
    concat(banner('3.8'), securityTypes([1]), securityResult(0), serverInit({ width, height, name: 'fb' }), framebufferUpdate([rawRect(0, 0, width, height, base)])),
  );
  const client = await starting;
  const events: SessionEvent[] = [];
  client.on('update', (rects) => events.push({ type: 'update', rects }));
  client.on('resize', (w, h) => events.push({ type: 'resize', width: w, height: h }));
  client.on('cursor', (cursor) => events.push({ type: 'cursor', cursor }));
  client.on('bell', () => events.push({ type: 'bell' }));
  client.on('clipboard', (text) => events.push({ type: 'clipboard', text }));
  client.on('closed', (error) => events.push({ type: 'closed', error }));
  const setupWrites = transport.written.length;
  const s: Session = {
    client,
    transport,
    events,
    picture: Picture.of(width, height, base),
    deliver(chunks) {
      try {
        transport.deliverChunks(chunks);
      } catch (error) {
        s.escaped = error;
      }
    },
    messagesSinceSetup: () => parseClientMessages(concat(...transport.written.slice(setupWrites))),
  };
  return s;
}

/** Runs `check` on a fresh session fed `bytes`, once per chunking from `chunkings()`. */
async function inEveryChunking(bytes: Uint8Array, check: (s: Session, chunking: string) => void, options: { width?: number; height?: number } = {}): Promise<void> {
  for (const { name, chunks } of chunkings(bytes)) {
    const s = await session(options.width, options.height);
    try {
      s.deliver(chunks);
      expect(s.escaped, 'no exception escapes the transport callback').toBeUndefined();
      check(s, name);
    } catch (error) {
      if (error instanceof Error) error.message = `[chunking: ${name}] ${error.message}`;
      throw error;
    } finally {
      await s.client.close();
    }
  }
}

function updates(s: Session): Rect[][] {
  return s.events.filter((e): e is Extract<SessionEvent, { type: 'update' }> => e.type === 'update').map((e) => e.rects);
}

function requests(s: Session) {
  return s.messagesSinceSetup().filter((m) => m.type === 'FramebufferUpdateRequest');
}

function fullRequest(incremental: boolean, width: number, height: number) {
  return { type: 'FramebufferUpdateRequest', incremental, x: 0, y: 0, width, height };
}

/** The session ended on a VNCProtocolError: one `closed` event, the transport destroyed, no other exception. */
function expectProtocolFailure(s: Session, ...fragments: string[]): VNCProtocolError {
  expect(s.escaped, 'no exception escapes the transport callback').toBeUndefined();
  const closed = s.events.filter((e): e is Extract<SessionEvent, { type: 'closed' }> => e.type === 'closed');
  expect(closed, 'exactly one closed event').toHaveLength(1);
  const error = closed[0].error;
  expect(error).toBeInstanceOf(VNCProtocolError);
  expect(error!.name).toBe('VNCProtocolError');
  expect(error!.code).toBe('EPROTOCOL');
  // Not one of the client's generic wrappers, which mean a TypeError/RangeError escaped a parser.
  expect(error!.message).not.toMatch(/^Failed to handle data/);
  for (const fragment of fragments) expect(error!.message).toContain(fragment);
  expect(s.client.isClosed).toBe(true);
  expect(s.client.closeReason).toBe(error);
  expect(s.transport.destroyed, 'the transport is destroyed').toBe(true);
  return error as VNCProtocolError;
}

// ---------------------------------------------------------------------------------------------
// Raw

test.describe('Raw', () => {
  const cases: Array<{ what: string; rect: Rect }> = [
    { what: 'the whole screen', rect: { x: 0, y: 0, width: W, height: H } },
    { what: 'a 1×1 rectangle', rect: { x: 5, y: 3, width: 1, height: 1 } },
    { what: 'the bottom-right pixel', rect: { x: W - 1, y: H - 1, width: 1, height: 1 } },
    { what: 'a rectangle at the bottom-right corner', rect: { x: W - 3, y: H - 2, width: 3, height: 2 } },
    { what: 'a full-width band', rect: { x: 0, y: 2, width: W, height: 3 } },
    { what: 'a full-height column', rect: { x: 7, y: 0, width: 2, height: H } },
    { what: 'the top-left corner', rect: { x: 0, y: 0, width: 4, height: 3 } },
  ];
  for (const { what, rect } of cases) {
    test(`paints ${what} exactly (RGBA, alpha 255)`, async () => {
      const pixels = patternPixels(rect.width, rect.height, 200);
      const update = framebufferUpdate([rawRect(rect.x, rect.y, rect.width, rect.height, pixels)]);
      await inEveryChunking(update, (s) => {
        s.picture.put(rect.x, rect.y, rect.width, rect.height, pixels);
        expectPicture(s.client.framebuffer, s.picture);
        expect(updates(s)).toEqual([[rect]]);
        expect(requests(s)).toEqual([fullRequest(true, W, H)]);
        expect(s.client.isClosed).toBe(false);
      });
    });
  }

  test('the padding byte of each pixel never shows as alpha', async () => {
    const s = await session();
    const pixels = solidPixels(2, 2, [10, 20, 30]).map((v, i) => (i % 4 === 3 ? 0 : v));
    s.deliver([framebufferUpdate([rawRect(1, 1, 2, 2, pixels)])]);
    const frame = s.client.framebuffer.capture({ x: 1, y: 1, width: 2, height: 2 });
    expect([...frame.data]).toEqual([10, 20, 30, 255, 10, 20, 30, 255, 10, 20, 30, 255, 10, 20, 30, 255]);
    await s.client.close();
  });

  test('empty rectangles (width or height 0) paint nothing and report no damage', async () => {
    const update = framebufferUpdate([rawRect(3, 3, 0, 5, new Uint8Array(0)), rawRect(3, 3, 5, 0, new Uint8Array(0)), rawRect(W, H, 0, 0, new Uint8Array(0))]);
    await inEveryChunking(update, (s) => {
      expectPicture(s.client.framebuffer, s.picture);
      expect(updates(s)).toEqual([[]]);
    });
  });

  test('several rectangles in one update, later ones over earlier ones', async () => {
    const a = solidPixels(6, 4, [255, 0, 0]);
    const b = solidPixels(4, 4, [0, 255, 0]);
    const update = framebufferUpdate([rawRect(2, 2, 6, 4, a), rawRect(5, 3, 4, 4, b)]);
    await inEveryChunking(update, (s) => {
      s.picture.put(2, 2, 6, 4, a);
      s.picture.put(5, 3, 4, 4, b);
      expectPicture(s.client.framebuffer, s.picture);
      expect(updates(s)).toEqual([
        [
          { x: 2, y: 2, width: 6, height: 4 },
          { x: 5, y: 3, width: 4, height: 4 },
        ],
      ]);
    });
  });

  test('ServerMessageParser on its own: a Raw rectangle delivered row by row paints the rows that arrived', () => {
    const framebuffer = new Framebuffer(4, 3);
    const damaged: Rect[] = [];
    let ended = 0;
    const handler = ignoringHandler({ damaged: (rect) => damaged.push(rect), updateEnded: () => ended++ });
    const parser = new ServerMessageParser(framebuffer, handler, {
      advertised: new Set([ENCODING.Cursor, ENCODING.DesktopSize, ENCODING.ExtendedDesktopSize, ENCODING.LastRect]),
      decoders: createDecoders(chooseEncodings()),
    });
    const pixels = patternPixels(4, 3, 9);
    const update = framebufferUpdate([rawRect(0, 0, 4, 3, pixels)]);
    const queue = new ByteQueue();
    const headerBytes = 4 + 12;
    queue.push(update.subarray(0, headerBytes + 16 + 5)); // one row and a bit
    parser.parse(queue);
    const picture = new Picture(4, 3);
    picture.put(0, 0, 4, 1, pixels.subarray(0, 16));
    expectPicture(framebuffer, picture, 'after one row');
    expect(damaged).toEqual([]);
    expect(ended).toBe(0);
    queue.push(update.subarray(headerBytes + 16 + 5));
    parser.parse(queue);
    expectPicture(framebuffer, Picture.of(4, 3, pixels), 'after all rows');
    expect(damaged).toEqual([{ x: 0, y: 0, width: 4, height: 3 }]);
    expect(ended).toBe(1);
    expect(queue.length).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// CopyRect

test.describe('CopyRect', () => {
  const cases: Array<{ what: string; source: [number, number]; target: Rect }> = [
    { what: 'overlapping, moving down and right', source: [1, 1], target: { x: 3, y: 2, width: 9, height: 5 } },
    { what: 'overlapping, moving up and left', source: [4, 3], target: { x: 2, y: 1, width: 9, height: 5 } },
    { what: 'overlapping, moving right on the same rows', source: [0, 2], target: { x: 3, y: 2, width: 12, height: 4 } },
    { what: 'overlapping, moving left on the same rows', source: [4, 1], target: { x: 1, y: 1, width: 12, height: 4 } },
    { what: 'overlapping, moving down by one row', source: [2, 0], target: { x: 2, y: 1, width: 10, height: 7 } },
    { what: 'overlapping, moving up by one row', source: [2, 1], target: { x: 2, y: 0, width: 10, height: 7 } },
    { what: 'overlapping, moving down and left', source: [5, 0], target: { x: 3, y: 2, width: 8, height: 5 } },
    { what: 'overlapping, moving up and right', source: [0, 3], target: { x: 2, y: 1, width: 8, height: 5 } },
    { what: 'onto itself', source: [2, 2], target: { x: 2, y: 2, width: 5, height: 3 } },
    { what: 'apart', source: [0, 0], target: { x: 10, y: 4, width: 6, height: 4 } },
    { what: 'one pixel from the far corner', source: [W - 1, H - 1], target: { x: 0, y: 0, width: 1, height: 1 } },
  ];
  for (const { what, source, target } of cases) {
    test(`${what}: same result as a naive copy through a temporary buffer`, async () => {
      const update = framebufferUpdate([copyRect(target.x, target.y, target.width, target.height, source[0], source[1])]);
      await inEveryChunking(update, (s) => {
        s.picture.copy(source[0], source[1], target.x, target.y, target.width, target.height);
        expectPicture(s.client.framebuffer, s.picture);
        expect(updates(s)).toEqual([[target]]);
      });
    });
  }

  test('Raw then CopyRect of what it painted, in one update', async () => {
    const pixels = patternPixels(3, 3, 77);
    const update = framebufferUpdate([rawRect(0, 0, 3, 3, pixels), copyRect(2, 2, 3, 3, 0, 0), copyRect(4, 4, 3, 3, 2, 2)]);
    await inEveryChunking(update, (s) => {
      s.picture.put(0, 0, 3, 3, pixels);
      s.picture.copy(0, 0, 2, 2, 3, 3);
      s.picture.copy(2, 2, 4, 4, 3, 3);
      expectPicture(s.client.framebuffer, s.picture);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// DesktopSize and ExtendedDesktopSize

test.describe('desktop size changes', () => {
  test('DesktopSize resizes and clears the framebuffer, then a full request for the new size follows', async () => {
    await inEveryChunking(framebufferUpdate([desktopSizeRect(20, 6)]), (s) => {
      expect(s.events.filter((e) => e.type === 'resize')).toEqual([{ type: 'resize', width: 20, height: 6 }]);
      expectPicture(s.client.framebuffer, new Picture(20, 6));
      expect(updates(s)).toEqual([[]]);
      expect(requests(s)).toEqual([fullRequest(false, 20, 6)]);
    });
  });

  test('a resize then pixels in the new area, in one update', async () => {
    const pixels = patternPixels(4, 2, 50);
    const update = framebufferUpdate([desktopSizeRect(24, 12), rawRect(20, 10, 4, 2, pixels)]);
    await inEveryChunking(update, (s) => {
      const picture = new Picture(24, 12);
      picture.put(20, 10, 4, 2, pixels);
      expectPicture(s.client.framebuffer, picture);
      expect(updates(s)).toEqual([[{ x: 20, y: 10, width: 4, height: 2 }]]);
      // The next update after a resize is a full one: the request after this one is not incremental.
      expect(requests(s)).toEqual([fullRequest(false, 24, 12)]);
    });
  });

  test('ExtendedDesktopSize with status 0 resizes (two screens)', async () => {
    const update = framebufferUpdate([
      extendedDesktopSizeRect(32, 10, {
        status: 0,
        screens: [
          { id: 1, x: 0, y: 0, width: 16, height: 10 },
          { id: 2, x: 16, y: 0, width: 16, height: 10 },
        ],
      }),
    ]);
    await inEveryChunking(update, (s) => {
      expect(s.events.filter((e) => e.type === 'resize')).toEqual([{ type: 'resize', width: 32, height: 10 }]);
      expectPicture(s.client.framebuffer, new Picture(32, 10));
      expect(requests(s)).toEqual([fullRequest(false, 32, 10)]);
    });
  });

  for (const status of [1, 2, 3, 4]) {
    test(`ExtendedDesktopSize with status ${status} (a refused request) changes nothing`, async () => {
      await inEveryChunking(framebufferUpdate([extendedDesktopSizeRect(40, 30, { reason: 1, status })]), (s) => {
        expect(s.events.filter((e) => e.type === 'resize')).toEqual([]);
        expectPicture(s.client.framebuffer, s.picture);
        expect(requests(s)).toEqual([fullRequest(true, W, H)]);
      });
    });
  }

  test('the same size again (DesktopSize or ExtendedDesktopSize) neither resizes nor clears', async () => {
    await inEveryChunking(framebufferUpdate([desktopSizeRect(W, H), extendedDesktopSizeRect(W, H), rawRect(0, 0, 1, 1, solidPixels(1, 1, [1, 2, 3]))]), (s) => {
      expect(s.events.filter((e) => e.type === 'resize')).toEqual([]);
      s.picture.put(0, 0, 1, 1, solidPixels(1, 1, [1, 2, 3]));
      expectPicture(s.client.framebuffer, s.picture);
      expect(requests(s)).toEqual([fullRequest(true, W, H)]);
    });
  });

  test('ExtendedDesktopSize with no screens is read correctly', async () => {
    await inEveryChunking(concat(framebufferUpdate([extendedDesktopSizeRect(W, H, { screens: [] })]), bell()), (s) => {
      expect(s.events.map((e) => e.type)).toEqual(['update', 'bell']);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// LastRect

test.describe('LastRect', () => {
  test('ends an update announced with 0xFFFF rectangles', async () => {
    const pixels = patternPixels(2, 2, 1);
    const stream = concat(framebufferUpdate([rawRect(1, 1, 2, 2, pixels), copyRect(4, 4, 2, 2, 1, 1), lastRect()], 0xffff), bell());
    await inEveryChunking(stream, (s) => {
      s.picture.put(1, 1, 2, 2, pixels);
      s.picture.copy(1, 1, 4, 4, 2, 2);
      expectPicture(s.client.framebuffer, s.picture);
      expect(s.events.map((e) => e.type)).toEqual(['update', 'bell']);
      expect(updates(s)).toEqual([
        [
          { x: 1, y: 1, width: 2, height: 2 },
          { x: 4, y: 4, width: 2, height: 2 },
        ],
      ]);
      expect(requests(s)).toEqual([fullRequest(true, W, H)]);
    });
  });

  test('an update made of LastRect alone is an empty update', async () => {
    await inEveryChunking(concat(framebufferUpdate([lastRect()], 0xffff), framebufferUpdate([])), (s) => {
      expect(updates(s)).toEqual([[], []]);
      expect(requests(s)).toHaveLength(2);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Cursor

test.describe('Cursor', () => {
  // 10 pixels wide: the mask has 2 bytes per row; only the top 2 bits of the second byte count.
  const width = 10;
  const height = 3;
  const pixels = patternPixels(width, height, 40);
  const mask = Uint8Array.from([0b10110000, 0b11000000, 0b00000000, 0b01111111, 0b11111111, 0b10111111]);
  const visible = (x: number, y: number) => ((mask[y * 2 + (x >> 3)] >> (7 - (x & 7))) & 1) === 1;

  test('image and mask become RGBA with alpha 0/255 and a hotspot, outside the framebuffer', async () => {
    await inEveryChunking(framebufferUpdate([cursorRect(3, 2, width, height, pixels, mask)]), (s) => {
      const cursor = s.client.cursor!;
      expect(cursor).not.toBeNull();
      expect({ width: cursor.width, height: cursor.height, hotspotX: cursor.hotspotX, hotspotY: cursor.hotspotY }).toEqual({ width, height, hotspotX: 3, hotspotY: 2 });
      const expected: number[] = [];
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = (y * width + x) * 4;
          expected.push(pixels[i], pixels[i + 1], pixels[i + 2], visible(x, y) ? 255 : 0);
        }
      }
      expect([...cursor.data]).toEqual(expected);
      expect(s.events.filter((e) => e.type === 'cursor')).toHaveLength(1);
      // Kept out of the framebuffer: no pixel changed, no damage.
      expectPicture(s.client.framebuffer, s.picture);
      expect(updates(s)).toEqual([[]]);
    });
  });

  test('a 0×0 cursor hides the pointer (null)', async () => {
    const s = await session();
    s.deliver([framebufferUpdate([cursorRect(0, 0, 2, 1, patternPixels(2, 1), Uint8Array.of(0xc0))]), framebufferUpdate([cursorRect(0, 0, 0, 0, new Uint8Array(0), new Uint8Array(0))])]);
    expect(s.events.filter((e) => e.type === 'cursor').map((e) => (e as { cursor: unknown }).cursor === null)).toEqual([false, true]);
    expect(s.client.cursor).toBeNull();
    await s.client.close();
  });

  test('a cursor in the same update as pixels: only the pixels are damage', async () => {
    const a = patternPixels(2, 2, 5);
    const stream = framebufferUpdate([rawRect(0, 0, 2, 2, a), cursorRect(0, 0, width, height, pixels, mask), rawRect(W - 2, H - 2, 2, 2, a)]);
    await inEveryChunking(stream, (s) => {
      s.picture.put(0, 0, 2, 2, a);
      s.picture.put(W - 2, H - 2, 2, 2, a);
      expectPicture(s.client.framebuffer, s.picture);
      expect(updates(s)).toEqual([
        [
          { x: 0, y: 0, width: 2, height: 2 },
          { x: W - 2, y: H - 2, width: 2, height: 2 },
        ],
      ]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Bell, ServerCutText, SetColourMapEntries, several messages

test.describe('other server messages', () => {
  test('Bell emits a bell event', async () => {
    await inEveryChunking(concat(bell(), bell()), (s) => {
      expect(s.events).toEqual([{ type: 'bell' }, { type: 'bell' }]);
    });
  });

  test('ServerCutText is Latin-1: "café"', async () => {
    const message = serverCutText('café');
    expect([...message.subarray(8)]).toEqual([0x63, 0x61, 0x66, 0xe9]);
    await inEveryChunking(message, (s) => {
      expect(s.events).toEqual([{ type: 'clipboard', text: 'café' }]);
      expect(s.client.clipboardText).toBe('café');
    });
  });

  test('ServerCutText: every Latin-1 character, and empty text', async () => {
    const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
    const s = await session();
    s.deliver([concat(serverCutText(all), serverCutText(''))]);
    expect(s.events).toEqual([
      { type: 'clipboard', text: all },
      { type: 'clipboard', text: '' },
    ]);
    await s.client.close();
  });

  test('SetColourMapEntries is consumed without breaking the stream', async () => {
    const stream = concat(
      setColourMapEntries(16, [
        [0xffff, 0, 0],
        [0, 0xffff, 0],
        [0x1234, 0x5678, 0x9abc],
      ]),
      setColourMapEntries(0, []),
      bell(),
      serverCutText('after'),
    );
    await inEveryChunking(stream, (s) => {
      expect(s.events).toEqual([{ type: 'bell' }, { type: 'clipboard', text: 'after' }]);
      expect(s.client.isClosed).toBe(false);
    });
  });

  test('several messages in one chunk are all handled, in order', async () => {
    const pixels = patternPixels(3, 2, 11);
    const stream = concat(bell(), serverCutText('one'), framebufferUpdate([rawRect(1, 1, 3, 2, pixels)]), bell(), framebufferUpdate([copyRect(8, 4, 3, 2, 1, 1)]), serverCutText('two'));
    await inEveryChunking(stream, (s) => {
      expect(s.events.map((e) => e.type)).toEqual(['bell', 'clipboard', 'update', 'bell', 'update', 'clipboard']);
      s.picture.put(1, 1, 3, 2, pixels);
      s.picture.copy(1, 1, 8, 4, 3, 2);
      expectPicture(s.client.framebuffer, s.picture);
      expect(s.client.clipboardText).toBe('two');
      expect(requests(s)).toEqual([fullRequest(true, W, H), fullRequest(true, W, H)]);
      expect(s.client.updateCount).toBe(3);
    });
  });

  test('damage is reported per update: the rectangles of that update, in order', async () => {
    const stream = concat(
      framebufferUpdate([rawRect(0, 0, 1, 1, patternPixels(1, 1)), rawRect(2, 2, 2, 2, patternPixels(2, 2))]),
      framebufferUpdate([copyRect(10, 5, 3, 3, 0, 0)]),
      framebufferUpdate([desktopSizeRect(W, H)]),
      framebufferUpdate([rawRect(W - 1, 0, 1, H, patternPixels(1, H))]),
    );
    await inEveryChunking(stream, (s) => {
      expect(updates(s)).toEqual([
        [
          { x: 0, y: 0, width: 1, height: 1 },
          { x: 2, y: 2, width: 2, height: 2 },
        ],
        [{ x: 10, y: 5, width: 3, height: 3 }],
        [],
        [{ x: W - 1, y: 0, width: 1, height: H }],
      ]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed input

test.describe('malformed input ends the session with VNCProtocolError', () => {
  const cases: Array<{ what: string; bytes: Uint8Array; fragments: string[] }> = [
    { what: 'unknown message type 9', bytes: Uint8Array.of(9, 0, 0, 0), fragments: ['message type 9'] },
    { what: 'unknown message type 255', bytes: Uint8Array.of(255), fragments: ['message type 255'] },
    {
      what: 'a rectangle in an encoding not advertised (15, TRLE)',
      bytes: framebufferUpdate([concat(rectHeader(0, 0, 4, 4, ENCODING.TRLE), Uint8Array.of(1, 0, 0, 0))]),
      fragments: ['encoding 15', 'did not advertise'],
    },
    { what: 'a rectangle in ZYWRLE (17), not advertised', bytes: framebufferUpdate([rectHeader(0, 0, 4, 4, 17)]), fragments: ['encoding 17', 'did not advertise'] },
    { what: 'an unknown pseudo-encoding (-250)', bytes: framebufferUpdate([rectHeader(0, 0, 0, 0, -250)]), fragments: ['encoding -250'] },
    { what: 'a Raw rectangle past the right edge', bytes: framebufferUpdate([rawRect(W - 2, 0, 4, 1, patternPixels(4, 1))]), fragments: ['Raw', 'outside', `${W}x${H}`] },
    { what: 'a Raw rectangle past the bottom edge', bytes: framebufferUpdate([rawRect(0, H - 1, 1, 2, patternPixels(1, 2))]), fragments: ['Raw', 'outside'] },
    { what: 'a Raw rectangle at x = 65535', bytes: framebufferUpdate([rawRect(65535, 0, 1, 1, patternPixels(1, 1))]), fragments: ['outside'] },
    { what: 'a CopyRect target outside', bytes: framebufferUpdate([copyRect(W - 1, 0, 2, 2, 0, 0)]), fragments: ['CopyRect', 'outside'] },
    { what: 'a CopyRect source outside', bytes: framebufferUpdate([copyRect(0, 0, 4, 4, W - 3, 0)]), fragments: ['CopyRect source', 'outside'] },
    { what: 'a CopyRect source below the bottom', bytes: framebufferUpdate([copyRect(0, 0, 2, 2, 0, H - 1)]), fragments: ['CopyRect source'] },
    {
      what: 'ExtendedDesktopSize 20000×20000',
      bytes: framebufferUpdate([extendedDesktopSizeRect(20000, 20000, { screens: [{ id: 0, x: 0, y: 0, width: 20000, height: 20000 }] })]),
      fragments: ['20000x20000', '16384'],
    },
    { what: 'DesktopSize 20000×10', bytes: framebufferUpdate([desktopSizeRect(20000, 10)]), fragments: ['20000x10'] },
    { what: 'a bell then type 9: the bell is reported first', bytes: concat(bell(), Uint8Array.of(9)), fragments: ['message type 9'] },
  ];
  for (const { what, bytes, fragments } of cases) {
    test(what, async () => {
      await inEveryChunking(bytes, (s) => {
        // Synchronously: the failure is known when the bytes are, no waiting involved.
        expectProtocolFailure(s, ...fragments);
        expect(s.events.filter((e) => e.type === 'update')).toEqual([]);
      });
    });
  }

  test('a cursor hotspot outside its image (x11vnc sends (0,2) on 1×2) is kept inside it, not fatal', async () => {
    const s = await session();
    s.deliver([framebufferUpdate([cursorRect(4, 0, 4, 1, patternPixels(4, 1), Uint8Array.of(0xf0))])]);
    expect(s.client.isClosed).toBe(false);
    expect(s.client.cursor).toMatchObject({ width: 4, height: 1, hotspotX: 3, hotspotY: 0 });
  });

  test('a cursor of 1000×1000 is refused on its header, before the image arrives', async () => {
    const s = await session();
    s.deliver([framebufferUpdate([rectHeader(0, 0, 1000, 1000, ENCODING.Cursor)])]);
    expectProtocolFailure(s, '1000x1000', '256');
  });

  test('ServerCutText of 2^31-1 bytes is refused on its header, before the bytes arrive', async () => {
    for (const chunking of chunkings(serverCutTextHeader(2 ** 31 - 1))) {
      const s = await session();
      s.deliver(chunking.chunks);
      const error = expectProtocolFailure(s, String(2 ** 31 - 1), 'limit');
      expect(s.transport.deliveredChunks).toBeGreaterThan(0);
      expect(error.message).toContain(String(16 * 1024 * 1024));
    }
  });

  test('ServerCutText just over the 16 MiB limit is refused on its header; at the limit it is awaited', async () => {
    const over = await session();
    over.deliver([serverCutTextHeader(16 * 1024 * 1024 + 1)]);
    expectProtocolFailure(over, 'clipboard');
    const at = await session();
    at.deliver([serverCutTextHeader(16 * 1024 * 1024)]);
    expect(at.client.isClosed, 'a message at the limit waits for its bytes').toBe(false);
    await at.client.close();
  });

  test('after the failure, input is refused with the same error and nothing more is parsed', async () => {
    const s = await session();
    s.deliver([concat(Uint8Array.of(9), bell())]);
    const error = expectProtocolFailure(s);
    await expect(s.client.sendKey(0x61, true)).rejects.toBe(error);
    expect(s.events.map((e) => e.type)).toEqual(['closed']);
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzz: mutations of a valid recorded session

/** A recorded session that touches every path: handshake with VNC auth, every encoding, every message. */
function recordedSession(): { bytes: Uint8Array; starts: number[] } {
  const fw = 16;
  const fh = 8;
  const extendedCaps = concat(u8(3), padding(3), s32(-8), u32(0x01000001), u32(1024));
  const providePayload = deflateSync(concat(u32(6), Buffer.from('hi\r\nx\0', 'latin1')));
  const extendedProvide = concat(u8(3), padding(3), s32(-(4 + providePayload.length)), u32(0x10000001), providePayload);
  const parts = [
    banner('3.8'),
    securityTypes([2, 1]),
    challenge('00112233445566778899aabbccddeeff'),
    securityResult(0),
    serverInit({ width: fw, height: fh, name: 'fuzz' }),
    framebufferUpdate([rawRect(0, 0, fw, fh, patternPixels(fw, fh, 1))]),
    framebufferUpdate([copyRect(2, 2, 5, 3, 1, 1), rawRect(fw - 1, fh - 1, 1, 1, patternPixels(1, 1))]),
    framebufferUpdate([cursorRect(1, 1, 9, 2, patternPixels(9, 2), Uint8Array.of(0xff, 0x80, 0x7f, 0x00))]),
    bell(),
    serverCutText('café'),
    setColourMapEntries(0, [
      [0xffff, 0, 0],
      [0, 0, 0xffff],
    ]),
    framebufferUpdate([extendedDesktopSizeRect(20, 10, { screens: [{ id: 7, x: 0, y: 0, width: 20, height: 10 }] }), rawRect(16, 8, 4, 2, patternPixels(4, 2))]),
    framebufferUpdate([rawRect(0, 0, 2, 2, patternPixels(2, 2)), lastRect()], 0xffff),
    extendedCaps,
    extendedProvide,
    framebufferUpdate([desktopSizeRect(fw, fh), rawRect(0, 0, fw, fh, patternPixels(fw, fh, 2))]),
    framebufferUpdate([extendedDesktopSizeRect(fw, fh, { status: 1, reason: 1 })]),
  ];
  const starts: number[] = [];
  let at = 0;
  for (const part of parts) {
    starts.push(at);
    at += part.length;
  }
  return { bytes: concat(...parts), starts };
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xfe, 0xff];

/** 1–3 random mutations, half of them near the start of a message (where the lengths and types are). */
function mutate(bytes: Uint8Array, starts: number[], random: () => number): { bytes: Uint8Array; log: string[] } {
  let out = Buffer.from(bytes);
  const log: string[] = [];
  const count = randomInt(random, 1, 3);
  for (let i = 0; i < count; i++) {
    if (out.length === 0) break;
    const near = random() < 0.5 ? Math.min(out.length - 1, starts[randomInt(random, 0, starts.length - 1)] + randomInt(random, 0, 15)) : randomInt(random, 0, out.length - 1);
    const op = randomInt(random, 0, 5);
    switch (op) {
      case 0: {
        const mask = randomInt(random, 1, 255);
        out[near] ^= mask;
        log.push(`xor byte ${near} with ${mask}`);
        break;
      }
      case 1: {
        const value = INTERESTING[randomInt(random, 0, INTERESTING.length - 1)];
        out[near] = value;
        log.push(`set byte ${near} to ${value}`);
        break;
      }
      case 2:
        out = out.subarray(0, near);
        log.push(`truncate at ${near}`);
        break;
      case 3: {
        const inserted = Buffer.from(Array.from({ length: randomInt(random, 1, 8) }, () => randomInt(random, 0, 255)));
        out = Buffer.concat([out.subarray(0, near), inserted, out.subarray(near)]);
        log.push(`insert ${inserted.toString('hex')} at ${near}`);
        break;
      }
      case 4: {
        const length = randomInt(random, 1, 8);
        out = Buffer.concat([out.subarray(0, near), out.subarray(near + length)]);
        log.push(`delete ${length} at ${near}`);
        break;
      }
      default: {
        const length = randomInt(random, 1, 24);
        const slice = out.subarray(near, near + length);
        out = Buffer.concat([out.subarray(0, near), slice, out.subarray(near)]);
        log.push(`duplicate ${slice.length} at ${near}`);
      }
    }
  }
  return { bytes: new Uint8Array(out), log };
}

interface FuzzResult {
  outcome: string;
  problem?: string;
}

/** Feeds one input, then closes from the server side: the run must end, with a VNCError. */
async function fuzzRun(input: Uint8Array, chunkSeed: number): Promise<FuzzResult> {
  const transport = new FakeTransport();
  const starting = RFBClient.start(transport, { credentials: { password: 'secret12' }, timeoutMs: 1000 });
  let escaped: unknown;
  try {
    transport.deliverChunks(randomSplit(input, chunkSeed));
    transport.serverClose();
  } catch (error) {
    escaped = error;
  }
  if (escaped !== undefined) return { outcome: 'escaped', problem: `exception escaped the transport callback: ${String(escaped)}` };
  let client: RFBClient | undefined;
  let error: unknown;
  try {
    client = await starting;
  } catch (caught) {
    error = caught;
  }
  if (client) {
    // The server closed: the session must have ended, with a VNCError (protocol or connection).
    if (!client.isClosed) return { outcome: 'hang', problem: 'the client did not notice the close' };
    error = client.closeReason;
  }
  if (!(error instanceof VNCError)) return { outcome: 'wrong type', problem: `ended with ${String(error)} (${(error as Error)?.constructor?.name})` };
  // The generic wrappers mean a non-VNC exception (TypeError, RangeError, …) escaped a parser.
  if (/^Handshake with .* failed: |^Failed to handle data from /.test(error.message)) return { outcome: 'masked crash', problem: error.message };
  if (error.code === 'ETIMEOUT') return { outcome: 'hang', problem: error.message };
  return { outcome: `${client ? 'connected, then ' : ''}${error.name}` };
}

test.describe('fuzz', () => {
  test('the recorded session itself runs clean in random chunkings', async () => {
    const { bytes } = recordedSession();
    for (let seed = 1; seed <= 20; seed++) {
      const transport = new FakeTransport();
      const starting = RFBClient.start(transport, { credentials: { password: 'secret12' }, timeoutMs: 1000 });
      transport.deliverChunks(randomSplit(bytes, seed));
      const client = await starting;
      expect(client.isClosed, `seed ${seed}: ${String(client.closeReason)}`).toBe(false);
      expect(client.updateCount).toBe(7);
      expect(client.framebuffer.width).toBe(16);
      expect(client.clipboardText).toBe('hi\nx');
      expect(client.extendedClipboard).toBe(true);
      await client.close();
    }
  });

  test('2,000 mutated sessions in random chunkings end with success or a VNCError, never anything else', async () => {
    test.setTimeout(120_000);
    const ITERATIONS = 2000;
    const BUDGET_MS = 60_000;
    const { bytes, starts } = recordedSession();
    const random = prng(0xf022);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    const outcomes = new Map<string, number>();
    const problems: string[] = [];
    const began = Date.now();
    let tried = 0;
    try {
      for (let i = 0; i < ITERATIONS && Date.now() - began < BUDGET_MS; i++) {
        const { bytes: input, log } = mutate(bytes, starts, random);
        const chunkSeed = randomInt(random, 1, 0x7fffffff);
        const result = await fuzzRun(input, chunkSeed);
        tried++;
        outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1);
        if (result.problem && problems.length < 10) problems.push(`#${i} [${log.join('; ')}] chunk seed ${chunkSeed}: ${result.problem}`);
      }
      // Let any stray rejection or exception surface before judging.
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    }
    console.log(`fuzz: ${tried} inputs tried in ${Date.now() - began} ms; outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(problems, problems.join('\n')).toEqual([]);
    expect(uncaught.map(String)).toEqual([]);
    expect(tried).toBeGreaterThanOrEqual(ITERATIONS / 4);
  });
});

test('a server close after the first frame ends the session with VNCConnectionError (ECLOSED)', async () => {
  const s = await session();
  s.transport.serverClose();
  const closed = s.events.find((e) => e.type === 'closed') as { error?: VNCError } | undefined;
  expect(closed?.error).toBeInstanceOf(VNCConnectionError);
  expect(closed?.error?.code).toBe('ECLOSED');
  expect(s.client.isClosed).toBe(true);
});
