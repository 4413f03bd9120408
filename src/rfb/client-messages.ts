/**
 * Client-to-server messages as pure functions returning their bytes (RFC 6143 §7.5).
 * ClientCutText lives with the clipboard codec in extended-clipboard.ts.
 */
import { ClientMessage, Limits, QEMUClientMessage } from './constants.js';
import { PIXEL_FORMAT_BYTES, type PixelFormat, writePixelFormat } from './pixel-format.js';
import type { DesktopScreen } from './encodings/desktop-size.js';

export function protocolVersionMessage(version: '3.3' | '3.7' | '3.8'): Buffer {
  return Buffer.from(`RFB 003.00${version.slice(2)}\n`, 'latin1');
}

export function clientInit(shared: boolean): Buffer {
  return Buffer.from([shared ? 1 : 0]);
}

export function setPixelFormat(format: PixelFormat): Buffer {
  const bytes = Buffer.alloc(4 + PIXEL_FORMAT_BYTES);
  bytes[0] = ClientMessage.SetPixelFormat;
  writePixelFormat(format, bytes, 4);
  return bytes;
}

export function setEncodings(encodings: readonly number[]): Buffer {
  const bytes = Buffer.alloc(4 + 4 * encodings.length);
  bytes[0] = ClientMessage.SetEncodings;
  bytes.writeUInt16BE(encodings.length, 2);
  encodings.forEach((encoding, i) => bytes.writeInt32BE(encoding, 4 + 4 * i));
  return bytes;
}

export function framebufferUpdateRequest(incremental: boolean, x: number, y: number, width: number, height: number): Buffer {
  const bytes = Buffer.alloc(10);
  bytes[0] = ClientMessage.FramebufferUpdateRequest;
  bytes[1] = incremental ? 1 : 0;
  bytes.writeUInt16BE(x, 2);
  bytes.writeUInt16BE(y, 4);
  bytes.writeUInt16BE(width, 6);
  bytes.writeUInt16BE(height, 8);
  return bytes;
}

export function keyEvent(down: boolean, keysym: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes[0] = ClientMessage.KeyEvent;
  bytes[1] = down ? 1 : 0;
  bytes.writeUInt32BE(keysym >>> 0, 4);
  return bytes;
}

/**
 * QEMU Extended Key Event (rfbproto): 255, sub-type 0, u16 down flag, u32 keysym, u32 XT keycode.
 * The keycode is the XT scancode; a two-byte scancode 0xe0 XX is sent as XX | 0x80 (Right Alt,
 * e0 38, is 0xb8). The server uses the keycode and may ignore the keysym.
 */
export function qemuExtendedKeyEvent(down: boolean, keysym: number, keycode: number): Buffer {
  const bytes = Buffer.alloc(12);
  bytes[0] = ClientMessage.QEMU;
  bytes[1] = QEMUClientMessage.ExtendedKeyEvent;
  bytes.writeUInt16BE(down ? 1 : 0, 2);
  bytes.writeUInt32BE(keysym >>> 0, 4);
  bytes.writeUInt32BE(keycode >>> 0, 8);
  return bytes;
}

export function pointerEvent(buttonMask: number, x: number, y: number): Buffer {
  const bytes = Buffer.alloc(6);
  bytes[0] = ClientMessage.PointerEvent;
  bytes[1] = buttonMask & 0xff;
  bytes.writeUInt16BE(x, 2);
  bytes.writeUInt16BE(y, 4);
  return bytes;
}

/** EnableContinuousUpdates (rfbproto): 150, enable flag, then the area as u16 x, y, width, height. */
export function enableContinuousUpdates(enable: boolean, x: number, y: number, width: number, height: number): Buffer {
  const bytes = Buffer.alloc(10);
  bytes[0] = ClientMessage.EnableContinuousUpdates;
  bytes[1] = enable ? 1 : 0;
  bytes.writeUInt16BE(x, 2);
  bytes.writeUInt16BE(y, 4);
  bytes.writeUInt16BE(width, 6);
  bytes.writeUInt16BE(height, 8);
  return bytes;
}

/** ClientFence (rfbproto): 248, 3 padding bytes, u32 flags, u8 length, payload (at most 64 bytes). */
export function clientFence(flags: number, payload: Uint8Array): Buffer {
  if (payload.length > Limits.maxFencePayloadBytes) {
    throw new RangeError(`A fence payload holds at most ${Limits.maxFencePayloadBytes} bytes, not ${payload.length}.`);
  }
  const bytes = Buffer.alloc(9 + payload.length);
  bytes[0] = ClientMessage.ClientFence;
  bytes.writeUInt32BE(flags >>> 0, 4);
  bytes[8] = payload.length;
  bytes.set(payload, 9);
  return bytes;
}

/**
 * SetDesktopSize (rfbproto): 251, padding, u16 width, u16 height, u8 screen count, padding, then
 * per screen u32 id, u16 x, y, width, height, u32 flags.
 */
export function setDesktopSize(width: number, height: number, screens: readonly DesktopScreen[]): Buffer {
  const bytes = Buffer.alloc(8 + 16 * screens.length);
  bytes[0] = ClientMessage.SetDesktopSize;
  bytes.writeUInt16BE(width, 2);
  bytes.writeUInt16BE(height, 4);
  bytes[6] = screens.length;
  screens.forEach((screen, i) => {
    const at = 8 + 16 * i;
    bytes.writeUInt32BE(screen.id >>> 0, at);
    bytes.writeUInt16BE(screen.x, at + 4);
    bytes.writeUInt16BE(screen.y, at + 6);
    bytes.writeUInt16BE(screen.width, at + 8);
    bytes.writeUInt16BE(screen.height, at + 10);
    bytes.writeUInt32BE(screen.flags >>> 0, at + 12);
  });
  return bytes;
}
