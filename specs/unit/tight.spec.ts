/**
 * Tight (encoding 7): hand-built rectangles for every compression type and filter, written here
 * from rfbproto ("Tight Encoding") with a server-side model (zlib streams with a sync flush per
 * rectangle, the gradient predictor run forwards, palettes packed by hand), replayed in every
 * chunking; the four zlib streams and their reset bits; compact lengths of 1, 2 and 3 bytes;
 * malformed input (a VNCProtocolError naming the rectangle) and absurd lengths refused before
 * anything is awaited; the quality and compression-level options; and real sessions recorded
 * from Xvnc, x11vnc and QEMU (specs/data/recordings) replayed through RFBClient.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import zlib from 'node:zlib';

import { expect, test } from '@playwright/test';
import pngjs from 'pngjs';

import { VNCAgentBridge } from '../../src/bridge/bridge.js';
import { VNCConfigError, VNCProtocolError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { RFBClient } from '../../src/rfb/client.js';
import { chooseEncodings, createDecoders } from '../../src/rfb/encodings/index.js';
import { readJpegFrameHeader } from '../../src/rfb/encodings/jpeg.js';
import { createTightPNGDecoder } from '../../src/rfb/encodings/tight.js';
import { Framebuffer } from '../../src/rfb/framebuffer.js';
import { ServerMessageParser } from '../../src/rfb/server-messages.js';
import {
  FakeTransport,
  banner,
  chunkings,
  concat,
  framebufferUpdate,
  parseClientMessages,
  prng,
  randomInt,
  randomSplit,
  rawRect,
  rectHeader,
  securityResult,
  securityTypes,
  serverInit,
  u8,
  recordingChunks,
} from '../support/rfb-bytes.js';
import { readRecording, RECORDINGS_DIR } from '../support/record-session.js';
import { ignoringHandler } from '../support/parser-handler.js';

const { PNG } = pngjs;
const require = createRequire(import.meta.url);
const { Transformer } = require('@napi-rs/image') as typeof import('@napi-rs/image');

const TIGHT = 7;
const TIGHT_PNG = -260;
const LAST_RECT = -224;

/** A 5×3 greyscale JPEG (quality 100, made with libjpeg-turbo): it decodes to 0, 17, 34, …, 238. */
const GREY_JPEG = Buffer.from(
  '/9j/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAADAAUBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EAB8QAAADCQAAAAAAAAAAAAAAAAADCQUHCBcoREVTZf/aAAgBAQAAPwBx4RUr085Zk0nOqs8e09JvUH//2Q==',
  'base64',
);
const GREY = () => Image.of(5, 3, (x, y) => [(y * 5 + x) * 17, (y * 5 + x) * 17, (y * 5 + x) * 17]);

// ---------------------------------------------------------------------------------------------
// The server side, from rfbproto

type RGB = readonly [number, number, number];

/** A compact length: 7 bits per byte, low first, a set top bit means another byte follows; the third byte carries 8 bits. */
function compact(length: number, bytes = length < 0x80 ? 1 : length < 0x4000 ? 2 : 3): Uint8Array {
  if (bytes === 1) return Uint8Array.of(length);
  if (bytes === 2) return Uint8Array.of(0x80 | (length & 0x7f), length >> 7);
  return Uint8Array.of(0x80 | (length & 0x7f), 0x80 | ((length >> 7) & 0x7f), length >> 14);
}

/** One zlib stream of the server: its output per rectangle ends with a sync flush. */
class ServerStream {
  private readonly deflate: zlib.Deflate;
  private pieces: Buffer[] = [];

  constructor(level = 6) {
    this.deflate = zlib.createDeflate({ level });
    this.deflate.on('data', (piece: Buffer) => this.pieces.push(piece));
  }

  async compress(data: Uint8Array): Promise<Buffer> {
    this.pieces = [];
    this.deflate.write(data);
    await new Promise<void>((resolve) => this.deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
    return Buffer.concat(this.pieces);
  }

  close(): void {
    this.deflate.close();
  }
}

interface Area {
  x: number;
  y: number;
  width: number;
  height: number;
}

type Filter = { kind: 'copy'; explicit?: boolean } | { kind: 'palette'; colours: readonly RGB[] } | { kind: 'gradient' };

/** A Tight encoder with four zlib streams, as rfbproto describes one. */
class TightServer {
  private readonly streams: (ServerStream | undefined)[] = [];

  /** Drops the streams named by the bits of `resets` (a new one starts on next use). */
  private reset(resets: number): void {
    for (let id = 0; id < 4; id++) {
      if (resets & (1 << id)) {
        this.streams[id]?.close();
        this.streams[id] = undefined;
      }
    }
  }

  stream(id: number): ServerStream {
    return (this.streams[id] ??= new ServerStream());
  }

  fill(area: Area, [r, g, b]: RGB, resets = 0): Uint8Array {
    this.reset(resets);
    return concat(rectHeader(area.x, area.y, area.width, area.height, TIGHT), u8(0x80 | resets), Uint8Array.of(r, g, b));
  }

  jpeg(area: Area, jpeg: Uint8Array, resets = 0, encoding = TIGHT): Uint8Array {
    this.reset(resets);
    return concat(rectHeader(area.x, area.y, area.width, area.height, encoding), u8(0x90 | resets), compact(jpeg.length), jpeg);
  }

  /**
   * Basic compression: `data` is the filtered pixel data (TPIXELs, palette indices or gradient
   * differences); under 12 bytes it goes as is, else through zlib stream `stream`.
   */
  async basic(area: Area, filter: Filter, data: Uint8Array, options: { stream?: number; resets?: number; compactBytes?: number } = {}): Promise<Uint8Array> {
    const { stream = 0, resets = 0 } = options;
    this.reset(resets);
    const explicit = filter.kind !== 'copy' || filter.explicit === true;
    const parts: Uint8Array[] = [rectHeader(area.x, area.y, area.width, area.height, TIGHT), u8(resets | (stream << 4) | (explicit ? 0x40 : 0))];
    if (explicit) parts.push(u8(filter.kind === 'copy' ? 0 : filter.kind === 'palette' ? 1 : 2));
    if (filter.kind === 'palette') parts.push(u8(filter.colours.length - 1), ...filter.colours.map((c) => Uint8Array.of(...c)));
    if (data.length < 12) {
      parts.push(data);
    } else {
      const compressed = await this.stream(stream).compress(data);
      parts.push(compact(compressed.length, options.compactBytes), compressed);
    }
    return concat(...parts);
  }

