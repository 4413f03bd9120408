/** Content ids for the trace's frames: equal screens are stored once. */
import { createHash } from 'node:crypto';
import type { Frame } from '../rfb/framebuffer.js';

/** A stable id for a frame's size and pixels (what the trace names its image by). */
export function frameId(frame: Frame): string {
  const size = Buffer.alloc(8);
  size.writeUInt32BE(frame.width, 0);
  size.writeUInt32BE(frame.height, 4);
  return createHash('sha1').update(size).update(frame.data).digest('hex');
}
