/** Reading text from pixels: the engine interface, the default engine, incremental reading, query matching. */
export type { OcrBox, OcrEngine, OcrImage, OcrReadOptions, OcrWord } from './types.js';
export { TesseractEngine, type TesseractEngineOptions } from './tesseract.js';
export { TextReader, type TextReaderOptions, type TextReaderStats } from './reader.js';
export { findText, closestText, describeMatch, editDistance, groupLines, type TextMatch, type FindTextOptions } from './match.js';
export { linesOfText, type TextLine } from './reading-order.js';
export type { LayoutOptions } from './layout.js';
