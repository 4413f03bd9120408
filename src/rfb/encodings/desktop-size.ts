import { VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { Limits } from '../constants.js';

const SCREEN_BYTES = 16;

/** Checks a framebuffer size announced by the server against the limit. */
export function checkDesktopSize(width: number, height: number, where: string): void {
  if (width > Limits.maxFramebufferSide || height > Limits.maxFramebufferSide) {
    throw new VNCProtocolError(
      `${where} announces a ${width}x${height} desktop, larger than the ${Limits.maxFramebufferSide}x${Limits.maxFramebufferSide} limit.`,
    );
  }
}

/**
 * Reads an ExtendedDesktopSize rectangle's screen list (the size itself is in the rectangle
 * header). Returns false while its bytes have not all arrived.
 */
export function skipExtendedDesktopSize(queue: ByteQueue): boolean {
  if (!queue.has(4)) return false;
  const screens = queue.peekU8();
  if (!queue.has(4 + screens * SCREEN_BYTES)) return false;
  queue.skip(4 + screens * SCREEN_BYTES);
  return true;
}
