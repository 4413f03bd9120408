/** Greyscale images and the small pixel operations the OCR pipeline needs. */
import type { OcrBox, OcrImage } from './types.js';

/** One byte a pixel, 0 = black. */
export interface GreyImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The region of an RGBA image as grey (ITU-R 601 luma, integer weights). */
export function toGrey(image: OcrImage, region: OcrBox = { x: 0, y: 0, width: image.width, height: image.height }): GreyImage {
  const { x: rx, y: ry, width, height } = region;
  const out = new Uint8Array(width * height);
  const src = image.data;
  for (let y = 0; y < height; y++) {
    let s = ((ry + y) * image.width + rx) * 4;
    let d = y * width;
    for (let x = 0; x < width; x++, s += 4, d++) out[d] = (src[s] * 77 + src[s + 1] * 150 + src[s + 2] * 29) >> 8;
  }
  return { width, height, data: out };
}

/** A part of a grey image (clipped to it). */
export function cropGrey(image: GreyImage, box: OcrBox): GreyImage {
  const x0 = Math.max(0, box.x);
  const y0 = Math.max(0, box.y);
  const x1 = Math.min(image.width, box.x + box.width);
  const y1 = Math.min(image.height, box.y + box.height);
  const width = Math.max(0, x1 - x0);
  const height = Math.max(0, y1 - y0);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) out.set(image.data.subarray((y0 + y) * image.width + x0, (y0 + y) * image.width + x0 + width), y * width);
  return { width, height, data: out };
}

/** Bilinear enlargement by `scale` (≥ 1); scale 1 returns the image itself. */
export function upscaleGrey(image: GreyImage, scale: number): GreyImage {
  if (scale === 1) return image;
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const out = new Uint8Array(width * height);
  const src = image.data;
  const w = image.width;
  const maxX = image.width - 1;
  const maxY = image.height - 1;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(maxY, Math.max(0, (y + 0.5) / scale - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(maxY, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(maxX, Math.max(0, (x + 0.5) / scale - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(maxX, x0 + 1);
      const wx = fx - x0;
      const top = src[y0 * w + x0] * (1 - wx) + src[y0 * w + x1] * wx;
      const bottom = src[y1 * w + x0] * (1 - wx) + src[y1 * w + x1] * wx;
      out[y * width + x] = Math.round(top * (1 - wy) + bottom * wy);
    }
  }
  return { width, height, data: out };
}

/** Binary PGM (P5): a format every engine's image loader reads, with no compression cost. */
export function encodePgm(image: GreyImage): Buffer {
  const header = Buffer.from(`P5\n${image.width} ${image.height}\n255\n`, 'ascii');
  return Buffer.concat([header, image.data]);
}

/** A grey image as RGBA (to hand to an engine through the OcrImage interface). */
export function greyToRgba(image: GreyImage): OcrImage {
  const data = new Uint8Array(image.width * image.height * 4);
  for (let i = 0, j = 0; i < image.data.length; i++, j += 4) {
    const v = image.data[i];
    data[j] = v;
    data[j + 1] = v;
    data[j + 2] = v;
    data[j + 3] = 255;
  }
  return { width: image.width, height: image.height, data };
}
