/** The RFB PIXEL_FORMAT structure (RFC 6143 §7.4). */
export interface PixelFormat {
  bitsPerPixel: number;
  depth: number;
  bigEndian: boolean;
  trueColour: boolean;
  redMax: number;
  greenMax: number;
  blueMax: number;
  redShift: number;
  greenShift: number;
  blueShift: number;
}

export const PIXEL_FORMAT_BYTES = 16;

/**
 * The format this client asks every server for: 32 bits per pixel, depth 24, little-endian,
 * red in the lowest byte. A raw pixel is then R, G, B, x in memory: the framebuffer's own layout.
 */
export const RGBX_LITTLE_ENDIAN: Readonly<PixelFormat> = Object.freeze({
  bitsPerPixel: 32,
  depth: 24,
  bigEndian: false,
  trueColour: true,
  redMax: 255,
  greenMax: 255,
  blueMax: 255,
  redShift: 0,
  greenShift: 8,
  blueShift: 16,
});

export function readPixelFormat(bytes: Uint8Array, offset = 0): PixelFormat {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, PIXEL_FORMAT_BYTES);
  return {
    bitsPerPixel: view.getUint8(0),
    depth: view.getUint8(1),
    bigEndian: view.getUint8(2) !== 0,
    trueColour: view.getUint8(3) !== 0,
    redMax: view.getUint16(4),
    greenMax: view.getUint16(6),
    blueMax: view.getUint16(8),
    redShift: view.getUint8(10),
    greenShift: view.getUint8(11),
    blueShift: view.getUint8(12),
  };
}

export function writePixelFormat(format: PixelFormat, bytes: Uint8Array, offset = 0): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, PIXEL_FORMAT_BYTES);
  view.setUint8(0, format.bitsPerPixel);
  view.setUint8(1, format.depth);
  view.setUint8(2, format.bigEndian ? 1 : 0);
  view.setUint8(3, format.trueColour ? 1 : 0);
  view.setUint16(4, format.redMax);
  view.setUint16(6, format.greenMax);
  view.setUint16(8, format.blueMax);
  view.setUint8(10, format.redShift);
  view.setUint8(11, format.greenShift);
  view.setUint8(12, format.blueShift);
}
