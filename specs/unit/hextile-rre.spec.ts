/**
 * RRE (encoding 2) and Hextile (encoding 5): hand-built rectangles for every subencoding, every
 * way the bytes can be chunked, edge tiles of every width, colours that carry from tile to tile,
 * malformed input (a VNCProtocolError naming the encoding and the rectangle), seeded round trips
 * through encoders written here from rfbproto, and real sessions recorded from Xvnc and QEMU
 * (specs/data/recordings) replayed through RFBClient in random chunkings.
 *
 * The expected pictures come from naive models of the two encodings (below), written from the
 * specification independently of src/rfb/encodings.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { expect, test } from '@playwright/test';
import pngjs from 'pngjs';

import { VNCProtocolError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { RFBClient } from '../../src/rfb/client.js';
import { chooseEncodings, createDecoders, PIXEL_ENCODINGS } from '../../src/rfb/encodings/index.js';
import { Framebuffer, type Rect } from '../../src/rfb/framebuffer.js';
import { ServerMessageParser } from '../../src/rfb/server-messages.js';
import {
  ENCODING,
  FakeTransport,
  HEXTILE,
  chunkings,
  concat,
  framebufferUpdate,
  hextileRect,
  hextileTile,
  patternPixels,
  prng,
  randomInt,
  randomSplit,
  rectHeader,
  rreRect,
  u32,
  u8,
  wirePixel,
  type HextileSubrect,
  type HextileTile,
  type RGB,
  type RRESubrect,
  recordingChunks,
} from '../support/rfb-bytes.js';
import { analyseSession, readRecording, RECORDINGS_DIR, splitHandshake } from '../support/record-session.js';
import { ignoringHandler } from '../support/parser-handler.js';

const { PNG } = pngjs;

// ---------------------------------------------------------------------------------------------
// A naive model of the screen (RGBA, alpha 255) and of what RRE and Hextile paint

class Picture {
  readonly data: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
    rgbx?: Uint8Array,
  ) {
    this.data = Buffer.alloc(width * height * 4);
    if (rgbx) this.put(0, 0, width, height, rgbx);
  }

  clone(): Picture {
    const copy = new Picture(this.width, this.height);
    this.data.copy(copy.data);
    return copy;
  }

  set(x: number, y: number, [r, g, b]: RGB): void {
    const i = (y * this.width + x) * 4;
    this.data[i] = r;
    this.data[i + 1] = g;
    this.data[i + 2] = b;
    this.data[i + 3] = 255;
  }

  fill(x: number, y: number, width: number, height: number, colour: RGB): void {
    for (let row = 0; row < height; row++) for (let col = 0; col < width; col++) this.set(x + col, y + row, colour);
  }

  put(x: number, y: number, width: number, height: number, rgbx: Uint8Array): void {
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const i = (row * width + col) * 4;
        this.set(x + col, y + row, [rgbx[i], rgbx[i + 1], rgbx[i + 2]]);
      }
    }
  }
}

function paintRRE(picture: Picture, x: number, y: number, width: number, height: number, background: RGB, subrects: readonly RRESubrect[]): void {
  picture.fill(x, y, width, height, background);
  for (const s of subrects) picture.fill(x + s.x, y + s.y, s.width, s.height, s.colour);
}

/**
 * Hextile as rfbproto describes it: tiles left to right, top to bottom; a tile without a
 * background or foreground keeps the previous tile's (a raw tile changes neither).
 */
function paintHextile(picture: Picture, x: number, y: number, width: number, height: number, tiles: readonly HextileTile[]): void {
  let background: RGB | undefined;
  let foreground: RGB | undefined;
  let index = 0;
  for (let tileY = 0; tileY < height; tileY += 16) {
    for (let tileX = 0; tileX < width; tileX += 16) {
      const tile = tiles[index++];
      const w = Math.min(16, width - tileX);
      const h = Math.min(16, height - tileY);
      if ('raw' in tile) {
        picture.put(x + tileX, y + tileY, w, h, tile.raw);
        continue;
      }
      background = tile.background ?? background;
      foreground = tile.foreground ?? foreground;
      picture.fill(x + tileX, y + tileY, w, h, background!);
      for (const s of tile.subrects ?? []) picture.fill(x + tileX + s.x, y + tileY + s.y, s.width, s.height, s.colour ?? foreground!);
    }
  }
  expect(index, 'the fixture has one tile per 16×16 cell').toBe(tiles.length);
}

// ---------------------------------------------------------------------------------------------
// The parser on its own: a framebuffer, a queue, and what it reported

interface Screen {
  framebuffer: Framebuffer;
  queue: ByteQueue;
  damaged: Rect[];
  updates: number;
  /** Pushes each chunk and parses; errors propagate. */
  feed(chunks: readonly Uint8Array[]): void;
}

