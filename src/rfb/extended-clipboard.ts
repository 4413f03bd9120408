/**
 * The Extended Clipboard pseudo-encoding (community rfbproto, "Extended Clipboard Pseudo-Encoding",
 * 0xC0A1E5CE) and the plain Latin-1 ClientCutText it replaces, as pure functions over bytes.
 *
 * A client that lists the pseudo-encoding in SetEncodings may receive ServerCutText messages whose
 * s32 *length* is negative: |length| bytes follow, starting with a u32 *flags* word whose low 16
 * bits name formats and whose top 8 bits name one action (or *caps*, which may carry several).
 * `parseExtendedClipboard` decodes those |length| bytes; the `client*` builders return complete
 * ClientCutText messages (type, padding, length, payload) ready to write to the socket.
 *
 * Wire layout of the payload:
 *   caps     flags, then one u32 "maximum unsolicited size" per format bit set (lowest bit first)
 *   request  flags only: the peer should answer with *provide* for those formats
 *   peek     flags only: the peer should answer with *notify*
 *   notify   flags only: these formats are now available on the peer
 *   provide  flags, then ONE zlib stream holding, per format bit set (lowest bit first), a u32 size
 *            and that many bytes. Text is UTF-8 with CRLF line ends and a terminating NUL.
 *
 * Servers such as TigerVNC end the zlib stream with a sync flush rather than finishing it, so the
 * inflater here accepts an unterminated stream; a short one is caught by the size checks instead.
 */
import { constants as zlibConstants, deflateSync, inflateSync } from 'node:zlib';

import { VNCInputError, VNCProtocolError } from '../errors.js';
import { Limits } from './constants.js';

/** Format bits (bits 0-15 of *flags*). */
export const ClipboardFormat = {
  /** UTF-8 text, CRLF line ends, NUL-terminated. */
  Text: 1 << 0,
  /** Microsoft Rich Text Format. */
  Rtf: 1 << 1,
  /** Microsoft HTML clipboard fragment. */
  Html: 1 << 2,
  /** Device Independent Bitmap v5, without file header. */
  Dib: 1 << 3,
  /** Reserved, not defined by the specification. */
  Files: 1 << 4,
} as const;

/** Action bits (bits 24-31 of *flags*). */
export const ClipboardAction = {
  Caps: 1 << 24,
  Request: 1 << 25,
  Peek: 1 << 26,
  Notify: 1 << 27,
  Provide: 1 << 28,
} as const;

export const CLIPBOARD_FORMAT_MASK = 0x0000ffff;
/** 0xff000000, as a positive number (compare with `(flags & mask) >>> 0`). */
export const CLIPBOARD_ACTION_MASK = 0xff000000;

/**
 * Largest clipboard payload accepted or sent: the declared |length| of an extended message, the
 * inflated data of a *provide*, each format's declared size, and the text a builder is asked to
 * send. Same value as `Limits.maxCutTextBytes` for legacy ServerCutText.
 */
export const MAX_CLIPBOARD_BYTES = Limits.maxCutTextBytes;

/** Room for one u32 size per possible format inside the inflated *provide* stream. */
const SIZE_FIELDS_BYTES = 16 * 4;
const CLIENT_CUT_TEXT = 6;
const HEADER_BYTES = 8;
const U32_MAX = 0xffffffff;

export type ExtendedClipboardMessage =
  | {
      kind: 'caps';
      /** Format bits the sender is willing to receive. */
      formats: number;
      /** Action bits the sender supports, as sent (the *caps* bit included), unsigned. */
      actions: number;
      /** Maximum unsolicited size per format, keyed by format bit (e.g. `ClipboardFormat.Text`). */
      maxSizes: Map<number, number>;
    }
  | { kind: 'request'; formats: number }
  | { kind: 'peek' }
  | { kind: 'notify'; formats: number }
  | {
      kind: 'provide';
      /** The text format, if provided: UTF-8 decoded, CRLF turned into LF, trailing NUL removed. */
      text?: string;
    };

