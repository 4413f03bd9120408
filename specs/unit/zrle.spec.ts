/**
 * ZRLE (encoding 16) and zlib (encoding 6) from hand-built bytes: a small encoder written here from
 * rfbproto ("ZRLE Encoding", "zlib Encoding") turns pictures into tiles of each subencoding, Node's
 * streaming Deflate compresses them into one stream per connection (a sync flush per rectangle,
 * as servers do), and the messages go through the ServerMessageParser in every chunking (whole,
 * byte by byte, every split in two, seeded random). Malformed data must be a VNCProtocolError that
 * names the encoding and the rectangle; a length nobody could need is refused before buffering.
 * Last, sessions recorded from Xvnc, x11vnc and QEMU replay to their Raw captures exactly.
 */
import { expect, test } from '@playwright/test';

import { VNCProtocolError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { Encoding } from '../../src/rfb/constants.js';
import { chooseEncodings, createDecoders } from '../../src/rfb/encodings/index.js';
import { MAX_INFLATE_BYTES } from '../../src/rfb/encodings/inflate-stream.js';
import { maxInflatedLength } from '../../src/rfb/encodings/zrle.js';
import { Framebuffer } from '../../src/rfb/framebuffer.js';
import { ServerMessageParser } from '../../src/rfb/server-messages.js';
import { deflateChunks } from '../support/deflate.js';
import { loadRecording, parseRecording, replay } from '../support/recorder.js';
import { chunkings, concat, framebufferUpdate, prng, randomInt, rectHeader, u32, u8 } from '../support/rfb-bytes.js';
import { ignoringHandler } from '../support/parser-handler.js';

// ---------------------------------------------------------------------------------------------
// Pictures and a ZRLE encoder written from the specification

type RGB = readonly [number, number, number];

/** Pixels as 0xRRGGBB numbers, row-major. */
interface Picture {
  width: number;
  height: number;
  pixels: number[];
}

const rgb = (value: number): RGB => [(value >> 16) & 255, (value >> 8) & 255, value & 255];
const cpixel = (value: number): Uint8Array => Uint8Array.from(rgb(value));

function picture(width: number, height: number, at: (x: number, y: number) => number): Picture {
  const pixels: number[] = [];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels.push(at(x, y));
  return { width, height, pixels };
}

function crop(source: Picture, x: number, y: number, width: number, height: number): Picture {
  return picture(width, height, (cx, cy) => source.pixels[(y + cy) * source.width + x + cx]);
}

/** A run length on the wire: (length − 1) as bytes of 255 and a last byte below 255. */
function runLength(length: number): Uint8Array {
  const bytes: number[] = [];
  let rest = length - 1;
  while (rest >= 255) {
    bytes.push(255);
    rest -= 255;
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

function runsOf(pixels: readonly number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const pixel of pixels) {
    const last = runs[runs.length - 1];
    if (last && last[0] === pixel) last[1]++;
    else runs.push([pixel, 1]);
  }
  return runs;
}

function paletteOf(pixels: readonly number[]): number[] {
  return [...new Set(pixels)];
}

type Subencoding = 'raw' | 'solid' | 'packed' | 'plain-rle' | 'palette-rle';

/** One tile's bytes in the given subencoding (the palette may be given larger than needed). */
function tileBytes(tile: Picture, kind: Subencoding, paletteOverride?: number[]): Uint8Array {
  const { pixels, width, height } = tile;
  switch (kind) {
    case 'raw':
      return concat(u8(0), ...pixels.map(cpixel));
    case 'solid':
      return concat(u8(1), cpixel(pixels[0]));
    case 'packed': {
      const palette = paletteOverride ?? paletteOf(pixels);
      if (palette.length < 2 || palette.length > 16) throw new Error(`packed palette of ${palette.length}`);
      const bits = palette.length === 2 ? 1 : palette.length <= 4 ? 2 : 4;
      const packed: number[] = [];
      for (let y = 0; y < height; y++) {
        let byte = 0;
        let used = 0;
        for (let x = 0; x < width; x++) {
          byte = (byte << bits) | palette.indexOf(pixels[y * width + x]);
          used += bits;
          if (used === 8) {
            packed.push(byte);
            byte = used = 0;
          }
        }
        if (used > 0) packed.push(byte << (8 - used)); // each row padded to a whole byte
      }
      return concat(u8(palette.length), ...palette.map(cpixel), Uint8Array.from(packed));
    }
    case 'plain-rle':
      return concat(u8(128), ...runsOf(pixels).map(([pixel, length]) => concat(cpixel(pixel), runLength(length))));
    case 'palette-rle': {
      const palette = paletteOverride ?? paletteOf(pixels);
      if (palette.length < 2 || palette.length > 127) throw new Error(`RLE palette of ${palette.length}`);
      const runs = runsOf(pixels).map(([pixel, length]) => {
        const index = palette.indexOf(pixel);
        return length === 1 ? u8(index) : concat(u8(index | 128), runLength(length));
      });
      return concat(u8(128 + palette.length), ...palette.map(cpixel), ...runs);
    }
  }
}

/** The rectangle's tiles (64×64, left to right, top to bottom), each in the subencoding `choose` picks. */
function zrleData(rect: Picture, choose: (tileIndex: number, tile: Picture) => Subencoding): Uint8Array {
  const parts: Uint8Array[] = [];
  let index = 0;
  for (let y = 0; y < rect.height; y += 64) {
    for (let x = 0; x < rect.width; x += 64) {
      const tile = crop(rect, x, y, Math.min(64, rect.width - x), Math.min(64, rect.height - y));
      parts.push(tileBytes(tile, choose(index++, tile)));
    }
  }
  return concat(...parts);
}

/** Raw pixel bytes as the client's pixel format puts them: R, G, B, padding. */
function rgbx(rect: Picture): Uint8Array {
  return concat(...rect.pixels.map((value) => Uint8Array.of(...rgb(value), 0)));
}

interface Placed {
  x: number;
  y: number;
  picture: Picture;
  /** Uncompressed payload (ZRLE tiles or zlib's raw pixels). */
  data: Uint8Array;
  encoding: number;
}

/** The rectangles' messages: each rectangle's data compressed into the encoding's one stream. */
async function messages(rects: readonly Placed[], perUpdate = 1): Promise<Uint8Array> {
  const streams = new Map<number, Buffer[]>();
  for (const encoding of new Set(rects.map((r) => r.encoding))) {
    streams.set(encoding, await deflateChunks(rects.filter((r) => r.encoding === encoding).map((r) => r.data)));
  }
  const used = new Map<number, number>();
  const wire = rects.map((r) => {
    const n = used.get(r.encoding) ?? 0;
    used.set(r.encoding, n + 1);
    const compressed = streams.get(r.encoding)![n];
    return concat(rectHeader(r.x, r.y, r.picture.width, r.picture.height, r.encoding), u32(compressed.length), compressed);
  });
  const updates: Uint8Array[] = [];
  for (let i = 0; i < wire.length; i += perUpdate) updates.push(framebufferUpdate(wire.slice(i, i + perUpdate)));
  return concat(...updates);
}

// ---------------------------------------------------------------------------------------------
// The client side: the real parser and decoders on a framebuffer

class Screen {
  readonly framebuffer: Framebuffer;
  readonly queue = new ByteQueue();
  readonly parser: ServerMessageParser;
  updates = 0;

  constructor(width: number, height: number, encodings: readonly string[] = ['zrle', 'zlib']) {
    this.framebuffer = new Framebuffer(width, height);
    this.parser = new ServerMessageParser(
      this.framebuffer,
      ignoringHandler({ updateEnded: () => this.updates++ }),
      { advertised: new Set(), decoders: createDecoders(chooseEncodings(encodings)) },
    );
  }

  feed(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      this.queue.push(chunk);
      this.parser.parse(this.queue);
    }
  }

  /** The pixel at (x, y) as 0xRRGGBB. */
  at(x: number, y: number): number {
    const i = (y * this.framebuffer.width + x) * 4;
    const d = this.framebuffer.data;
    return (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
  }
}

/** A model screen: starts black, rectangles pasted in order. */
function expectedScreen(width: number, height: number, rects: readonly Placed[]): number[] {
  const screen = new Array<number>(width * height).fill(0);
  for (const r of rects) {
    for (let y = 0; y < r.picture.height; y++) for (let x = 0; x < r.picture.width; x++) screen[(r.y + y) * width + r.x + x] = r.picture.pixels[y * r.picture.width + x];
  }
  return screen;
}

function expectScreen(screen: Screen, expected: readonly number[], what: string): void {
  const { width, height } = screen.framebuffer;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const got = screen.at(x, y);
      const want = expected[y * width + x];
      if (got !== want) throw new Error(`${what}: pixel (${x},${y}) is #${got.toString(16).padStart(6, '0')}, expected #${want.toString(16).padStart(6, '0')}`);
    }
  }
}

