/**
 * A stand-in VNC server for unit specs: small builders for the bytes a server sends (RFC 6143 and
 * the community rfbproto extensions), a FakeTransport that records what the client writes and
 * delivers server bytes in any chunking, and `chunkings()`, which lists the ways a byte stream can
 * arrive (whole, byte by byte, every two-piece split, seeded random chunkings).
 *
 * Everything here is written from the specification, independently of src/rfb, so the builders and
 * the client can check each other. Multi-byte numbers are big-endian, as on the wire.
 */
import type { PixelFormat } from '../../src/rfb/pixel-format.js';
import { VNCConnectionError } from '../../src/errors.js';
import type { Transport, TransportEvents } from '../../src/transport/transport.js';

// ---------------------------------------------------------------------------------------------
// Numbers and byte strings

export function u8(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff);
}

export function u16(value: number): Uint8Array {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value & 0xffff);
  return new Uint8Array(bytes);
}

export function u32(value: number): Uint8Array {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return new Uint8Array(bytes);
}

export function s32(value: number): Uint8Array {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value | 0);
  return new Uint8Array(bytes);
}

export function padding(n: number): Uint8Array {
  return new Uint8Array(n);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

export function ascii(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

// ---------------------------------------------------------------------------------------------
// Handshake (RFC 6143 §7.1–7.3)

/**
 * A ProtocolVersion banner: `banner('3.8')` is "RFB 003.008\n", `banner('3.889')` Apple's
 * "RFB 003.889\n". Anything that is not major.minor is sent as is (for garbage banners).
 */
export function banner(version: string): Uint8Array {
  const match = /^(\d{1,3})\.(\d{1,3})$/.exec(version);
  if (!match) return ascii(version);
  return ascii(`RFB ${match[1].padStart(3, '0')}.${match[2].padStart(3, '0')}\n`);
}

/** The reason string after a failure: u32 length, then the text (UTF-8). */
export function failureReason(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  return concat(u32(bytes.length), bytes);
}

/** RFB 3.7+ security types: u8 count, then the types. `securityTypes([], reason)` refuses. */
export function securityTypes(types: readonly number[], reason?: string): Uint8Array {
  if (types.length === 0) return concat(u8(0), failureReason(reason ?? ''));
  return concat(u8(types.length), Uint8Array.from(types));
}

/** RFB 3.3 security type: one u32 chosen by the server; 0 (Invalid) is followed by a reason. */
export function securityTypes33(type: number, reason?: string): Uint8Array {
  return type === 0 ? concat(u32(0), failureReason(reason ?? '')) : u32(type);
}

/** SecurityResult: u32 status (0 OK, 1 failed); on RFB 3.8 a failure carries a reason. */
export function securityResult(status: 0 | 1 | 2, reason?: string): Uint8Array {
  return reason === undefined ? u32(status) : concat(u32(status), failureReason(reason));
}

/** The 16-byte VNC Authentication challenge. */
export function challenge(hexText: string): Uint8Array {
  const bytes = unhex(hexText);
  if (bytes.length !== 16) throw new Error(`a VNC challenge is 16 bytes, got ${bytes.length}`);
  return bytes;
}

/** The PIXEL_FORMAT fields, as the library reads them. */
export type PixelFormatFields = PixelFormat;

/** What a typical server announces in ServerInit (TigerVNC: 32 bpp, depth 24, BGRX little-endian). */
export const SERVER_PIXEL_FORMAT: Readonly<PixelFormatFields> = {
  bitsPerPixel: 32,
  depth: 24,
  bigEndian: false,
  trueColour: true,
  redMax: 255,
  greenMax: 255,
  blueMax: 255,
  redShift: 16,
  greenShift: 8,
  blueShift: 0,
};

/** The 16-byte PIXEL_FORMAT structure (§7.4), 3 padding bytes included. */
export function pixelFormat(format: PixelFormatFields): Uint8Array {
  return concat(
    u8(format.bitsPerPixel),
    u8(format.depth),
    u8(format.bigEndian ? 1 : 0),
    u8(format.trueColour ? 1 : 0),
    u16(format.redMax),
    u16(format.greenMax),
    u16(format.blueMax),
    u8(format.redShift),
    u8(format.greenShift),
    u8(format.blueShift),
    padding(3),
  );
}

export interface ServerInitFields {
  width: number;
  height: number;
  name: string;
  pixelFormat?: PixelFormatFields;
  /** Overrides the name-length field (for malformed ServerInit messages). */
  nameLength?: number;
}

/** ServerInit: u16 width, u16 height, PIXEL_FORMAT, u32 name length, name (UTF-8). */
export function serverInit(fields: ServerInitFields): Uint8Array {
  const name = Buffer.from(fields.name, 'utf8');
  return concat(
    u16(fields.width),
    u16(fields.height),
    pixelFormat(fields.pixelFormat ?? SERVER_PIXEL_FORMAT),
    u32(fields.nameLength ?? name.length),
    name,
  );
}

// ---------------------------------------------------------------------------------------------
// VeNCrypt (security type 19, rfbproto "VeNCrypt")

/** The VeNCrypt sub-type numbers, from rfbproto. */
export const VENCRYPT = {
  None: 1,
  VncAuth: 2,
  Plain: 256,
  TLSNone: 257,
  TLSVnc: 258,
  TLSPlain: 259,
  X509None: 260,
  X509Vnc: 261,
  X509Plain: 262,
  TLSSASL: 263,
  X509SASL: 264,
} as const;

/** The server's VeNCrypt version: u8 major, u8 minor (0.2 today). */
export function vencryptVersion(major = 0, minor = 2): Uint8Array {
  return Uint8Array.of(major, minor);
}

/** The server's answer to the client's version: u8 0 = accepted; TigerVNC sends 0xFF to refuse. */
export function vencryptVersionStatus(accepted: boolean): Uint8Array {
  return u8(accepted ? 0 : 0xff);
}

/** The server's sub-type list: u8 count, then each sub-type as a u32. */
export function vencryptSubtypes(subtypes: readonly number[]): Uint8Array {
  return concat(u8(subtypes.length), ...subtypes.map((subtype) => u32(subtype)));
}

/** The server's answer to a TLS or X509 sub-type choice: u8 1 = accepted (the TLS handshake follows), 0 = refused. */
export function vencryptSubtypeStatus(accepted: boolean): Uint8Array {
  return u8(accepted ? 1 : 0);
}

/** What the client sends for Plain: u32 username length, u32 password length, username, password (UTF-8). */
export function plainCredentials(username: string, password: string): Uint8Array {
  const user = Buffer.from(username, 'utf8');
  const pass = Buffer.from(password, 'utf8');
  return concat(u32(user.length), u32(pass.length), user, pass);
}

// ---------------------------------------------------------------------------------------------
// Server-to-client messages (§7.6) and rectangles (§7.7)

export const ENCODING = {
  Raw: 0,
  CopyRect: 1,
  RRE: 2,
  Hextile: 5,
  Zlib: 6,
  Tight: 7,
  TightPNG: -260,
  /** TRLE: a real encoding this client does not decode. */
  TRLE: 15,
  ZRLE: 16,
  DesktopSize: -223,
  LastRect: -224,
  Cursor: -239,
  ExtendedDesktopSize: -308,
  DesktopName: -307,
  ExtendedClipboard: 0xc0a1e5ce | 0,
} as const;

/** A rectangle header: u16 x, y, width, height, s32 encoding. */
export function rectHeader(x: number, y: number, width: number, height: number, encoding: number): Uint8Array {
  return concat(u16(x), u16(y), u16(width), u16(height), s32(encoding));
}

/** A FramebufferUpdate holding `rects`; `count` overrides the rectangle count (0xFFFF with LastRect). */
export function framebufferUpdate(rects: readonly Uint8Array[], count: number = rects.length): Uint8Array {
  return concat(u8(0), padding(1), u16(count), ...rects);
}

/**
 * A Raw rectangle. `pixels` are R, G, B, X bytes per pixel, the layout of the pixel format the
 * client asks for (32 bpp little-endian, red shift 0), so they go on the wire unchanged.
 */
export function rawRect(x: number, y: number, width: number, height: number, pixels: Uint8Array): Uint8Array {
  if (pixels.length !== width * height * 4) throw new Error(`rawRect ${width}x${height} needs ${width * height * 4} bytes, got ${pixels.length}`);
  return concat(rectHeader(x, y, width, height, ENCODING.Raw), pixels);
}

export function copyRect(x: number, y: number, width: number, height: number, sourceX: number, sourceY: number): Uint8Array {
  return concat(rectHeader(x, y, width, height, ENCODING.CopyRect), u16(sourceX), u16(sourceY));
}

export function desktopSizeRect(width: number, height: number): Uint8Array {
  return rectHeader(0, 0, width, height, ENCODING.DesktopSize);
}

export interface ScreenFields {
  id: number;
  x: number;
  y: number;
  width: number;
  height: number;
  flags?: number;
}

/**
 * ExtendedDesktopSize: x = reason (0 server, 1 this client, 2 another client), y = status
 * (0 = success), then u8 screen count, 3 padding bytes and 16 bytes per screen.
 */
export function extendedDesktopSizeRect(
  width: number,
  height: number,
  options: { status?: number; reason?: number; screens?: readonly ScreenFields[] } = {},
): Uint8Array {
  const screens = options.screens ?? [{ id: 0, x: 0, y: 0, width, height }];
  return concat(
    rectHeader(options.reason ?? 0, options.status ?? 0, width, height, ENCODING.ExtendedDesktopSize),
    u8(screens.length),
    padding(3),
    ...screens.map((screen) => concat(u32(screen.id), u16(screen.x), u16(screen.y), u16(screen.width), u16(screen.height), u32(screen.flags ?? 0))),
  );
}

/** DesktopName: an empty rectangle header, then u32 length and the UTF-8 name. */
export function desktopNameRect(name: string): Uint8Array {
  const bytes = Buffer.from(name, 'utf8');
  return concat(rectHeader(0, 0, 0, 0, ENCODING.DesktopName), u32(bytes.length), bytes);
}

export function lastRect(): Uint8Array {
  return rectHeader(0, 0, 0, 0, ENCODING.LastRect);
}

/**
 * A Cursor pseudo-encoding rectangle: x, y = hotspot; then width × height pixels (RGBX, the
 * client's pixel format) and a 1-bit mask, rows padded to whole bytes, most significant bit first.
 */
export function cursorRect(hotX: number, hotY: number, width: number, height: number, pixels: Uint8Array, mask: Uint8Array): Uint8Array {
  if (pixels.length !== width * height * 4) throw new Error('cursorRect: wrong pixel byte count');
  if (mask.length !== Math.ceil(width / 8) * height) throw new Error('cursorRect: wrong mask byte count');
  return concat(rectHeader(hotX, hotY, width, height, ENCODING.Cursor), pixels, mask);
}

export function bell(): Uint8Array {
  return u8(2);
}

/** ServerCutText with Latin-1 text (characters above U+00FF are not representable). */
export function serverCutText(latin1: string): Uint8Array {
  const bytes = Buffer.from(latin1, 'latin1');
  return concat(u8(3), padding(3), u32(bytes.length), bytes);
}

/** A ServerCutText header announcing `length` bytes, without the bytes. */
export function serverCutTextHeader(length: number): Uint8Array {
  return concat(u8(3), padding(3), s32(length));
}

/** SetColourMapEntries: colours are 16-bit [red, green, blue]. */
export function setColourMapEntries(firstColour: number, colours: ReadonlyArray<readonly [number, number, number]>): Uint8Array {
  return concat(u8(1), padding(1), u16(firstColour), u16(colours.length), ...colours.map(([r, g, b]) => concat(u16(r), u16(g), u16(b))));
}

/** width × height RGBX pixels of one colour. */
export function solidPixels(width: number, height: number, [r, g, b]: readonly [number, number, number]): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < out.length; i += 4) {
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
  }
  return out;
}

