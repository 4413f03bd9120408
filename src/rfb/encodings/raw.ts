import type { ByteQueue } from '../byte-queue.js';
import { BYTES_PER_PIXEL, type Framebuffer } from '../framebuffer.js';
import type { Decoder, RectangleInProgress } from './decoder.js';

/** Raw: width × height pixels, painted row by row as they arrive so a large update needs no large buffer. */
export const rawDecoder: Decoder = {
  name: 'Raw',
  decode(rect: RectangleInProgress, queue: ByteQueue, framebuffer: Framebuffer): boolean {
    const rowBytes = rect.width * BYTES_PER_PIXEL;
    if (rowBytes === 0 || rect.height === 0) return true;
    const rows = Math.min(Math.floor(queue.length / rowBytes), rect.height - rect.progress);
    if (rows > 0) {
      framebuffer.putRows(rect.x, rect.y + rect.progress, rect.width, rows, queue.view(rows * rowBytes));
      rect.progress += rows;
    }
    return rect.progress === rect.height;
  },
};
