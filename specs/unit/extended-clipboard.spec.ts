import { constants as zlibConstants, createDeflate, deflateSync, inflateSync } from 'node:zlib';

import { expect, test } from '@playwright/test';

import { VNCInputError, VNCProtocolError } from '../../src/errors.js';
import { Encoding } from '../../src/rfb/constants.js';
import {
  CLIPBOARD_ACTION_MASK,
  ClipboardAction,
  ClipboardFormat,
  MAX_CLIPBOARD_BYTES,
  checkExtendedClipboardLength,
  clientCaps,
  clientCutTextLatin1,
  clientNotify,
  clientPeek,
  clientProvideText,
  clientRequest,
  decodeLatin1,
  parseExtendedClipboard,
} from '../../src/rfb/extended-clipboard.js';

// ---------------------------------------------------------------------------------------------
// Stand-in server: builds ServerCutText messages (type 3) with the extended layout, written here
// independently of the module under test so the two can check each other.

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

/** A complete extended ServerCutText: type 3, 3 padding bytes, s32 -(payload length), payload. */
function serverExtended(payload: Uint8Array): Uint8Array {
  const header = Buffer.alloc(8);
  header.writeUInt8(3, 0);
  header.writeInt32BE(-payload.length, 4);
  return new Uint8Array(Buffer.concat([header, payload]));
}

/** The |length| bytes after the 8-byte header of an extended cut-text message (either direction). */
function payloadOf(message: Uint8Array): Uint8Array {
  const length = Buffer.from(message.buffer, message.byteOffset, message.byteLength).readInt32BE(4);
  expect(length, 'extended messages carry a negative length').toBeLessThan(0);
  expect(message.length).toBe(8 - length);
  return message.subarray(8);
}

function serverFlagsOnly(flags: number): Uint8Array {
  return serverExtended(u32(flags));
}

/**
 * A server *provide*: flags, then one zlib stream with (u32 size, data) per format, lowest bit first.
 * `syncFlush` ends the stream the way TigerVNC does (sync flush, no final block).
 */
function serverProvide(items: Array<[format: number, data: Uint8Array]>, opts: { syncFlush?: boolean } = {}): Uint8Array {
  const sorted = [...items].sort((a, b) => a[0] - b[0]);
  const flags = sorted.reduce((f, [format]) => f | format, ClipboardAction.Provide);
  const plain = Buffer.concat(sorted.flatMap(([, data]) => [u32(data.length), Buffer.from(data)]));
  const compressed = opts.syncFlush ? deflateSync(plain, { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : deflateSync(plain);
  return serverExtended(Buffer.concat([u32(flags), compressed]));
}

/** Server-side text encoding per rfbproto: UTF-8, CRLF line ends, NUL terminated. */
function serverText(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(`${text.replace(/\n/g, '\r\n')}\0`, 'utf8'));
}

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to throw');
}

function expectProtocolError(fn: () => unknown, ...parts: string[]): void {
  const err = catchError(fn);
  expect(err).toBeInstanceOf(VNCProtocolError);
  expect(err.name).toBe('VNCProtocolError');
  expect((err as VNCProtocolError).code).toBe('EPROTOCOL');
  expect(err.message).toContain('Extended Clipboard');
  for (const part of parts) expect(err.message).toContain(part);
}

function expectInputError(fn: () => unknown, ...parts: string[]): VNCInputError {
  const err = catchError(fn);
  expect(err).toBeInstanceOf(VNCInputError);
  expect(err.name).toBe('VNCInputError');
  expect((err as VNCInputError).code).toBe('EINPUT');
  for (const part of parts) expect(err.message).toContain(part);
  return err as VNCInputError;
}