export interface ExtendedClipboardLimits {
  /** Overrides `MAX_CLIPBOARD_BYTES` (used by tests and by callers that want a smaller cap). */
  maxBytes?: number;
}

const FORMAT_NAMES: Record<number, string> = {
  [ClipboardFormat.Text]: 'text',
  [ClipboardFormat.Rtf]: 'rtf',
  [ClipboardFormat.Html]: 'html',
  [ClipboardFormat.Dib]: 'dib',
  [ClipboardFormat.Files]: 'files',
};

function formatName(bit: number): string {
  return FORMAT_NAMES[bit] ?? `format bit ${Math.log2(bit)}`;
}

function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

/** Format bits set in `formats`, lowest first (the order sizes and data appear on the wire). */
function formatBits(formats: number): number[] {
  const bits: number[] = [];
  for (let i = 0; i < 16; i++) if (formats & (1 << i)) bits.push(1 << i);
  return bits;
}

function protocolError(message: string, cause?: unknown): VNCProtocolError {
  return new VNCProtocolError(`Extended Clipboard: ${message}`, cause === undefined ? undefined : { cause });
}

function limitOf(options: ExtendedClipboardLimits | undefined): number {
  return options?.maxBytes ?? MAX_CLIPBOARD_BYTES;
}

/**
 * Checks the |length| of an extended ServerCutText before its bytes are buffered: at least the
 * 4-byte flags word, at most the limit. Returns the length. `parseExtendedClipboard` applies the
 * same check, so calling this first only saves buffering a message that will be refused.
 */
export function checkExtendedClipboardLength(payloadLength: number, options?: ExtendedClipboardLimits): number {
  const limit = limitOf(options);
  if (payloadLength < 4) {
    throw protocolError(`message too short: ${payloadLength} bytes, at least 4 are needed for the flags.`);
  }
  if (payloadLength > limit) {
    throw protocolError(`the server announces a ${payloadLength}-byte message, larger than the ${limit}-byte limit.`);
  }
  return payloadLength;
}

/**
 * Decodes the payload of an extended ServerCutText: the |length| bytes after the type, padding and
 * negative s32 length. Throws `VNCProtocolError` on malformed or oversized input.
 */
export function parseExtendedClipboard(payload: Uint8Array, options?: ExtendedClipboardLimits): ExtendedClipboardMessage {
  checkExtendedClipboardLength(payload.length, options);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const flags = view.getUint32(0);
  const formats = flags & CLIPBOARD_FORMAT_MASK;
  const actions = (flags & CLIPBOARD_ACTION_MASK) >>> 0;

  if (actions & ClipboardAction.Caps) {
    const bits = formatBits(formats);
    const needed = 4 + 4 * bits.length;
    if (payload.length < needed) {
      throw protocolError(
        `caps message lists ${bits.length} format(s) in flags ${hex32(flags)} and so needs ${needed} bytes of sizes, but has ${payload.length}.`,
      );
    }
    const maxSizes = new Map<number, number>();
    bits.forEach((bit, i) => maxSizes.set(bit, view.getUint32(4 + 4 * i)));
    return { kind: 'caps', formats, actions, maxSizes };
  }

  if (actions === 0) throw protocolError(`message without an action (flags ${hex32(flags)}).`);
  if ((actions & (actions - 1)) !== 0) {
    throw protocolError(`message sets more than one action (flags ${hex32(flags)}); only caps may combine actions.`);
  }
  switch (actions) {
    case ClipboardAction.Request:
      return { kind: 'request', formats };
    case ClipboardAction.Peek:
      return { kind: 'peek' };
    case ClipboardAction.Notify:
      return { kind: 'notify', formats };
    case ClipboardAction.Provide:
      return parseProvide(payload.subarray(4), formats, limitOf(options));
    default:
      throw protocolError(`unknown action bit ${Math.log2(actions)} (flags ${hex32(flags)}).`);
  }
}

