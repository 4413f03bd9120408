/**
 * The server-to-client message parser (RFC 6143 §7.6, plus rfbproto's ServerFence and
 * EndOfContinuousUpdates where their pseudo-encodings were advertised). Fed from one byte queue,
 * it consumes whole messages (or whole units of a rectangle) as far as the bytes go and then
 * stops; the next call continues where it left off. It paints into the framebuffer and reports to
 * a handler.
 */
import { VNCProtocolError } from '../errors.js';
import type { ByteQueue } from './byte-queue.js';
import { Encoding, Limits, ServerMessage } from './constants.js';
import { readCursor, type CursorImage } from './encodings/cursor.js';
import type { Decoder, RectangleInProgress } from './encodings/decoder.js';
import { checkDesktopSize, DesktopSizeReason, DesktopSizeStatus, readExtendedDesktopSize, type DesktopScreen } from './encodings/desktop-size.js';
import { decodeLatin1, parseExtendedClipboard, type ExtendedClipboardMessage } from './extended-clipboard.js';
import type { Framebuffer, Rect } from './framebuffer.js';

export interface ColourMapEntry {
  red: number;
  green: number;
  blue: number;
}

/** What the parser reports, in the order the server sent it. */
export interface ServerMessageHandler {
  /** A rectangle of the framebuffer has new pixels. */
  damaged(rect: Rect): void;
  /** A FramebufferUpdate is complete. */
  updateEnded(): void;
  /** The framebuffer has a new size (and was cleared). Not called when a server repeats the current size. */
  resized(width: number, height: number): void;
  cursorChanged(cursor: CursorImage | null): void;
  colourMapEntries(firstColour: number, colours: ColourMapEntry[]): void;
  bell(): void;
  /** Plain ServerCutText (Latin-1). */
  cutText(text: string): void;
  /** ServerCutText in the Extended Clipboard form. */
  extendedClipboard(message: ExtendedClipboardMessage): void;
  /** A ServerFence (only with Fence advertised); `payload` is the caller's to keep. */
  fence?(flags: number, payload: Uint8Array): void;
  /** An EndOfContinuousUpdates (only with ContinuousUpdates advertised). */
  endOfContinuousUpdates?(): void;
  /**
   * An ExtendedDesktopSize rectangle: why (`reason`: 0 server, 1 this client's SetDesktopSize, 2
   * another client), the status of this client's request (0 when reason is not 1), the size and
   * the screen layout. Reported after the framebuffer was resized (when it was).
   */
  extendedDesktopSize?(change: ExtendedDesktopSizeChange): void;
  /** A DesktopName rectangle: the server's desktop name changed. */
  desktopName?(name: string): void;
  /** The server takes QEMU Extended Key Events (it sent the pseudo-encoding's empty rectangle). */
  extendedKeyEvents?(): void;
  /** The remote keyboard's lock keys (QEMU LED State pseudo-encoding). */
  lockState?(locks: LockState): void;
}

export interface ExtendedDesktopSizeChange {
  reason: number;
  status: number;
  width: number;
  height: number;
  screens: DesktopScreen[];
}

/** The lock keys of the remote keyboard, as its LEDs show them. */
export interface LockState {
  capsLock: boolean;
  numLock: boolean;
  scrollLock: boolean;
}

/** QEMU LED State payload: bit 0 Scroll Lock, bit 1 Num Lock, bit 2 Caps Lock. */
export function parseLedState(byte: number): LockState {
  return { scrollLock: (byte & 1) !== 0, numLock: (byte & 2) !== 0, capsLock: (byte & 4) !== 0 };
}

export interface ServerMessageParserOptions {
  /** Pseudo-encodings advertised to the server: only these may appear. */
  advertised: ReadonlySet<number>;
  /** This connection's pixel decoders, by encoding number. */
  decoders: ReadonlyMap<number, Decoder>;
}

type State =
  | { kind: 'message' }
  | { kind: 'rectangle-header'; remaining: number }
  | { kind: 'rectangle-body'; remaining: number; rect: RectangleInProgress; decoder: Decoder; paints: boolean };

const UPDATE_HEADER_BYTES = 4;
const RECTANGLE_HEADER_BYTES = 12;
const CUT_TEXT_HEADER_BYTES = 8;
const COLOUR_MAP_HEADER_BYTES = 6;
/** ServerFence: type, 3 padding bytes, u32 flags, u8 payload length. */
const FENCE_HEADER_BYTES = 9;
/** A FramebufferUpdate with this many rectangles ends with a LastRect rectangle instead. */
const UNKNOWN_RECTANGLE_COUNT = 0xffff;

export class ServerMessageParser {
  private state: State = { kind: 'message' };
  private readonly framebuffer: Framebuffer;
  private readonly handler: ServerMessageHandler;
  private readonly advertised: ReadonlySet<number>;
  private readonly decoders: ReadonlyMap<number, Decoder>;