  close(): void {
    this.reset(0xf);
  }
}

/** TPIXELs of an image given as RGB rows. */
function tpixels(image: Image): Uint8Array {
  return image.rgb;
}

/** Palette indices: one bit a pixel (most significant first, rows padded to bytes) for up to 2 colours, else a byte. */
function paletteData(width: number, height: number, indices: readonly number[], colours: number): Uint8Array {
  if (colours > 2) return Uint8Array.from(indices);
  const rowBytes = Math.ceil(width / 8);
  const out = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (indices[y * width + x]) out[y * rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
  return out;
}

/** The gradient filter run forwards: each channel minus the prediction left + up − up-left (0 outside), clamped, mod 256. */
function gradientData(image: Image): Uint8Array {
  const { width, height, rgb } = image;
  const at = (x: number, y: number, c: number) => (x < 0 || y < 0 ? 0 : rgb[(y * width + x) * 3 + c]);
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const prediction = Math.min(255, Math.max(0, at(x - 1, y, c) + at(x, y - 1, c) - at(x - 1, y - 1, c)));
        out[(y * width + x) * 3 + c] = (rgb[(y * width + x) * 3 + c] - prediction) & 0xff;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pictures

class Image {
  constructor(
    readonly width: number,
    readonly height: number,
    readonly rgb: Uint8Array,
  ) {}

  static of(width: number, height: number, pixel: (x: number, y: number) => RGB): Image {
    const rgb = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.set(pixel(x, y), (y * width + x) * 3);
    return new Image(width, height, rgb);
  }

  static fromIndices(width: number, height: number, indices: readonly number[], colours: readonly RGB[]): Image {
    return Image.of(width, height, (x, y) => colours[indices[y * width + x]]);
  }

  /** Seeded noise: incompressible. */
  static noise(width: number, height: number, seed: number): Image {
    const random = prng(seed);
    return Image.of(width, height, () => [randomInt(random, 0, 255), randomInt(random, 0, 255), randomInt(random, 0, 255)]);
  }

  /** A smooth, photo-like picture (what gradient and JPEG are for). */
  static smooth(width: number, height: number, salt = 0): Image {
    return Image.of(width, height, (x, y) => [
      Math.round(128 + 100 * Math.sin((x + salt) / 7) * Math.cos(y / 5)),
      (x * 9 + y * 4 + salt) & 255,
      Math.round(128 + 120 * Math.sin((x * y + salt) / 40)),
    ]);
  }

  rgba(): Buffer {
    const out = Buffer.alloc(this.width * this.height * 4);
    for (let i = 0; i < this.width * this.height; i++) {
      out.set(this.rgb.subarray(i * 3, i * 3 + 3), i * 4);
      out[i * 4 + 3] = 255;
    }
    return out;
  }
}

/** The screen the client should show: RGBA with alpha 255, as `Framebuffer.capture()` gives it. */
class Picture {
  readonly data: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = Buffer.alloc(width * height * 4);
    for (let i = 3; i < this.data.length; i += 4) this.data[i] = 255;
  }

  put(x: number, y: number, image: Image): this {
    for (let row = 0; row < image.height; row++) {
      for (let col = 0; col < image.width; col++) {
        this.data.set(image.rgb.subarray((row * image.width + col) * 3, (row * image.width + col) * 3 + 3), ((y + row) * this.width + x + col) * 4);
      }
    }
    return this;
  }

  fill(area: Area, colour: RGB): this {
    return this.put(area.x, area.y, Image.of(area.width, area.height, () => colour));
  }
}

// ---------------------------------------------------------------------------------------------
// The decoder behind the server-message parser

const NO_HANDLER = ignoringHandler();

interface Screen {
  framebuffer: Framebuffer;
  parser: ServerMessageParser;
  queue: ByteQueue;
  updates: number;
  push(chunk: Uint8Array): void;
}

function screen(width: number, height: number, encodings: readonly string[] = ['tight']): Screen {
  const framebuffer = new Framebuffer(width, height);
  const queue = new ByteQueue();
  const s: Screen = {
    framebuffer,
    queue,
    updates: 0,
    parser: new ServerMessageParser(framebuffer, { ...NO_HANDLER, updateEnded: () => s.updates++ }, { advertised: new Set([LAST_RECT]), decoders: createDecoders(chooseEncodings(encodings)) }),
    push(chunk) {
      queue.push(chunk);
      s.parser.parse(queue);
    },
  };
  return s;
}

function expectPicture(framebuffer: Framebuffer, picture: Picture): void {
  const actual = framebuffer.capture().data;
  if (actual.equals(picture.data)) return;
  let first = 0;
  while (actual[first] === picture.data[first]) first++;
  const pixel = first >> 2;
  throw new Error(
    `framebuffer differs from the expected picture first at (${pixel % picture.width},${Math.floor(pixel / picture.width)}): ` +
      `got ${[...actual.subarray(pixel * 4, pixel * 4 + 4)]}, expected ${[...picture.data.subarray(pixel * 4, pixel * 4 + 4)]}`,
  );
}

/** Feeds `message` in every chunking (fresh decoders each time) and checks the picture after each. */
function expectInEveryChunking(width: number, height: number, message: Uint8Array, picture: Picture, options: { random?: number } = {}): void {
  for (const { name, chunks } of chunkings(message, { random: options.random ?? 8 })) {
    const s = screen(width, height);
    try {
      for (const chunk of chunks) s.push(chunk);
      expect(s.updates).toBe(1);
      expect(s.queue.length).toBe(0);
      expectPicture(s.framebuffer, picture);
    } catch (error) {
      if (error instanceof Error) error.message = `[chunking: ${name}] ${error.message}`;
      throw error;
    }
  }
}

/** Feeds `message` whole and returns the VNCProtocolError it must cause. */
function protocolError(width: number, height: number, message: Uint8Array, encodings: readonly string[] = ['tight']): VNCProtocolError {
  const s = screen(width, height, encodings);
  let caught: unknown;
  try {
    s.push(message);
  } catch (error) {
    caught = error;
  }
  expect(caught, 'a VNCProtocolError').toBeInstanceOf(VNCProtocolError);
  return caught as VNCProtocolError;
}

// ---------------------------------------------------------------------------------------------

test.describe('Tight fill', () => {
  test('paints the rectangle with one TPIXEL (R, G, B), in every chunking', () => {
    const server = new TightServer();
    const area = { x: 3, y: 2, width: 9, height: 5 };
    const message = framebufferUpdate([server.fill(area, [0x12, 0x80, 0xfe])]);
    expectInEveryChunking(16, 10, message, new Picture(16, 10).fill(area, [0x12, 0x80, 0xfe]));
  });

  test('may be wider than 2048 pixels (TigerVNC sends screen-wide fills)', () => {
    const server = new TightServer();
    const area = { x: 0, y: 0, width: 2100, height: 2 };
    const s = screen(2100, 2);
    s.push(framebufferUpdate([server.fill(area, [1, 2, 3])]));
    expectPicture(s.framebuffer, new Picture(2100, 2).fill(area, [1, 2, 3]));
  });

  test('an empty rectangle still carries its control byte and colour', () => {
    const server = new TightServer();
    const message = framebufferUpdate([server.fill({ x: 4, y: 4, width: 0, height: 0 }, [9, 9, 9]), server.fill({ x: 0, y: 0, width: 2, height: 1 }, [7, 8, 9])]);
    expectInEveryChunking(8, 8, message, new Picture(8, 8).fill({ x: 0, y: 0, width: 2, height: 1 }, [7, 8, 9]));
  });
});

test.describe('Tight basic compression, copy filter', () => {
  test('under 12 bytes of pixels: sent as is, no length, no zlib', async () => {
    const server = new TightServer();
    const image = Image.smooth(3, 1); // 9 bytes
    const explicit = Image.smooth(1, 3, 5);
    const message = framebufferUpdate([
      await server.basic({ x: 1, y: 1, width: 3, height: 1 }, { kind: 'copy' }, tpixels(image)),
      await server.basic({ x: 5, y: 0, width: 1, height: 3 }, { kind: 'copy', explicit: true }, tpixels(explicit), { stream: 3 }),
    ]);
    expect(message.length).toBe(4 + 12 + 1 + 9 + 12 + 2 + 9);
    expectInEveryChunking(8, 4, message, new Picture(8, 4).put(1, 1, image).put(5, 0, explicit));
  });

  test('12 bytes and more: a compact length and zlib data, in each of the four streams', async () => {
    const server = new TightServer();
    const picture = new Picture(40, 20);
    const rects: Uint8Array[] = [];
    for (let stream = 0; stream < 4; stream++) {
      // 2×2 is exactly 12 bytes: the smallest compressed rectangle.
      const small = Image.smooth(2, 2, stream);
      rects.push(await server.basic({ x: stream * 2, y: 0, width: 2, height: 2 }, { kind: 'copy' }, tpixels(small), { stream }));
      picture.put(stream * 2, 0, small);
      const large = Image.smooth(10, 9, stream * 10);
      rects.push(await server.basic({ x: stream * 10, y: 5, width: 10, height: 9 }, { kind: 'copy', explicit: stream % 2 === 0 }, tpixels(large), { stream }));
      picture.put(stream * 10, 5, large);
    }
    server.close();
    expectInEveryChunking(40, 20, framebufferUpdate(rects), picture);
  });

  test('a stream carries over from rectangle to rectangle and from update to update', async () => {
    const server = new TightServer();
    const picture = new Picture(32, 8);
    const updates: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) {
      // The same content again: the second time, zlib refers back into the window of the first.
      const image = Image.smooth(16, 4, i % 2);
      updates.push(framebufferUpdate([await server.basic({ x: (i % 2) * 16, y: (i >> 1) * 4, width: 16, height: 4 }, { kind: 'copy' }, tpixels(image), { stream: 1 })]));
      picture.put((i % 2) * 16, (i >> 1) * 4, image);
    }
    server.close();
    const message = concat(...updates);
    for (const { name, chunks } of chunkings(message, { random: 4 })) {
      const s = screen(32, 8);
      for (const chunk of chunks) s.push(chunk);
      expect(s.updates, name).toBe(4);
      expectPicture(s.framebuffer, picture);
    }
  });
});

test.describe('Tight basic compression, palette filter', () => {
  const colours2: RGB[] = [
    [0xff, 0xff, 0xff],
    [0x10, 0x20, 0x30],
  ];

  test('2 colours: 1 bit a pixel, rows padded to whole bytes, raw under 12 bytes', async () => {
    const server = new TightServer();
    // 13 wide: 2 bytes a row, the second with 5 bits used; 5 rows = 10 bytes, sent as is.
    const random = prng(7);
    const indices = Array.from({ length: 13 * 5 }, () => randomInt(random, 0, 1));
    const message = framebufferUpdate([await server.basic({ x: 2, y: 1, width: 13, height: 5 }, { kind: 'palette', colours: colours2 }, paletteData(13, 5, indices, 2))]);
    expectInEveryChunking(20, 8, message, new Picture(20, 8).put(2, 1, Image.fromIndices(13, 5, indices, colours2)));
  });

  test('2 colours, compressed, widths around the byte boundary', async () => {
    const server = new TightServer();
    const picture = new Picture(64, 60);
    const rects: Uint8Array[] = [];
    const random = prng(11);
    let y = 0;
    for (const width of [1, 7, 8, 9, 15, 16, 17, 63]) {
      const height = 6;
      const indices = Array.from({ length: width * height }, () => randomInt(random, 0, 1));
      rects.push(await server.basic({ x: 0, y, width, height }, { kind: 'palette', colours: colours2 }, paletteData(width, height, indices, 2), { stream: 2 }));
      picture.put(0, y, Image.fromIndices(width, height, indices, colours2));
      y += 7;
    }
    server.close();
    expectInEveryChunking(64, 60, framebufferUpdate(rects), picture, { random: 4 });
  });

  test('1 colour: 1 bit a pixel, all zero', async () => {
    const server = new TightServer();
    const colours: RGB[] = [[5, 6, 7]];
    const indices = new Array(20 * 3).fill(0);
    const message = framebufferUpdate([await server.basic({ x: 0, y: 0, width: 20, height: 3 }, { kind: 'palette', colours }, paletteData(20, 3, indices, 1))]);
    expectInEveryChunking(20, 3, message, new Picture(20, 3).put(0, 0, Image.fromIndices(20, 3, indices, colours)));
  });

  test('3 to 256 colours: a byte a pixel', async () => {
    const server = new TightServer();
    const picture = new Picture(48, 40);
    const rects: Uint8Array[] = [];
    const random = prng(3);
    let y = 0;
    for (const count of [3, 17, 256]) {
      const colours: RGB[] = Array.from({ length: count }, (_, i) => [i, 255 - i, (i * 37) & 255]);
      const indices = Array.from({ length: 48 * 12 }, () => randomInt(random, 0, count - 1));
      rects.push(await server.basic({ x: 0, y, width: 48, height: 12 }, { kind: 'palette', colours }, paletteData(48, 12, indices, count), { stream: count % 4 }));
      picture.put(0, y, Image.fromIndices(48, 12, indices, colours));
      y += 13;
    }
    // And a tiny one sent as is: 2×3 indices = 6 bytes.
    const colours: RGB[] = [[1, 1, 1], [2, 2, 2], [3, 3, 3]];
    rects.push(await server.basic({ x: 40, y: 39, width: 3, height: 1 }, { kind: 'palette', colours }, paletteData(3, 1, [2, 0, 1], 3)));
    picture.put(40, 39, Image.fromIndices(3, 1, [2, 0, 1], colours));
    server.close();
    expectInEveryChunking(48, 40, framebufferUpdate(rects), picture, { random: 4 });
  });
});

test.describe('Tight palettes on a framebuffer of odd width (rows start at even and odd pixels in turn)', () => {
  test('1 bit and 8 bits a pixel, at even and odd x, widths around the byte and word boundaries', async () => {
    const server = new TightServer();
    const picture = new Picture(101, 90);
    const rects: Uint8Array[] = [];
    const random = prng(21);
    let y = 0;
    for (const count of [2, 3, 16, 17]) {
      let x = 0;
      for (const width of [1, 2, 3, 5, 8, 9, 17, 33]) {
        const height = 5;
        const colours: RGB[] = Array.from({ length: count }, (_, i) => [(i * 53) & 255, (i * 29 + 7) & 255, 255 - i]);
        const indices = Array.from({ length: width * height }, () => randomInt(random, 0, count - 1));
        const left = x + (width % 2);
        rects.push(await server.basic({ x: left, y, width, height }, { kind: 'palette', colours }, paletteData(width, height, indices, count), { stream: count % 4 }));
        picture.put(left, y, Image.fromIndices(width, height, indices, colours));
        x = left + width;
      }
      y += 6;
    }
    server.close();
    expectInEveryChunking(101, 90, framebufferUpdate(rects), picture, { random: 2 });
  });
});

test.describe('Tight basic compression, gradient filter', () => {
  test('reverses the prediction (left + up − up-left, clamped) exactly, compressed and not', async () => {
    const server = new TightServer();
    const smooth = Image.smooth(37, 11);
    // Noise drives the prediction out of 0–255 often: the clamping is exercised.
    const noise = Image.noise(20, 9, 5);
    const tiny = Image.smooth(1, 3, 9);
    const message = framebufferUpdate([
      await server.basic({ x: 0, y: 0, width: 37, height: 11 }, { kind: 'gradient' }, gradientData(smooth)),
      await server.basic({ x: 40, y: 2, width: 20, height: 9 }, { kind: 'gradient' }, gradientData(noise), { stream: 3 }),
      await server.basic({ x: 62, y: 0, width: 1, height: 3 }, { kind: 'gradient' }, gradientData(tiny)),
    ]);
    server.close();
    expectInEveryChunking(64, 12, message, new Picture(64, 12).put(0, 0, smooth).put(40, 2, noise).put(62, 0, tiny), { random: 4 });
  });

  test('a gradient rectangle 2048 pixels wide (the widest Tight allows)', async () => {
    const server = new TightServer();
    const image = Image.smooth(2048, 3);
    const s = screen(2048, 3);
    s.push(framebufferUpdate([await server.basic({ x: 0, y: 0, width: 2048, height: 3 }, { kind: 'gradient' }, gradientData(image))]));
    server.close();
    expectPicture(s.framebuffer, new Picture(2048, 3).put(0, 0, image));
  });
});

test.describe('Tight JPEG', () => {
  test('a fixed greyscale JPEG paints its exact grey levels, in every chunking', () => {
    const server = new TightServer();
    const message = framebufferUpdate([server.jpeg({ x: 1, y: 2, width: 5, height: 3 }, GREY_JPEG)]);
    const grey = GREY();
    expectInEveryChunking(8, 6, message, new Picture(8, 6).put(1, 2, grey), { random: 4 });
  });

  test('a colour JPEG: close to the source image, and exactly what the codec decodes', () => {
    const server = new TightServer();
    const image = Image.smooth(40, 24);
    const jpeg = Transformer.fromRgbaPixels(image.rgba(), 40, 24).jpegSync(95);
    expect(readJpegFrameHeader(jpeg)).toEqual({ width: 40, height: 24, components: 3 });
    const decoded = new Transformer(jpeg).rawPixelsSync();
    expect(decoded.length).toBe(40 * 24 * 3);
    const s = screen(48, 30);
    s.push(framebufferUpdate([server.jpeg({ x: 4, y: 3, width: 40, height: 24 }, jpeg)]));
    expectPicture(s.framebuffer, new Picture(48, 30).put(4, 3, new Image(40, 24, decoded)));
    // And close to the source (JPEG is lossy): mean absolute difference per channel.
    let sum = 0;
    for (let i = 0; i < image.rgb.length; i++) sum += Math.abs(image.rgb[i] - decoded[i]);
    expect(sum / image.rgb.length).toBeLessThan(4);
  });

  test('JPEG rectangles between zlib ones leave the streams alone; reset bits on a JPEG rectangle apply', async () => {
    const server = new TightServer();
    const a = Image.smooth(8, 8, 1);
    const b = Image.smooth(8, 8, 2);
    const message = framebufferUpdate([
      await server.basic({ x: 0, y: 0, width: 8, height: 8 }, { kind: 'copy' }, tpixels(a), { stream: 2 }),
      server.jpeg({ x: 8, y: 0, width: 5, height: 3 }, GREY_JPEG, 0b0100),
      await server.basic({ x: 0, y: 8, width: 8, height: 8 }, { kind: 'copy' }, tpixels(b), { stream: 2 }),
    ]);
    server.close();
    const grey = GREY();
    expectInEveryChunking(16, 16, message, new Picture(16, 16).put(0, 0, a).put(8, 0, grey).put(0, 8, b), { random: 4 });
  });
});

test.describe('Tight zlib streams and their reset bits', () => {
  test('a reset bit starts that stream anew (the server restarted its deflater)', async () => {
    const server = new TightServer();
    const images = [0, 1, 2, 3].map((i) => Image.smooth(12, 6, i));
    const message = framebufferUpdate([
      await server.basic({ x: 0, y: 0, width: 12, height: 6 }, { kind: 'copy' }, tpixels(images[0]), { stream: 0 }),
      await server.basic({ x: 12, y: 0, width: 12, height: 6 }, { kind: 'copy' }, tpixels(images[1]), { stream: 1 }),
      // Resets stream 0 and 1 together; the data is the start of a new zlib stream (with its header).
      await server.basic({ x: 0, y: 6, width: 12, height: 6 }, { kind: 'copy' }, tpixels(images[2]), { stream: 0, resets: 0b0011 }),
      await server.basic({ x: 12, y: 6, width: 12, height: 6 }, { kind: 'copy' }, tpixels(images[3]), { stream: 1 }),
    ]);
    server.close();
    const picture = new Picture(24, 12).put(0, 0, images[0]).put(12, 0, images[1]).put(0, 6, images[2]).put(12, 6, images[3]);
    expectInEveryChunking(24, 12, message, picture, { random: 4 });
  });

  test('a reset bit on a fill rectangle resets the stream for the rectangles after it', async () => {
    const server = new TightServer();
    const a = Image.smooth(6, 6, 1);
    const b = Image.smooth(6, 6, 2);
    const message = framebufferUpdate([
      await server.basic({ x: 0, y: 0, width: 6, height: 6 }, { kind: 'copy' }, tpixels(a), { stream: 3 }),
      server.fill({ x: 6, y: 0, width: 2, height: 2 }, [1, 2, 3], 0b1000),
      await server.basic({ x: 0, y: 6, width: 6, height: 6 }, { kind: 'copy' }, tpixels(b), { stream: 3 }),
    ]);
    server.close();
    expectInEveryChunking(12, 12, message, new Picture(12, 12).put(0, 0, a).fill({ x: 6, y: 0, width: 2, height: 2 }, [1, 2, 3]).put(0, 6, b), { random: 4 });
  });

  test('a new zlib stream without the reset bit is a protocol error naming the stream and the rectangle', async () => {
    const first = new TightServer();
    const second = new TightServer();
    const a = Image.smooth(6, 6, 1);
    const message = framebufferUpdate([
      await first.basic({ x: 0, y: 0, width: 6, height: 6 }, { kind: 'copy' }, tpixels(a), { stream: 1 }),
      await second.basic({ x: 0, y: 6, width: 6, height: 6 }, { kind: 'copy' }, tpixels(a), { stream: 1 }),
    ]);
    first.close();
    second.close();
    const error = protocolError(12, 12, message);
    expect(error.message).toContain('Tight rectangle 6x6 at (0,6)');
    expect(error.message).toContain('Tight stream 1');
  });
});

test.describe('Tight compact lengths', () => {
  test('1, 2 and 3 bytes, and a 2-byte form of a small number', async () => {
    const server = new TightServer();
    const picture = new Picture(120, 120);
    const rects: Uint8Array[] = [];
    const cases: { area: Area; image: Image; bytes: number; compactBytes?: number }[] = [
      { area: { x: 0, y: 0, width: 4, height: 4 }, image: Image.smooth(4, 4), bytes: 1 },
      // Noise does not compress: 20×20×3 = 1200 bytes of zlib data, a 2-byte length.
      { area: { x: 0, y: 4, width: 20, height: 20 }, image: Image.noise(20, 20, 1), bytes: 2 },
      // 100×100×3 = 30 000 bytes, a 3-byte length.
      { area: { x: 0, y: 20, width: 100, height: 100 }, image: Image.noise(100, 100, 2), bytes: 3 },
      // 127 fits in 1 byte, but servers may spend two: [0xff, 0x00].
      { area: { x: 100, y: 0, width: 4, height: 4 }, image: Image.smooth(4, 4, 3), bytes: 2, compactBytes: 2 },
    ];
    for (const { area, image, bytes, compactBytes } of cases) {
      const rect = await server.basic(area, { kind: 'copy' }, tpixels(image), { stream: 0, compactBytes });
      const first = rect[13];
      const length = bytes === 1 ? first : bytes === 2 ? (first & 0x7f) | (rect[14] << 7) : (first & 0x7f) | ((rect[14] & 0x7f) << 7) | (rect[15] << 14);
      expect(rect.length, `${area.width}x${area.height}: ${bytes}-byte length`).toBe(13 + bytes + length);
      rects.push(rect);
      picture.put(area.x, area.y, image);
    }
    server.close();
    expectInEveryChunking(120, 120, framebufferUpdate(rects), picture, { random: 2 });
  });
});

test.describe('Tight: malformed input is a VNCProtocolError naming the rectangle', () => {
  const header = (width: number, height: number, x = 0, y = 0) => rectHeader(x, y, width, height, TIGHT);

  test('compression types 10–15 (10 is PNG, TightPNG only)', () => {
    for (const control of [0xa0, 0xb0, 0xc3, 0xff]) {
      const error = protocolError(8, 8, framebufferUpdate([concat(header(2, 2, 1, 1), u8(control))]));
      expect(error.message).toContain('Tight rectangle 2x2 at (1,1)');
      expect(error.message).toContain(`compression type ${control >> 4}`);
    }
  });

  test('filters other than copy, palette, gradient', () => {
    const error = protocolError(8, 8, framebufferUpdate([concat(header(2, 2), u8(0x40), u8(3))]));
    expect(error.message).toMatch(/Tight rectangle 2x2 at \(0,0\): filter 3 is not defined/);
  });

  test('palette index beyond the palette (a byte a pixel, and the 1-bit form of a 1-colour palette)', () => {
    // 3 colours, indices 0, 1, 3 (6 bytes, sent as is).
    const error = protocolError(8, 8, framebufferUpdate([concat(header(3, 1), u8(0x40), u8(1), u8(2), new Uint8Array(9), Uint8Array.of(0, 1, 3))]));
    expect(error.message).toContain('Tight rectangle 3x1 at (0,0)');
    expect(error.message).toContain('palette index 3 at (2,0)');
    const single = protocolError(8, 8, framebufferUpdate([concat(header(8, 2), u8(0x40), u8(1), u8(0), new Uint8Array(3), Uint8Array.of(0x00, 0x10))]));
    expect(single.message).toContain('palette index 1 at (3,1)');
  });

  test('basic compression in a rectangle wider than 2048 pixels', () => {
    const error = protocolError(2049, 1, framebufferUpdate([concat(header(2049, 1), u8(0x00), compact(100))]));
    expect(error.message).toContain('at most 2048 pixels wide');
  });

  test('zlib data that is not zlib, or inflates to too little or too much', async () => {
    const garbage = protocolError(8, 8, framebufferUpdate([concat(header(2, 2), u8(0x00), compact(20), new Uint8Array(20).fill(0xaa))]));
    expect(garbage.message).toContain('Tight rectangle 2x2 at (0,0)');
    expect(garbage.message).toContain('Tight stream 0');

    const short = new ServerStream();
    const tooLittle = await short.compress(new Uint8Array(11));
    const little = protocolError(8, 8, framebufferUpdate([concat(header(2, 2), u8(0x10), compact(tooLittle.length), tooLittle)]));
    expect(little.message).toContain('inflates to 11 bytes, expected 12');

    const long = new ServerStream();
    const tooMuch = await long.compress(new Uint8Array(24));
    const much = protocolError(8, 8, framebufferUpdate([concat(header(2, 2), u8(0x20), compact(tooMuch.length), tooMuch)]));
    expect(much.message).toContain('more than the expected 12 bytes');
    short.close();
    long.close();
  });

  test('JPEG data without a frame header, or of another size than the rectangle', () => {
    const none = protocolError(8, 8, framebufferUpdate([concat(header(2, 2), u8(0x90), compact(10), new Uint8Array(10).fill(0xff))]));
    expect(none.message).toContain('Tight rectangle 2x2 at (0,0): the 10 bytes of JPEG data hold no JPEG frame header');
    const jpeg = Transformer.fromRgbaPixels(Image.smooth(4, 4).rgba(), 4, 4).jpegSync(80);
    const size = protocolError(8, 8, framebufferUpdate([concat(header(4, 3), u8(0x90), compact(jpeg.length), jpeg)]));
    expect(size.message).toContain('the JPEG image is 4x4, not the size of the rectangle');
  });

  test('absurd lengths are refused as soon as the length is in, before any of the data', () => {
    // 2×2 TPIXELs are 12 bytes; their zlib data cannot take 4 MiB.
    const zlibLength = protocolError(8, 8, framebufferUpdate([concat(header(2, 2), u8(0x00), compact(0x3fffff))]));
    expect(zlibLength.message).toMatch(/Tight rectangle 2x2 at \(0,0\): 4194303 bytes of zlib data announced, more than the \d+ such a rectangle can need/);
    // A 1×1 JPEG cannot take 4 MiB either.
    const jpegLength = protocolError(8, 8, framebufferUpdate([concat(header(1, 1), u8(0x90), compact(0x3fffff))]));
    expect(jpegLength.message).toContain('4194303 bytes of JPEG data announced');
    // Zero bytes of zlib data for pixels that need some.
    const empty = protocolError(8, 8, framebufferUpdate([concat(header(2, 2), u8(0x00), compact(0))]));
    expect(empty.message).toContain('0 bytes of zlib data');
  });

  test('a large but plausible length is awaited, not refused', () => {
    const s = screen(200, 100);
    // 200×100×3 = 60 000 bytes of TPIXELs; 60 500 bytes of zlib data is within bounds: wait for them.
    s.push(framebufferUpdate([concat(header(200, 100), u8(0x00), compact(60_500), new Uint8Array(1000))]));
    expect(s.updates).toBe(0);
  });

  test('a random fuzz of valid rectangles with bytes flipped never throws anything but VNCProtocolError', async () => {
    const server = new TightServer();
    const rects: Uint8Array[] = [];
    const starts: number[] = [];
    let at = 4;
    const push = (rect: Uint8Array) => {
      starts.push(at);
      rects.push(rect);
      at += rect.length;
    };
    push(server.fill({ x: 0, y: 0, width: 8, height: 8 }, [1, 2, 3]));
    push(await server.basic({ x: 8, y: 0, width: 8, height: 8 }, { kind: 'copy' }, tpixels(Image.smooth(8, 8)), { stream: 1 }));
    push(await server.basic({ x: 0, y: 8, width: 16, height: 4 }, { kind: 'palette', colours: [[0, 0, 0], [9, 9, 9]] }, paletteData(16, 4, new Array(64).fill(1), 2)));
    push(await server.basic({ x: 0, y: 12, width: 16, height: 4 }, { kind: 'gradient' }, gradientData(Image.smooth(16, 4)), { stream: 2 }));
    push(server.jpeg({ x: 0, y: 16, width: 5, height: 3 }, GREY_JPEG));
    server.close();
    const message = framebufferUpdate(rects);
    const random = prng(99);
    for (let run = 0; run < 300; run++) {
      const bytes = Buffer.from(message);
      const flips = randomInt(random, 1, 3);
      for (let i = 0; i < flips; i++) {
        // Mostly in the Tight headers (the first bytes after each rectangle header), sometimes anywhere.
        const start = starts[randomInt(random, 0, starts.length - 1)] + 12;
        const offset = random() < 0.7 ? start + randomInt(random, 0, 4) : randomInt(random, 4, bytes.length - 1);
        bytes[Math.min(offset, bytes.length - 1)] = randomInt(random, 0, 255);
      }
      const s = screen(16, 20);
      try {
        for (const piece of randomSplit(bytes, run)) s.push(piece);
      } catch (error) {
        if (!(error instanceof VNCProtocolError)) throw new Error(`run ${run}: ${String(error)}`, { cause: error });
      }
    }
  });
});

test.describe('TightPNG (-260)', () => {
  function pngOf(image: Image): Buffer {
    const png = new PNG({ width: image.width, height: image.height });
    image.rgba().copy(png.data);
    return PNG.sync.write(png);
  }

  function tightPngScreen(width: number, height: number) {
    const framebuffer = new Framebuffer(width, height);
    const queue = new ByteQueue();
    const parser = new ServerMessageParser(framebuffer, NO_HANDLER, { advertised: new Set([LAST_RECT]), decoders: new Map([[TIGHT_PNG, createTightPNGDecoder()]]) });
    return {
      framebuffer,
      push(chunk: Uint8Array) {
        queue.push(chunk);
        parser.parse(queue);
      },
    };
  }

  test('fill, PNG and JPEG rectangles, in random chunkings', () => {
    const image = Image.smooth(30, 20);
    const png = pngOf(image);
    const grey = GREY();
    const message = framebufferUpdate([
      concat(rectHeader(0, 0, 40, 30, TIGHT_PNG), u8(0x8f), Uint8Array.of(9, 8, 7)),
      concat(rectHeader(2, 3, 30, 20, TIGHT_PNG), u8(0xa0), compact(png.length), png),
      concat(rectHeader(34, 25, 5, 3, TIGHT_PNG), u8(0x90), compact(GREY_JPEG.length), GREY_JPEG),
    ]);
    const picture = new Picture(40, 30).fill({ x: 0, y: 0, width: 40, height: 30 }, [9, 8, 7]).put(2, 3, image).put(34, 25, grey);
    for (const { name, chunks } of chunkings(message, { random: 4 })) {
      const s = tightPngScreen(40, 30);
      for (const chunk of chunks) s.push(chunk);
      try {
        expectPicture(s.framebuffer, picture);
      } catch (error) {
        throw new Error(`[chunking: ${name}] ${(error as Error).message}`);
      }
    }
  });

  test('basic compression in TightPNG (QEMU sends its gradient filter so) decodes as in Tight, with its own zlib streams', async () => {
    const server = new TightServer();
    const smooth = Image.smooth(37, 11);
    const colours: RGB[] = [[1, 2, 3], [200, 100, 50], [9, 9, 9]];
    const indices = Array.from({ length: 20 * 9 }, (_, i) => (i * 7) % 3);
    const asTightPng = (rect: Uint8Array) => {
      const copy = new Uint8Array(rect);
      new DataView(copy.buffer).setInt32(8, TIGHT_PNG);
      return copy;
    };
    const rects = [
      asTightPng(await server.basic({ x: 0, y: 0, width: 37, height: 11 }, { kind: 'gradient' }, gradientData(smooth), { stream: 3 })),
      asTightPng(await server.basic({ x: 0, y: 12, width: 20, height: 9 }, { kind: 'palette', colours }, paletteData(20, 9, indices, 3), { stream: 1 })),
    ];
    server.close();
    const picture = new Picture(40, 22).put(0, 0, smooth).put(0, 12, Image.fromIndices(20, 9, indices, colours));
    for (const { name, chunks } of chunkings(framebufferUpdate(rects), { random: 4 })) {
      const s = tightPngScreen(40, 22);
      for (const chunk of chunks) s.push(chunk);
      try {
        expectPicture(s.framebuffer, picture);
      } catch (error) {
        throw new Error(`[chunking: ${name}] ${(error as Error).message}`);
      }
    }
  });

  test('a PNG of another size is refused', () => {
    const png = pngOf(Image.smooth(3, 3));
    const t = tightPngScreen(8, 8);
    expect(() => t.push(framebufferUpdate([concat(rectHeader(0, 0, 2, 2, TIGHT_PNG), u8(0xa0), compact(png.length), png)]))).toThrow(/the PNG image is 3x3, not the size/);
  });
});

// ---------------------------------------------------------------------------------------------
// Options: quality and compression level

/** A client through its handshake over a FakeTransport, with `options`; resolves with what it sent. */
async function clientWith(options: Record<string, unknown>): Promise<{ client: RFBClient; transport: FakeTransport; encodings: number[] }> {
  const transport = new FakeTransport();
  const starting = RFBClient.start(transport, { credentials: {}, timeoutMs: 2000, encodings: ['tight'], ...options });
  transport.deliver(concat(banner('3.8'), securityTypes([1]), securityResult(0), serverInit({ width: 4, height: 2, name: 'q' }), framebufferUpdate([rawRect(0, 0, 4, 2, new Uint8Array(32))])));
  const client = await starting;
  // Each client message is one write; the handshake's writes never start with 2.
  const [setEncodings] = parseClientMessages(transport.written.find((bytes) => bytes[0] === 2 && bytes.length >= 4)!);
  return { client, transport, encodings: setEncodings.type === 'SetEncodings' ? setEncodings.encodings : [] };
}

test.describe('quality and compressionLevel', () => {
  test("'lossless' (the default) advertises no JPEG quality level and no compression level", async () => {
    for (const options of [{}, { quality: 'lossless' }]) {
      const { client, encodings } = await clientWith(options);
      expect(encodings.slice(0, 2)).toEqual([TIGHT, 0]);
      expect(encodings.filter((e) => (e >= -32 && e <= -23) || (e >= -256 && e <= -247))).toEqual([]);
      await client.close();
    }
  });

  test('a quality level q advertises −32 + q; a compression level n advertises −256 + n', async () => {
    for (const [quality, compressionLevel] of [
      [0, 0],
      [5, 9],
      [9, undefined],
    ] as const) {
      const { client, encodings } = await clientWith({ quality, compressionLevel });
      expect(encodings).toContain(-32 + quality);
      if (compressionLevel === undefined) expect(encodings.filter((e) => e >= -256 && e <= -247)).toEqual([]);
      else expect(encodings).toContain(-256 + compressionLevel);
      await client.close();
    }
    const { client, encodings } = await clientWith({ compressionLevel: 1 });
    expect(encodings).toContain(-255);
    expect(encodings.filter((e) => e >= -32 && e <= -23)).toEqual([]);
    await client.close();
  });

  test('the quality pseudo-encoding is accepted in an update only when advertised', async () => {
    const withQuality = await clientWith({ quality: 5 });
    withQuality.transport.deliver(framebufferUpdate([rectHeader(0, 0, 0, 0, -27)]));
    expect(withQuality.client.isClosed).toBe(false);
    await withQuality.client.close();

    const lossless = await clientWith({});
    lossless.transport.deliver(framebufferUpdate([rectHeader(0, 0, 0, 0, -27)]));
    expect(lossless.client.isClosed).toBe(true);
    expect(lossless.client.closeReason).toBeInstanceOf(VNCProtocolError);
    expect(lossless.client.closeReason!.message).toContain('encoding -27, which this client did not advertise');
  });

  test('bad values are a VNCConfigError naming the option and the allowed values', async () => {
    for (const quality of [10, -1, 2.5, 'high', '5', null, Number.NaN]) {
      expect(() => new VNCAgentBridge({ host: '127.0.0.1', quality: quality as never })).toThrow(VNCConfigError);
      expect(() => new VNCAgentBridge({ host: '127.0.0.1', quality: quality as never })).toThrow(/VNCAgentBridge: quality must be 'lossless' .* an integer from 0 \(smallest\) to 9 \(best\)/);
      const transport = new FakeTransport();
      await expect(RFBClient.start(transport, { credentials: {}, timeoutMs: 1000, quality: quality as never })).rejects.toThrow(/RFBClient: quality must be/);
      expect(transport.destroyed).toBe(true);
    }
    for (const compressionLevel of [10, -1, 0.5, 'max', null]) {
      expect(() => new VNCAgentBridge({ host: '127.0.0.1', compressionLevel: compressionLevel as never })).toThrow(
        /VNCAgentBridge: compressionLevel must be an integer from 0 \(fastest\) to 9 \(smallest\)/,
      );
    }
    expect(() => new VNCAgentBridge({ host: '127.0.0.1', quality: 0, compressionLevel: 9 })).not.toThrow();
    expect(() => new VNCAgentBridge({ host: '127.0.0.1', quality: 'lossless' })).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Recorded sessions

const recordings = (existsSync(RECORDINGS_DIR) ? readdirSync(RECORDINGS_DIR) : [])
  .filter((name) => name.endsWith('.json'))
  .map((name) => name.replace(/\.json$/, ''))
  .filter((name) => /tight/.test(name));

test.describe('Tight recordings', () => {
  test('there are recordings of Xvnc, x11vnc and QEMU (lossless, gradient, JPEG)', () => {
    expect(recordings).toEqual(expect.arrayContaining(['xvnc-tight', 'x11vnc-tight', 'qemu-tight', 'qemu-tight-gradient', 'qemu-tight-jpeg', 'xvnc-tight-jpeg']));
    // Between them, every compression type and filter a server sent (counted when recorded).
    const kinds = (name: string) => Object.keys(readRecording(name).meta.rectangles ?? {});
    expect(kinds('qemu-tight-gradient')).toContain('tight gradient');
    expect(kinds('qemu-tight-jpeg')).toContain('tight jpeg');
    expect(kinds('xvnc-tight-jpeg')).toContain('tight jpeg');
    expect(kinds('xvnc-tight')).toEqual(expect.arrayContaining(['tight fill', 'tight palette', 'tight copy']));
  });

  for (const name of recordings) {
    test(`${name}: replayed in random chunkings, the final frame is the recorded picture`, async () => {
      const recording = readRecording(name);
      const truth = PNG.sync.read(readFileSync(join(RECORDINGS_DIR, `${name}.png`)));
      for (let seed = 1; seed <= 3; seed++) {
        const transport = new FakeTransport();
        const starting = RFBClient.start(transport, { credentials: { password: recording.meta.password }, encodings: recording.meta.encodings, timeoutMs: 5000 });
        transport.deliverChunks(recordingChunks(recording.bytes, seed));
        const client = await starting;
        expect(client.isClosed, `seed ${seed}: ${client.closeReason?.message}`).toBe(false);
        const frame = client.framebuffer.capture();
        expect([frame.width, frame.height]).toEqual([truth.width, truth.height]);
        expect(frame.data.equals(truth.data), `seed ${seed}: the replayed frame equals ${name}.png`).toBe(true);
        await client.close();
      }
    });
  }
});
