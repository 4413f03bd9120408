/**
 * Screenshots for a model: the screen scaled down so its long edge fits `maxSize` (area
 * averaging, so thin text stays legible), encoded as PNG or JPEG. JPEG comes from @napi-rs/image,
 * loaded only when first asked for.
 */
import { endianness } from 'node:os';
import { encodePngAsync } from '../bridge/png.js';
import type { Frame } from '../rfb/framebuffer.js';

export type ImageFormat = 'png' | 'jpeg';

/** How a screenshot relates to the screen: shown = screen × scale (scale ≤ 1). */
export interface ScreenMapping {
  /** The real screen size. */
  screenWidth: number;
  screenHeight: number;
  /** The size of the image the model sees. */
  width: number;
  height: number;
}

/** The size a `width`×`height` screen is shown at so that its long edge is ≤ `maxSize` (never enlarged). */
export function mappingFor(screenWidth: number, screenHeight: number, maxSize: number): ScreenMapping {
  const scale = Math.min(1, maxSize / Math.max(screenWidth, screenHeight));
  return {
    screenWidth,
    screenHeight,
    width: Math.max(1, Math.round(screenWidth * scale)),
    height: Math.max(1, Math.round(screenHeight * scale)),
  };
}

/** The scale shown/screen, rounded for messages. */
export function scaleOf(mapping: ScreenMapping): number {
  return Math.round((mapping.width / mapping.screenWidth) * 10_000) / 10_000;
}

/**
 * For each output index along one axis: the first source index it covers, how many, and their
 * weights in fixed point summing to `one`. Output pixel i covers source [i·r, (i+1)·r), r = in/out.
 */
function areaWeights(inSize: number, outSize: number, one: number): { start: Int32Array; count: Int32Array; weights: Int32Array; stride: number } {
  const ratio = inSize / outSize;
  const stride = Math.ceil(ratio) + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const from = i * ratio;
    const to = Math.min(inSize, (i + 1) * ratio);
    const first = Math.floor(from);
    const last = Math.min(inSize - 1, Math.ceil(to) - 1);
    start[i] = first;
    count[i] = last - first + 1;
    let given = 0;
    for (let k = 0; k <= last - first; k++) {
      const covered = Math.min(to, first + k + 1) - Math.max(from, first + k);
      const weight = k === last - first ? one - given : Math.round((covered / ratio) * one);
      weights[i * stride + k] = weight;
      given += weight;
    }
  }
  return { start, count, weights, stride };
}

// Weights in fixed point, chosen so that every sum stays a small integer (V8's fast path):
// 255 × 2^8 × 2^12 < 2^30.
const ROW_ONE = 1 << 8;
const COLUMN_ONE = 1 << 12;
const SHIFT = 20;
const HALF = 1 << (SHIFT - 1);
/** Where R, G and B sit in a pixel read as one 32-bit number. */
const [RED, GREEN, BLUE] = endianness() === 'LE' ? [0, 8, 16] : [24, 16, 8];

/**
 * Scales an RGBA frame down to `width`×`height` by area averaging (each output pixel is the mean
 * of the screen pixels it covers). The same size returns the frame itself.
 */
export function scaleFrame(frame: Frame, width: number, height: number): Frame {
  if (width === frame.width && height === frame.height) return frame;
  // One 32-bit load per pixel (R, G, B, x in memory).
  const bytes = frame.data.byteOffset % 4 === 0 ? frame.data : Buffer.from(frame.data);
  const source = new Uint32Array(bytes.buffer, bytes.byteOffset, frame.width * frame.height);
  const rows = areaWeights(frame.height, height, ROW_ONE);
  const columns = areaWeights(frame.width, width, COLUMN_ONE);
  const data = Buffer.alloc(width * height * 4);
  // One output row at a time: the weighted sum of its source rows (a small, cache-friendly
  // buffer), then the weighted sum of its columns.
  const line = new Int32Array(frame.width * 3);
  for (let y = 0; y < height; y++) {
    line.fill(0);
    const rowBase = y * rows.stride;
    for (let k = 0; k < rows.count[y]; k++) {
      const weight = rows.weights[rowBase + k];
      let offset = (rows.start[y] + k) * frame.width;
      for (let i = 0; i < line.length; i += 3, offset++) {
        const pixel = source[offset];
        line[i] += ((pixel >>> RED) & 0xff) * weight;
        line[i + 1] += ((pixel >>> GREEN) & 0xff) * weight;
        line[i + 2] += ((pixel >>> BLUE) & 0xff) * weight;
      }
    }
    let out = y * width * 4;
    for (let x = 0; x < width; x++, out += 4) {
      let r = 0;
      let g = 0;
      let b = 0;
      let w = x * columns.stride;
      let offset = columns.start[x] * 3;
      for (let k = columns.count[x]; k > 0; k--, offset += 3, w++) {
        const weight = columns.weights[w];
        r += line[offset] * weight;
        g += line[offset + 1] * weight;
        b += line[offset + 2] * weight;
      }
      data[out] = (r + HALF) >> SHIFT;
      data[out + 1] = (g + HALF) >> SHIFT;
      data[out + 2] = (b + HALF) >> SHIFT;
      data[out + 3] = 255;
    }
  }
  return { width, height, data };
}

type ImageModule = typeof import('@napi-rs/image');
let imageModule: Promise<ImageModule> | undefined;

/** Encodes a frame; `quality` (1–100) is for JPEG. */
export async function encodeImage(frame: Frame, format: ImageFormat, quality: number): Promise<Buffer> {
  if (format === 'png') return encodePngAsync(frame);
  imageModule ??= import('@napi-rs/image');
  const { Transformer } = await imageModule;
  return Transformer.fromRgbaPixels(frame.data, frame.width, frame.height).jpeg(quality);
}