/** Replays `bytes` in every chunking on a fresh screen and compares with the model. */
function inEveryChunking(bytes: Uint8Array, width: number, height: number, rects: readonly Placed[], updates: number, options: { random?: number; maxSplitLength?: number } = {}): number {
  const expected = expectedScreen(width, height, rects);
  let runs = 0;
  for (const { name, chunks } of chunkings(bytes, options)) {
    const screen = new Screen(width, height);
    screen.feed(chunks);
    expect(screen.queue.length, `[${name}] all bytes consumed`).toBe(0);
    expect(screen.updates, `[${name}] updates completed`).toBe(updates);
    expectScreen(screen, expected, `[${name}]`);
    runs++;
  }
  return runs;
}

/** Feeds `bytes` whole and returns what the parser threw. */
function errorOf(bytes: Uint8Array, width = 128, height = 128): unknown {
  const screen = new Screen(width, height);
  try {
    screen.feed([bytes]);
  } catch (error) {
    return error;
  }
  return undefined;
}

// Pictures with the features each subencoding cares about.
const text = (x: number, y: number) => ((x * 7 + y * 3) % 11 < 3 ? 0x101010 : (x + y) % 17 === 0 ? 0xc03020 : 0xf0f0f0);
const gradient = (x: number, y: number) => (((x * 4) & 255) << 16) | (((y * 4) & 255) << 8) | ((x ^ y) & 255);
const stripes = (colours: number) => (x: number, y: number) => [0x204080, 0xffffff, 0x000000, 0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0x00ffff, 0xff00ff, 0x808080, 0x400000, 0x004000, 0x000040, 0x123456, 0x654321, 0xabcdef][(x + 2 * y) % colours];

