/**
 * Screenshots for a model: the screen scaled down so its long edge fits `maxSize` (area
 * averaging, so thin text stays legible), encoded as PNG or JPEG. JPEG comes from @napi-rs/image,
 * loaded only when first asked for.
 */
import { encodePng } from '../bridge/png.js';
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
 * For each output index along one axis: the source indices it covers and their weights (fixed
 * point, 16 bits, summing to 65 536). Output pixel i covers source [i·r, (i+1)·r) with r = in/out.
 */
function areaWeights(inSize: number, outSize: number): { start: Int32Array; count: Int32Array; weights: Int32Array; stride: number } {
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
      const weight = k === last - first ? 65_536 - given : Math.round((covered / ratio) * 65_536);
      weights[i * stride + k] = weight;
      given += weight;
    }
  }
  return { start, count, weights, stride };
}

/**
 * Scales an RGBA frame down to `width`×`height` by area averaging (each output pixel is the mean
 * of the screen pixels it covers). The same size returns the frame itself.
 */
export function scaleFrame(frame: Frame, width: number, height: number): Frame {
  if (width === frame.width && height === frame.height) return frame;
  const source = frame.data;
  const columns = areaWeights(frame.width, width);
  const rows = areaWeights(frame.height, height);
  // Horizontal pass into 32-bit sums (×65 536), then vertical pass into bytes.
  const wide = new Uint32Array(width * frame.height * 3);
  for (let y = 0; y < frame.height; y++) {
    const rowStart = y * frame.width * 4;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const base = x * columns.stride;
      let offset = rowStart + columns.start[x] * 4;
      for (let k = 0; k < columns.count[x]; k++, offset += 4) {
        const weight = columns.weights[base + k];
        r += source[offset] * weight;
        g += source[offset + 1] * weight;
        b += source[offset + 2] * weight;
      }
      const out = (y * width + x) * 3;
      wide[out] = r >>> 8;
      wide[out + 1] = g >>> 8;
      wide[out + 2] = b >>> 8;
    }
  }
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const base = y * rows.stride;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let offset = (rows.start[y] * width + x) * 3;
      for (let k = 0; k < rows.count[y]; k++, offset += width * 3) {
        const weight = rows.weights[base + k];
        r += wide[offset] * weight;
        g += wide[offset + 1] * weight;
        b += wide[offset + 2] * weight;
      }
      const out = (y * width + x) * 4;
      // Sums are value × 2^16 × 2^8; + 2^23 rounds to nearest.
      data[out] = Math.min(255, Math.floor((r + 8_388_608) / 16_777_216));
      data[out + 1] = Math.min(255, Math.floor((g + 8_388_608) / 16_777_216));
      data[out + 2] = Math.min(255, Math.floor((b + 8_388_608) / 16_777_216));
      data[out + 3] = 255;
    }
  }
  return { width, height, data };
}

type ImageModule = typeof import('@napi-rs/image');
let imageModule: Promise<ImageModule> | undefined;

/** Encodes a frame; `quality` (1–100) is for JPEG. */
export async function encodeImage(frame: Frame, format: ImageFormat, quality: number): Promise<Buffer> {
  if (format === 'png') return encodePng(frame);
  imageModule ??= import('@napi-rs/image');
  const { Transformer } = await imageModule;
  return Transformer.fromRgbaPixels(frame.data, frame.width, frame.height).jpeg(quality);
}
