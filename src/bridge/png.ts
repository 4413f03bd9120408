import { PNG } from 'pngjs';
import type { Frame } from '../rfb/framebuffer.js';

/** Encodes an RGBA frame as PNG (RGB, since screens have no transparency). */
export function encodePng(frame: Frame): Buffer {
  const png = new PNG({ width: frame.width, height: frame.height, colorType: 2, inputColorType: 6, inputHasAlpha: true });
  png.data = frame.data;
  return PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true, filterType: 1 });
}

/** Decodes a PNG into an RGBA frame. */
export function decodePng(bytes: Buffer): Frame {
  const png = PNG.sync.read(bytes);
  return { width: png.width, height: png.height, data: png.data };
}
