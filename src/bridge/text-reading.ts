/**
 * Reading the screen's text for one connection: one TextReader per session, made on first use and
 * closed when the session ends. Damage events say whether anything changed in the region since the
 * last read, so polling a still screen costs no capture at all.
 */
import { VNCStateError } from '../errors.js';
import { TesseractEngine, TextReader, type OcrEngine, type OcrWord } from '../ocr/index.js';
import type { RFBClient } from '../rfb/client.js';
import { intersects, type Rect } from '../rfb/framebuffer.js';
import type { BridgeContext } from './context.js';
import { waitFor } from './waiting.js';

interface SessionText {
  reader: TextReader;
  /** The region and words of the last read, while no update has touched that region since. */
  last: { region: Rect; words: OcrWord[] } | undefined;
}

const readers = new WeakMap<RFBClient, SessionText>();

function sameRect(a: Rect, b: Rect): boolean {
  return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}

function copyWords(words: readonly OcrWord[]): OcrWord[] {
  return words.map((w) => ({ ...w, box: { ...w.box } }));
}

function textFor(session: RFBClient, engine: OcrEngine | undefined): SessionText {
  let state = readers.get(session);
  if (state) return state;
  const reader = new TextReader(engine ?? new TesseractEngine(), { closeEngine: engine === undefined });
  const created: SessionText = { reader, last: undefined };
  state = created;
  const forget = () => {
    created.last = undefined;
  };
  session.on('update', (rects: Rect[]) => {
    const last = created.last;
    if (last && rects.some((rect) => intersects(rect, last.region))) forget();
  });
  session.on('resize', forget);
  session.once('closed', () => {
    readers.delete(session);
    void reader.close().catch(() => undefined);
  });
  readers.set(session, state);
  return state;
}

/** Rejects with a VNCTimeoutError when `work` takes longer than `timeoutMs` (the recognition itself runs on). */
function bounded<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  return waitFor<T>(
    timeoutMs,
    () =>
      `Reading the screen text took longer than ${timeoutMs} ms (the first read also loads the OCR engine). Pass a larger timeoutMs, read a smaller region, or raise the bridge's timeoutMs.`,
    (done, fail) => {
      work.then(done, fail);
      return () => undefined;
    },
  );
}

/**
 * The words on the screen (or in `region`), boxes in screen coordinates, lines in reading order.
 * The region must already be checked against the screen (Screen.checkRegion). Bounded by
 * `timeoutMs` (default: the bridge's timeout): a VNCTimeoutError when recognition takes longer.
 */
export function readWords(context: BridgeContext, region?: Rect, timeoutMs = context.timeoutMs): Promise<OcrWord[]> {
  return bounded(readWordsNow(context, region), timeoutMs);
}

async function readWordsNow(context: BridgeContext, region?: Rect): Promise<OcrWord[]> {
  const session = context.session();
  const { width, height } = session.framebuffer;
  const area = region ?? { x: 0, y: 0, width, height };
  const state = textFor(session, context.ocr);
  if (state.last && sameRect(state.last.region, area)) return copyWords(state.last.words);
  // Take the picture now (reads are queued in the reader; the screen may change meanwhile).
  const frame = session.framebuffer.capture();
  let stale = false;
  const onChange = (rects: Rect[]) => {
    if (rects.some((rect) => intersects(rect, area))) stale = true;
  };
  session.on('update', onChange);
  try {
    const words = await state.reader.read(frame, { region: area });
    if (session.isClosed) throw new VNCStateError('The bridge was disconnected while reading the screen text.');
    if (!stale) state.last = { region: area, words: copyWords(words) };
    return words;
  } finally {
    session.off('update', onChange);
  }
}
