import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { VNCInputError, VNCStateError } from '../errors.js';
import type { TextLine } from '../ocr/reading-order.js';
import type { CursorImage } from '../rfb/encodings/cursor.js';
import { intersects, type Frame, type Rect } from '../rfb/framebuffer.js';
import type { BridgeContext } from './context.js';
import { lookForImage, type FindOnScreenOptions, type ImageSource, type Match } from './image-search.js';
import { encodePngAsync } from './png.js';
import { checkTimeout, waitFor } from './waiting.js';

export interface CaptureOptions {
  /** Part of the screen to capture; default all of it. */
  region?: Rect;
}

export interface ScreenshotOptions extends CaptureOptions {
  /** Also write the PNG here (folders are created). */
  path?: string;
}

export interface WaitForChangeOptions extends CaptureOptions {
  timeoutMs?: number;
}

export interface WaitForStableOptions extends CaptureOptions {
  /** How long the screen must stay unchanged. Default 500 ms. */
  stillMs?: number;
  timeoutMs?: number;
}

export interface ReadTextOptions extends CaptureOptions {
  /** Bound on the recognition, in ms (the first read also loads the engine). Default: the bridge's timeout. */
  timeoutMs?: number;
}

/** A word read from the screen. */
export interface ScreenWord {
  text: string;
  /** Where the word is, in screen pixels. */
  box: Rect;
  /** 0–100: how sure the OCR engine is. */
  confidence: number;
  /** The line of `text()` the word is on, counted from 0 (words of one line form multi-word matches). */
  line: number;
}

/** The screen as this client sees it: captures, PNG screenshots, and waits for change or stillness. */
export class Screen {
  private readonly context: BridgeContext;

  constructor(context: BridgeContext) {
    this.context = context;
  }

  get width(): number {
    return this.context.session().framebuffer.width;
  }

  get height(): number {
    return this.context.session().framebuffer.height;
  }

  /** The pointer image the server sent, apart from the screen; null when hidden or not sent. */
  get cursor(): CursorImage | null {
    return this.context.session().cursor;
  }

  /**
   * The text on the screen (or in `region`), in reading order: one line of text per row, lines
   * joined by `\n`. The first read loads the OCR engine; later reads only re-read what changed.
   */
  async text(options: ReadTextOptions = {}): Promise<string> {
    const lines = await this.readLines(options, 'screen.text');
    return lines.map((line) => line.text).join('\n');
  }

  /** The words on the screen (or in `region`) with their boxes, in reading order. */
  async words(options: ReadTextOptions = {}): Promise<ScreenWord[]> {
    const lines = await this.readLines(options, 'screen.words');
    return lines.flatMap((row, line) => row.words.map(({ text, box, confidence }) => ({ text, box, confidence, line })));
  }

  /** The words read, in lines; the OCR code loads on the first read (programs that never read text never load it). */
  private async readLines(options: ReadTextOptions, what: string): Promise<TextLine[]> {
    const region = this.checkRegion(options.region);
    const timeoutMs = checkTimeout(options.timeoutMs ?? this.context.timeoutMs, what);
    const [{ readWords }, { linesOfText }] = await Promise.all([import('./text-reading.js'), import('../ocr/reading-order.js')]);
    return linesOfText(await readWords(this.context, region, timeoutMs));
  }

  private checkRegion(region: Rect | undefined): Rect {
    const { width, height } = this.context.session().framebuffer;
    if (region === undefined) return { x: 0, y: 0, width, height };
    const { x, y, width: w, height: h } = region;
    const whole = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
    if (!whole(x) || !whole(y) || !whole(w) || !whole(h) || w === 0 || h === 0 || x + w > width || y + h > height) {
      throw new VNCInputError(
        `Region ${JSON.stringify(region)} is not inside the ${width}x${height} screen: use whole numbers with width and height > 0, x + width ≤ ${width}, y + height ≤ ${height}.`,
      );
    }
    return { x, y, width: w, height: h };
  }

  /**
   * Resizes the remote desktop (SetDesktopSize) and resolves once the server did: the screen then
   * has exactly `width`×`height` pixels. Rejects with VNCInputError carrying the server's reason
   * (resizing prohibited, out of resources, invalid screen layout) or when the server does not let
   * clients resize (`vnc.info.canResize`), and with VNCTimeoutError after `timeoutMs`.
   */
  async setSize(width: number, height: number, options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = checkTimeout(options.timeoutMs ?? this.context.timeoutMs, 'screen.setSize');
    await this.context.session().setDesktopSize(width, height, timeoutMs);
  }

  /** A copy of the screen (or a region) as RGBA pixels. */
  capture(options: CaptureOptions = {}): Frame {
    return this.context.session().framebuffer.capture(this.checkRegion(options.region));
  }