/** width × height RGBX pixels, every one different (derived from its position and `salt`). */
export function patternPixels(width: number, height: number, salt = 0): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      out[i] = (x * 17 + salt) & 0xff;
      out[i + 1] = (y * 29 + salt * 3) & 0xff;
      out[i + 2] = (x * 7 + y * 13 + 101) & 0xff;
      out[i + 3] = 0x5a; // padding byte: the client must not show it as alpha
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// RRE (encoding 2) and Hextile (encoding 5), rfbproto "RRE Encoding" / "Hextile Encoding"

export type RGB = readonly [number, number, number];

/** One pixel on the wire in the client's format: R, G, B, then the padding byte (default 0). */
export function wirePixel([r, g, b]: RGB, padByte = 0): Uint8Array {
  return Uint8Array.of(r, g, b, padByte);
}

export interface RRESubrect {
  colour: RGB;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An RRE rectangle: u32 subrectangle count (`count` overrides it), background pixel, then per subrectangle a pixel and u16 x, y, width, height. */
export function rreRect(x: number, y: number, width: number, height: number, background: RGB, subrects: readonly RRESubrect[], options: { count?: number } = {}): Uint8Array {
  return concat(
    rectHeader(x, y, width, height, ENCODING.RRE),
    u32(options.count ?? subrects.length),
    wirePixel(background),
    ...subrects.map((s) => concat(wirePixel(s.colour), u16(s.x), u16(s.y), u16(s.width), u16(s.height))),
  );
}

/** A Hextile subrectangle inside its tile; `colour` only in tiles whose subrectangles are coloured. */
export interface HextileSubrect {
  x: number;
  y: number;
  width: number;
  height: number;
  colour?: RGB;
}

/**
 * One Hextile tile: `{ raw }` (the tile's RGBX pixels), or a background and/or foreground (each
 * left out to carry over from the previous tile) and subrectangles. `subrects` present sets
 * AnySubrects (even when empty); any subrectangle with a colour sets SubrectsColoured, and then all
 * need one. `mask` overrides the subencoding byte (for malformed tiles).
 */
export type HextileTile =
  | { raw: Uint8Array; mask?: number }
  | { background?: RGB; foreground?: RGB; subrects?: readonly HextileSubrect[]; mask?: number };

export const HEXTILE = { Raw: 1, BackgroundSpecified: 2, ForegroundSpecified: 4, AnySubrects: 8, SubrectsColoured: 16 } as const;

/** The bytes of one tile: subencoding mask, then what it announces. */
export function hextileTile(tile: HextileTile): Uint8Array {
  if ('raw' in tile) return concat(u8(tile.mask ?? HEXTILE.Raw), tile.raw);
  const subrects = tile.subrects;
  const coloured = subrects !== undefined && subrects.some((s) => s.colour !== undefined);
  if (coloured && subrects.some((s) => s.colour === undefined)) throw new Error('hextileTile: in a coloured tile every subrectangle needs a colour');
  for (const s of subrects ?? []) {
    if (s.x > 15 || s.y > 15 || s.width < 1 || s.width > 16 || s.height < 1 || s.height > 16) throw new Error(`hextileTile: subrectangle ${JSON.stringify(s)} does not fit the nibbles`);
  }
  if (subrects !== undefined && subrects.length > 255) throw new Error('hextileTile: at most 255 subrectangles');
  const mask =
    tile.mask ??
    (tile.background ? HEXTILE.BackgroundSpecified : 0) |
      (tile.foreground ? HEXTILE.ForegroundSpecified : 0) |
      (subrects !== undefined ? HEXTILE.AnySubrects : 0) |
      (coloured ? HEXTILE.SubrectsColoured : 0);
  return concat(
    u8(mask),
    tile.background ? wirePixel(tile.background) : new Uint8Array(0),
    tile.foreground ? wirePixel(tile.foreground) : new Uint8Array(0),
    subrects !== undefined ? u8(subrects.length) : new Uint8Array(0),
    ...(subrects ?? []).map((s) => concat(s.colour ? wirePixel(s.colour) : new Uint8Array(0), u8((s.x << 4) | s.y), u8(((s.width - 1) << 4) | (s.height - 1)))),
  );
}

/** A Hextile rectangle: its tiles in order, left to right, top to bottom (not checked against the size). */
export function hextileRect(x: number, y: number, width: number, height: number, tiles: readonly HextileTile[]): Uint8Array {
  return concat(rectHeader(x, y, width, height, ENCODING.Hextile), ...tiles.map(hextileTile));
}

// ---------------------------------------------------------------------------------------------
// Client-to-server messages, decoded (to check what the client wrote)

export type ClientMessage =
  | { type: 'SetPixelFormat'; format: PixelFormatFields }
  | { type: 'SetEncodings'; encodings: number[] }
  | { type: 'FramebufferUpdateRequest'; incremental: boolean; x: number; y: number; width: number; height: number }
  | { type: 'KeyEvent'; down: boolean; keysym: number }
  | { type: 'PointerEvent'; buttonMask: number; x: number; y: number }
  | { type: 'ClientCutText'; length: number; payload: Uint8Array };

/** Decodes a stream of client messages (after ClientInit). Throws on anything it cannot parse. */
export function parseClientMessages(bytes: Uint8Array): ClientMessage[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ClientMessage[] = [];
  let at = 0;
  const need = (n: number) => {
    if (at + n > b.length) throw new Error(`client message at offset ${at} is truncated (needs ${n} bytes, ${b.length - at} left)`);
  };
  while (at < b.length) {
    const type = b[at];
    switch (type) {
      case 0:
        need(20);
        out.push({
          type: 'SetPixelFormat',
          format: {
            bitsPerPixel: b[at + 4],
            depth: b[at + 5],
            bigEndian: b[at + 6] !== 0,
            trueColour: b[at + 7] !== 0,
            redMax: b.readUInt16BE(at + 8),
            greenMax: b.readUInt16BE(at + 10),
            blueMax: b.readUInt16BE(at + 12),
            redShift: b[at + 14],
            greenShift: b[at + 15],
            blueShift: b[at + 16],
          },
        });
        at += 20;
        break;
      case 2: {
        need(4);
        const count = b.readUInt16BE(at + 2);
        need(4 + 4 * count);
        const encodings: number[] = [];
        for (let i = 0; i < count; i++) encodings.push(b.readInt32BE(at + 4 + 4 * i));
        out.push({ type: 'SetEncodings', encodings });
        at += 4 + 4 * count;
        break;
      }
      case 3:
        need(10);
        out.push({
          type: 'FramebufferUpdateRequest',
          incremental: b[at + 1] !== 0,
          x: b.readUInt16BE(at + 2),
          y: b.readUInt16BE(at + 4),
          width: b.readUInt16BE(at + 6),
          height: b.readUInt16BE(at + 8),
        });
        at += 10;
        break;
      case 4:
        need(8);
        out.push({ type: 'KeyEvent', down: b[at + 1] !== 0, keysym: b.readUInt32BE(at + 4) });
        at += 8;
        break;
      case 5:
        need(6);
        out.push({ type: 'PointerEvent', buttonMask: b[at + 1], x: b.readUInt16BE(at + 2), y: b.readUInt16BE(at + 4) });
        at += 6;
        break;
      case 6: {
        need(8);
        const length = b.readInt32BE(at + 4);
        need(8 + Math.abs(length));
        out.push({ type: 'ClientCutText', length, payload: new Uint8Array(b.subarray(at + 8, at + 8 + Math.abs(length))) });
        at += 8 + Math.abs(length);
        break;
      }
      default:
        throw new Error(`unknown client message type ${type} at offset ${at}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fence and continuous updates (rfbproto "Fence" and "ContinuousUpdates" pseudo-encodings)

/** The pseudo-encodings a client advertises to take part. */
export const ENCODING_FENCE = -312;
export const ENCODING_CONTINUOUS_UPDATES = -313;

/** Fence flag bits: 0 BlockBefore, 1 BlockAfter, 2 SyncNext, 31 Request. */
export const FENCE = { BlockBefore: 1, BlockAfter: 2, SyncNext: 4, Request: 0x80000000 } as const;

/** ServerFence: u8 248, 3 padding bytes, u32 flags, u8 length (`length` overrides it), payload. */
export function serverFence(flags: number, payload: Uint8Array = new Uint8Array(0), options: { length?: number } = {}): Uint8Array {
  return concat(u8(248), padding(3), u32(flags), u8(options.length ?? payload.length), payload);
}

/** EndOfContinuousUpdates: the type byte 150 alone. */
export function endOfContinuousUpdates(): Uint8Array {
  return u8(150);
}

export type ExtendedClientMessage =
  | ClientMessage
  | { type: 'EnableContinuousUpdates'; enable: boolean; x: number; y: number; width: number; height: number }
  | { type: 'ClientFence'; flags: number; payload: Uint8Array };

/** Length of the RFC 6143 client message at `at` (as `parseClientMessages` reads it), or undefined when cut short. */
function standardClientMessageLength(b: Buffer, at: number): number | undefined {
  const left = b.length - at;
  switch (b[at]) {
    case 0:
      return 20;
    case 2:
      return left < 4 ? undefined : 4 + 4 * b.readUInt16BE(at + 2);
    case 3:
      return 10;
    case 4:
      return 8;
    case 5:
      return 6;
    case 6:
      return left < 8 ? undefined : 8 + Math.abs(b.readInt32BE(at + 4));
    default:
      throw new Error(`unknown client message type ${b[at]} at offset ${at}`);
  }
}

/**
 * Decodes a stream of client messages (after ClientInit) like `parseClientMessages`, and also
 * EnableContinuousUpdates (150: u8 enable, u16 x, y, width, height) and ClientFence (248: 3
 * padding bytes, u32 flags, u8 length, payload). Throws on anything it cannot parse.
 */
export function parseClientMessagesExtended(bytes: Uint8Array): ExtendedClientMessage[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ExtendedClientMessage[] = [];
  let at = 0;
  const need = (n: number) => {
    if (at + n > b.length) throw new Error(`client message at offset ${at} is truncated (needs ${n} bytes, ${b.length - at} left)`);
  };
  while (at < b.length) {
    const type = b[at];
    if (type === 150) {
      need(10);
      out.push({
        type: 'EnableContinuousUpdates',
        enable: b[at + 1] !== 0,
        x: b.readUInt16BE(at + 2),
        y: b.readUInt16BE(at + 4),
        width: b.readUInt16BE(at + 6),
        height: b.readUInt16BE(at + 8),
      });
      at += 10;
    } else if (type === 248) {
      need(9);
      const length = b[at + 8];
      need(9 + length);
      out.push({ type: 'ClientFence', flags: b.readUInt32BE(at + 4), payload: new Uint8Array(b.subarray(at + 9, at + 9 + length)) });
      at += 9 + length;
    } else {
      const length = standardClientMessageLength(b, at);
      if (length === undefined) throw new Error(`client message at offset ${at} is truncated`);
      need(length);
      out.push(...parseClientMessages(b.subarray(at, at + length)));
      at += length;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness and chunkings

/** mulberry32: a small, fast PRNG; the same seed gives the same sequence everywhere. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max] from `random`. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Cuts `bytes` into pieces of the given sizes, cycling through them; the last piece takes the rest. */
export function splitBySizes(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  if (sizes.length === 0 || sizes.some((size) => !(size > 0))) throw new Error('chunk sizes must be positive');
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    out.push(bytes.subarray(at, Math.min(bytes.length, at + size)));
    at += size;
  }
  return out;
}

/** Random pieces of 1..maxPiece bytes, and now and then an empty chunk (a transport may deliver one). */
export function randomSplit(bytes: Uint8Array, seed: number, maxPiece = 48): Uint8Array[] {
  const random = prng(seed);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (random() < 0.03) out.push(new Uint8Array(0));
    // Mostly short pieces (which split fields), sometimes long ones (which join messages).
    const size = random() < 0.8 ? randomInt(random, 1, 8) : randomInt(random, 1, maxPiece);
    out.push(bytes.subarray(at, Math.min(bytes.length, at + size)));
    at += size;
  }
  return out;
}

export type Chunking = 'whole' | 'bytewise' | 'random' | readonly number[];

/**
 * A seeded chunking for whole recorded sessions (megabytes): mostly pieces of up to 64 bytes, which
 * cut tiles and subrectangles everywhere, now and then one of up to 20,000.
 */
export function recordingChunks(bytes: Uint8Array, seed: number): Uint8Array[] {
  const random = prng(seed);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = random() < 0.7 ? randomInt(random, 1, 64) : randomInt(random, 1, 20_000);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Cuts `bytes` the way `chunking` says ('random' uses `seed`). */
export function split(bytes: Uint8Array, chunking: Chunking, seed = 1): Uint8Array[] {
  if (bytes.length === 0) return [];
  if (chunking === 'whole') return [bytes];
  if (chunking === 'bytewise') return splitBySizes(bytes, [1]);
  if (chunking === 'random') return randomSplit(bytes, seed);
  return splitBySizes(bytes, chunking);
}

export interface NamedChunking {
  name: string;
  chunks: Uint8Array[];
}

export interface ChunkingsOptions {
  /** Every two-piece split is listed when the stream is at most this long (default 160). */
  maxSplitLength?: number;
  /** How many seeded random chunkings (default 8). */
  random?: number;
  seed?: number;
}

/**
 * The ways `bytes` may arrive: whole; byte by byte; for short streams split in two at every
 * point (the "split in the middle / at the end / at the beginning" family); then `random` seeded
 * random chunkings. Every chunking concatenates back to `bytes`.
 */
export function* chunkings(bytes: Uint8Array, options: ChunkingsOptions = {}): Generator<NamedChunking> {
  const { maxSplitLength = 160, random = 8, seed = 0x5eed } = options;
  yield { name: 'whole', chunks: [bytes] };
  if (bytes.length > 1) yield { name: 'byte by byte', chunks: splitBySizes(bytes, [1]) };
  if (bytes.length <= maxSplitLength) {
    for (let at = 1; at < bytes.length; at++) yield { name: `split at ${at}/${bytes.length}`, chunks: [bytes.subarray(0, at), bytes.subarray(at)] };
  }
  for (let i = 0; i < random; i++) {
    const runSeed = seed + i * 7919;
    yield { name: `random (seed ${runSeed})`, chunks: randomSplit(bytes, runSeed) };
  }
}

// ---------------------------------------------------------------------------------------------
// FakeTransport

/**
 * A Transport whose server is the test: `deliver()` pushes server bytes in any chunking,
 * `written` records every write of the client, `serverClose()` simulates the server (or the
 * network) ending the connection. Delivery is synchronous, like a socket's data events that all
 * arrived in one read; bytes delivered before `start()` are kept and delivered first.
 */
export class FakeTransport implements Transport {
  readonly remote: string;
  /** Every write, in order, copied. */
  readonly written: Uint8Array[] = [];
  /** Chunks handed to the client so far. */
  deliveredChunks = 0;
  destroyed = false;
  closedByClient = false;
  /** The error closed() was called with, once it was called. */
  closedWith: { error: Error | undefined } | undefined;

  private events: TransportEvents | undefined;
  private readonly early: Uint8Array[] = [];
  private earlyClose: { error: Error | undefined } | undefined;

  constructor(remote = 'fake-server:5900') {
    this.remote = remote;
  }

  /** All bytes the client wrote, as one buffer. */
  get writtenBytes(): Uint8Array {
    return concat(...this.written);
  }

  get isOpen(): boolean {
    return !this.destroyed && !this.closedByClient && this.closedWith === undefined;
  }

  start(events: TransportEvents): void {
    if (this.events) throw new Error('FakeTransport.start called twice');
    this.events = events;
    for (const chunk of this.early.splice(0)) this.hand(chunk);
    if (this.earlyClose) this.signalClosed(this.earlyClose.error);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(new VNCConnectionError(`Cannot send to ${this.remote}: the connection is closed.`, { code: 'ECLOSED' }));
    this.written.push(new Uint8Array(bytes));
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.closedWith) return Promise.resolve();
    this.closedByClient = true;
    this.signalClosed(undefined);
    return Promise.resolve();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    // A socket reports its close after destroy(), asynchronously, without an error.
    queueMicrotask(() => this.signalClosed(undefined));
  }

  /**
   * Delivers server bytes cut as `chunking` says. Chunks after the transport was destroyed are
   * dropped, as a destroyed socket delivers nothing more.
   */
  deliver(bytes: Uint8Array, chunking: Chunking = 'whole', seed = 1): void {
    this.deliverChunks(split(bytes, chunking, seed));
  }

  deliverChunks(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      if (this.destroyed || this.closedWith) return;
      // The receiver owns the chunk: hand it a copy so it may keep or modify it.
      const copy = new Uint8Array(chunk);
      if (this.events) this.hand(copy);
      else this.early.push(copy);
    }
  }

  /** The server or the network ends the connection (`error` for a failure, e.g. a reset). */
  serverClose(error?: Error): void {
    if (!this.events) {
      this.earlyClose = { error };
      return;
    }
    this.signalClosed(error);
  }

  private hand(chunk: Uint8Array): void {
    this.deliveredChunks++;
    this.events!.data(chunk);
  }

  private signalClosed(error: Error | undefined): void {
    if (this.closedWith) return;
    this.closedWith = { error };
    this.events?.closed(error);
  }
}