function screen(width: number, height: number, base: Uint8Array = patternPixels(width, height, 5)): Screen {
  const framebuffer = new Framebuffer(width, height);
  framebuffer.putRows(0, 0, width, height, base);
  const s: Screen = {
    framebuffer,
    queue: new ByteQueue(),
    damaged: [],
    updates: 0,
    feed(chunks) {
      for (const chunk of chunks) {
        s.queue.push(chunk);
        parser.parse(s.queue);
      }
    },
  };
  const handler = ignoringHandler({ damaged: (rect) => s.damaged.push(rect), updateEnded: () => s.updates++ });
  const parser = new ServerMessageParser(framebuffer, handler, { advertised: new Set(), decoders: createDecoders(chooseEncodings()) });
  return s;
}

function expectPicture(framebuffer: Framebuffer, picture: Picture, what = 'framebuffer'): void {
  const frame = framebuffer.capture();
  expect({ width: frame.width, height: frame.height }, `${what} size`).toEqual({ width: picture.width, height: picture.height });
  if (frame.data.equals(picture.data)) return;
  // Name the first differing pixel rather than dumping two buffers.
  for (let i = 0; i < frame.data.length; i += 4) {
    const pixel = i / 4;
    expect([...frame.data.subarray(i, i + 4)], `${what}: pixel (${pixel % picture.width},${Math.floor(pixel / picture.width)}) RGBA`).toEqual([
      ...picture.data.subarray(i, i + 4),
    ]);
  }
}

/**
 * Feeds `update` to a fresh `width`×`height` screen in every chunking and checks the picture, one
 * damage report per rectangle and the end of the update.
 */
function expectInEveryChunking(update: Uint8Array, width: number, height: number, paint: (picture: Picture) => void, damaged: Rect[]): void {
  const base = patternPixels(width, height, 5);
  const expected = new Picture(width, height, base);
  paint(expected);
  for (const { name, chunks } of chunkings(update)) {
    const s = screen(width, height, base);
    s.feed(chunks);
    expectPicture(s.framebuffer, expected, `[${name}] framebuffer`);
    expect(s.damaged, `[${name}] damage`).toEqual(damaged);
    expect(s.updates, `[${name}] updates ended`).toBe(1);
    expect(s.queue.length, `[${name}] bytes left over`).toBe(0);
  }
}

/** Feeding `update` whole and byte by byte ends in a VNCProtocolError whose message holds every fragment. */
function expectProtocolError(update: Uint8Array, width: number, height: number, ...fragments: string[]): void {
  for (const chunking of ['whole', 'byte by byte'] as const) {
    const s = screen(width, height);
    const chunks = chunking === 'whole' ? [update] : [...update].map((byte) => Uint8Array.of(byte));
    let caught: unknown;
    try {
      s.feed(chunks);
    } catch (error) {
      caught = error;
    }
    expect(caught, `[${chunking}] a VNCProtocolError`).toBeInstanceOf(VNCProtocolError);
    const error = caught as VNCProtocolError;
    expect(error.code).toBe('EPROTOCOL');
    for (const fragment of fragments) expect(error.message, `[${chunking}]`).toContain(fragment);
  }
}

const RED: RGB = [255, 0, 0];
const GREEN: RGB = [0, 200, 0];
const BLUE: RGB = [0, 0, 255];
const WHITE: RGB = [255, 255, 255];
const BLACK: RGB = [0, 0, 0];
const GREY: RGB = [128, 128, 128];
const TEAL: RGB = [0, 128, 128];

// ---------------------------------------------------------------------------------------------
// RRE

