import { VNCError, VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { BYTES_PER_PIXEL, type Framebuffer } from '../framebuffer.js';
import type { Decoder, RectangleInProgress } from './decoder.js';
import { compressedLengthBound, InflateStream } from './inflate-stream.js';
import { decodeJpeg, readJpegFrameHeader } from './jpeg.js';
import { decodeRgbaPng, type RgbaImage } from './png.js';
import { paintGradient, paintPalette, paintPixels, paintRgb, TPIXEL_BYTES } from './tight-paint.js';

/** The compression types in the high nibble of the compression-control byte (rfbproto, "Tight Encoding"). */
const Compression = {
  /** 0–7: basic compression; bits 0–1 the zlib stream, bit 2 an explicit filter. */
  BasicMax: 0x7,
  Fill: 0x8,
  Jpeg: 0x9,
  /** TightPNG only. */
  Png: 0xa,
} as const;
const EXPLICIT_FILTER = 0x4;

const Filter = { Copy: 0, Palette: 1, Gradient: 2 } as const;

/** Pixel data shorter than this is sent as is: no length, no zlib. */
const MIN_TO_COMPRESS = 12;
/** Widest rectangle Tight may send with basic, JPEG or PNG compression (fill rectangles may be wider). */
export const TIGHT_MAX_WIDTH = 2048;
/** The largest number a compact length (7 + 7 + 8 bits) can carry. */
const MAX_COMPACT_LENGTH = 0x3fffff;

/**
 * A JPEG or PNG of `pixels` pixels larger than this is refused before its bytes are awaited: about
 * 8 bytes a pixel (an image codec needs at most ~4 for noise) plus 64 KiB for tables and headers.
 */
export function imageLengthBound(pixels: number): number {
  return Math.min(MAX_COMPACT_LENGTH, pixels * 8 + 64 * 1024);
}

/** What the header of a Tight rectangle says: how many bytes the whole rectangle takes, and where its parts are. */
interface Layout {
  control: number;
  type: number;
  filter: number;
  /** Palette filter: number of colours (1–256) and where the palette starts. */
  paletteSize: number;
  paletteOffset: number;
  /** Where the pixel data (after any compact length) starts, and its length on the wire. */
  dataOffset: number;
  dataLength: number;
  /** Basic compression: bytes of pixel data once inflated; whether it is zlib data at all. */
  rawLength: number;
  compressed: boolean;
}

function describe(name: string, rect: RectangleInProgress): string {
  return `${name} rectangle ${rect.width}x${rect.height} at (${rect.x},${rect.y})`;
}

/**
 * Tight (encoding 7), and TightPNG (-260), which adds PNG (type 10). noVNC's TightPNG refuses basic
 * compression, but QEMU 7.2 sends it in TightPNG (its gradient filter with `lossy=on` and no JPEG
 * quality level), so both decode it, each with its own four zlib streams.
 *
 * One rectangle: a compression-control byte (low nibble: zlib streams to reset; high nibble: the
 * compression type), then a fill colour, a JPEG, or "basic" pixel data: an optional filter (copy,
 * palette, gradient), then zlib data in one of four persistent streams (a compact length first),
 * or the bytes themselves when fewer than 12. Every part after the header is length-delimited,
 * so the header is parsed as soon as it is in (bad values are refused at once, and lengths are
 * bounded before anything is awaited), and the rectangle is painted once all its bytes are in:
 * `progress` is 1 while they are awaited.
 */
class TightDecoder implements Decoder {
  readonly name: string;
  private readonly png: boolean;
  private readonly streams: InflateStream[];
  private layout: Layout | undefined;
  /** The previous and current row of the gradient filter (RGB), reused between rectangles. */
  private readonly gradientRows = new Uint8Array(2 * TIGHT_MAX_WIDTH * TPIXEL_BYTES);
  /** The palette filter's colours as 32-bit pixels, reused between rectangles. */
  private readonly palette = new Uint32Array(256);

  constructor(png: boolean) {
    this.png = png;
    this.name = png ? 'TightPNG' : 'Tight';
    this.streams = [0, 1, 2, 3].map((id) => new InflateStream(`${this.name} stream ${id}`));
  }

  decode(rect: RectangleInProgress, queue: ByteQueue, framebuffer: Framebuffer): boolean {
    if (rect.progress === 0) {
      const layout = this.measure(rect, queue);
      if (!layout) return false;
      this.layout = layout;
      rect.progress = 1;
    }
    const layout = this.layout!;
    const total = layout.dataOffset + layout.dataLength;
    if (!queue.has(total)) return false;
    const bytes = queue.view(total);
    this.layout = undefined;

    for (let id = 0; id < 4; id++) if (layout.control & (1 << id)) this.streams[id]?.reset();
    const data = bytes.subarray(layout.dataOffset, total);
    switch (layout.type) {
      case Compression.Fill:
        framebuffer.fill(rect, data[0], data[1], data[2]);
        break;
      case Compression.Jpeg:
        this.paintJpeg(rect, data, framebuffer);
        break;
      case Compression.Png:
        this.paintPng(rect, data, framebuffer);
        break;
      default:
        this.paintBasic(rect, layout, bytes, data, framebuffer);
    }
    return true;
  }

  /**
   * Parses the header from the queue without consuming it. Undefined while it is incomplete;
   * throws for values Tight does not define and for lengths beyond the rectangle's bounds.
   */
  private measure(rect: RectangleInProgress, queue: ByteQueue): Layout | undefined {
    if (!queue.has(1)) return undefined;
    const control = queue.peekU8(0);
    const type = control >> 4;
    const layout: Layout = {
      control,
      type,
      filter: Filter.Copy,
      paletteSize: 0,
      paletteOffset: 0,
      dataOffset: 1,
      dataLength: 0,
      rawLength: 0,
      compressed: false,
    };
    if (type === Compression.Fill) {
      layout.dataLength = TPIXEL_BYTES;
      return layout;
    }
    if (type > Compression.Jpeg && !(this.png && type === Compression.Png)) {
      throw new VNCProtocolError(
        `${describe(this.name, rect)}: compression type ${type} (control byte 0x${control.toString(16).padStart(2, '0')}) is not defined in ${this.name} ` +
          `(0–7 basic, 8 fill, 9 JPEG${this.png ? ', 10 PNG' : ''}).`,
      );
    }
    if (rect.width > TIGHT_MAX_WIDTH) {
      throw new VNCProtocolError(`${describe(this.name, rect)}: Tight sends rectangles at most ${TIGHT_MAX_WIDTH} pixels wide except with fill compression.`);
    }
    if (type === Compression.Jpeg || type === Compression.Png) {
      const length = this.compactLength(queue, 1, imageLengthBound(rect.width * rect.height), type === Compression.Jpeg ? 'JPEG' : 'PNG', rect);
      if (!length) return undefined;
      layout.dataOffset = 1 + length.size;
      layout.dataLength = length.value;
      return layout;
    }

    // Basic compression.
    let at = 1;
    if (control & (EXPLICIT_FILTER << 4)) {
      if (!queue.has(2)) return undefined;
      layout.filter = queue.peekU8(1);
      at = 2;
    }
    let rowBytes: number;
    switch (layout.filter) {
      case Filter.Copy:
      case Filter.Gradient:
        rowBytes = rect.width * TPIXEL_BYTES;
        break;
      case Filter.Palette:
        if (!queue.has(at + 1)) return undefined;
        layout.paletteSize = queue.peekU8(at) + 1;
        layout.paletteOffset = at + 1;
        at += 1 + layout.paletteSize * TPIXEL_BYTES;
        rowBytes = layout.paletteSize <= 2 ? Math.ceil(rect.width / 8) : rect.width;
        break;
      default:
        throw new VNCProtocolError(`${describe(this.name, rect)}: filter ${layout.filter} is not defined (0 copy, 1 palette, 2 gradient).`);
    }
    layout.rawLength = rowBytes * rect.height;
    if (layout.rawLength < MIN_TO_COMPRESS) {
      layout.dataOffset = at;
      layout.dataLength = layout.rawLength;
      return layout;
    }
    const length = this.compactLength(queue, at, compressedLengthBound(layout.rawLength), 'zlib', rect);
    if (!length) return undefined;
    layout.compressed = true;
    layout.dataOffset = at + length.size;
    layout.dataLength = length.value;
    return layout;
  }

  /** Reads a compact length (1–3 bytes) at `offset` of the queue without consuming it; checks it against `bound`. */
  private compactLength(queue: ByteQueue, offset: number, bound: number, what: string, rect: RectangleInProgress): { value: number; size: number } | undefined {
    if (!queue.has(offset + 1)) return undefined;
    const first = queue.peekU8(offset);
    let value = first & 0x7f;
    let size = 1;
    if (first & 0x80) {
      if (!queue.has(offset + 2)) return undefined;
      const second = queue.peekU8(offset + 1);
      value |= (second & 0x7f) << 7;
      size = 2;
      if (second & 0x80) {
        if (!queue.has(offset + 3)) return undefined;
        value |= queue.peekU8(offset + 2) << 14;
        size = 3;
      }
    }
    if (value > bound) {
      throw new VNCProtocolError(`${describe(this.name, rect)}: ${value} bytes of ${what} data announced, more than the ${bound} such a rectangle can need.`);
    }
    if (value === 0 && what === 'zlib') {
      throw new VNCProtocolError(`${describe(this.name, rect)}: 0 bytes of zlib data announced for pixel data that needs some.`);
    }
    return { value, size };
  }

  private paintBasic(rect: RectangleInProgress, layout: Layout, bytes: Buffer, wire: Buffer, framebuffer: Framebuffer): void {
    if (rect.width === 0 || rect.height === 0) return;
    const where = describe(this.name, rect);
    // The inflated pixels are painted at once: a view of the stream's own buffer will do.
    const pixels = layout.compressed ? this.streams[layout.type & 0x3].inflateView(wire, layout.rawLength, where) : wire;
    switch (layout.filter) {
      case Filter.Copy:
        paintRgb(rect, pixels, framebuffer);
        break;
      case Filter.Gradient:
        paintGradient(rect, pixels, framebuffer, this.gradientRows);
        break;
      default:
        paintPalette(rect, layout.paletteSize, bytes.subarray(layout.paletteOffset, layout.paletteOffset + layout.paletteSize * TPIXEL_BYTES), pixels, framebuffer, this.palette, where);
    }
  }

  private paintJpeg(rect: RectangleInProgress, data: Buffer, framebuffer: Framebuffer): void {
    if (rect.width === 0 || rect.height === 0) return;
    const where = describe(this.name, rect);
    const header = readJpegFrameHeader(data);
    if (!header) throw new VNCProtocolError(`${where}: the ${data.length} bytes of JPEG data hold no JPEG frame header.`);
    if (header.width !== rect.width || header.height !== rect.height) {
      throw new VNCProtocolError(`${where}: the JPEG image is ${header.width}x${header.height}, not the size of the rectangle.`);
    }
    if (header.components !== 1 && header.components !== 3) {
      throw new VNCProtocolError(`${where}: the JPEG image has ${header.components} colour components (expected 1 or 3).`);
    }
    let decoded;
    try {
      decoded = decodeJpeg(data, rect.width, rect.height);
    } catch (error) {
      if (error instanceof VNCError) throw error;
      throw new VNCProtocolError(`${where}: the JPEG data cannot be decoded: ${(error as Error).message}`, { cause: error });
    }
    paintPixels(rect, decoded.pixels, decoded.channels, framebuffer);
  }

  private paintPng(rect: RectangleInProgress, data: Buffer, framebuffer: Framebuffer): void {
    if (rect.width === 0 || rect.height === 0) return;
    const where = describe(this.name, rect);
    // The signature, then IHDR: length, "IHDR", width, height.
    if (data.length < 24 || data.readUInt32BE(0) !== 0x89504e47 || data.toString('latin1', 12, 16) !== 'IHDR') {
      throw new VNCProtocolError(`${where}: the ${data.length} bytes of PNG data do not start with a PNG header.`);
    }
    const width = data.readUInt32BE(16);
    const height = data.readUInt32BE(20);
    if (width !== rect.width || height !== rect.height) {
      throw new VNCProtocolError(`${where}: the PNG image is ${width}x${height}, not the size of the rectangle.`);
    }
    let image: RgbaImage;
    try {
      image = decodeRgbaPng(data);
    } catch (error) {
      throw new VNCProtocolError(`${where}: the PNG data cannot be decoded: ${(error as Error).message}`, { cause: error });
    }
    paintPixels(rect, image.data, BYTES_PER_PIXEL, framebuffer);
  }
}

/** A Tight decoder for one connection (it owns the connection's four zlib streams). */
export function createTightDecoder(): Decoder {
  return new TightDecoder(false);
}

/** A TightPNG decoder for one connection: Tight plus PNG rectangles (its own four zlib streams). */
export function createTightPNGDecoder(): Decoder {
  return new TightDecoder(true);
}
