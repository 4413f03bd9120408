import { VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { BYTES_PER_PIXEL, type Framebuffer } from '../framebuffer.js';
import type { Decoder, RectangleInProgress } from './decoder.js';
import { PixelPainter, readPixel } from './rre.js';

const TILE_SIDE = 16;

/** The bits of a tile's subencoding mask (rfbproto, "Hextile Encoding"). */
const Subencoding = {
  Raw: 1,
  BackgroundSpecified: 2,
  ForegroundSpecified: 4,
  AnySubrects: 8,
  SubrectsColoured: 16,
} as const;
/**
 * Bits Hextile does not define. A tile with any of them set is not Hextile, Raw bit or not: it is
 * refused as soon as its mask byte arrives, instead of waiting for a raw tile that may never come.
 */
const UNDEFINED_BITS = 0xe0;

/**
 * Hextile (encoding 5): the rectangle in 16×16 tiles, left to right, top to bottom (the last
 * column and row narrower); each tile raw or a background with solid subrectangles. Tiles are
 * painted as soon as all their bytes are in (at most 1 + 16×16×4 bytes), so a large rectangle
 * needs no large buffer. `progress` counts the tiles painted; the background and foreground
 * carry over from tile to tile within a rectangle and start unset in each new one.
 */
class HextileDecoder implements Decoder {
  readonly name = 'Hextile';
  private readonly painter = new PixelPainter();
  private background = 0;
  private foreground = 0;
  private hasBackground = false;
  private hasForeground = false;

  decode(rect: RectangleInProgress, queue: ByteQueue, framebuffer: Framebuffer): boolean {
    const columns = Math.ceil(rect.width / TILE_SIDE);
    const tiles = columns * Math.ceil(rect.height / TILE_SIDE);
    if (rect.progress === 0) this.hasBackground = this.hasForeground = false;
    if (rect.progress === tiles) return true;

    // First find how many whole tiles the queue holds, then consume them in one view.
    const available = queue.length;
    let end = rect.progress;
    let length = 0;
    while (end < tiles) {
      const column = end % columns;
      const row = (end - column) / columns;
      if (length < available) {
        const mask = queue.peekU8(length);
        if (mask & UNDEFINED_BITS) {
          throw new VNCProtocolError(
            `${describeTile(rect, end, column * TILE_SIDE, row * TILE_SIDE, tileWidth(rect, column), tileHeight(rect, row))}: subencoding mask 0x${mask.toString(16).padStart(2, '0')} sets bits Hextile does not define.`,
          );
        }
      }
      const tileBytes = tileLength(queue, length, available, tileWidth(rect, column), tileHeight(rect, row));
      if (tileBytes === 0 || length + tileBytes > available) break;
      length += tileBytes;
      end++;
    }
    if (end === rect.progress) return false;

    const bytes = queue.view(length);
    this.painter.bind(framebuffer);
    let offset = 0;
    for (let tile = rect.progress; tile < end; tile++) {
      const column = tile % columns;
      const row = (tile - column) / columns;
      offset = this.paintTile(rect, tile, column * TILE_SIDE, row * TILE_SIDE, tileWidth(rect, column), tileHeight(rect, row), bytes, offset);
    }
    rect.progress = end;
    return end === tiles;
  }

  /** Paints the tile whose bytes start at `offset` (all of them are there); returns the offset after it. */
  private paintTile(rect: RectangleInProgress, tile: number, tileX: number, tileY: number, width: number, height: number, bytes: Buffer, offset: number): number {
    const painter = this.painter;
    const x = rect.x + tileX;
    const y = rect.y + tileY;
    const mask = bytes[offset++];
    if (mask & Subencoding.Raw) {
      painter.copy(x, y, width, height, bytes, offset);
      return offset + width * height * BYTES_PER_PIXEL;
    }
    if (mask & Subencoding.BackgroundSpecified) {
      this.background = readPixel(bytes, offset);
      this.hasBackground = true;
      offset += BYTES_PER_PIXEL;
    } else if (!this.hasBackground) {
      throw new VNCProtocolError(`${describeTile(rect, tile, tileX, tileY, width, height)}: the first non-raw tile of a rectangle must specify its background.`);
    }
    if (mask & Subencoding.ForegroundSpecified) {
      this.foreground = readPixel(bytes, offset);
      this.hasForeground = true;
      offset += BYTES_PER_PIXEL;
    }
    painter.fill(x, y, width, height, this.background);
    if (!(mask & Subencoding.AnySubrects)) return offset;

    const count = bytes[offset++];
    const coloured = (mask & Subencoding.SubrectsColoured) !== 0;
    if (!coloured && count > 0 && !this.hasForeground) {
      throw new VNCProtocolError(`${describeTile(rect, tile, tileX, tileY, width, height)}: its subrectangles take the foreground colour, but no tile of the rectangle has specified one.`);
    }
    for (let index = 0; index < count; index++) {
      let pixel = this.foreground;
      if (coloured) {
        pixel = readPixel(bytes, offset);
        offset += BYTES_PER_PIXEL;
      }
      const position = bytes[offset++];
      const size = bytes[offset++];
      const subX = position >> 4;
      const subY = position & 0x0f;
      const subWidth = (size >> 4) + 1;
      const subHeight = (size & 0x0f) + 1;
      if (subX + subWidth > width || subY + subHeight > height) {
        throw new VNCProtocolError(`${describeTile(rect, tile, tileX, tileY, width, height)}: subrectangle ${index} (${subWidth}x${subHeight} at (${subX},${subY})) lies outside the tile.`);
      }
      painter.fill(x + subX, y + subY, subWidth, subHeight, pixel);
    }
    return offset;
  }
}

function describeTile(rect: RectangleInProgress, tile: number, tileX: number, tileY: number, width: number, height: number): string {
  return `Hextile rectangle ${rect.width}x${rect.height} at (${rect.x},${rect.y}), tile ${tile} (${width}x${height} at (${tileX},${tileY}) in the rectangle)`;
}

function tileWidth(rect: RectangleInProgress, column: number): number {
  return Math.min(TILE_SIDE, rect.width - column * TILE_SIDE);
}

function tileHeight(rect: RectangleInProgress, row: number): number {
  return Math.min(TILE_SIDE, rect.height - row * TILE_SIDE);
}

/**
 * The length of the tile starting `offset` bytes into the queue, read from its header without
 * consuming anything; 0 while the queue (`available` bytes) does not yet hold enough of the header.
 */
function tileLength(queue: ByteQueue, offset: number, available: number, width: number, height: number): number {
  if (offset >= available) return 0;
  const mask = queue.peekU8(offset);
  if (mask & Subencoding.Raw) return 1 + width * height * BYTES_PER_PIXEL;
  let length = 1;
  if (mask & Subencoding.BackgroundSpecified) length += BYTES_PER_PIXEL;
  if (mask & Subencoding.ForegroundSpecified) length += BYTES_PER_PIXEL;
  if (!(mask & Subencoding.AnySubrects)) return length;
  if (offset + length >= available) return 0;
  const count = queue.peekU8(offset + length);
  return length + 1 + count * (mask & Subencoding.SubrectsColoured ? BYTES_PER_PIXEL + 2 : 2);
}

/** A fresh Hextile decoder for one connection. */
export function createHextileDecoder(): Decoder {
  return new HextileDecoder();
}
