import { VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { BYTES_PER_PIXEL, type Framebuffer } from '../framebuffer.js';
import type { Decoder, RectangleInProgress } from './decoder.js';
import { InflateStream, MAX_INFLATE_BYTES, compressedLengthBound } from './inflate-stream.js';

/**
 * zlib (encoding 6, rfbproto "zlib Encoding"): a u32 length, then that many bytes of the
 * connection's one zlib stream, which inflate to the rectangle's pixels exactly as Raw sends them.
 * The whole payload is framed first (a length above what the rectangle's pixels could compress to
 * is refused at once, before any of it is buffered), then inflated and painted in one go.
 * Sent by x11vnc (libvncserver) and QEMU; not by Xvnc.
 */
class ZlibDecoder implements Decoder {
  readonly name = 'zlib';
  private readonly stream = new InflateStream('zlib');

  decode(rect: RectangleInProgress, queue: ByteQueue, framebuffer: Framebuffer): boolean {
    if (!queue.has(4)) return false;
    const length = queue.peekU32();
    const pixelBytes = rect.width * rect.height * BYTES_PER_PIXEL;
    if (pixelBytes > MAX_INFLATE_BYTES) {
      throw new VNCProtocolError(`${describe(rect)}: ${pixelBytes} bytes of pixels is more than the limit of ${MAX_INFLATE_BYTES} for one zlib rectangle.`);
    }
    if (length > compressedLengthBound(pixelBytes)) {
      throw new VNCProtocolError(
        `${describe(rect)}: ${length} bytes of zlib data is more than ${pixelBytes} bytes of pixels can compress to (at most ${compressedLengthBound(pixelBytes)}).`,
      );
    }
    if (!queue.has(4 + length)) return false;
    queue.skip(4);
    const pixels = this.stream.inflate(queue.view(length), pixelBytes, describe(rect));
    if (pixelBytes > 0) framebuffer.putRows(rect.x, rect.y, rect.width, rect.height, pixels);
    return true;
  }
}

function describe(rect: RectangleInProgress): string {
  return `zlib rectangle ${rect.width}x${rect.height} at (${rect.x},${rect.y})`;
}

/** A zlib decoder for one connection (it owns the connection's zlib stream). */
export function createZlibDecoder(): Decoder {
  return new ZlibDecoder();
}