test.describe('RRE', () => {
  test('a background alone fills the rectangle, exactly there', () => {
    const update = framebufferUpdate([rreRect(3, 2, 5, 4, TEAL, [])]);
    expectInEveryChunking(update, 12, 9, (p) => p.fill(3, 2, 5, 4, TEAL), [{ x: 3, y: 2, width: 5, height: 4 }]);
  });

  test('the padding byte of the background and of subrectangles never shows', () => {
    const s = screen(2, 1);
    const bytes = concat(rectHeader(0, 0, 2, 1, ENCODING.RRE), u32(1), wirePixel(RED, 0x12), wirePixel(BLUE, 0x34), Uint8Array.of(0, 1, 0, 0, 0, 1, 0, 1));
    s.feed([framebufferUpdate([bytes])]);
    expect([...s.framebuffer.capture().data]).toEqual([255, 0, 0, 255, 0, 0, 255, 255]);
  });

  test('subrectangles paint in order over the background: overlapping, 1×1, at the edges, the whole rectangle, empty ones', () => {
    const subrects: RRESubrect[] = [
      { colour: RED, x: 0, y: 0, width: 7, height: 5 }, // all of it
      { colour: GREEN, x: 1, y: 1, width: 3, height: 2 },
      { colour: BLUE, x: 2, y: 2, width: 5, height: 3 }, // overlaps GREEN, reaches the right and bottom edges
      { colour: WHITE, x: 6, y: 4, width: 1, height: 1 }, // the last pixel
      { colour: BLACK, x: 0, y: 0, width: 1, height: 1 }, // the first pixel
      { colour: GREY, x: 3, y: 0, width: 0, height: 5 }, // empty: paints nothing
      { colour: GREY, x: 7, y: 5, width: 0, height: 0 }, // empty, at the far corner
    ];
    const update = framebufferUpdate([rreRect(2, 1, 7, 5, TEAL, subrects)]);
    expectInEveryChunking(update, 10, 7, (p) => paintRRE(p, 2, 1, 7, 5, TEAL, subrects), [{ x: 2, y: 1, width: 7, height: 5 }]);
  });

  test('an empty rectangle still carries its header and paints nothing', () => {
    const update = framebufferUpdate([rreRect(4, 4, 0, 0, RED, []), rreRect(1, 1, 3, 0, RED, []), rreRect(0, 0, 2, 2, GREEN, [])]);
    expectInEveryChunking(update, 6, 6, (p) => p.fill(0, 0, 2, 2, GREEN), [{ x: 0, y: 0, width: 2, height: 2 }]);
  });

  test('subrectangles are painted as they arrive, so a huge count needs no huge buffer', () => {
    // 640×480 one-pixel subrectangles (3.7 MB), the most a 640×480 rectangle may announce.
    const width = 640;
    const height = 480;
    const s = screen(width, height);
    const colourOf = (i: number): RGB => [i & 0xff, (i >> 8) & 0xff, 77];
    s.feed([concat(u8(0), u8(0), u8(0), u8(1), rectHeader(0, 0, width, height, ENCODING.RRE), u32(width * height), wirePixel(BLACK))]);
    let maxBuffered = 0;
    const chunk = Buffer.alloc(4000 * 12 + 5);
    let pending = 0;
    for (let i = 0; i < width * height; i++) {
      const at = pending * 12;
      chunk.set(wirePixel(colourOf(i)), at);
      chunk.writeUInt16BE(i % width, at + 4);
      chunk.writeUInt16BE(Math.floor(i / width), at + 6);
      chunk.writeUInt16BE(1, at + 8);
      chunk.writeUInt16BE(1, at + 10);
      if (++pending === 4000 || i === width * height - 1) {
        // Cut the chunk 5 bytes into a subrectangle, so every push leaves a partial one behind.
        const bytes = chunk.subarray(0, pending * 12);
        s.feed([bytes.subarray(0, 5)]);
        s.feed([bytes.subarray(5)]);
        maxBuffered = Math.max(maxBuffered, s.queue.length);
        pending = 0;
      }
    }
    expect(maxBuffered, 'never more than one partial subrectangle waits in the queue').toBeLessThan(12);
    expect(s.updates).toBe(1);
    const frame = s.framebuffer.capture();
    for (const i of [0, 1, 639, 640, 12345, width * height - 1]) expect([...frame.data.subarray(i * 4, i * 4 + 4)], `pixel ${i}`).toEqual([...colourOf(i), 255]);
  });

  test.describe('malformed', () => {
    test('a subrectangle count larger than the rectangle has pixels, refused before anything else arrives', () => {
      const header = concat(u8(0), u8(0), u8(0), u8(1), rectHeader(1, 2, 4, 4, ENCODING.RRE), u32(17));
      expectProtocolError(header, 8, 8, 'RRE rectangle 4x4 at (1,2)', '17 subrectangles', '16 pixels');
      expectProtocolError(concat(header.subarray(0, -4), u32(0xffffffff)), 8, 8, 'RRE rectangle 4x4 at (1,2)', '4294967295 subrectangles');
      expectProtocolError(framebufferUpdate([rreRect(2, 2, 0, 3, RED, [{ colour: RED, x: 0, y: 0, width: 0, height: 0 }])]), 8, 8, 'RRE rectangle 0x3 at (2,2)');
    });

    const outside: Array<[string, RRESubrect]> = [
      ['too wide', { colour: RED, x: 2, y: 0, width: 3, height: 1 }],
      ['too tall', { colour: RED, x: 0, y: 1, width: 1, height: 4 }],
      ['starting past the right edge', { colour: RED, x: 5, y: 0, width: 0, height: 0 }],
      ['starting past the bottom edge', { colour: RED, x: 0, y: 5, width: 1, height: 0 }],
      ['at 65535,65535', { colour: RED, x: 65535, y: 65535, width: 65535, height: 65535 }],
    ];
    for (const [what, subrect] of outside) {
      test(`a subrectangle ${what} (outside the rectangle)`, () => {
        const update = framebufferUpdate([rreRect(3, 3, 4, 4, BLUE, [{ colour: GREEN, x: 0, y: 0, width: 1, height: 1 }, subrect])]);
        expectProtocolError(update, 10, 10, 'RRE rectangle 4x4 at (3,3)', 'subrectangle 1', 'lies outside the rectangle');
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Hextile

/** A tile's pixels with every value different. */
function rawTile(width: number, height: number, salt: number): HextileTile {
  return { raw: patternPixels(width, height, salt) };
}

test.describe('Hextile', () => {
  test('one raw tile is copied as is (the padding byte never shows)', () => {
    const update = framebufferUpdate([hextileRect(1, 2, 5, 3, [rawTile(5, 3, 9)])]);
    expectInEveryChunking(update, 8, 6, (p) => p.put(1, 2, 5, 3, patternPixels(5, 3, 9)), [{ x: 1, y: 2, width: 5, height: 3 }]);
  });

  test('the Raw bit with bits Hextile does not define is refused on the mask byte, without waiting for the raw tile', () => {
    for (const mask of [0x21, 0x41, 0x81, 0xff]) {
      // Only the rectangle header and the mask byte: the 60 bytes of a raw 5×3 tile never come.
      const full = framebufferUpdate([hextileRect(0, 0, 5, 3, [{ ...rawTile(5, 3, 9), mask }])]);
      const headerAndMask = full.subarray(0, 4 + 12 + 1);
      expectProtocolError(headerAndMask, 5, 3, 'Hextile rectangle 5x3 at (0,0), tile 0', `subencoding mask 0x${mask.toString(16)}`, 'bits Hextile does not define');
    }
  });

  test('a background-only tile fills the tile', () => {
    const update = framebufferUpdate([hextileRect(0, 0, 16, 16, [{ background: RED }])]);
    expectInEveryChunking(update, 17, 17, (p) => p.fill(0, 0, 16, 16, RED), [{ x: 0, y: 0, width: 16, height: 16 }]);
  });

  test('pixel by pixel: foreground subrectangles over the background of one small tile', () => {
    // 3×2 tile: background white, foreground black at (1,0) 2×1 and (0,1) 1×1.
    const s = screen(3, 2);
    s.feed([framebufferUpdate([hextileRect(0, 0, 3, 2, [{ background: WHITE, foreground: BLACK, subrects: [{ x: 1, y: 0, width: 2, height: 1 }, { x: 0, y: 1, width: 1, height: 1 }] }])])]);
    const w = [255, 255, 255, 255];
    const b = [0, 0, 0, 255];
    expect([...s.framebuffer.capture().data]).toEqual([...w, ...b, ...b, ...b, ...w, ...w]);
  });

  // Every subencoding mask, as the second tile of a rectangle whose first tile set a background
  // (GREY) and a foreground (TEAL) for it to carry over.
  for (let mask = 0; mask < 32; mask++) {
    const bits = Object.entries(HEXTILE)
      .filter(([, bit]) => mask & bit)
      .map(([name]) => name);
    test(`subencoding ${mask} (${bits.join(' + ') || 'nothing: the previous background'})`, () => {
      let second: HextileTile;
      if (mask & HEXTILE.Raw) {
        second = { ...rawTile(16, 16, mask), mask };
      } else {
        const coloured = (mask & HEXTILE.SubrectsColoured) !== 0;
        const subrects: HextileSubrect[] = [
          { x: 0, y: 0, width: 16, height: 1, colour: coloured ? RED : undefined },
          { x: 3, y: 4, width: 5, height: 6, colour: coloured ? GREEN : undefined },
          { x: 15, y: 15, width: 1, height: 1, colour: coloured ? BLUE : undefined },
          { x: 10, y: 2, width: 6, height: 14, colour: coloured ? WHITE : undefined },
        ];
        second = {
          mask,
          background: mask & HEXTILE.BackgroundSpecified ? BLUE : undefined,
          foreground: mask & HEXTILE.ForegroundSpecified ? BLACK : undefined,
          subrects: mask & HEXTILE.AnySubrects ? subrects : undefined,
        };
      }
      // A third tile with subrectangles in the foreground shows which foreground the second left.
      const tiles: HextileTile[] = [
        { background: GREY, foreground: TEAL, subrects: [{ x: 1, y: 1, width: 2, height: 2 }] },
        second,
        { subrects: [{ x: 2, y: 2, width: 3, height: 3 }] },
      ];
      const update = framebufferUpdate([hextileRect(0, 0, 40, 16, tiles)]);
      expectInEveryChunking(update, 40, 17, (p) => paintHextile(p, 0, 0, 40, 16, tiles), [{ x: 0, y: 0, width: 40, height: 16 }]);
    });
  }

  test('an AnySubrects tile with no subrectangles is solid background', () => {
    const tiles: HextileTile[] = [{ background: RED, foreground: BLUE, subrects: [] }, { subrects: [] }];
    const update = framebufferUpdate([hextileRect(0, 0, 20, 5, tiles)]);
    expectInEveryChunking(update, 20, 5, (p) => p.fill(0, 0, 20, 5, RED), [{ x: 0, y: 0, width: 20, height: 5 }]);
  });

  test('background and foreground carry over from tile to tile, across rows, and change when specified', () => {
    const mark = (x: number, y: number): HextileSubrect => ({ x, y, width: 2, height: 3 });
    // 3 columns × 3 rows of tiles, 40×40: edge tiles 8 wide and 8 high.
    const tiles: HextileTile[] = [
      { background: GREY, foreground: RED, subrects: [mark(0, 0)] },
      { subrects: [mark(1, 1)] }, // GREY, RED carried
      {}, // solid GREY
      { foreground: GREEN, subrects: [mark(2, 2)] }, // new row: GREY carried, GREEN
      { background: BLUE }, // solid BLUE
      { subrects: [mark(5, 5)] }, // BLUE, GREEN carried
      { subrects: [{ ...mark(6, 0), colour: BLACK }, { x: 0, y: 6, width: 1, height: 1, colour: WHITE }] }, // coloured
      { subrects: [mark(0, 4)] }, // foreground still GREEN: rfbproto bars encoders from this, decoders keep it
      { background: TEAL, foreground: WHITE, subrects: [mark(6, 5)] },
    ];
    const update = framebufferUpdate([hextileRect(2, 3, 40, 40, tiles)]);
    expectInEveryChunking(update, 44, 45, (p) => paintHextile(p, 2, 3, 40, 40, tiles), [{ x: 2, y: 3, width: 40, height: 40 }]);
  });

  test('a raw tile after coloured ones, and tiles after it that carry the colours from before it', () => {
    const tiles: HextileTile[] = [
      { background: WHITE, subrects: [{ x: 0, y: 0, width: 4, height: 4, colour: RED }, { x: 8, y: 8, width: 8, height: 8, colour: GREEN }] },
      { background: BLACK, subrects: [{ x: 1, y: 1, width: 14, height: 1, colour: TEAL }, { x: 2, y: 3, width: 1, height: 1, colour: RED }] },
      rawTile(16, 16, 77),
      rawTile(16, 16, 78),
      // rfbproto lets an encoder carry neither colour over a raw tile; decoders (TigerVNC's, noVNC's) keep them anyway, and so do we.
      { subrects: [] },
      { foreground: BLUE, subrects: [{ x: 15, y: 0, width: 1, height: 16 }] },
    ];
    const update = framebufferUpdate([hextileRect(0, 0, 96, 16, tiles)]);
    expectInEveryChunking(update, 96, 16, (p) => paintHextile(p, 0, 0, 96, 16, tiles), [{ x: 0, y: 0, width: 96, height: 16 }]);
  });

  for (let edge = 1; edge <= 15; edge++) {
    test(`edge tiles ${edge} px wide and high: raw, solid, and subrectangles that reach their edges`, () => {
      const width = 16 + edge;
      const height = 16 + edge;
      const tiles: HextileTile[] = [
        { background: GREY, foreground: RED, subrects: [{ x: 15, y: 15, width: 1, height: 1 }] },
        // Right column: `edge` wide.
        { background: BLUE, subrects: [{ x: edge - 1, y: 0, width: 1, height: 16 }, { x: 0, y: 15, width: edge, height: 1, colour: undefined }] },
        // Bottom row: `edge` high.
        rawTile(16, edge, edge),
        // The corner: `edge` × `edge`.
        edge % 2 ? rawTile(edge, edge, 100 + edge) : { background: WHITE, subrects: [{ x: 0, y: 0, width: edge, height: edge, colour: GREEN }, { x: edge - 1, y: edge - 1, width: 1, height: 1, colour: BLACK }] },
      ];
      const update = framebufferUpdate([hextileRect(1, 1, width, height, tiles)]);
      expectInEveryChunking(update, width + 2, height + 1, (p) => paintHextile(p, 1, 1, width, height, tiles), [{ x: 1, y: 1, width, height }]);
      // The same edge as a rectangle of one tile.
      const single: HextileTile[] = [{ background: TEAL, foreground: WHITE, subrects: [{ x: edge - 1, y: edge - 1, width: 1, height: 1 }, { x: 0, y: 0, width: edge, height: 1 }] }];
      expectInEveryChunking(framebufferUpdate([hextileRect(0, 0, edge, edge, single)]), edge, edge, (p) => paintHextile(p, 0, 0, edge, edge, single), [{ x: 0, y: 0, width: edge, height: edge }]);
    });
  }

  test('an empty rectangle has no tiles and paints nothing', () => {
    const update = framebufferUpdate([hextileRect(3, 3, 0, 0, []), hextileRect(0, 1, 5, 0, []), hextileRect(0, 0, 1, 1, [{ background: RED }])]);
    expectInEveryChunking(update, 6, 6, (p) => p.fill(0, 0, 1, 1, RED), [{ x: 0, y: 0, width: 1, height: 1 }]);
  });

  test('tiles are painted as soon as they are complete, and an incomplete tile stays in the queue', () => {
    const tiles: HextileTile[] = [rawTile(16, 16, 1), { background: RED, foreground: BLUE, subrects: [{ x: 1, y: 1, width: 3, height: 3 }] }, rawTile(16, 16, 2)];
    const update = framebufferUpdate([hextileRect(0, 0, 48, 16, tiles)]);
    const tileBytes = tiles.map((tile) => hextileTile(tile).length);
    const headerBytes = 4 + 12;
    const base = patternPixels(48, 16, 5);
    for (const [tilesDone, extra] of [[0, 1], [1, 0], [1, 11], [2, 1000]] as const) {
      const s = screen(48, 16, base);
      const prefix = headerBytes + tileBytes.slice(0, tilesDone).reduce((a, b) => a + b, 0) + extra;
      s.feed([update.subarray(0, prefix)]);
      const expected = new Picture(48, 16, base);
      paintHextile(expected, 0, 0, 48, 16, tiles);
      const partial = new Picture(48, 16, base);
      for (let row = 0; row < 16; row++) expected.data.copy(partial.data, row * 48 * 4, row * 48 * 4, (row * 48 + tilesDone * 16) * 4);
      expectPicture(s.framebuffer, partial, `after ${tilesDone} tiles and ${extra} bytes`);
      expect(s.queue.length, 'the incomplete tile waits in the queue').toBe(extra);
      expect(s.damaged).toEqual([]);
      s.feed([update.subarray(prefix)]);
      expectPicture(s.framebuffer, expected, 'at the end');
      expect(s.damaged).toEqual([{ x: 0, y: 0, width: 48, height: 16 }]);
    }
  });

  test.describe('malformed', () => {
    test('a subrectangle outside its tile (a full tile, an edge tile, the corner tile)', () => {
      const ok: HextileTile = { background: GREY, foreground: RED, subrects: [] };
      // 21×19: tiles 16×16, 5×16, 16×3, 5×3.
      const cases: Array<[number, HextileSubrect, string]> = [
        [1, { x: 4, y: 0, width: 2, height: 1 }, 'tile 1 (5x16 at (16,0) in the rectangle): subrectangle 0 (2x1 at (4,0))'],
        [1, { x: 5, y: 0, width: 1, height: 1 }, 'tile 1 (5x16 at (16,0) in the rectangle): subrectangle 0 (1x1 at (5,0))'],
        [2, { x: 0, y: 2, width: 16, height: 2 }, 'tile 2 (16x3 at (0,16) in the rectangle): subrectangle 0 (16x2 at (0,2))'],
        [3, { x: 0, y: 0, width: 6, height: 1 }, 'tile 3 (5x3 at (16,16) in the rectangle): subrectangle 0 (6x1 at (0,0))'],
        [0, { x: 15, y: 8, width: 2, height: 1 }, 'tile 0 (16x16 at (0,0) in the rectangle): subrectangle 0 (2x1 at (15,8))'],
        [0, { x: 8, y: 15, width: 1, height: 2 }, 'tile 0 (16x16 at (0,0) in the rectangle): subrectangle 0 (1x2 at (8,15))'],
      ];
      for (const [index, subrect, fragment] of cases) {
        const tiles: HextileTile[] = [ok, ok, ok, ok];
        tiles[index] = { ...ok, subrects: [subrect] };
        expectProtocolError(framebufferUpdate([hextileRect(2, 1, 21, 19, tiles)]), 24, 20, 'Hextile rectangle 21x19 at (2,1)', fragment, 'lies outside the tile');
        const coloured = { ...subrect, colour: BLUE };
        tiles[index] = { background: GREY, subrects: [{ x: 0, y: 0, width: 1, height: 1, colour: RED }, coloured] };
        expectProtocolError(framebufferUpdate([hextileRect(2, 1, 21, 19, tiles)]), 24, 20, 'Hextile rectangle 21x19 at (2,1)', fragment.replace('subrectangle 0', 'subrectangle 1'));
      }
    });

    test('a first non-raw tile without a background, also after raw tiles and in a later rectangle', () => {
      const fragment = 'the first non-raw tile of a rectangle must specify its background';
      expectProtocolError(framebufferUpdate([hextileRect(0, 0, 4, 4, [{ foreground: RED, subrects: [] }])]), 4, 4, 'Hextile rectangle 4x4 at (0,0), tile 0', fragment);
      expectProtocolError(framebufferUpdate([hextileRect(0, 0, 20, 4, [rawTile(16, 4, 1), {}])]), 20, 4, 'tile 1', fragment);
      // The colours do not carry from one rectangle to the next.
      const first = hextileRect(0, 0, 4, 4, [{ background: RED, foreground: BLUE, subrects: [] }]);
      expectProtocolError(framebufferUpdate([first, hextileRect(4, 0, 4, 4, [{}])]), 8, 4, 'Hextile rectangle 4x4 at (4,0), tile 0', fragment);
    });

    test('subrectangles in the foreground colour before any tile of the rectangle set one', () => {
      const fragment = 'no tile of the rectangle has specified one';
      expectProtocolError(framebufferUpdate([hextileRect(0, 0, 4, 4, [{ background: RED, subrects: [{ x: 0, y: 0, width: 1, height: 1 }] }])]), 4, 4, fragment);
      const first = hextileRect(0, 0, 4, 4, [{ background: RED, foreground: BLUE, subrects: [] }]);
      expectProtocolError(framebufferUpdate([first, hextileRect(4, 0, 4, 4, [{ background: RED, subrects: [{ x: 0, y: 0, width: 1, height: 1 }] }])]), 8, 4, 'at (4,0), tile 0', fragment);
    });

    test('subencoding bits Hextile does not define', () => {
      for (const mask of [0x20, 0x40, 0x80, 0xe0]) {
        const update = framebufferUpdate([hextileRect(0, 0, 4, 4, [{ background: RED, mask: mask | HEXTILE.BackgroundSpecified }])]);
        expectProtocolError(update, 4, 4, 'Hextile rectangle 4x4 at (0,0), tile 0', `subencoding mask 0x${(mask | 2).toString(16).padStart(2, '0')}`);
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips through encoders written here from rfbproto

/** A picture of a few colours: a background, rectangles, lines and noise, like a desktop. */
function desktopLikePixels(width: number, height: number, random: () => number): Uint8Array {
  const palette: RGB[] = [GREY, WHITE, BLACK, RED, GREEN, BLUE, TEAL];
  const picture = new Picture(width, height);
  picture.fill(0, 0, width, height, palette[randomInt(random, 0, palette.length - 1)]);
  for (let i = 0; i < 30; i++) {
    const w = randomInt(random, 1, Math.max(1, width >> 1));
    const h = randomInt(random, 1, Math.max(1, height >> 1));
    picture.fill(randomInt(random, 0, width - w), randomInt(random, 0, height - h), w, h, palette[randomInt(random, 0, palette.length - 1)]);
  }
  for (let i = 0; i < width * height * 0.03; i++) {
    picture.set(randomInt(random, 0, width - 1), randomInt(random, 0, height - 1), [randomInt(random, 0, 255), randomInt(random, 0, 255), randomInt(random, 0, 255)]);
  }
  const rgbx = new Uint8Array(picture.data);
  for (let i = 3; i < rgbx.length; i += 4) rgbx[i] = 0;
  return rgbx;
}

function pixelOf(rgbx: Uint8Array, width: number, x: number, y: number): RGB {
  const i = (y * width + x) * 4;
  return [rgbx[i], rgbx[i + 1], rgbx[i + 2]];
}

const same = (a: RGB | undefined, b: RGB | undefined): boolean => a !== undefined && b !== undefined && a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

/** Runs of one colour other than `background` along each row of a region, as subrectangles. */
function runs(rgbx: Uint8Array, stride: number, x0: number, y0: number, width: number, height: number, background: RGB): Array<{ x: number; y: number; width: number; colour: RGB }> {
  const out: Array<{ x: number; y: number; width: number; colour: RGB }> = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; ) {
      const colour = pixelOf(rgbx, stride, x0 + x, y0 + y);
      let end = x + 1;
      while (end < width && same(pixelOf(rgbx, stride, x0 + end, y0 + y), colour)) end++;
      if (!same(colour, background)) out.push({ x, y, width: end - x, colour });
      x = end;
    }
  }
  return out;
}

/** The most frequent colour of a region. */
function dominant(rgbx: Uint8Array, stride: number, x0: number, y0: number, width: number, height: number): RGB {
  const counts = new Map<number, number>();
  let best = 0;
  let bestCount = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixelOf(rgbx, stride, x0 + x, y0 + y);
      const key = (r << 16) | (g << 8) | b;
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      if (count > bestCount) [best, bestCount] = [key, count];
    }
  }
  return [best >> 16, (best >> 8) & 0xff, best & 0xff];
}

/**
 * A Hextile encoder that uses every subencoding and follows rfbproto's rules on carrying colours:
 * raw tiles now and then, solid tiles, foreground tiles, coloured tiles; the background and
 * foreground left out when the previous tile's may be carried.
 */
function encodeHextile(rgbx: Uint8Array, width: number, height: number, random: () => number): HextileTile[] {
  const tiles: HextileTile[] = [];
  let background: RGB | undefined;
  let foreground: RGB | undefined;
  for (let tileY = 0; tileY < height; tileY += 16) {
    for (let tileX = 0; tileX < width; tileX += 16) {
      const w = Math.min(16, width - tileX);
      const h = Math.min(16, height - tileY);
      const bg = dominant(rgbx, width, tileX, tileY, w, h);
      const others = runs(rgbx, width, tileX, tileY, w, h, bg);
      if (random() < 0.1 || others.length > 255) {
        const raw = new Uint8Array(w * h * 4);
        for (let row = 0; row < h; row++) raw.set(rgbx.subarray(((tileY + row) * width + tileX) * 4, ((tileY + row) * width + tileX + w) * 4), row * w * 4);
        tiles.push({ raw });
        background = foreground = undefined; // rfbproto: neither may be carried over a raw tile
        continue;
      }
      const tile: { background?: RGB; foreground?: RGB; subrects?: HextileSubrect[] } = {};
      if (!same(bg, background) || random() < 0.2) tile.background = bg;
      background = bg;
      if (others.length === 0) {
        if (random() < 0.3) tile.subrects = [];
      } else if (others.every((run) => same(run.colour, others[0].colour))) {
        if (!same(others[0].colour, foreground) || random() < 0.2) tile.foreground = others[0].colour;
        foreground = others[0].colour;
        tile.subrects = others.map(({ x, y, width: runWidth }) => ({ x, y, width: runWidth, height: 1 }));
      } else {
        tile.subrects = others.map(({ x, y, width: runWidth, colour }) => ({ x, y, width: runWidth, height: 1, colour }));
        foreground = undefined; // rfbproto: not carried over a coloured tile
      }
      tiles.push(tile);
    }
  }
  return tiles;
}

function encodeRRE(rgbx: Uint8Array, width: number, height: number): { background: RGB; subrects: RRESubrect[] } {
  const background = dominant(rgbx, width, 0, 0, width, height);
  return { background, subrects: runs(rgbx, width, 0, 0, width, height, background).map((run) => ({ ...run, height: 1 })) };
}

test.describe('round trips', () => {
  for (let seed = 1; seed <= 6; seed++) {
    test(`seed ${seed}: Hextile and RRE rectangles of random sizes decode to the picture encoded`, () => {
      const random = prng(seed * 104729);
      const width = 70;
      const height = 50;
      const s = screen(width, height);
      const expected = new Picture(width, height, patternPixels(width, height, 5));
      const rects: Uint8Array[] = [];
      for (let i = 0; i < 8; i++) {
        const w = randomInt(random, 1, width);
        const h = randomInt(random, 1, height);
        const x = randomInt(random, 0, width - w);
        const y = randomInt(random, 0, height - h);
        const pixels = desktopLikePixels(w, h, random);
        if (random() < 0.6) {
          rects.push(hextileRect(x, y, w, h, encodeHextile(pixels, w, h, random)));
        } else {
          const { background, subrects } = encodeRRE(pixels, w, h);
          rects.push(rreRect(x, y, w, h, background, subrects));
        }
        expected.put(x, y, w, h, pixels);
      }
      const update = framebufferUpdate(rects);
      s.feed(randomSplit(update, seed));
      expectPicture(s.framebuffer, expected);
      expect(s.damaged).toHaveLength(rects.length);
      expect(s.queue.length).toBe(0);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The registry

test('Hextile and RRE are registered, advertised after the zlib-based encodings and before Raw', () => {
  const names = PIXEL_ENCODINGS.map((encoding) => encoding.name);
  expect(PIXEL_ENCODINGS.find((e) => e.name === 'hextile')?.number).toBe(ENCODING.Hextile);
  expect(PIXEL_ENCODINGS.find((e) => e.name === 'rre')?.number).toBe(ENCODING.RRE);
  expect(names.indexOf('hextile')).toBeLessThan(names.indexOf('rre'));
  expect(names.indexOf('rre')).toBeLessThan(names.indexOf('raw'));
  for (const better of ['tight', 'zrle']) if (names.includes(better)) expect(names.indexOf(better)).toBeLessThan(names.indexOf('hextile'));
  expect(chooseEncodings(['RRE', 'hextile']).map((e) => e.name)).toEqual(['rre', 'hextile', 'raw']);
  // One decoder per connection: colours of a rectangle in hand never leak between connections.
  const [a, b] = [createDecoders(chooseEncodings(['hextile'])), createDecoders(chooseEncodings(['hextile']))];
  expect(a.get(ENCODING.Hextile)).not.toBe(b.get(ENCODING.Hextile));
});

// ---------------------------------------------------------------------------------------------
// Recorded sessions

const recordings = (existsSync(RECORDINGS_DIR) ? readdirSync(RECORDINGS_DIR) : [])
  .filter((name) => name.endsWith('.json'))
  .map((name) => name.replace(/\.json$/, ''))
  .filter((name) => /-(hextile|rre)$/.test(name));

test.describe('recorded sessions', () => {
  test('there are recordings of Xvnc (Hextile, RRE) and QEMU (Hextile)', () => {
    expect(recordings).toEqual(expect.arrayContaining(['xvnc-hextile', 'xvnc-rre', 'qemu-hextile']));
  });

  for (const name of recordings) {
    test(`${name}: replayed in random chunkings, the final frame is the server's own picture`, async () => {
      const recording = readRecording(name);
      const truth = PNG.sync.read(readFileSync(join(RECORDINGS_DIR, `${name}.png`)));
      for (let seed = 1; seed <= 4; seed++) {
        const transport = new FakeTransport();
        const starting = RFBClient.start(transport, { credentials: { password: recording.meta.password }, encodings: recording.meta.encodings, timeoutMs: 5000 });
        transport.deliverChunks(recordingChunks(recording.bytes, seed));
        const client = await starting;
        expect(client.isClosed, `seed ${seed}: ${client.closeReason?.message ?? ''}`).toBe(false);
        const frame = client.framebuffer.capture();
        expect({ width: frame.width, height: frame.height }).toEqual({ width: truth.width, height: truth.height });
        const differing = countDifferences(frame.data, truth.data);
        expect(differing, `seed ${seed}: pixels that differ from ${name}.png`).toBe(0);
        await client.close();
      }
      // The parser alone, byte by byte: the recording holds rectangles of the encoding under test.
      const session = splitHandshake(recording.bytes, recording.meta.securityType);
      const analysis = analyseSession(session, [...session.messages].map((byte) => Uint8Array.of(byte)));
      expect(analysis.leftover).toBe(0);
      for (const encoding of recording.meta.encodings) expect(analysis.encodings[encoding]?.rectangles, `${encoding} rectangles`).toBeGreaterThan(0);
      expect(countDifferences(analysis.framebuffer.capture().data, truth.data), 'pixels that differ, byte by byte').toBe(0);
    });
  }
});

function countDifferences(a: Buffer, b: Buffer): number {
  let count = 0;
  for (let i = 0; i < a.length; i += 4) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) count++;
  return count;
}