  constructor(framebuffer: Framebuffer, handler: ServerMessageHandler, options: ServerMessageParserOptions) {
    this.framebuffer = framebuffer;
    this.handler = handler;
    this.advertised = options.advertised;
    this.decoders = options.decoders;
  }

  /** Parses as much as the queue holds. Throws VNCProtocolError for bytes that break the protocol. */
  parse(queue: ByteQueue): void {
    for (;;) {
      const state = this.state;
      if (state.kind === 'message') {
        if (!queue.has(1) || !this.parseMessage(queue)) return;
      } else if (state.kind === 'rectangle-header') {
        if (state.remaining === 0) {
          this.endUpdate();
          continue;
        }
        if (!queue.has(RECTANGLE_HEADER_BYTES)) return;
        this.parseRectangleHeader(queue, state.remaining);
      } else {
        if (!state.decoder.decode(state.rect, queue, this.framebuffer)) return;
        const { x, y, width, height } = state.rect;
        if (state.paints && width > 0 && height > 0) this.handler.damaged({ x, y, width, height });
        this.state = { kind: 'rectangle-header', remaining: state.remaining - 1 };
      }
    }
  }

  private endUpdate(): void {
    this.state = { kind: 'message' };
    this.handler.updateEnded();
  }

  /** Parses one message, or its header; returns false when more bytes are needed. */
  private parseMessage(queue: ByteQueue): boolean {
    const type = queue.peekU8();
    switch (type) {
      case ServerMessage.FramebufferUpdate: {
        if (!queue.has(UPDATE_HEADER_BYTES)) return false;
        queue.skip(2);
        this.state = { kind: 'rectangle-header', remaining: queue.u16() };
        return true;
      }
      case ServerMessage.SetColourMapEntries:
        return this.parseColourMapEntries(queue);
      case ServerMessage.Bell:
        queue.skip(1);
        this.handler.bell();
        return true;
      case ServerMessage.ServerCutText:
        return this.parseCutText(queue);
      case ServerMessage.EndOfContinuousUpdates:
        if (!this.advertised.has(Encoding.ContinuousUpdates)) throw this.unexpectedType(type);
        queue.skip(1);
        this.handler.endOfContinuousUpdates?.();
        return true;
      case ServerMessage.ServerFence:
        if (!this.advertised.has(Encoding.Fence)) throw this.unexpectedType(type);
        return this.parseFence(queue);
      default:
        throw this.unexpectedType(type);
    }
  }

  private unexpectedType(type: number): VNCProtocolError {
    const expected = ['0–3'];
    if (this.advertised.has(Encoding.ContinuousUpdates)) expected.push(String(ServerMessage.EndOfContinuousUpdates));
    if (this.advertised.has(Encoding.Fence)) expected.push(String(ServerMessage.ServerFence));
    return new VNCProtocolError(
      `The server sent message type ${type}, which is not part of the protocol negotiated (expected ${expected.join(', ')}). The connection cannot continue.`,
    );
  }

  private parseFence(queue: ByteQueue): boolean {
    if (!queue.has(FENCE_HEADER_BYTES)) return false;
    const length = queue.peekU8(8);
    // Refused on the header: a longer payload is not waited for.
    if (length > Limits.maxFencePayloadBytes) {
      throw new VNCProtocolError(`The server sent a Fence with a ${length}-byte payload; the limit is ${Limits.maxFencePayloadBytes} bytes.`);
    }
    if (!queue.has(FENCE_HEADER_BYTES + length)) return false;
    queue.skip(4);
    const flags = queue.u32();
    queue.skip(1);
    const payload = queue.take(length);
    this.handler.fence?.(flags, payload);
    return true;
  }

  private parseColourMapEntries(queue: ByteQueue): boolean {
    if (!queue.has(COLOUR_MAP_HEADER_BYTES)) return false;
    const count = queue.peekU16(4);
    if (!queue.has(COLOUR_MAP_HEADER_BYTES + count * 6)) return false;
    queue.skip(2);
    const firstColour = queue.u16();
    queue.skip(2);
    const colours: ColourMapEntry[] = [];
    for (let i = 0; i < count; i++) colours.push({ red: queue.u16() >> 8, green: queue.u16() >> 8, blue: queue.u16() >> 8 });
    this.handler.colourMapEntries(firstColour, colours);
    return true;
  }