/** zlib stream of a u32 size followed by `total` zero bytes, built in 1 MiB steps so the test never holds it inflated. */
async function zlibBomb(total: number): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  deflate.write(u32(total));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < total; written += zeros.length) {
    if (!deflate.write(zeros)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------

test.describe('Extended Clipboard constants', () => {
  test('pseudo-encoding is 0xC0A1E5CE as a signed 32-bit int, flags match rfbproto', () => {
    expect(Encoding.ExtendedClipboard).toBe(-1063131698);
    expect(Encoding.ExtendedClipboard >>> 0).toBe(0xc0a1e5ce);
    expect([ClipboardFormat.Text, ClipboardFormat.Rtf, ClipboardFormat.Html, ClipboardFormat.Dib, ClipboardFormat.Files]).toEqual([
      1, 2, 4, 8, 16,
    ]);
    expect([ClipboardAction.Caps, ClipboardAction.Request, ClipboardAction.Peek, ClipboardAction.Notify, ClipboardAction.Provide]).toEqual([
      0x01000000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
    ]);
    expect(CLIPBOARD_ACTION_MASK).toBe(0xff000000);
    expect(MAX_CLIPBOARD_BYTES).toBe(16 * 1024 * 1024);
  });
});

test.describe('Extended Clipboard client builders (exact bytes)', () => {
  const allActions = ClipboardAction.Request | ClipboardAction.Peek | ClipboardAction.Notify | ClipboardAction.Provide;

  test('caps with text only', () => {
    const msg = clientCaps(ClipboardFormat.Text, allActions, new Map([[ClipboardFormat.Text, 0x00100000]]));
    // type 6, padding, length -8, flags caps|request|peek|notify|provide|text, size of text 1 MiB
    expect(hex(msg)).toBe('06000000' + 'fffffff8' + '1f000001' + '00100000');
  });

  test('caps with text and html: sizes in bit order, missing size is 0', () => {
    const msg = clientCaps(ClipboardFormat.Html | ClipboardFormat.Text, allActions, new Map([[ClipboardFormat.Text, 0x1234]]));
    expect(hex(msg)).toBe('06000000' + 'fffffff4' + '1f000005' + '00001234' + '00000000');
  });

  test('caps sizes come out in bit order even when the Map is not', () => {
    const sizes = new Map([
      [ClipboardFormat.Html, 7],
      [ClipboardFormat.Text, 9],
    ]);
    const msg = clientCaps(ClipboardFormat.Text | ClipboardFormat.Html, ClipboardAction.Provide, sizes);
    expect(hex(msg)).toBe('06000000' + 'fffffff4' + '11000005' + '00000009' + '00000007');
  });

  test('request, notify, peek', () => {
    expect(hex(clientRequest(ClipboardFormat.Text))).toBe('06000000fffffffc02000001');
    expect(hex(clientNotify(ClipboardFormat.Text | ClipboardFormat.Rtf))).toBe('06000000fffffffc08000003');
    expect(hex(clientNotify(0))).toBe('06000000fffffffc08000000');
    expect(hex(clientPeek())).toBe('06000000fffffffc04000000');
  });

  test('builders refuse bad caller input with VNCInputError', () => {
    expectInputError(() => clientRequest(0), 'at least one format');
    expectInputError(() => clientRequest(1 << 16), 'format bits 0-15');
    expectInputError(() => clientNotify(-1), 'format bits 0-15');
    expectInputError(() => clientCaps(ClipboardFormat.Text, ClipboardFormat.Html), 'action bits');
    // bit index 0 instead of the bit ClipboardFormat.Text
    expectInputError(() => clientCaps(ClipboardFormat.Text, 0, new Map([[0, 10]])), 'maxSizes key 0');
    expectInputError(() => clientCaps(ClipboardFormat.Text, 0, new Map([[ClipboardFormat.Html, 10]])), 'maxSizes key 4');
    expectInputError(() => clientCaps(ClipboardFormat.Text, 0, new Map([[ClipboardFormat.Text, -1]])), 'maximum size for text');
  });

  test('provide text: flags, length and the inflated content are exactly as specified', () => {
    const msg = clientProvideText('a\nb');
    expect(hex(msg.subarray(0, 4))).toBe('06000000');
    const payload = payloadOf(msg);
    expect(hex(payload.subarray(0, 4))).toBe('10000001');
    // size 5, "a" CR LF "b" NUL
    expect(hex(inflateSync(payload.subarray(4)))).toBe('00000005' + '610d0a6200');
  });

  test('provide text does not double CRLF that is already there', () => {
    const payload = payloadOf(clientProvideText('x\r\ny\n'));
    expect(hex(inflateSync(payload.subarray(4)))).toBe('00000007' + '780d0a790d0a00');
  });

  test('provide text: a lone CR and a lone LF both become CRLF, in any mix', () => {
    const payload = payloadOf(clientProvideText('a\rb\nc\r\nd\r\re\n\r'));
    // a CRLF b CRLF c CRLF d CRLF CRLF e CRLF CRLF NUL (\n\r is two line ends: LF, then CR)
    expect(hex(inflateSync(payload.subarray(4)))).toBe('00000014' + '610d0a620d0a630d0a640d0a0d0a650d0a0d0a00');
  });

  test('provide text over the limit is refused', () => {
    expectInputError(() => clientProvideText('x'.repeat(MAX_CLIPBOARD_BYTES)), 'larger than', `${MAX_CLIPBOARD_BYTES}-byte limit`);
    expectInputError(() => clientProvideText('12345', { maxBytes: 5 }), '6 bytes');
    expect(() => clientProvideText('1234', { maxBytes: 5 })).not.toThrow();
  });
});

test.describe('Extended Clipboard parser', () => {
  test('caps from a server: formats, actions and per-format sizes', () => {
    const msg = serverExtended(
      Buffer.concat([u32(0x1f000000 | ClipboardFormat.Text | ClipboardFormat.Html | ClipboardFormat.Dib), u32(20 << 20), u32(2 << 20), u32(0)]),
    );
    const parsed = parseExtendedClipboard(payloadOf(msg));
    expect(parsed).toEqual({
      kind: 'caps',
      formats: 0x0d,
      actions: 0x1f000000,
      maxSizes: new Map([
        [ClipboardFormat.Text, 20 << 20],
        [ClipboardFormat.Html, 2 << 20],
        [ClipboardFormat.Dib, 0],
      ]),
    });
  });

  test('caps with reserved action bit 31 set reports actions unsigned', () => {
    const parsed = parseExtendedClipboard(payloadOf(serverExtended(Buffer.concat([u32(0x81000001), u32(5)]))));
    expect(parsed.kind).toBe('caps');
    if (parsed.kind === 'caps') expect(parsed.actions).toBe(0x81000000);
  });

  test('client caps round-trips through the parser', () => {
    const sizes = new Map([
      [ClipboardFormat.Text, 1000],
      [ClipboardFormat.Rtf, 0],
    ]);
    const parsed = parseExtendedClipboard(payloadOf(clientCaps(ClipboardFormat.Text | ClipboardFormat.Rtf, ClipboardAction.Notify, sizes)));
    expect(parsed).toEqual({ kind: 'caps', formats: 3, actions: ClipboardAction.Caps | ClipboardAction.Notify, maxSizes: sizes });
  });

  test('request, peek, notify', () => {
    expect(parseExtendedClipboard(payloadOf(serverFlagsOnly(0x02000001)))).toEqual({ kind: 'request', formats: 1 });
    expect(parseExtendedClipboard(payloadOf(serverFlagsOnly(0x04000000)))).toEqual({ kind: 'peek' });
    expect(parseExtendedClipboard(payloadOf(serverFlagsOnly(0x08000005)))).toEqual({ kind: 'notify', formats: 5 });
    expect(parseExtendedClipboard(payloadOf(serverFlagsOnly(0x08000000)))).toEqual({ kind: 'notify', formats: 0 });
  });

  test('payload may be a view into a larger buffer', () => {
    const big = new Uint8Array(64);
    big.set(u32(0x08000001), 13);
    expect(parseExtendedClipboard(big.subarray(13, 17))).toEqual({ kind: 'notify', formats: 1 });
  });

  test('provide round-trip with Unicode, CRLF normalised, NUL removed', () => {
    const text = 'Grüße 😀 — 漢字\nline2';
    const wire = serverText(text);
    expect(hex(wire)).toContain('0d0a'); // the stand-in really sends CRLF
    expect(wire[wire.length - 1]).toBe(0);
    expect(parseExtendedClipboard(payloadOf(serverProvide([[ClipboardFormat.Text, wire]])))).toEqual({ kind: 'provide', text });
  });

  test('provide from our own builder parses back (client round-trip)', () => {
    const text = 'Grüße 😀 — 漢字\nline2\n\nend';
    expect(parseExtendedClipboard(payloadOf(clientProvideText(text)))).toEqual({ kind: 'provide', text });
  });

  test('provide ended with a sync flush (as TigerVNC sends it) parses', () => {
    const msg = serverProvide([[ClipboardFormat.Text, serverText('sync\nflushed')]], { syncFlush: true });
    expect(parseExtendedClipboard(payloadOf(msg))).toEqual({ kind: 'provide', text: 'sync\nflushed' });
  });

  test('provide with several formats: text (bit 0) comes first, rtf and html after it are skipped', () => {
    const html = new Uint8Array(Buffer.from('<b>x</b>'));
    const rtf = new Uint8Array(Buffer.from('{\\rtf1 x}'));
    const msg = serverProvide([
      [ClipboardFormat.Html, html],
      [ClipboardFormat.Text, serverText('a\nb')],
      [ClipboardFormat.Rtf, rtf],
    ]);
    expect(parseExtendedClipboard(payloadOf(msg))).toEqual({ kind: 'provide', text: 'a\nb' });
  });

  test('provide without text, and provide with no formats at all', () => {
    const onlyHtml = serverProvide([[ClipboardFormat.Html, new Uint8Array(Buffer.from('<p>'))]]);
    expect(parseExtendedClipboard(payloadOf(onlyHtml))).toEqual({ kind: 'provide' });
    expect(parseExtendedClipboard(payloadOf(serverFlagsOnly(ClipboardAction.Provide)))).toEqual({ kind: 'provide' });
  });

  test('text edge cases: no NUL, several NULs, bare LF, invalid UTF-8', () => {
    const parse = (bytes: Uint8Array) => parseExtendedClipboard(payloadOf(serverProvide([[ClipboardFormat.Text, bytes]])));
    expect(parse(new Uint8Array(Buffer.from('no nul')))).toEqual({ kind: 'provide', text: 'no nul' });
    expect(parse(new Uint8Array(Buffer.from('two\0\0')))).toEqual({ kind: 'provide', text: 'two' });
    expect(parse(new Uint8Array(Buffer.from('a\nb\r\nc\0')))).toEqual({ kind: 'provide', text: 'a\nb\nc' });
    expect(parse(new Uint8Array([0x61, 0xff, 0x62, 0]))).toEqual({ kind: 'provide', text: 'a\ufffdb' });
    expect(parse(new Uint8Array([0]))).toEqual({ kind: 'provide', text: '' });
  });
});

test.describe('Extended Clipboard malformed input', () => {
  test('shorter than the flags word', () => {
    expectProtocolError(() => parseExtendedClipboard(new Uint8Array(0)), 'too short', '0 bytes');
    expectProtocolError(() => parseExtendedClipboard(new Uint8Array([0x08, 0, 0])), 'too short', '3 bytes');
  });

  test('caps without (enough) sizes', () => {
    expectProtocolError(() => parseExtendedClipboard(u32(0x1f000001)), 'caps', 'needs 8 bytes', 'has 4');
    expectProtocolError(() => parseExtendedClipboard(Buffer.concat([u32(0x1f000003), u32(10)])), 'caps', '2 format(s)', 'has 8');
  });

  test('no action, two actions, unknown action', () => {
    expectProtocolError(() => parseExtendedClipboard(u32(0x00000001)), 'without an action', '0x00000001');
    expectProtocolError(() => parseExtendedClipboard(u32(0x0a000001)), 'more than one action', '0x0a000001');
    expectProtocolError(() => parseExtendedClipboard(u32(0x20000001)), 'unknown action bit 29');
  });

  test('provide with bad zlib', () => {
    const payload = Buffer.concat([u32(0x10000001), Buffer.from('this is not zlib')]);
    expectProtocolError(() => parseExtendedClipboard(payload), 'provide', 'not a valid zlib stream');
  });

  test('provide whose stream is empty', () => {
    expectProtocolError(() => parseExtendedClipboard(u32(0x10000001)), 'ends before the size of the text format');
  });

  test('provide declaring a size beyond the data', () => {
    const compressed = deflateSync(Buffer.concat([u32(100), Buffer.from('short\0')]));
    const payload = Buffer.concat([u32(0x10000001), compressed]);
    expectProtocolError(() => parseExtendedClipboard(payload), 'declares 100 bytes of text', 'only 6 remain');
  });

  test('provide listing two formats but carrying one', () => {
    const compressed = deflateSync(Buffer.concat([u32(2), Buffer.from('a\0')]));
    const payload = Buffer.concat([u32(0x10000005), compressed]);
    expectProtocolError(() => parseExtendedClipboard(payload), 'ends before the size of the html format');
  });

  test('truncated zlib stream is caught by the size check', () => {
    const full = deflateSync(Buffer.concat([u32(40), Buffer.from('0123456789'.repeat(4))]));
    const payload = Buffer.concat([u32(0x10000001), full.subarray(0, full.length - 10)]);
    expectProtocolError(() => parseExtendedClipboard(payload), 'declares 40 bytes of text');
  });

  test('declared payload length over the limit', () => {
    expectProtocolError(() => checkExtendedClipboardLength(MAX_CLIPBOARD_BYTES + 1), `${MAX_CLIPBOARD_BYTES + 1}-byte message`, 'limit');
    expectProtocolError(() => checkExtendedClipboardLength(3), 'too short');
    expect(checkExtendedClipboardLength(MAX_CLIPBOARD_BYTES)).toBe(MAX_CLIPBOARD_BYTES);
    expectProtocolError(() => parseExtendedClipboard(new Uint8Array(101), { maxBytes: 100 }), '101-byte message', '100-byte limit');
  });

  test('provide declaring a size over the limit (without the data to back it)', () => {
    const compressed = deflateSync(Buffer.concat([u32(MAX_CLIPBOARD_BYTES + 1), Buffer.from('x')]));
    const payload = Buffer.concat([u32(0x10000001), compressed]);
    expectProtocolError(() => parseExtendedClipboard(payload), `declares ${MAX_CLIPBOARD_BYTES + 1} bytes of text`, 'limit');
  });

  test('provide inflating past a small limit', () => {
    const compressed = deflateSync(Buffer.concat([u32(1000), Buffer.alloc(1000, 0x61)]));
    const payload = Buffer.concat([u32(0x10000001), compressed]);
    expect(payload.length).toBeLessThan(100);
    expectProtocolError(() => parseExtendedClipboard(payload, { maxBytes: 100 }), 'inflates to more than the 100-byte limit');
  });

  test('zlib bomb (100 MB of zeros) is refused without being inflated', async () => {
    const bomb = await zlibBomb(100 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(MAX_CLIPBOARD_BYTES / 16); // small on the wire, huge inflated
    const payload = Buffer.concat([u32(0x10000001), bomb]);

    // Peak resident memory: inflating the whole bomb would touch 100 MB and raise it by that much.
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const started = Date.now();
    expectProtocolError(() => parseExtendedClipboard(payload), 'inflates to more than', `${MAX_CLIPBOARD_BYTES}-byte limit`);
    const peakGrowth = process.resourceUsage().maxRSS * 1024 - peakBefore;
    expect(peakGrowth).toBeLessThan(60 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

test.describe('legacy Latin-1 cut text', () => {
  test('ClientCutText with Latin-1 bytes, including é', () => {
    // type 6, padding, u32 length 4, "caf" é(0xe9)
    expect(hex(clientCutTextLatin1('café'))).toBe('06000000' + '00000004' + '636166e9');
    expect(hex(clientCutTextLatin1(''))).toBe('0600000000000000');
    expect(hex(clientCutTextLatin1('ÿ\u0080'))).toBe('06000000' + '00000002' + 'ff80');
  });

  test('CRLF becomes LF as RFC 6143 asks', () => {
    expect(hex(clientCutTextLatin1('a\r\nb\nc'))).toBe('06000000' + '00000005' + '610a620a63');
  });

  test('€ cannot be sent: VNCInputError names the character, its index and the reason', () => {
    const err = expectInputError(() => clientCutTextLatin1('abc€ and €'), '"€"', 'U+20AC', 'index 3', 'Extended Clipboard', 'Latin-1');
    expect(err.message).toContain('does not support Extended Clipboard (UTF-8)');
  });

  test('characters outside the BMP are named whole, at their index in the caller\'s text', () => {
    expectInputError(() => clientCutTextLatin1('a\r\nb😀'), '"😀"', 'U+1F600', 'index 4');
  });

  test('decodeLatin1 maps each byte to the same code point (ISO 8859-1, not windows-1252)', () => {
    expect(decodeLatin1(unhex('636166e9'))).toBe('café');
    expect(decodeLatin1(new Uint8Array([0x80, 0x9f, 0xa4, 0xff]))).toBe('\u0080\u009f\u00a4\u00ff');
    const all = new Uint8Array(256).map((_, i) => i);
    const decoded = decodeLatin1(all);
    expect([...decoded].map((c) => c.charCodeAt(0))).toEqual([...all]);
    const long = new Uint8Array(100_000).fill(0x41);
    expect(decodeLatin1(long)).toBe('A'.repeat(100_000));
  });

  test('Latin-1 encode and decode round-trip', () => {
    const text = 'Grüße, señor — no: Gr\u00fc\u00dfe, se\u00f1or ½ ×';
    const ascii = text.replace('—', '-');
    expect(decodeLatin1(clientCutTextLatin1(ascii).subarray(8))).toBe(ascii);
  });
});