  /** The screen (or a region) as PNG bytes, also written to `path` when given. */
  async screenshot(options: ScreenshotOptions = {}): Promise<Buffer> {
    const session = this.context.session();
    const region = this.checkRegion(options.region);
    // Straight from the framebuffer, which must not change while it is read: updates wait.
    const release = session.holdUpdates();
    let png: Buffer;
    try {
      png = await encodePngAsync(session.framebuffer, region);
    } finally {
      release();
    }
    if (options.path) {
      await mkdir(dirname(options.path), { recursive: true });
      await writeFile(options.path, png);
    }
    return png;
  }

  /**
   * Asks the server for the whole screen again and resolves once every pixel has been repainted:
   * for benchmarks, or to recover a picture suspected to be stale.
   */
  async refresh(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = checkTimeout(options.timeoutMs ?? this.context.timeoutMs, 'screen.refresh');
    await this.context.session().refresh(timeoutMs);
  }

  /**
   * Resolves with the new frame once the region's pixels differ from how they were when this was
   * called (before `action` runs, so a change the action causes cannot be missed).
   */
  async waitForChange(action?: () => unknown, options: WaitForChangeOptions = {}): Promise<Frame> {
    const session = this.context.session();
    const region = this.checkRegion(options.region);
    const timeoutMs = checkTimeout(options.timeoutMs ?? this.context.timeoutMs, 'screen.waitForChange');
    const before = session.framebuffer.capture(region);
    const changed = waitFor<Frame>(
      timeoutMs,
      () => `The screen${options.region ? ` region ${JSON.stringify(region)}` : ''} did not change within ${timeoutMs} ms.`,
      (done, fail) => {
        const onUpdate = (rects: Rect[]) => {
          if (!rects.some((rect) => intersects(rect, region))) return;
          const now = session.framebuffer.capture(region);
          if (!now.data.equals(before.data)) done(now);
        };
        const onResize = () => done(session.framebuffer.capture());
        const onClosed = (error: unknown) => fail(error ?? new VNCStateError('The bridge was disconnected while waiting for the screen to change.'));
        session.on('update', onUpdate);
        session.on('resize', onResize);
        session.on('closed', onClosed);
        return () => {
          session.off('update', onUpdate);
          session.off('resize', onResize);
          session.off('closed', onClosed);
        };
      },
    );
    if (action) {
      try {
        await action();
      } catch (error) {
        changed.catch(() => undefined);
        throw error;
      }
    }
    return changed;
  }

  /** Resolves with the frame once the region has not changed for `stillMs`. */
  async waitForStable(options: WaitForStableOptions = {}): Promise<Frame> {
    const session = this.context.session();
    const region = this.checkRegion(options.region);
    const stillMs = checkTimeout(options.stillMs ?? 500, 'screen.waitForStable stillMs');
    const timeoutMs = checkTimeout(options.timeoutMs ?? this.context.timeoutMs, 'screen.waitForStable');
    await waitFor<void>(
      timeoutMs,
      () => `The screen${options.region ? ` region ${JSON.stringify(region)}` : ''} kept changing for ${timeoutMs} ms; it never stayed still for ${stillMs} ms.`,
      (done, fail) => {
        let still = setTimeout(done, stillMs);
        const onUpdate = (rects: Rect[]) => {
          if (!rects.some((rect) => intersects(rect, region))) return;
          clearTimeout(still);
          still = setTimeout(done, stillMs);
        };
        const onClosed = (error: unknown) => fail(error ?? new VNCStateError('The bridge was disconnected while waiting for the screen to settle.'));
        session.on('update', onUpdate);
        session.on('closed', onClosed);
        return () => {
          clearTimeout(still);
          session.off('update', onUpdate);
          session.off('closed', onClosed);
        };
      },
    );
    return this.capture({ region: options.region });
  }

  /**
   * Where `image` (a frame, PNG bytes or a PNG file path) is on the screen: the best match with at
   * least `similarity`, or null. Looks once, or with `timeoutMs` keeps looking as the screen changes.
   */
  find(image: ImageSource, options: FindOnScreenOptions = {}): Promise<Match | null> {
    return lookForImage(this.context, image, options, { what: 'screen.find', defaultTimeoutMs: 0, onTimeout: 'null' });
  }

  /** Like `find`, but waits (default: the bridge's timeout) and throws VNCTimeoutError naming the closest match seen. */
  async waitForImage(image: ImageSource, options: FindOnScreenOptions = {}): Promise<Match> {
    const match = await lookForImage(this.context, image, options, { what: 'screen.waitForImage', defaultTimeoutMs: this.context.timeoutMs, onTimeout: 'throw' });
    return match!;
  }
}
