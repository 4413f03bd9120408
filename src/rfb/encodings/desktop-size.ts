import { VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { Limits } from '../constants.js';

const SCREEN_BYTES = 16;

/** One screen of an ExtendedDesktopSize layout (rfbproto "ExtendedDesktopSize Pseudo-encoding"). */
export interface DesktopScreen {
  id: number;
  x: number;
  y: number;
  width: number;
  height: number;
  flags: number;
}

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
 * header): u8 count, 3 padding bytes, then count × (u32 id, u16 x, y, width, height, u32 flags).
 * Returns undefined while its bytes have not all arrived.
 */
export function readExtendedDesktopSize(queue: ByteQueue): DesktopScreen[] | undefined {
  if (!queue.has(4)) return undefined;
  const count = queue.peekU8();
  if (!queue.has(4 + count * SCREEN_BYTES)) return undefined;
  queue.skip(4);
  const screens: DesktopScreen[] = [];
  for (let i = 0; i < count; i++) {
    screens.push({ id: queue.u32(), x: queue.u16(), y: queue.u16(), width: queue.u16(), height: queue.u16(), flags: queue.u32() });
  }
  return screens;
}

/** ExtendedDesktopSize's x: why the size changed. */
export const DesktopSizeReason = {
  Server: 0,
  ThisClient: 1,
  OtherClient: 2,
} as const;

/** ExtendedDesktopSize's y when x is ThisClient: the result of this client's SetDesktopSize. */
export const DesktopSizeStatus = {
  Ok: 0,
  Prohibited: 1,
  OutOfResources: 2,
  InvalidLayout: 3,
  /** QEMU: passed on to the guest; the size changes later, if at all. */
  Forwarded: 4,
} as const;

/** What a SetDesktopSize status means, for error messages. */
export function desktopSizeStatusText(status: number): string {
  switch (status) {
    case DesktopSizeStatus.Prohibited:
      return 'resizing is prohibited by the server (administratively)';
    case DesktopSizeStatus.OutOfResources:
      return 'the server is out of resources for that size';
    case DesktopSizeStatus.InvalidLayout:
      return 'the server calls the screen layout invalid (it may not support this size, or resizing at all)';
    default:
      return `unknown status ${status}`;
  }
}
