import { VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import type { Framebuffer } from '../framebuffer.js';
import type { Decoder, RectangleInProgress } from './decoder.js';

/** CopyRect: the rectangle's pixels come from another place on the screen. */
export const copyRectDecoder: Decoder = {
  name: 'CopyRect',
  decode(rect: RectangleInProgress, queue: ByteQueue, framebuffer: Framebuffer): boolean {
    if (!queue.has(4)) return false;
    const sourceX = queue.u16();
    const sourceY = queue.u16();
    if (!framebuffer.contains({ x: sourceX, y: sourceY, width: rect.width, height: rect.height })) {
      throw new VNCProtocolError(
        `CopyRect source ${rect.width}x${rect.height} at (${sourceX},${sourceY}) lies outside the ${framebuffer.width}x${framebuffer.height} framebuffer.`,
      );
    }
    framebuffer.copyWithin(sourceX, sourceY, rect);
    return true;
  },
};