  private parseCutText(queue: ByteQueue): boolean {
    if (!queue.has(CUT_TEXT_HEADER_BYTES)) return false;
    const declared = queue.peekS32(4);
    const extended = declared < 0;
    const length = Math.abs(declared);
    if (extended && !this.advertised.has(Encoding.ExtendedClipboard)) {
      throw new VNCProtocolError('The server sent Extended Clipboard data (negative ServerCutText length) although it was not advertised.');
    }
    if (length > Limits.maxCutTextBytes) {
      throw new VNCProtocolError(
        `The server announced ${length} bytes of clipboard text, more than the ${Limits.maxCutTextBytes}-byte limit.`,
      );
    }
    if (!queue.has(CUT_TEXT_HEADER_BYTES + length)) return false;
    queue.skip(CUT_TEXT_HEADER_BYTES);
    const payload = queue.view(length);
    if (extended) this.handler.extendedClipboard(parseExtendedClipboard(payload));
    else this.handler.cutText(decodeLatin1(payload));
    return true;
  }

  private parseRectangleHeader(queue: ByteQueue, remaining: number): void {
    const rect: RectangleInProgress = {
      x: queue.u16(),
      y: queue.u16(),
      width: queue.u16(),
      height: queue.u16(),
      encoding: queue.s32(),
      progress: 0,
    };
    const decoder = this.decoders.get(rect.encoding);
    if (decoder) {
      if (!this.framebuffer.contains(rect)) {
        throw new VNCProtocolError(
          `${decoder.name} rectangle ${rect.width}x${rect.height} at (${rect.x},${rect.y}) lies outside the ${this.framebuffer.width}x${this.framebuffer.height} framebuffer.`,
        );
      }
      this.state = { kind: 'rectangle-body', remaining, rect, decoder, paints: true };
      return;
    }
    if (!this.advertised.has(rect.encoding)) {
      throw new VNCProtocolError(
        `The server sent a rectangle in encoding ${rect.encoding}, which this client did not advertise; its length is unknown, so the connection cannot continue.`,
      );
    }
    if (rect.encoding === Encoding.LastRect) {
      this.endUpdate();
      return;
    }
    this.state = { kind: 'rectangle-body', remaining, rect, decoder: this.pseudoDecoder(rect.encoding), paints: false };
  }

  /** Pseudo-encodings: rectangles that change state other than pixels. */
  private pseudoDecoder(encoding: number): Decoder {
    switch (encoding) {
      case Encoding.DesktopSize:
        return { name: 'DesktopSize', decode: (rect) => this.resize(rect, 'DesktopSize') };
      case Encoding.ExtendedDesktopSize:
        return {
          name: 'ExtendedDesktopSize',
          decode: (rect, queue) => {
            const screens = readExtendedDesktopSize(queue);
            if (!screens) return false;
            // x is the reason; y the status of this client's own request, where a failure changes nothing.
            const status = rect.x === DesktopSizeReason.ThisClient ? rect.y : DesktopSizeStatus.Ok;
            if (status === DesktopSizeStatus.Ok) this.resize(rect, 'ExtendedDesktopSize');
            this.handler.extendedDesktopSize?.({ reason: rect.x, status, width: rect.width, height: rect.height, screens });
            return true;
          },
        };
      case Encoding.DesktopName:
        return {
          name: 'DesktopName',
          decode: (_rect, queue) => {
            if (!queue.has(4)) return false;
            const length = queue.peekU32();
            if (length > Limits.maxDesktopNameBytes) {
              throw new VNCProtocolError(`The server's new desktop name is ${length} bytes, more than the ${Limits.maxDesktopNameBytes}-byte limit.`);
            }
            if (!queue.has(4 + length)) return false;
            queue.skip(4);
            this.handler.desktopName?.(Buffer.from(queue.view(length)).toString('utf8'));
            return true;
          },
        };
      case Encoding.Cursor:
        return {
          name: 'Cursor',
          decode: (rect, queue) => {
            const cursor = readCursor(rect, queue);
            if (cursor === undefined) return false;
            this.handler.cursorChanged(cursor);
            return true;
          },
        };
      case Encoding.QEMUExtendedKeyEvent:
        return {
          name: 'QEMUExtendedKeyEvent',
          decode: () => {
            this.handler.extendedKeyEvents?.();
            return true;
          },
        };
      case Encoding.LEDState:
        return {
          name: 'LEDState',
          decode: (_rect, queue) => {
            if (!queue.has(1)) return false;
            this.handler.lockState?.(parseLedState(queue.u8()));
            return true;
          },
        };
      default:
        // Advertised pseudo-encodings without a payload (compression level, quality, clipboard).
        return { name: `pseudo-encoding ${encoding}`, decode: () => true };
    }
  }

  private resize(rect: RectangleInProgress, where: string): true {
    checkDesktopSize(rect.width, rect.height, where);
    // Servers also announce an unchanged size (TigerVNC does on every full update request).
    if (rect.width === this.framebuffer.width && rect.height === this.framebuffer.height) return true;
    this.framebuffer.resize(rect.width, rect.height);
    this.handler.resized(rect.width, rect.height);
    return true;
  }
}
