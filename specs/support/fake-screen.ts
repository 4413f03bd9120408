/**
 * A screen without a server, for unit specs of the locator logic: a real Framebuffer the spec paints
 * (emitting `update` like a session does), a pointer and keyboard log, and a text backend whose
 * "OCR" reads the words the spec put on the screen. Real servers and programs prove the same
 * behaviour end to end in specs/e2e/locators*.spec.ts.
 */
import { EventEmitter } from 'node:events';
import { ActionDetails, type ActionDetail } from '../../src/bridge/action-details.js';
import type { BridgeContext } from '../../src/bridge/context.js';
import { Keyboard } from '../../src/bridge/keyboard.js';
import type { LocatorHost, TextBackend, TextFound } from '../../src/bridge/locators/index.js';
import { Mouse } from '../../src/bridge/mouse.js';
import { VNCConnectionError } from '../../src/errors.js';
import type { OcrWord } from '../../src/ocr/types.js';
import type { RFBClient } from '../../src/rfb/client.js';
import { Framebuffer, type Rect } from '../../src/rfb/framebuffer.js';

export type ScreenEvent =
  | { kind: 'pointer'; mask: number; x: number; y: number; time: number }
  | { kind: 'key'; keysym: number; down: boolean; time: number }
  | { kind: 'repaint'; rect: Rect; time: number };

export class FakeScreen extends EventEmitter {
  readonly framebuffer: Framebuffer;
  readonly events: ScreenEvent[] = [];
  readonly details: ActionDetail[] = [];
  readonly actionDetails = new ActionDetails();
  isClosed = false;
  private words: OcrWord[] = [];
  /** Every region the fake OCR was asked to read. */
  readonly reads: Rect[] = [];

  constructor(width = 640, height = 480) {
    super();
    this.framebuffer = new Framebuffer(width, height);
    this.actionDetails.on((detail) => this.details.push(detail));
  }

  sendPointer(mask: number, x: number, y: number): Promise<void> {
    this.events.push({ kind: 'pointer', mask, x, y, time: Date.now() });
    return Promise.resolve();
  }

  sendKey(keysym: number, down: boolean): Promise<void> {
    this.events.push({ kind: 'key', keysym, down, time: Date.now() });
    return Promise.resolve();
  }

  /** Tells listeners that `rect` was repainted (what a FramebufferUpdate does). */
  repaint(rect: Rect): void {
    this.events.push({ kind: 'repaint', rect, time: Date.now() });
    this.emit('update', [rect]);
  }

  /** Paints a rectangle of one colour and reports it. */
  paint(rect: Rect, rgb: [number, number, number]): void {
    this.framebuffer.fill(rect, ...rgb);
    this.repaint(rect);
  }

  /** Puts words "on the screen" (what the fake OCR reads) and reports their boxes repainted. */
  show(...words: Array<{ text: string; box: Rect }>): void {
    for (const word of words) {
      this.words.push({ text: word.text, box: word.box, confidence: 90, line: word.box.y });
      this.repaint(word.box);
    }
  }

  /** Removes every word with this text and reports its box repainted. */
  hide(text: string): void {
    const gone = this.words.filter((word) => word.text === text);
    this.words = this.words.filter((word) => word.text !== text);
    for (const word of gone) this.repaint(word.box);
  }

  close(error = new VNCConnectionError('The server closed the connection.', { code: 'ECLOSED' })): void {
    this.isClosed = true;
    this.emit('closed', error);
  }

  context(timeoutMs = 2000): BridgeContext {
    return { session: () => this as unknown as RFBClient, timeoutMs, details: this.actionDetails };
  }

  host(timeoutMs = 2000): LocatorHost {
    const context = this.context(timeoutMs);
    return { context, mouse: new Mouse(context), keyboard: new Keyboard(context, 0) };
  }

  pointerEvents(): Array<Extract<ScreenEvent, { kind: 'pointer' }>> {
    return this.events.filter((event): event is Extract<ScreenEvent, { kind: 'pointer' }> => event.kind === 'pointer');
  }

  /** A text backend over the words shown: whole-word matching, enough to exercise the locator logic. */
  textBackend(): () => Promise<TextBackend> {
    const backend: TextBackend = {
      readWords: async (region) => {
        this.reads.push(region);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return this.words.map((word) => ({ ...word, box: { ...word.box } }));
      },
      findText: (words, query, options) =>
        words
          .filter((word) =>
            query instanceof RegExp ? query.test(word.text) : options.exact ? word.text === query : word.text.toLowerCase().includes(query.toLowerCase()),
          )
          .map(toFound),
      closestText: (words, query, count = 3) =>
        [...words]
          .sort((a, b) => distance(a.text, String(query)) - distance(b.text, String(query)))
          .slice(0, count)
          .map(toFound),
    };
    return () => Promise.resolve(backend);
  }
}

function toFound(word: OcrWord): TextFound {
  return { text: word.text, box: word.box, confidence: word.confidence };
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const kept = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = kept;
    }
  }
  return row[b.length];
}