const ZRLE = Encoding.ZRLE;
const ZLIB = Encoding.Zlib;

function zrleRect(x: number, y: number, pic: Picture, kind: Subencoding | ((i: number, tile: Picture) => Subencoding)): Placed {
  return { x, y, picture: pic, encoding: ZRLE, data: zrleData(pic, typeof kind === 'function' ? kind : () => kind) };
}

function zlibRect(x: number, y: number, pic: Picture): Placed {
  return { x, y, picture: pic, encoding: ZLIB, data: rgbx(pic) };
}

// ---------------------------------------------------------------------------------------------
// Well-formed rectangles

test.describe('ZRLE subencodings, in every chunking', () => {
  test('raw CPIXELs (3 bytes R, G, B), with partial edge tiles', async () => {
    const rects = [zrleRect(3, 5, picture(70, 67, gradient), 'raw')];
    inEveryChunking(await messages(rects), 80, 80, rects, 1);
  });

  test('solid tiles, a rectangle of 3×2 tiles with narrow last column and row', async () => {
    const rects = [zrleRect(0, 0, picture(130, 70, (x, y) => ((x >> 6) + (y >> 6) * 3) * 0x151515 + 0x0a0b0c), 'solid')];
    inEveryChunking(await messages(rects), 130, 70, rects, 1);
  });

  for (const colours of [2, 3, 4, 5, 15, 16]) {
    test(`packed palette of ${colours} colours (${colours === 2 ? 1 : colours <= 4 ? 2 : 4} bits, rows padded to a byte)`, async () => {
      // Widths that leave partial bytes at the end of each row.
      const rects = [zrleRect(1, 2, picture(13, 5, stripes(colours)), 'packed'), zrleRect(20, 0, picture(67, 9, stripes(colours)), 'packed')];
      inEveryChunking(await messages(rects, 2), 90, 12, rects, 1, { maxSplitLength: 120 });
    });
  }

  test('a packed palette larger than the colours used (indices stay in range)', async () => {
    const pic = picture(9, 3, stripes(2));
    const placed: Placed = { x: 0, y: 0, picture: pic, encoding: ZRLE, data: tileBytes(pic, 'packed', [0x204080, 0xffffff, 0x111111]) };
    inEveryChunking(await messages([placed]), 9, 3, [placed], 1);
  });

  test('plain RLE: runs that cross rows, single pixels, and lengths of 255, 256, 510 and the whole tile', async () => {
    const long = (x: number, y: number) => {
      const i = y * 64 + x;
      return i < 255 ? 0x112233 : i < 511 ? 0x445566 : i < 1021 ? 0x778899 : i < 1030 ? (i % 2 ? 0xffffff : 0) : 0xaabbcc;
    };
    const rects = [zrleRect(0, 0, picture(64, 64, long), 'plain-rle'), zrleRect(64, 0, picture(64, 64, () => 0x0d0e0f), 'plain-rle'), zrleRect(0, 64, picture(45, 7, text), 'plain-rle')];
    inEveryChunking(await messages(rects), 128, 71, rects, 3, { random: 4 });
  });

  test('palette RLE: 2 and 127 colours, runs of 1 (no length) and long runs across rows', async () => {
    const many = (x: number, y: number) => ((y * 17 + (x >> 2)) % 127) * 0x020201;
    const rects = [zrleRect(0, 0, picture(64, 40, text), 'palette-rle'), zrleRect(0, 40, picture(64, 24, many), 'palette-rle'), zrleRect(64, 0, picture(10, 64, stripes(2)), 'palette-rle')];
    inEveryChunking(await messages(rects, 3), 74, 64, rects, 1, { random: 4 });
  });

  test('every subencoding mixed in one rectangle, then rectangles that reuse the stream', async () => {
    const kinds: Subencoding[] = ['raw', 'solid', 'packed', 'plain-rle', 'palette-rle'];
    const pic = picture(200, 130, (x, y) => (x < 64 && y < 64 ? gradient(x, y) : x < 128 && y < 64 ? 0x336699 : text(x, y)));
    const choose = (i: number, tile: Picture): Subencoding => {
      const kind = kinds[i % kinds.length];
      const colours = paletteOf(tile.pixels).length;
      if (kind === 'solid' && colours !== 1) return 'plain-rle';
      if (kind === 'packed' && (colours < 2 || colours > 16)) return 'raw';
      if (kind === 'palette-rle' && (colours < 2 || colours > 127)) return 'plain-rle';
      return kind;
    };
    // The second and third rectangles repeat the first's bytes: the inflater must still have its window.
    const rects = [zrleRect(0, 0, pic, choose), zrleRect(10, 10, pic, choose), zrleRect(5, 0, crop(pic, 0, 0, 64, 64), 'raw')];
    inEveryChunking(await messages(rects), 210, 140, rects, 3, { random: 3 });
  });

  test('an empty rectangle with an empty payload, and one whose payload is only a flush', async () => {
    const empty: Placed = { x: 0, y: 0, picture: { width: 0, height: 0, pixels: [] }, encoding: ZRLE, data: new Uint8Array(0) };
    const after = zrleRect(0, 0, picture(4, 4, text), 'raw');
    const bytes = concat(framebufferUpdate([concat(rectHeader(3, 3, 0, 0, ZRLE), u32(0))]), await messages([empty, after]));
    inEveryChunking(bytes, 8, 8, [after], 3);
  });

  test('a framebuffer of odd width (rows start at even and odd pixels in turn): packed, solid and raw tiles at even and odd x', async () => {
    const rects: Placed[] = [];
    let y = 0;
    for (const colours of [2, 3, 4]) {
      rects.push(zrleRect(0, y, picture(70, 5, stripes(colours)), 'packed'), zrleRect(71, y, picture(67, 5, stripes(colours)), 'packed'));
      y += 6;
    }
    // Solid tiles of one colour side by side (filled as one span), then of two colours, and a full-width row of them.
    rects.push(zrleRect(1, y, picture(140, 4, () => 0x336699), 'solid'), zrleRect(0, y + 5, picture(150, 3, (x) => (x < 128 ? 0x102030 : 0x405060)), 'solid'));
    rects.push(zrleRect(0, y + 9, picture(151, 2, () => 0x0a0b0c), 'solid'), zrleRect(3, y + 12, picture(69, 3, gradient), 'raw'));
    inEveryChunking(await messages(rects, 2), 151, y + 16, rects, rects.length / 2, { maxSplitLength: 60, random: 3 });
  });

  test('seeded random tiles of random subencodings, 10 rectangles on one stream', async () => {
    const random = prng(1234);
    const rects: Placed[] = [];
    for (let i = 0; i < 10; i++) {
      const width = randomInt(random, 1, 150);
      const height = randomInt(random, 1, 100);
      const colours = randomInt(random, 1, 140);
      const palette = Array.from({ length: colours }, () => randomInt(random, 0, 0xffffff));
      const runny = random() < 0.5;
      let last = palette[0];
      const pic = picture(width, height, () => (last = runny && random() < 0.8 ? last : palette[randomInt(random, 0, colours - 1)]));
      const choose = (_: number, tile: Picture): Subencoding => {
        const n = paletteOf(tile.pixels).length;
        const options: Subencoding[] = ['raw', 'plain-rle'];
        if (n === 1) options.push('solid');
        if (n >= 2 && n <= 16) options.push('packed');
        if (n >= 2 && n <= 127) options.push('palette-rle');
        return options[randomInt(random, 0, options.length - 1)];
      };
      rects.push(zrleRect(randomInt(random, 0, 250 - width), randomInt(random, 0, 150 - height), pic, choose));
    }
    inEveryChunking(await messages(rects, 4), 250, 150, rects, 3, { random: 3 });
  });
});