function parseProvide(compressed: Uint8Array, formats: number, limit: number): ExtendedClipboardMessage {
  const bits = formatBits(formats);
  if (bits.length === 0) return { kind: 'provide' };

  let data: Uint8Array;
  try {
    data = inflateSync(compressed, {
      maxOutputLength: limit + SIZE_FIELDS_BYTES,
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
    });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw protocolError(`provide data inflates to more than the ${limit}-byte limit; refused.`, err);
    }
    throw protocolError(`provide data is not a valid zlib stream (${(err as Error).message}).`, err);
  }

  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  let text: string | undefined;
  for (const bit of bits) {
    const name = formatName(bit);
    if (data.length - offset < 4) {
      throw protocolError(`provide data ends before the size of the ${name} format (${data.length} bytes inflated).`);
    }
    const size = view.getUint32(offset);
    offset += 4;
    if (size > limit) {
      throw protocolError(`provide declares ${size} bytes of ${name}, larger than the ${limit}-byte limit.`);
    }
    if (size > data.length - offset) {
      throw protocolError(`provide declares ${size} bytes of ${name}, but only ${data.length - offset} remain in the inflated data.`);
    }
    if (bit === ClipboardFormat.Text) text = decodeProvidedText(data.subarray(offset, offset + size));
    offset += size;
  }
  return text === undefined ? { kind: 'provide' } : { kind: 'provide', text };
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Invalid UTF-8 becomes U+FFFD rather than an error, as rfbproto asks ("String Encodings"). */
function decodeProvidedText(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes).replace(/\0+$/, '').replace(/\r\n/g, '\n');
}

// ---------------------------------------------------------------------------------------------
// Builders (client to server).

function clientCutText(payload: Uint8Array, extended: boolean): Uint8Array {
  const message = new Uint8Array(HEADER_BYTES + payload.length);
  const view = new DataView(message.buffer);
  view.setUint8(0, CLIENT_CUT_TEXT);
  if (extended) view.setInt32(4, -payload.length);
  else view.setUint32(4, payload.length);
  message.set(payload, HEADER_BYTES);
  return message;
}

function flagsOnly(flags: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, flags >>> 0);
  return clientCutText(payload, true);
}

function checkFormats(formats: number, what: string): void {
  if (!Number.isInteger(formats) || formats < 0 || formats > CLIPBOARD_FORMAT_MASK) {
    throw new VNCInputError(
      `Extended Clipboard ${what}: formats must be format bits 0-15 (e.g. ClipboardFormat.Text), got ${formats}.`,
    );
  }
}

/**
 * ClientCutText with *caps*: the formats and actions this client accepts, and for each format the
 * largest size the server may send unsolicited. `maxSizes` is keyed by format bit; a format without
 * an entry gets 0 (announce with *notify*, send only on *request*), which rfbproto recommends.
 */
export function clientCaps(formats: number, actions: number, maxSizes: ReadonlyMap<number, number> = new Map()): Uint8Array {
  checkFormats(formats, 'caps');
  if (!Number.isInteger(actions) || (actions >>> 0) !== actions || (actions & ~CLIPBOARD_ACTION_MASK) !== 0) {
    throw new VNCInputError(`Extended Clipboard caps: actions must be action bits 24-31 (e.g. ClipboardAction.Request), got ${actions}.`);
  }
  for (const [key, size] of maxSizes) {
    if (!(key & formats) || (key & (key - 1)) !== 0) {
      throw new VNCInputError(
        `Extended Clipboard caps: maxSizes key ${key} is not one of the format bits in formats ${hex32(formats)} (keys are bits such as ClipboardFormat.Text = 1, not bit indexes).`,
      );
    }
    if (!Number.isInteger(size) || size < 0 || size > U32_MAX) {
      throw new VNCInputError(`Extended Clipboard caps: maximum size for ${formatName(key)} must be an integer 0..${U32_MAX}, got ${size}.`);
    }
  }
  const bits = formatBits(formats);
  const payload = new Uint8Array(4 + 4 * bits.length);
  const view = new DataView(payload.buffer);
  view.setUint32(0, (formats | actions | ClipboardAction.Caps) >>> 0);
  bits.forEach((bit, i) => view.setUint32(4 + 4 * i, maxSizes.get(bit) ?? 0));
  return clientCutText(payload, true);
}

