/**
 * Reading text from pixels, in our words: an engine turns an RGBA image into words with boxes.
 * Nothing here knows about VNC; a second engine is one new file implementing `OcrEngine`.
 */

/** An RGBA image, 4 bytes a pixel, row after row (the shape of the bridge's `Frame`). */
export interface OcrImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A rectangle in image pixels. */
export interface OcrBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One word read from the image, with its box in the image's (not the region's) coordinates. */
export interface OcrWord {
  text: string;
  box: OcrBox;
  /** 0–100: how sure the engine is. */
  confidence: number;
  /** Index of the text line the word belongs to, in reading order (for joining multi-word queries). */
  line: number;
}

export interface OcrReadOptions {
  /** Part of the image to read; default all of it. Word boxes stay in image coordinates. */
  region?: OcrBox;
  /**
   * A hint about the image: 'sparse' (default) — text anywhere, as on a screen; 'lines' — lines of
   * dark text on white stacked one under another, already enlarged (what TextReader sends).
   * Engines may ignore it.
   */
  layout?: 'sparse' | 'lines';
}

/** An OCR engine behind our interface. Engines load lazily and may run off the main thread. */
export interface OcrEngine {
  readonly name: string;
  read(image: OcrImage, options?: OcrReadOptions): Promise<OcrWord[]>;
  /** Frees the engine (workers, memory). Safe to call twice. */
  close(): Promise<void>;
}
