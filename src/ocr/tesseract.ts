/**
 * The default engine: tesseract.js (WASM) in its Node worker thread, English data from the
 * `@tesseract.js-data/eng` npm package. Loaded on the first read (dynamic import), never fetched
 * from the network: `langPath` is the package's folder and `cacheMethod: 'none'` writes nothing.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { VNCConfigError, VNCStateError } from '../errors.js';
import { encodePgm, toGrey, upscaleGrey } from './image.js';
import type { OcrEngine, OcrImage, OcrReadOptions, OcrWord } from './types.js';

export interface TesseractEngineOptions {
  /**
   * Which trained data of `@tesseract.js-data/eng`: '4.0.0_best_int' (default: 2.9 MB, measured
   * as accurate as '4.0.0' on screen text and faster to load) or '4.0.0'.
   */
  data?: '4.0.0_best_int' | '4.0.0';
  /** Enlarge images by this factor before recognition (tesseract reads small screen fonts better enlarged). Default 2. */
  upscale?: number;
}

/** The slice of tesseract.js's types we use (its own types stay behind this file). */
interface TesseractWord {
  text: string;
  confidence: number;
  bbox: { x0: number; y0: number; x1: number; y1: number };
}
interface TesseractWorker {
  setParameters(params: Record<string, string>): Promise<unknown>;
  recognize(
    image: Buffer,
    options: Record<string, never>,
    output: { text: boolean; blocks: boolean },
  ): Promise<{ data: { blocks: { paragraphs: { lines: { words: TesseractWord[] }[] }[] }[] | null } }>;
  terminate(): Promise<unknown>;
}

function dataPath(data: string): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), data);
  } catch (error) {
    throw new VNCConfigError(
      'Reading text needs the npm packages tesseract.js and @tesseract.js-data/eng: run `npm install tesseract.js @tesseract.js-data/eng`.',
      { cause: error },
    );
  }
}

/** PSM values: 6 = one uniform block of text (our stacked lines), 11 = sparse text anywhere. */
const PAGE_SEGMENTATION = { lines: '6', sparse: '11' } as const;

export class TesseractEngine implements OcrEngine {
  readonly name = 'tesseract.js';
  private readonly data: string;
  private readonly upscale: number;
  private worker: Promise<TesseractWorker> | undefined;
  private psm: string | undefined;
  private closed = false;
  /** Recognitions run one at a time in the one worker; this chains them. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: TesseractEngineOptions = {}) {
    this.data = options.data ?? '4.0.0_best_int';
    if (this.data !== '4.0.0_best_int' && this.data !== '4.0.0') {
      throw new VNCConfigError(`TesseractEngine: data must be '4.0.0_best_int' or '4.0.0', got ${JSON.stringify(options.data)}.`);
    }
    this.upscale = options.upscale ?? 2;
    if (typeof this.upscale !== 'number' || !(this.upscale >= 1 && this.upscale <= 4)) {
      throw new VNCConfigError(`TesseractEngine: upscale must be a number from 1 to 4, got ${JSON.stringify(options.upscale)}.`);
    }
  }

  private start(): Promise<TesseractWorker> {
    this.worker ??= (async () => {
      const langPath = dataPath(this.data);
      let tesseract: typeof import('tesseract.js');
      try {
        tesseract = await import('tesseract.js');
      } catch (error) {
        throw new VNCConfigError('Reading text needs the npm package tesseract.js: run `npm install tesseract.js @tesseract.js-data/eng`.', { cause: error });
      }
      const createWorker = tesseract.createWorker ?? (tesseract as unknown as { default: typeof tesseract }).default.createWorker;
      const worker = await createWorker('eng', tesseract.OEM?.LSTM_ONLY ?? 1, { langPath, gzip: true, cacheMethod: 'none' });
      await worker.setParameters({ thresholding_method: '1', user_defined_dpi: '192', preserve_interword_spaces: '0' } as never);
      return worker as unknown as TesseractWorker;
    })();
    return this.worker;
  }

  async read(image: OcrImage, options: OcrReadOptions = {}): Promise<OcrWord[]> {
    if (this.closed) throw new VNCStateError('This OCR engine was closed; create a new one to read text.');
    const run = this.queue.then(() => this.recognize(image, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async recognize(image: OcrImage, options: OcrReadOptions): Promise<OcrWord[]> {
    const region = options.region ?? { x: 0, y: 0, width: image.width, height: image.height };
    const scale = options.layout === 'lines' ? 1 : this.upscale;
    const grey = upscaleGrey(toGrey(image, region), scale);
    const worker = await this.start();
    const psm = PAGE_SEGMENTATION[options.layout ?? 'sparse'];
    if (psm !== this.psm) {
      // Our stacked lines are already dark on white: skip tesseract's second, inverted look at each line.
      await worker.setParameters({ tessedit_pageseg_mode: psm, tessedit_do_invert: options.layout === 'lines' ? '0' : '1' });
      this.psm = psm;
    }
    const { data } = await worker.recognize(encodePgm(grey), {}, { text: false, blocks: true });
    const words: OcrWord[] = [];
    let line = 0;
    for (const block of data.blocks ?? []) {
      for (const paragraph of block.paragraphs) {
        for (const { words: lineWords } of paragraph.lines) {
          for (const word of lineWords) {
            const text = word.text.trim();
            if (!text) continue;
            const x = Math.floor(word.bbox.x0 / scale);
            const y = Math.floor(word.bbox.y0 / scale);
            words.push({
              text,
              confidence: word.confidence,
              line,
              box: { x: region.x + x, y: region.y + y, width: Math.max(1, Math.ceil(word.bbox.x1 / scale) - x), height: Math.max(1, Math.ceil(word.bbox.y1 / scale) - y) },
            });
          }
          line++;
        }
      }
    }
    return words;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    await this.queue;
    await (await worker.catch(() => undefined))?.terminate();
  }
}
