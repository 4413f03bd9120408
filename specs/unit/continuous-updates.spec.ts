/**
 * Fence and continuous updates (rfbproto "Fence" -312, "ContinuousUpdates" -313; server messages
 * 248 ServerFence and 150 EndOfContinuousUpdates, client messages 248 ClientFence and 150
 * EnableContinuousUpdates) through RFBClient over a FakeTransport, every scenario in every
 * chunking: what the client writes, byte for byte, and when it stops asking for updates.
 *
 * The server's side as TigerVNC's Xvnc plays it: on SetEncodings with both pseudo-encodings it
 * sends a fence request (flags Request, payload one byte 0) and an EndOfContinuousUpdates; it
 * answers EnableContinuousUpdates(enable=0) with another EndOfContinuousUpdates.
 */
import { expect, test } from '@playwright/test';

import { VNCError, VNCProtocolError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { RFBClient } from '../../src/rfb/client.js';
import { chooseEncodings, createDecoders } from '../../src/rfb/encodings/index.js';
import { Framebuffer } from '../../src/rfb/framebuffer.js';
import { ServerMessageParser, type ServerMessageHandler } from '../../src/rfb/server-messages.js';
import {
  ENCODING,
  ENCODING_CONTINUOUS_UPDATES,
  ENCODING_FENCE,
  FENCE,
  FakeTransport,
  type ExtendedClientMessage,
  banner,
  bell,
  chunkings,
  concat,
  copyRect,
  desktopSizeRect,
  endOfContinuousUpdates,
  extendedDesktopSizeRect,
  framebufferUpdate,
  hex,
  parseClientMessagesExtended,
  patternPixels,
  rawRect,
  securityResult,
  securityTypes,
  serverCutText,
  serverFence,
  serverInit,
  solidPixels,
} from '../support/rfb-bytes.js';
import { ignoringHandler } from '../support/parser-handler.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

const W = 16;
const H = 8;
const HANDSHAKE = concat(banner('3.8'), securityTypes([1]), securityResult(0), serverInit({ width: W, height: H, name: 'cu' }));
/** What the client writes up to and including ClientInit: version, security type None, shared. */
const HANDSHAKE_WRITES = 12 + 1 + 1;
/**
 * A first frame that paints every pixel in few bytes (a CopyRect of the screen onto itself): the
 * streams stay short enough to be split at every byte.
 */
const FIRST_FRAME = framebufferUpdate([copyRect(0, 0, W, H, 0, 0)]);
const SMALL_UPDATE = framebufferUpdate([rawRect(1, 1, 2, 2, solidPixels(2, 2, [9, 8, 7]))]);
/** What Xvnc sends right after SetEncodings: a fence request with a one-byte payload, then EndOfContinuousUpdates. */
const XVNC_OFFER = concat(serverFence(FENCE.Request, Uint8Array.of(0)), endOfContinuousUpdates());

const PIXEL_FORMAT_MESSAGE: ExtendedClientMessage = {
  type: 'SetPixelFormat',
  format: { bitsPerPixel: 32, depth: 24, bigEndian: false, trueColour: true, redMax: 255, greenMax: 255, blueMax: 255, redShift: 0, greenShift: 8, blueShift: 16 },
};
const PIXEL_ENCODINGS = [ENCODING.CopyRect, ENCODING.Tight, ENCODING.TightPNG, ENCODING.ZRLE, ENCODING.Hextile, ENCODING.Zlib, ENCODING.RRE, ENCODING.Raw];
const OLD_PSEUDO = [ENCODING.Cursor, ENCODING.DesktopSize, ENCODING.ExtendedDesktopSize, ENCODING.LastRect, ENCODING.ExtendedClipboard, ENCODING.DesktopName];

function request(incremental: boolean, width = W, height = H): ExtendedClientMessage {
  return { type: 'FramebufferUpdateRequest', incremental, x: 0, y: 0, width, height };
}

function enable(width = W, height = H): ExtendedClientMessage {
  return { type: 'EnableContinuousUpdates', enable: true, x: 0, y: 0, width, height };
}

function fenceAnswer(flags: number, payload: number[]): ExtendedClientMessage {
  return { type: 'ClientFence', flags, payload: Uint8Array.from(payload) };
}

/** What every client sends after ClientInit, continuous updates offered. */
const SETUP: ExtendedClientMessage[] = [
  PIXEL_FORMAT_MESSAGE,
  { type: 'SetEncodings', encodings: [...PIXEL_ENCODINGS, ...OLD_PSEUDO, ENCODING_FENCE, ENCODING_CONTINUOUS_UPDATES] },
  request(false),
];

// ---------------------------------------------------------------------------------------------
// Running a scenario

interface Run {
  transport: FakeTransport;
  client?: RFBClient;
  error?: unknown;
  escaped?: unknown;
  closed: Array<VNCError | undefined>;
}

/** Starts a client, delivers the handshake and `server` as `chunks` cut them, and waits for start(). */
async function run(chunks: readonly Uint8Array[], options: { continuousUpdates?: boolean } = {}): Promise<Run> {
  const transport = new FakeTransport();
  const starting = RFBClient.start(transport, { credentials: {}, timeoutMs: 1000, ...options });
  const result: Run = { transport, closed: [] };
  try {
    transport.deliverChunks(chunks);
  } catch (error) {
    result.escaped = error;
  }
  try {
    result.client = await starting;
    result.client.on('closed', (error) => result.closed.push(error));
  } catch (error) {
    result.error = error;
  }
  return result;
}

/** Client messages written after ClientInit. */
function written(r: Run): ExtendedClientMessage[] {
  return parseClientMessagesExtended(r.transport.writtenBytes.subarray(HANDSHAKE_WRITES));
}

/**
 * Runs the handshake plus `server` in every chunking of the whole stream, checks each with
 * `check`, and checks that every chunking leaves the client having written the same bytes.
 */
async function inEveryChunking(server: Uint8Array, check: (r: Run) => void | Promise<void>, options: { continuousUpdates?: boolean } = {}): Promise<number> {
  let reference: string | undefined;
  let runs = 0;
  for (const { name, chunks } of chunkings(concat(HANDSHAKE, server), { maxSplitLength: 4096 })) {
    const r = await run(chunks, options);
    try {
      expect(r.escaped, 'no exception escapes the transport callback').toBeUndefined();
      await check(r);
      const bytes = hex(r.transport.writtenBytes);
      if (reference === undefined) reference = bytes;
      else expect(bytes, 'the client writes the same bytes in every chunking').toBe(reference);
    } catch (error) {
      if (error instanceof Error) error.message = `[chunking: ${name}] ${error.message}`;
      throw error;
    } finally {
      await r.client?.close();
    }
    runs++;
  }
  return runs;
}

function connected(r: Run): RFBClient {
  if (r.error) throw r.error;
  expect(r.client!.isClosed, String(r.client!.closeReason)).toBe(false);
  return r.client!;
}

/** The session ended on a VNCProtocolError (during start or after it). */
function protocolError(r: Run, ...fragments: string[]): VNCProtocolError {
  const error = r.error ?? r.client?.closeReason;
  expect(error).toBeInstanceOf(VNCProtocolError);
  const message = (error as Error).message;
  expect(message).not.toMatch(/^Failed to handle data|^Handshake with/);
  for (const fragment of fragments) expect(message).toContain(fragment);
  expect(r.transport.destroyed, 'the transport is destroyed').toBe(true);
  return error as VNCProtocolError;
}

// ---------------------------------------------------------------------------------------------
// Advertising

test.describe('SetEncodings', () => {
  test('offers Fence (-312) and ContinuousUpdates (-313) after the other pseudo-encodings', async () => {
    const r = await run([concat(HANDSHAKE, FIRST_FRAME)]);
    connected(r);
    expect(written(r)).toEqual([...SETUP, request(true)]);
    await r.client!.close();
  });

  test('continuousUpdates: false offers neither (the list of before)', async () => {
    const r = await run([concat(HANDSHAKE, FIRST_FRAME)], { continuousUpdates: false });
    connected(r);
    expect(written(r)).toEqual([PIXEL_FORMAT_MESSAGE, { type: 'SetEncodings', encodings: [...PIXEL_ENCODINGS, ...OLD_PSEUDO] }, request(false), request(true)]);
    await r.client!.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Fences

test.describe('ServerFence', () => {
  test("Xvnc's first fence (Request, payload 00) is answered at once: f8 000000 00000000 01 00", async () => {
    // Before the first frame: start() has not resolved yet, the answer is already written.
    await inEveryChunking(concat(serverFence(FENCE.Request, Uint8Array.of(0)), FIRST_FRAME), (r) => {
      connected(r);
      const bytes = hex(r.transport.writtenBytes.subarray(HANDSHAKE_WRITES));
      const setup = written(r).slice(0, 3);
      expect(setup).toEqual(SETUP);
      // SetPixelFormat 20 bytes, SetEncodings 4 + 4 × its encodings, the request 10: then the answer, then the next request.
      const encodingCount = PIXEL_ENCODINGS.length + OLD_PSEUDO.length + 2;
      const answerAt = 2 * (20 + 4 + 4 * encodingCount + 10);
      expect(bytes.slice(answerAt, answerAt + 20)).toBe('f8000000' + '00000000' + '01' + '00');
      expect(written(r).slice(3)).toEqual([fenceAnswer(0, [0]), request(true)]);
      expect(r.client!.continuousUpdates).toBe(false);
    });
  });

  test('the answer keeps the payload and BlockBefore/BlockAfter; Request, SyncNext and unknown bits are cleared', async () => {
    const payload = Uint8Array.from({ length: 13 }, (_, i) => 0xa0 + i);
    const flags = FENCE.Request | FENCE.BlockBefore | FENCE.BlockAfter | FENCE.SyncNext | (1 << 3) | (1 << 30);
    await inEveryChunking(concat(FIRST_FRAME, serverFence(flags, payload)), (r) => {
      connected(r);
      const all = hex(r.transport.writtenBytes);
      expect(all.endsWith('f8000000' + '00000003' + '0d' + hex(payload)), all.slice(-60)).toBe(true);
      expect(written(r).slice(3)).toEqual([request(true), fenceAnswer(FENCE.BlockBefore | FENCE.BlockAfter, [...payload])]);
    });
  });

  for (const [what, flags, answer] of [
    ['Request alone', FENCE.Request, 0],
    ['Request | BlockBefore (TigerVNC’s round-trip ping)', FENCE.Request | FENCE.BlockBefore, FENCE.BlockBefore],
    ['Request | BlockAfter', FENCE.Request | FENCE.BlockAfter, FENCE.BlockAfter],
    ['Request | SyncNext', FENCE.Request | FENCE.SyncNext, 0],
  ] as const) {
    test(`${what} → answer flags ${answer}`, async () => {
      const r = await run([concat(HANDSHAKE, FIRST_FRAME, serverFence(flags, Uint8Array.of(1, 2, 3)))]);
      connected(r);
      expect(written(r).slice(4)).toEqual([fenceAnswer(answer, [1, 2, 3])]);
      await r.client!.close();
    });
  }

  test('empty and 64-byte payloads are answered with the same payload', async () => {
    const full = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
    await inEveryChunking(concat(FIRST_FRAME, serverFence(FENCE.Request), serverFence(FENCE.Request | FENCE.BlockBefore, full), bell()), (r) => {
      connected(r);
      expect(written(r).slice(4)).toEqual([fenceAnswer(0, []), fenceAnswer(FENCE.BlockBefore, [...full])]);
      expect(hex(r.transport.writtenBytes).slice(-2 * (9 + 64), -2 * 64)).toBe('f8000000' + '00000001' + '40');
    });
  });

  test('a fence without Request (an answer to a request never made) is consumed and not answered', async () => {
    await inEveryChunking(concat(FIRST_FRAME, serverFence(FENCE.BlockBefore, Uint8Array.of(5)), SMALL_UPDATE), (r) => {
      const client = connected(r);
      expect(written(r).slice(3)).toEqual([request(true), request(true)]);
      expect(client.updateCount).toBe(2);
    });
  });

  test('fences between updates, in any order with other messages, are answered in order', async () => {
    const stream = concat(
      FIRST_FRAME,
      serverFence(FENCE.Request, Uint8Array.of(1)),
      bell(),
      serverFence(FENCE.Request | FENCE.BlockBefore, Uint8Array.of(2, 2)),
      SMALL_UPDATE,
      serverCutText('x'),
      serverFence(FENCE.Request | FENCE.BlockAfter, Uint8Array.of(3, 3, 3)),
    );
    await inEveryChunking(stream, (r) => {
      const client = connected(r);
      expect(written(r).slice(3)).toEqual([request(true), fenceAnswer(0, [1]), fenceAnswer(FENCE.BlockBefore, [2, 2]), request(true), fenceAnswer(FENCE.BlockAfter, [3, 3, 3])]);
      expect(client.clipboardText).toBe('x');
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Continuous updates

test.describe('EndOfContinuousUpdates and EnableContinuousUpdates', () => {
  test('the first EndOfContinuousUpdates enables them for the whole screen: 96 01 0000 0000 0010 0008', async () => {
    await inEveryChunking(concat(XVNC_OFFER, FIRST_FRAME), (r) => {
      const client = connected(r);
      expect(client.continuousUpdates).toBe(true);
      // The answer to the fence, then the enable; the first frame is followed by no request.
      expect(written(r)).toEqual([...SETUP, fenceAnswer(0, [0]), enable()]);
      expect(hex(r.transport.writtenBytes).slice(-20)).toBe('96' + '01' + '0000' + '0000' + '0010' + '0008');
    });
  });

  test('once enabled, no request follows an update (the server streams)', async () => {
    const stream = concat(XVNC_OFFER, FIRST_FRAME, SMALL_UPDATE, framebufferUpdate([]), bell(), SMALL_UPDATE, framebufferUpdate([copyRect(0, 0, W, 4, 0, 4)]));
    await inEveryChunking(stream, (r) => {
      const client = connected(r);
      expect(client.updateCount).toBe(5);
      expect(client.continuousUpdates).toBe(true);
      expect(written(r)).toEqual([...SETUP, fenceAnswer(0, [0]), enable()]);
    });
  });

  test('EndOfContinuousUpdates after the first frame: requests stop from then on', async () => {
    const stream = concat(FIRST_FRAME, SMALL_UPDATE, endOfContinuousUpdates(), SMALL_UPDATE, SMALL_UPDATE);
    await inEveryChunking(stream, (r) => {
      const client = connected(r);
      expect(client.updateCount).toBe(4);
      expect(written(r)).toEqual([...SETUP, request(true), request(true), enable()]);
    });
  });

  test('without EndOfContinuousUpdates every update is followed by an incremental request, as before', async () => {
    // A fence alone (a server with fences but without continuous updates) changes nothing either.
    const stream = concat(serverFence(FENCE.Request, Uint8Array.of(0)), FIRST_FRAME, SMALL_UPDATE, framebufferUpdate([]), SMALL_UPDATE);
    await inEveryChunking(stream, (r) => {
      const client = connected(r);
      expect(client.continuousUpdates).toBe(false);
      expect(written(r)).toEqual([...SETUP, fenceAnswer(0, [0]), request(true), request(true), request(true), request(true)]);
    });
  });

  test('a desktop size change re-enables them for the new size at once, then asks for the whole new screen', async () => {
    const resized = framebufferUpdate([desktopSizeRect(24, 12)]);
    const stream = concat(XVNC_OFFER, FIRST_FRAME, resized, framebufferUpdate([copyRect(0, 0, 24, 12, 0, 0)]), SMALL_UPDATE);
    await inEveryChunking(stream, (r) => {
      const client = connected(r);
      expect([client.framebuffer.width, client.framebuffer.height]).toEqual([24, 12]);
      expect(client.continuousUpdates).toBe(true);
      expect(written(r)).toEqual([...SETUP, fenceAnswer(0, [0]), enable(), enable(24, 12), request(false, 24, 12)]);
    });
  });

  test('ExtendedDesktopSize: a new size re-enables for it; the same size again (Xvnc sends it on every full request) does not', async () => {
    const stream = concat(
      XVNC_OFFER,
      framebufferUpdate([extendedDesktopSizeRect(W, H), copyRect(0, 0, W, H, 0, 0)]),
      framebufferUpdate([extendedDesktopSizeRect(10, 6)]),
      framebufferUpdate([extendedDesktopSizeRect(10, 6), rawRect(0, 0, 2, 1, patternPixels(2, 1))]),
      // A refused request of this client's (status 3) changes nothing.
      framebufferUpdate([extendedDesktopSizeRect(40, 40, { reason: 1, status: 3 })]),
    );
    await inEveryChunking(stream, (r) => {
      const client = connected(r);
      expect([client.framebuffer.width, client.framebuffer.height]).toEqual([10, 6]);
      expect(written(r)).toEqual([...SETUP, fenceAnswer(0, [0]), enable(), enable(10, 6), request(false, 10, 6)]);
    });
  });

  test('a later EndOfContinuousUpdates (the server stopped them) brings requests back, at once and after each update; never re-enabled', async () => {
    const stream = concat(XVNC_OFFER, FIRST_FRAME, SMALL_UPDATE, endOfContinuousUpdates(), SMALL_UPDATE, endOfContinuousUpdates(), SMALL_UPDATE);
    await inEveryChunking(stream, (r) => {
      const client = connected(r);
      expect(client.continuousUpdates).toBe(false);
      expect(client.updateCount).toBe(4);
      expect(written(r)).toEqual([...SETUP, fenceAnswer(0, [0]), enable(), request(true), request(true), request(true)]);
    });
  });

  test('a server that answers the enable with EndOfContinuousUpdates ends up asking per update, without a loop', async () => {
    const stream = concat(endOfContinuousUpdates(), endOfContinuousUpdates(), FIRST_FRAME, SMALL_UPDATE);
    await inEveryChunking(stream, (r) => {
      const client = connected(r);
      expect(client.continuousUpdates).toBe(false);
      expect(written(r)).toEqual([...SETUP, enable(), request(true), request(true), request(true)]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// refresh() while streaming

test.describe('refresh() with continuous updates on', () => {
  test('sends a non-incremental request and resolves once updates repainted every pixel; no incremental requests follow', async () => {
    for (const split of [false, true]) {
      const r = await run([concat(HANDSHAKE, XVNC_OFFER, FIRST_FRAME)]);
      const client = connected(r);
      expect(client.continuousUpdates).toBe(true);
      const before = written(r).length;
      let settled = false;
      const refreshing = client.refresh(1000).then(() => (settled = true));
      expect(written(r).slice(before)).toEqual([request(false)]);
      // A streamed update of a corner does not finish it.
      r.transport.deliver(SMALL_UPDATE, split ? 'bytewise' : 'whole');
      // Xvnc answers a full request with an ExtendedDesktopSize of the same size and the pixels, here in two updates.
      r.transport.deliver(framebufferUpdate([extendedDesktopSizeRect(W, H), rawRect(0, 0, W, H / 2, patternPixels(W, H / 2, 1))]), split ? 'random' : 'whole');
      await Promise.resolve();
      expect(settled).toBe(false);
      r.transport.deliver(framebufferUpdate([rawRect(0, H / 2, W, H / 2, patternPixels(W, H / 2, 2))]), split ? 'bytewise' : 'whole');
      await refreshing;
      expect(settled).toBe(true);
      expect(written(r).slice(before)).toEqual([request(false)]);
      await client.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Protocol errors

test.describe('malformed or unexpected messages end the session with VNCProtocolError', () => {
  test('a Fence when Fence was not advertised (continuousUpdates: false)', async () => {
    await inEveryChunking(
      concat(FIRST_FRAME, serverFence(FENCE.Request, Uint8Array.of(0))),
      (r) => {
        protocolError(r, 'message type 248');
        expect(written(r).filter((m) => m.type === 'ClientFence')).toEqual([]);
      },
      { continuousUpdates: false },
    );
  });

  test('an EndOfContinuousUpdates when ContinuousUpdates was not advertised', async () => {
    await inEveryChunking(
      concat(FIRST_FRAME, endOfContinuousUpdates()),
      (r) => {
        protocolError(r, 'message type 150');
        expect(written(r).filter((m) => m.type === 'EnableContinuousUpdates')).toEqual([]);
      },
      { continuousUpdates: false },
    );
  });

  for (const length of [65, 128, 255]) {
    test(`a Fence payload of ${length} bytes is refused on its header, before the payload arrives`, async () => {
      // Only the 9-byte header: the error must not wait for bytes that may never come.
      await inEveryChunking(concat(FIRST_FRAME, serverFence(FENCE.Request, new Uint8Array(0), { length })), (r) => {
        protocolError(r, `${length}-byte payload`, '64');
        expect(written(r).filter((m) => m.type === 'ClientFence')).toEqual([]);
      });
    });
  }

  test('before the first frame, a bad fence fails start() itself', async () => {
    const r = await run([concat(HANDSHAKE, serverFence(FENCE.Request, new Uint8Array(0), { length: 65 }))]);
    expect(r.client).toBeUndefined();
    protocolError(r, '65-byte payload');
  });
});

// ---------------------------------------------------------------------------------------------
// The parser on its own

test.describe('ServerMessageParser', () => {
  const handlerBase = ignoringHandler();
  const stream = concat(
    endOfContinuousUpdates(),
    serverFence(FENCE.Request | FENCE.BlockBefore, Uint8Array.of(7, 7)),
    bell(),
    serverFence(0, new Uint8Array(64).fill(9)),
    framebufferUpdate([rawRect(0, 0, 2, 2, patternPixels(2, 2))]),
    endOfContinuousUpdates(),
    serverFence(FENCE.Request),
  );

  function parser(events: string[], advertised: number[], withCallbacks = true): { parser: ServerMessageParser; queue: ByteQueue } {
    const handler: ServerMessageHandler = {
      ...handlerBase,
      bell: () => events.push('bell'),
      updateEnded: () => events.push('update'),
      ...(withCallbacks
        ? {
            fence: (flags: number, payload: Uint8Array) => events.push(`fence ${flags >>> 0} ${hex(payload)}`),
            endOfContinuousUpdates: () => events.push('end'),
          }
        : {}),
    };
    return {
      parser: new ServerMessageParser(new Framebuffer(4, 4), handler, { advertised: new Set(advertised), decoders: createDecoders(chooseEncodings()) }),
      queue: new ByteQueue(),
    };
  }

  test('types 150 and 248 are parsed in every chunking, in order with the rest', async () => {
    for (const { name, chunks } of chunkings(stream, { maxSplitLength: 4096 })) {
      const events: string[] = [];
      const p = parser(events, [ENCODING_FENCE, ENCODING_CONTINUOUS_UPDATES]);
      for (const chunk of chunks) {
        p.queue.push(chunk);
        p.parser.parse(p.queue);
      }
      expect(events, name).toEqual(['end', `fence ${(FENCE.Request | FENCE.BlockBefore) >>> 0} 0707`, 'bell', `fence 0 ${'09'.repeat(64)}`, 'update', 'end', `fence ${FENCE.Request} `]);
      expect(p.queue.length, name).toBe(0);
    }
  });

  test('a handler without the optional callbacks consumes both silently', () => {
    const events: string[] = [];
    const p = parser(events, [ENCODING_FENCE, ENCODING_CONTINUOUS_UPDATES], false);
    p.queue.push(stream);
    p.parser.parse(p.queue);
    expect(events).toEqual(['bell', 'update']);
    expect(p.queue.length).toBe(0);
  });

  test('each needs its own pseudo-encoding advertised', () => {
    const onlyFence = parser([], [ENCODING_FENCE]);
    onlyFence.queue.push(endOfContinuousUpdates());
    expect(() => onlyFence.parser.parse(onlyFence.queue)).toThrow(/message type 150.*expected 0–3, 248\)/);
    const onlyCU = parser([], [ENCODING_CONTINUOUS_UPDATES]);
    onlyCU.queue.push(serverFence(FENCE.Request));
    expect(() => onlyCU.parser.parse(onlyCU.queue)).toThrow(/message type 248.*expected 0–3, 150\)/);
    const neither = parser([], []);
    neither.queue.push(Uint8Array.of(248));
    expect(() => neither.parser.parse(neither.queue)).toThrow(VNCProtocolError);
  });
});