/** ClientCutText with *request*: asks the server to *provide* these formats. */
export function clientRequest(formats: number): Uint8Array {
  checkFormats(formats, 'request');
  if (formats === 0) throw new VNCInputError('Extended Clipboard request: name at least one format to request.');
  return flagsOnly(formats | ClipboardAction.Request);
}

/** ClientCutText with *peek*: asks the server to *notify* which formats it has. */
export function clientPeek(): Uint8Array {
  return flagsOnly(ClipboardAction.Peek);
}

/** ClientCutText with *notify*: tells the server these formats are available here (0: none). */
export function clientNotify(formats: number): Uint8Array {
  checkFormats(formats, 'notify');
  return flagsOnly(formats | ClipboardAction.Notify);
}

/**
 * ClientCutText with *provide* for the text format: UTF-8, every line end (CRLF, lone CR, lone LF)
 * as CRLF, a terminating NUL,
 * in a zlib stream after its u32 size. Throws `VNCInputError` if the text exceeds the limit.
 */
export function clientProvideText(text: string, options?: ExtendedClipboardLimits): Uint8Array {
  const limit = limitOf(options);
  const utf8 = new TextEncoder().encode(text.replace(/\r\n|\r|\n/g, '\r\n'));
  const size = utf8.length + 1;
  if (size > limit) {
    throw new VNCInputError(`Extended Clipboard provide: the text is ${size} bytes as UTF-8, larger than the ${limit}-byte limit.`);
  }
  const plain = new Uint8Array(4 + size);
  new DataView(plain.buffer).setUint32(0, size);
  plain.set(utf8, 4); // the final byte stays 0: the NUL terminator
  const compressed = deflateSync(plain);
  const payload = new Uint8Array(4 + compressed.length);
  new DataView(payload.buffer).setUint32(0, (ClipboardFormat.Text | ClipboardAction.Provide) >>> 0);
  payload.set(compressed, 4);
  return clientCutText(payload, true);
}

// ---------------------------------------------------------------------------------------------
// Legacy (RFC 6143) ClientCutText / ServerCutText: ISO 8859-1 text, LF line ends.

/**
 * Plain ClientCutText for a server without Extended Clipboard: Latin-1 bytes, CRLF turned into LF
 * as RFC 6143 asks. Text with a character above U+00FF cannot be sent and throws `VNCInputError`.
 */
export function clientCutTextLatin1(text: string, options?: ExtendedClipboardLimits): Uint8Array {
  const limit = limitOf(options);
  const normalised = text.replace(/\r\n/g, '\n');
  const bytes = new Uint8Array(normalised.length);
  for (let i = 0; i < normalised.length; i++) {
    const code = normalised.charCodeAt(i);
    if (code > 0xff) {
      const char = String.fromCodePoint(normalised.codePointAt(i)!);
      const codePoint = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      const index = text.indexOf(char); // index in the caller's string, before CRLF normalisation
      throw new VNCInputError(
        `Cannot send "${char}" (U+${codePoint}) at index ${index} of the clipboard text: the server does not support Extended Clipboard (UTF-8), so only Latin-1 text (U+0000 to U+00FF) can be sent.`,
      );
    }
    bytes[i] = code;
  }
  if (bytes.length > limit) {
    throw new VNCInputError(`ClientCutText: the text is ${bytes.length} bytes, larger than the ${limit}-byte limit.`);
  }
  return clientCutText(bytes, false);
}

/** Decodes legacy cut text: each byte is the code point U+0000 to U+00FF (ISO 8859-1, not windows-1252). */
export function decodeLatin1(bytes: Uint8Array): string {
  const CHUNK = 0x2000;
  let out = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return out;
}