test.describe('zlib, in every chunking', () => {
  test('rectangles of raw pixels on one stream, the later ones repeating earlier bytes', async () => {
    const rects = [zlibRect(0, 0, picture(20, 10, gradient)), zlibRect(20, 0, picture(20, 10, gradient)), zlibRect(5, 10, picture(1, 1, () => 0xabcdef)), zlibRect(0, 11, picture(40, 5, text))];
    inEveryChunking(await messages(rects, 2), 40, 16, rects, 2, { random: 4 });
  });

  test('zlib and ZRLE interleaved keep separate streams', async () => {
    const rects = [zlibRect(0, 0, picture(16, 16, text)), zrleRect(16, 0, picture(16, 16, text), 'plain-rle'), zlibRect(0, 16, picture(32, 4, gradient)), zrleRect(0, 20, picture(32, 4, gradient), 'raw')];
    inEveryChunking(await messages(rects, 4), 32, 24, rects, 1, { random: 4 });
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed rectangles

/** One ZRLE rectangle (w×h at 0,0) whose inflated payload is `data`. */
async function zrleMessage(width: number, height: number, data: Uint8Array, x = 0, y = 0): Promise<Uint8Array> {
  const [compressed] = await deflateChunks([data]);
  return framebufferUpdate([concat(rectHeader(x, y, width, height, ZRLE), u32(compressed.length), compressed)]);
}

async function expectZRLEError(width: number, height: number, data: Uint8Array, message: RegExp): Promise<void> {
  const error = errorOf(await zrleMessage(width, height, data, 2, 3));
  expect(error).toBeInstanceOf(VNCProtocolError);
  expect((error as Error).message).toMatch(new RegExp(`^ZRLE rectangle ${width}x${height} at \\(2,3\\)`));
  expect((error as Error).message).toMatch(message);
}

test.describe('malformed ZRLE is a VNCProtocolError naming the rectangle and tile', () => {
  test('packed palette index beyond the palette', async () => {
    // 3 colours use 2 bits per pixel, so index 3 can be written.
    await expectZRLEError(4, 1, concat(u8(3), cpixel(1), cpixel(2), cpixel(3), u8(0b00011011)), /tile 4x1 at \(0,0\).*packed pixel \(3,0\) is palette index 3 of a 3-colour palette/);
    await expectZRLEError(2, 1, concat(u8(5), ...[1, 2, 3, 4, 5].map(cpixel), u8(0x0f)), /palette index 15 of a 5-colour palette/);
  });

  test('palette RLE index beyond the palette', async () => {
    await expectZRLEError(4, 4, concat(u8(130), cpixel(1), cpixel(2), u8(0x82), u8(15)), /palette index 2 of a 2-colour palette/);
    await expectZRLEError(4, 4, concat(u8(130), cpixel(1), cpixel(2), u8(2)), /palette index 2 of a 2-colour palette/);
  });

  test('a run beyond the end of the tile', async () => {
    await expectZRLEError(4, 4, concat(u8(128), cpixel(1), runLength(10), cpixel(2), runLength(7)), /run of 7 pixels at pixel 10 goes past the tile's 16 pixels/);
    await expectZRLEError(4, 4, concat(u8(130), cpixel(1), cpixel(2), u8(0x80), runLength(17)), /run of 17 pixels at pixel 0/);
    // A run length made of many 255 bytes is stopped as soon as it exceeds the tile.
    await expectZRLEError(64, 64, concat(u8(128), cpixel(1), new Uint8Array(100).fill(255), u8(0)), /run of \d+ or more pixels at pixel 0 goes past the tile's 4096 pixels/);
  });

  test('data that ends early: in the subencoding, palette, pixels, run, run length', async () => {
    await expectZRLEError(65, 1, concat(u8(1), cpixel(5)), /tile 1x1 at \(64,0\).*ends before the subencoding/);
    await expectZRLEError(4, 4, concat(u8(1), u8(1), u8(2)), /ends inside the colour/);
    await expectZRLEError(4, 4, concat(u8(0), new Uint8Array(47)), /ends inside the 16 raw pixels/);
    await expectZRLEError(4, 4, concat(u8(16), new Uint8Array(47)), /ends inside the 16-colour palette/);
    await expectZRLEError(4, 4, concat(u8(2), cpixel(1), cpixel(2), u8(0), u8(0), u8(0)), /ends inside the packed pixels/);
    await expectZRLEError(4, 4, concat(u8(128), cpixel(1), runLength(5), u8(1), u8(2)), /ends before the run at pixel 5/);
    await expectZRLEError(64, 64, concat(u8(128), cpixel(1), u8(255)), /ends inside the length of the run at pixel 0/);
    await expectZRLEError(4, 4, concat(u8(131), cpixel(1), cpixel(2), cpixel(3), u8(0x81)), /ends inside the length of the run at pixel 0/);
  });

  test('data left over after the last tile', async () => {
    await expectZRLEError(4, 4, concat(u8(1), cpixel(5), u8(0)), /1 bytes of data are left over after the last tile/);
  });

  test('subencodings ZRLE does not define: 17–127 and 129', async () => {
    for (const subencoding of [17, 100, 127, 129]) await expectZRLEError(4, 4, concat(u8(subencoding), new Uint8Array(64)), new RegExp(`subencoding ${subencoding} is not defined by ZRLE`));
  });

  test('corrupt zlib data', async () => {
    const bytes = framebufferUpdate([concat(rectHeader(2, 3, 4, 4, ZRLE), u32(6), Uint8Array.of(0x78, 0x9c, 0xff, 0xff, 0xff, 0xff))]);
    const error = errorOf(bytes);
    expect(error).toBeInstanceOf(VNCProtocolError);
    expect((error as Error).message).toMatch(/^ZRLE rectangle 4x4 at \(2,3\): the compressed data \(ZRLE stream\) is not valid zlib data/);
  });

  test('more inflated data than any 1×1 tile can hold', async () => {
    const max = maxInflatedLength(1, 1);
    await expectZRLEError(1, 1, new Uint8Array(max + 1), new RegExp(`inflates to more than the allowed ${max} bytes`));
  });
});

test.describe('malformed zlib is a VNCProtocolError naming the rectangle', () => {
  async function zlibMessage(width: number, height: number, data: Uint8Array): Promise<Uint8Array> {
    const [compressed] = await deflateChunks([data]);
    return framebufferUpdate([concat(rectHeader(1, 2, width, height, ZLIB), u32(compressed.length), compressed)]);
  }

  test('fewer or more pixels than the rectangle', async () => {
    for (const [bytes, message] of [
      [15, /inflates to 15 bytes, expected 16/],
      [17, /inflates to more than the expected 16 bytes/],
    ] as const) {
      const error = errorOf(await zlibMessage(2, 2, new Uint8Array(bytes)));
      expect(error).toBeInstanceOf(VNCProtocolError);
      expect((error as Error).message).toMatch(/^zlib rectangle 2x2 at \(1,2\): the compressed data \(zlib stream\)/);
      expect((error as Error).message).toMatch(message);
    }
  });
});

test.describe('lengths nobody needs are refused before the data is buffered', () => {
  for (const [name, encoding] of [
    ['ZRLE', ZRLE],
    ['zlib', ZLIB],
  ] as const) {
    test(`${name}: a length of 4 GiB − 1 for a 64×64 rectangle`, () => {
      const screen = new Screen(64, 64);
      const before = process.memoryUsage().arrayBuffers;
      // Only the length is sent: the decoder must refuse it without waiting for (or allocating) the data.
      expect(() => screen.feed([framebufferUpdate([concat(rectHeader(0, 0, 64, 64, encoding), u32(0xffffffff))])])).toThrow(
        new RegExp(`^${name} rectangle 64x64 at \\(0,0\\): 4294967295 bytes of zlib data is more than`),
      );
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
    });
  }

  test('a length just within the bound is waited for, not refused', () => {
    const screen = new Screen(64, 64);
    screen.feed([framebufferUpdate([concat(rectHeader(0, 0, 64, 64, ZRLE), u32(17000))])]);
    expect(screen.queue.length).toBe(4);
  });

  test('a zlib rectangle larger than the inflate limit is refused up front', () => {
    // The decoder on its own (the parser would first want a framebuffer that large).
    const side = Math.ceil(Math.sqrt(MAX_INFLATE_BYTES / 4)) + 1;
    const decoder = createDecoders(chooseEncodings(['zlib'])).get(ZLIB)!;
    const queue = new ByteQueue();
    queue.push(u32(100));
    const rect = { x: 0, y: 0, width: side, height: side, encoding: ZLIB, progress: 0 };
    expect(() => decoder.decode(rect, queue, new Framebuffer(1, 1))).toThrow(/more than the limit of 268435456 for one zlib rectangle/);
  });
});

test('the registry: zrle before hextile before zlib before raw, and both by name', () => {
  const names = chooseEncodings().map((e) => e.name);
  for (const name of ['zrle', 'zlib']) expect(names).toContain(name);
  expect(names.indexOf('zrle')).toBeLessThan(names.indexOf('zlib'));
  expect(names.indexOf('zlib')).toBeLessThan(names.indexOf('raw'));
  expect(chooseEncodings(['zrle']).map((e) => e.number)).toEqual([16, 0]);
  expect(chooseEncodings(['ZLIB']).map((e) => e.number)).toEqual([6, 0]);
});

// ---------------------------------------------------------------------------------------------
// Recorded sessions with real servers (specs/data/recordings, made by specs/e2e/encodings-zrle.spec.ts)

const RECORDINGS = ['xvnc-zrle', 'x11vnc-zrle', 'x11vnc-zlib', 'qemu-zrle', 'qemu-zlib'];

test.describe('recorded sessions replay to the Raw capture, pixel for pixel', () => {
  for (const name of RECORDINGS) {
    test(name, async () => {
      const { info, bytes, expected } = await loadRecording(name);
      expect(bytes.length).toBe(info.bytes);
      const encodingNumber = String(info.encodings[0] === 'zlib' ? ZLIB : ZRLE);
      expect(info.rectangles[encodingNumber], `${name} holds ${info.encodings[0]} rectangles`).toBeGreaterThan(0);

      // Through the whole client (handshake included), whole and in random pieces.
      for (const chunking of ['whole', 'random'] as const) {
        const client = await replay(bytes, info.encodings, chunking, 99);
        try {
          const frame = client.framebuffer.capture();
          expect({ width: frame.width, height: frame.height }).toEqual({ width: expected.width, height: expected.height });
          expect(frame.data.equals(expected.data), `[${chunking}] replayed screen equals ${name}.png`).toBe(true);
        } finally {
          await client.close();
        }
      }
      // Through the parser, in more chunkings (seeded random pieces of up to 64 bytes, 1 KiB and 64 KiB).
      for (const [seed, maxPiece] of [
        [1, 64],
        [2, 1024],
        [3, 65536],
      ] as const) {
        const parsed = parseRecording(bytes, info.encodings, (body) => randomPieces(body, seed, maxPiece));
        expect(parsed.rectangles).toEqual(info.rectangles);
        const frame = parsed.framebuffer.capture();
        expect(frame.data.equals(expected.data), `[random pieces ≤ ${maxPiece}, seed ${seed}] replayed screen equals ${name}.png`).toBe(true);
      }
    });
  }
});

function randomPieces(bytes: Uint8Array, seed: number, maxPiece: number): Uint8Array[] {
  const random = prng(seed);
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = randomInt(random, 1, maxPiece);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}
