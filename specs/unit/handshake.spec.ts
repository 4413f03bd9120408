/**
 * The opening of a session (RFC 6143 §7.1–7.3) through RFBClient.start over a FakeTransport: what
 * the client answers to each server, what it learns, and how it fails. Every scenario is replayed
 * in every chunking from `chunkings()` (whole, byte by byte, every two-piece split, seeded random
 * chunkings) and must end the same way each time.
 */
import { expect, test } from '@playwright/test';

import { VNCAuthenticationError, VNCConfigError, VNCConnectionError, VNCError, VNCProtocolError, VNCTimeoutError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { RFBClient } from '../../src/rfb/client.js';
import { Handshake } from '../../src/rfb/handshake.js';
import {
  type ClientMessage,
  ENCODING,
  ENCODING_CONTINUOUS_UPDATES,
  ENCODING_FENCE,
  FakeTransport,
  SERVER_PIXEL_FORMAT,
  type ServerInitFields,
  ascii,
  banner,
  bell,
  challenge,
  chunkings,
  concat,
  framebufferUpdate,
  hex,
  parseClientMessages,
  patternPixels,
  rawRect,
  securityResult,
  securityTypes,
  securityTypes33,
  serverCutText,
  serverInit,
  u16,
  u32,
} from '../support/rfb-bytes.js';
import { expectNoSecret, expectStartFailure } from '../support/start-outcome.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

const WIDTH = 8;
const HEIGHT = 4;
const NAME = 'test desktop';
const INIT: ServerInitFields = { width: WIDTH, height: HEIGHT, name: NAME };
const FIRST_FRAME = framebufferUpdate([rawRect(0, 0, WIDTH, HEIGHT, patternPixels(WIDTH, HEIGHT))]);

/** The known answer: DES of the challenge keyed by "secret12" with each key byte's bits reversed. */
const KAT = {
  password: 'secret12',
  challenge: challenge('00112233445566778899aabbccddeeff'),
  response: '817402416b165d7ade9c46b5faa42370',
};

/** Every password used in this file: none may appear in an error message. */
const PASSWORDS = ['secret12', 'secret12-and-more', 'hunter2-xyzzy', 'pässwörd☃'];

/** The common failure checks, with this spec's passwords as the secrets that must not leak. */
function expectError(outcome: Outcome, errorClass: new (...args: never[]) => VNCError, code: string, ...fragments: Array<string | RegExp>): VNCError {
  return expectStartFailure(outcome, PASSWORDS, errorClass, code, ...fragments);
}

function expectNoPassword(error: unknown): void {
  expectNoSecret(error, PASSWORDS);
}

const VERSION_REPLY = {
  '3.3': 'RFB 003.003\n',
  '3.7': 'RFB 003.007\n',
  '3.8': 'RFB 003.008\n',
} as const;
type Negotiated = keyof typeof VERSION_REPLY;

/** The encodings a client that decodes only Raw and CopyRect may advertise, and must. */
/**
 * Every encoding the client decodes, best first, then the pseudo-encodings (lossless: no JPEG
 * quality level); Fence and ContinuousUpdates are offered too, and ignored by servers without them.
 */
const EXPECTED_ENCODINGS = [
  ENCODING.CopyRect,
  ENCODING.Tight,
  ENCODING.TightPNG,
  ENCODING.ZRLE,
  ENCODING.Hextile,
  ENCODING.Zlib,
  ENCODING.RRE,
  ENCODING.Raw,
  ENCODING.Cursor,
  ENCODING.DesktopSize,
  ENCODING.ExtendedDesktopSize,
  ENCODING.LastRect,
  ENCODING.ExtendedClipboard,
  ENCODING.DesktopName,
  ENCODING_FENCE,
  ENCODING_CONTINUOUS_UPDATES,
];

/** The security part of a server's stream for a negotiated version. */
function securityNone(version: Negotiated): Uint8Array {
  if (version === '3.3') return securityTypes33(1);
  if (version === '3.7') return securityTypes([1]);
  return concat(securityTypes([1]), securityResult(0));
}

function securityVncAuth(version: Negotiated, result: Uint8Array = securityResult(0)): Uint8Array {
  return concat(version === '3.3' ? securityTypes33(2) : securityTypes([2]), KAT.challenge, result);
}

// ---------------------------------------------------------------------------------------------
// Running a scenario

interface StartOptions {
  password?: string;
  shared?: boolean;
  timeoutMs?: number;
}

interface Outcome {
  transport: FakeTransport;
  client?: RFBClient;
  error?: unknown;
  /** An exception that escaped the transport's data callback (never acceptable). */
  escaped?: unknown;
  elapsedMs: number;
}

/** Starts a client, delivers `chunks` (then closes from the server side if asked), and waits for the result. */
async function startWith(chunks: readonly Uint8Array[], options: StartOptions = {}, then?: (transport: FakeTransport) => void): Promise<Outcome> {
  const transport = new FakeTransport();
  const began = Date.now();
  const starting = RFBClient.start(transport, {
    credentials: options.password === undefined ? {} : { password: options.password },
    ...(options.shared === undefined ? {} : { shared: options.shared }),
    timeoutMs: options.timeoutMs ?? 2000,
  });
  let escaped: unknown;
  try {
    transport.deliverChunks(chunks);
    then?.(transport);
  } catch (error) {
    escaped = error;
  }
  try {
    const client = await starting;
    return { transport, client, escaped, elapsedMs: Date.now() - began };
  } catch (error) {
    return { transport, error, escaped, elapsedMs: Date.now() - began };
  }
}

/**
 * What must not depend on the chunking, as a comparable value. `withMessage: false` leaves the
 * error message out (for errors that quote however many bytes had arrived).
 */
function summary(outcome: Outcome, withMessage = true): unknown {
  const error = outcome.error;
  return {
    written: hex(outcome.transport.writtenBytes),
    info: outcome.client?.info,
    updateCount: outcome.client?.updateCount,
    clipboard: outcome.client?.clipboardText,
    error:
      error instanceof Error
        ? { class: error.constructor.name, name: error.name, code: (error as VNCError).code, ...(withMessage ? { message: error.message } : {}) }
        : error,
  };
}



interface ExpectedWrites {
  version: Negotiated;
  /** The security type byte the client chooses (not sent on 3.3). */
  chosen?: number;
  /** The VNC Authentication response, hex. */
  response?: string;
  /** ClientInit's shared flag; omitted when the handshake fails before ClientInit. */
  shared?: 0 | 1;
}

/** The handshake bytes the client writes, up to and including ClientInit. */
function handshakeWrites(expected: ExpectedWrites): string {
  const parts: Uint8Array[] = [ascii(VERSION_REPLY[expected.version])];
  if (expected.chosen !== undefined) parts.push(Uint8Array.of(expected.chosen));
  if (expected.response !== undefined) parts.push(Buffer.from(expected.response, 'hex'));
  if (expected.shared !== undefined) parts.push(Uint8Array.of(expected.shared));
  return hex(concat(...parts));
}

/** The messages a client sends after ClientInit: pixel format, encodings, a full request, then one incremental request per update. */
function expectedSetup(width: number, height: number, updates: number): ClientMessage[] {
  return [
    {
      type: 'SetPixelFormat',
      format: {
        bitsPerPixel: 32,
        depth: 24,
        bigEndian: false,
        trueColour: true,
        redMax: 255,
        greenMax: 255,
        blueMax: 255,
        redShift: 0,
        greenShift: 8,
        blueShift: 16,
      },
    },
    { type: 'SetEncodings', encodings: EXPECTED_ENCODINGS },
    { type: 'FramebufferUpdateRequest', incremental: false, x: 0, y: 0, width, height },
    ...Array.from({ length: updates }, () => ({ type: 'FramebufferUpdateRequest' as const, incremental: true, x: 0, y: 0, width, height })),
  ];
}

/** Checks a successful start: what was written and what the client learnt. */
function expectConnected(outcome: Outcome, expected: ExpectedWrites & { serverVersion?: string; securityType: number; updates?: number }): RFBClient {
  expect(outcome.escaped).toBeUndefined();
  if (outcome.error) throw outcome.error;
  const client = outcome.client!;
  expect(client.info.protocolVersion).toBe(expected.version);
  if (expected.serverVersion !== undefined) expect(client.info.serverVersion).toBe(expected.serverVersion);
  expect(client.info.securityType).toBe(expected.securityType);
  const written = outcome.transport.writtenBytes;
  const prefix = handshakeWrites({ ...expected, shared: expected.shared ?? 1 });
  expect(hex(written).slice(0, prefix.length)).toBe(prefix);
  const messages = parseClientMessages(written.subarray(prefix.length / 2));
  expect(messages).toEqual(expectedSetup(client.framebuffer.width, client.framebuffer.height, expected.updates ?? 1));
  expect(client.isClosed).toBe(false);
  return client;
}

/**
 * Runs a scenario in every chunking of `server`, checks each outcome with `check`, and checks that
 * every chunking ends exactly as the whole stream does.
 */
async function inEveryChunking(
  server: Uint8Array,
  options: StartOptions,
  check: (outcome: Outcome, chunking: string) => void,
  then?: (transport: FakeTransport) => void,
  compare: { withMessage: boolean } = { withMessage: true },
): Promise<number> {
  let reference: unknown;
  let runs = 0;
  for (const { name, chunks } of chunkings(server)) {
    const outcome = await startWith(chunks, options, then);
    try {
      check(outcome, name);
      const current = summary(outcome, compare.withMessage);
      if (reference === undefined) reference = current;
      else expect(current, `chunking "${name}" ends differently from the whole stream`).toEqual(reference);
    } catch (error) {
      if (error instanceof Error) error.message = `[chunking: ${name}] ${error.message}`;
      throw error;
    } finally {
      await outcome.client?.close();
    }
    runs++;
  }
  expect(runs).toBeGreaterThan(2);
  return runs;
}

// ---------------------------------------------------------------------------------------------
// Protocol versions

/**
 * A "not a VNC server" error quotes the bytes that had arrived when the client gave up (4 to 12 of
 * them, depending on the chunking): class and code are compared across chunkings, not the message.
 */
const QUOTES_ARRIVED_BYTES = { withMessage: false };

test.describe('protocol version', () => {
  const versions: Array<{ server: string; reply: Negotiated; serverVersion: string }> = [
    { server: '3.3', reply: '3.3', serverVersion: '3.3' },
    { server: '3.7', reply: '3.7', serverVersion: '3.7' },
    { server: '3.8', reply: '3.8', serverVersion: '3.8' },
    { server: '3.889', reply: '3.8', serverVersion: '3.889' }, // Apple Remote Desktop
    { server: '4.001', reply: '3.8', serverVersion: '4.1' }, // RealVNC 4+ / newer: spoken as 3.8
    { server: '3.5', reply: '3.3', serverVersion: '3.5' }, // early Apple: treat as 3.3
    { server: '3.4', reply: '3.3', serverVersion: '3.4' }, // UltraVNC: treat as 3.3
    { server: '3.6', reply: '3.3', serverVersion: '3.6' }, // UltraVNC: treat as 3.3
  ];
  for (const { server, reply, serverVersion } of versions) {
    test(`server ${server} → client replies ${JSON.stringify(VERSION_REPLY[reply])} and speaks ${reply}`, async () => {
      const stream = concat(banner(server), securityNone(reply), serverInit(INIT), FIRST_FRAME);
      await inEveryChunking(stream, {}, (outcome) => {
        const client = expectConnected(outcome, { version: reply, chosen: reply === '3.3' ? undefined : 1, securityType: 1, serverVersion });
        expect(client.info.serverInit).toMatchObject({ width: WIDTH, height: HEIGHT, name: NAME });
      });
    });
  }

  test('server 3.2 (older than 3.3) → VNCProtocolError, nothing written', async () => {
    await inEveryChunking(concat(banner('3.2'), securityTypes33(1)), {}, (outcome) => {
      expectError(outcome, VNCProtocolError, 'EPROTOCOL', '3.2', '3.3');
      expect(outcome.transport.written).toHaveLength(0);
    });
  });

  const garbage: Array<[string, string]> = [
    ['not VNC at all', 'SSH-2.0-OpenSSH_9.6\r\n'],
    ['version digits missing', 'RFB 003.00\n\n\n\n'],
    ['two-digit major', 'RFB 03.008\n\n\n'],
    ['CRLF line end', 'RFB 003.008\r\n'],
    ['lower-case magic', 'rfb 003.008\n'],
    ['letters for digits', 'RFB 00a.008\n'],
    ['NUL bytes', '\0\0\0\0\0\0\0\0\0\0\0\0'],
  ];
  for (const [what, text] of garbage) {
    test(`garbage banner (${what}) → VNCProtocolError quoting it`, async () => {
      await inEveryChunking(ascii(text), {}, (outcome) => {
        const error = expectError(outcome, VNCProtocolError, 'EPROTOCOL', 'did not send an RFB version banner');
        // The start of what the server sent is quoted so the user can recognise it.
        expect(error.message).toContain(JSON.stringify(text.slice(0, 4)).slice(1, -1));
        expect(outcome.transport.written).toHaveLength(0);
      }, undefined, QUOTES_ARRIVED_BYTES);
    });
  }

  test('an HTTP reply → VNCProtocolError that points to ws:// (a WebSocket endpoint)', async () => {
    const http = ascii('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nBad Request');
    await inEveryChunking(http, {}, (outcome) => {
      expectError(outcome, VNCProtocolError, 'EPROTOCOL', 'ws://', 'HTTP');
      expect(outcome.transport.written).toHaveLength(0);
    }, undefined, QUOTES_ARRIVED_BYTES);
  });

  test('an HTTP reply fails on its first 4 bytes, without waiting for the 12 of a banner', async () => {
    const outcome = await startWith([ascii('HTTP')], { timeoutMs: 5000 });
    expectError(outcome, VNCProtocolError, 'EPROTOCOL', 'ws://');
    expect(outcome.elapsedMs).toBeLessThan(1000);
  });

  test('a TLS server hello → VNCProtocolError that mentions wss://', async () => {
    const tls = Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x5a, 0x02, 0x00, 0x00, 0x56, 0x03, 0x03, 0x00]);
    await inEveryChunking(tls, {}, (outcome) => {
      expectError(outcome, VNCProtocolError, 'EPROTOCOL', 'wss://');
    }, undefined, QUOTES_ARRIVED_BYTES);
  });
});

// ---------------------------------------------------------------------------------------------
// Security

test.describe('security type None', () => {
  test('RFB 3.3: the server picks None as a u32; no SecurityResult follows', async () => {
    // Were the client to wait for a SecurityResult, it would take the ServerInit's first 4 bytes for it.
    const stream = concat(banner('3.3'), u32(1), serverInit(INIT), FIRST_FRAME);
    await inEveryChunking(stream, {}, (outcome) => {
      expectConnected(outcome, { version: '3.3', securityType: 1 });
    });
  });

  test('RFB 3.7: the client picks None; no SecurityResult follows', async () => {
    const stream = concat(banner('3.7'), securityTypes([1]), serverInit(INIT), FIRST_FRAME);
    await inEveryChunking(stream, {}, (outcome) => {
      expectConnected(outcome, { version: '3.7', chosen: 1, securityType: 1 });
    });
  });

  test('RFB 3.8: the client picks None and reads a SecurityResult', async () => {
    const stream = concat(banner('3.8'), securityTypes([1]), securityResult(0), serverInit(INIT), FIRST_FRAME);
    await inEveryChunking(stream, {}, (outcome) => {
      expectConnected(outcome, { version: '3.8', chosen: 1, securityType: 1 });
    });
  });
});

test.describe('security type VNC Authentication', () => {
  test('the DES response matches the known answer (independently computed with OpenSSL)', () => {
    // Direct check of the known answer used below, through the Handshake state machine.
    const sent: Uint8Array[] = [];
    const handshake = new Handshake({ credentials: { password: KAT.password }, shared: true }, (bytes) => sent.push(new Uint8Array(bytes)));
    const queue = new ByteQueue();
    queue.push(concat(banner('3.8'), securityTypes([2]), KAT.challenge));
    expect(handshake.process(queue)).toBeUndefined();
    expect(sent.map(hex)).toEqual([hex(ascii('RFB 003.008\n')), '02', KAT.response]);
    expect(handshake.stage).toBe('security-result');
  });

  for (const version of ['3.3', '3.7', '3.8'] as const) {
    test(`RFB ${version}: challenge answered with the known response, then ClientInit`, async () => {
      const stream = concat(banner(version), securityVncAuth(version), serverInit(INIT), FIRST_FRAME);
      await inEveryChunking(stream, { password: KAT.password }, (outcome) => {
        expectConnected(outcome, { version, chosen: version === '3.3' ? undefined : 2, response: KAT.response, securityType: 2 });
      });
    });
  }

  test('a password longer than 8 characters: only the first 8 are used', async () => {
    const stream = concat(banner('3.8'), securityVncAuth('3.8'), serverInit(INIT), FIRST_FRAME);
    await inEveryChunking(stream, { password: 'secret12-and-more' }, (outcome) => {
      expectConnected(outcome, { version: '3.8', chosen: 2, response: KAT.response, securityType: 2 });
    });
  });

  test('offered [VeNCrypt, VNC Authentication] with a password, over a transport that cannot start TLS → chooses 2', async () => {
    const stream = concat(banner('3.8'), securityTypes([19, 2]), KAT.challenge, securityResult(0), serverInit(INIT), FIRST_FRAME);
    await inEveryChunking(stream, { password: KAT.password }, (outcome) => {
      expectConnected(outcome, { version: '3.8', chosen: 2, response: KAT.response, securityType: 2 });
    });
  });

  test('offered [None, VNC Authentication] with a password → prefers 2', async () => {
    const stream = concat(banner('3.8'), securityTypes([1, 2]), KAT.challenge, securityResult(0), serverInit(INIT), FIRST_FRAME);
    await inEveryChunking(stream, { password: KAT.password }, (outcome) => {
      expectConnected(outcome, { version: '3.8', chosen: 2, response: KAT.response, securityType: 2 });
    });
  });

  test('offered [VNC Authentication, None] without a password → chooses 1', async () => {
    const stream = concat(banner('3.8'), securityTypes([2, 1]), securityResult(0), serverInit(INIT), FIRST_FRAME);
    await inEveryChunking(stream, {}, (outcome) => {
      expectConnected(outcome, { version: '3.8', chosen: 1, securityType: 1 });
    });
  });
});

test.describe('security failures', () => {
  test('offered only [Ultra, SASL] → VNCAuthenticationError naming them and what is supported', async () => {
    await inEveryChunking(concat(banner('3.8'), securityTypes([17, 20])), { password: 'hunter2-xyzzy' }, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', 'Ultra (17), SASL (20)', 'VeNCrypt', 'VNC Authentication', 'Tight (16)', 'None');
      // Only the version reply was sent: no security type was chosen.
      expect(hex(outcome.transport.writtenBytes)).toBe(handshakeWrites({ version: '3.8' }));
    });
  });

  test('RFB 3.3 server requiring an unsupported type (Ultra) → VNCAuthenticationError', async () => {
    await inEveryChunking(concat(banner('3.3'), u32(17)), {}, (outcome) => {
      expectError(outcome, VNCAuthenticationError, 'EAUTH', 'Ultra (17)');
    });
  });

  test('security type count 0 with a reason → VNCConnectionError carrying the reason', async () => {
    const reason = 'Too many security failures';
    await inEveryChunking(concat(banner('3.8'), securityTypes([], reason)), { password: 'hunter2-xyzzy' }, (outcome) => {
      expectError(outcome, VNCConnectionError, 'ECONNECT', reason);
    });
  });

  test('RFB 3.3 security type 0 (Invalid) with a reason → VNCConnectionError carrying the reason', async () => {
    const reason = 'Server is busy';
    await inEveryChunking(concat(banner('3.3'), securityTypes33(0, reason)), {}, (outcome) => {
      expectError(outcome, VNCConnectionError, 'ECONNECT', reason);
    });
  });

  test('RFB 3.8 failure with a reason → VNCAuthenticationError with the reason and a password hint', async () => {
    const stream = concat(banner('3.8'), securityVncAuth('3.8', securityResult(1, 'Authentication failure')));
    await inEveryChunking(stream, { password: 'hunter2-xyzzy' }, (outcome) => {
      const error = expectError(outcome, VNCAuthenticationError, 'EAUTH', 'Authentication failure', 'password');
      expect(error.message).toContain('8');
      // The response was sent, ClientInit was not.
      expect(hex(outcome.transport.writtenBytes).length).toBe(handshakeWrites({ version: '3.8', chosen: 2, response: KAT.response }).length);
    });
  });

  test('RFB 3.8 failure with a QEMU-style reason ending in NUL → the NUL is not in the message', async () => {
    const stream = concat(banner('3.8'), securityVncAuth('3.8', securityResult(1, 'Authentication failed\0')));
    await inEveryChunking(stream, { password: 'hunter2-xyzzy' }, (outcome) => {
      const error = expectError(outcome, VNCAuthenticationError, 'EAUTH', 'Authentication failed');
      expect(error.message).not.toContain('\0');
    });
  });

  for (const version of ['3.3', '3.7'] as const) {
    test(`RFB ${version} failure carries no reason: VNCAuthenticationError at once, no wait for a reason string`, async () => {
      const stream = concat(banner(version), securityVncAuth(version, securityResult(1)));
      await inEveryChunking(stream, { password: 'hunter2-xyzzy', timeoutMs: 5000 }, (outcome) => {
        expectError(outcome, VNCAuthenticationError, 'EAUTH', 'Authentication failed');
        expect(outcome.elapsedMs, 'must not wait for a reason that never comes').toBeLessThan(1000);
      });
    });
  }

  test('VNC Authentication requested but no password → VNCAuthenticationError telling to pass `password`', async () => {
    for (const version of ['3.3', '3.7', '3.8'] as const) {
      await inEveryChunking(concat(banner(version), version === '3.3' ? securityTypes33(2) : securityTypes([2]), KAT.challenge), {}, (outcome) => {
        expectError(outcome, VNCAuthenticationError, 'EAUTH', '`password`');
      });
    }
  });

  test('a password with a character outside Latin-1 → VNCConfigError naming the position, not the password', async () => {
    await inEveryChunking(concat(banner('3.8'), securityTypes([2]), KAT.challenge), { password: 'pässwörd☃' }, (outcome) => {
      expectError(outcome, VNCConfigError, 'ECONFIG', 'Latin-1', 'position 8');
    });
  });

  test('an empty password counts as no password', async () => {
    const outcome = await startWith([concat(banner('3.8'), securityTypes([2]), KAT.challenge)], { password: '' });
    expectError(outcome, VNCAuthenticationError, 'EAUTH', '`password`');
  });
});

// ---------------------------------------------------------------------------------------------
// ClientInit and ServerInit

test.describe('ClientInit', () => {
  test('shared flag is 1 by default', async () => {
    const stream = concat(banner('3.8'), securityNone('3.8'), serverInit(INIT), FIRST_FRAME);
    await inEveryChunking(stream, {}, (outcome) => {
      expectConnected(outcome, { version: '3.8', chosen: 1, securityType: 1, shared: 1 });
    });
  });

  test('shared: false sends 0 (ask the server to disconnect other clients)', async () => {
    const stream = concat(banner('3.8'), securityNone('3.8'), serverInit(INIT), FIRST_FRAME);
    await inEveryChunking(stream, { shared: false }, (outcome) => {
      expectConnected(outcome, { version: '3.8', chosen: 1, securityType: 1, shared: 0 });
    });
  });
});

test.describe('ServerInit', () => {
  test('size, pixel format and a UTF-8 name are reported', async () => {
    const name = 'Büro — ☃ 桌面';
    const stream = concat(banner('3.8'), securityNone('3.8'), serverInit({ width: 13, height: 5, name }), framebufferUpdate([rawRect(0, 0, 13, 5, patternPixels(13, 5))]));
    await inEveryChunking(stream, {}, (outcome) => {
      const client = expectConnected(outcome, { version: '3.8', chosen: 1, securityType: 1 });
      expect(client.info.serverInit).toEqual({ width: 13, height: 5, name, pixelFormat: SERVER_PIXEL_FORMAT });
      expect(client.framebuffer.width).toBe(13);
      expect(client.framebuffer.height).toBe(5);
    });
  });

  test('an empty name is fine', async () => {
    const stream = concat(banner('3.8'), securityNone('3.8'), serverInit({ ...INIT, name: '' }), FIRST_FRAME);
    await inEveryChunking(stream, {}, (outcome) => {
      const client = expectConnected(outcome, { version: '3.8', chosen: 1, securityType: 1 });
      expect(client.info.serverInit.name).toBe('');
    });
  });

  test('bytes after ServerInit in the same chunk are parsed as messages', async () => {
    const stream = concat(banner('3.8'), securityNone('3.8'), serverInit(INIT), bell(), serverCutText('héllo'), FIRST_FRAME, FIRST_FRAME);
    await inEveryChunking(stream, {}, (outcome) => {
      const client = expectConnected(outcome, { version: '3.8', chosen: 1, securityType: 1, updates: 2 });
      expect(client.clipboardText).toBe('héllo');
      expect(client.updateCount).toBe(2);
    });
  });

  test('Handshake leaves the bytes after ServerInit in the queue', () => {
    const after = concat(bell(), FIRST_FRAME);
    const handshake = new Handshake({ credentials: {}, shared: true }, () => undefined);
    const queue = new ByteQueue();
    queue.push(concat(banner('3.8'), securityNone('3.8'), serverInit(INIT), after));
    const result = handshake.process(queue);
    expect(result).toMatchObject({ protocolVersion: '3.8', serverVersion: '3.8', securityType: 1, serverInit: { width: WIDTH, height: HEIGHT, name: NAME } });
    expect(queue.length).toBe(after.length);
    expect(queue.peekU8()).toBe(2);
  });

  test('a name longer than the limit → VNCProtocolError as soon as the length is read, before the bytes arrive', async () => {
    const header = serverInit({ ...INIT, name: '', nameLength: 64 * 1024 + 1 });
    const stream = concat(banner('3.8'), securityNone('3.8'), header);
    await inEveryChunking(stream, { timeoutMs: 5000 }, (outcome) => {
      expectError(outcome, VNCProtocolError, 'EPROTOCOL', '65537', 'name');
      expect(outcome.elapsedMs).toBeLessThan(1000);
    });
  });

  test('a name of exactly the limit is accepted', () => {
    const handshake = new Handshake({ credentials: {}, shared: true }, () => undefined);
    const queue = new ByteQueue();
    queue.push(concat(banner('3.8'), securityNone('3.8'), serverInit({ ...INIT, name: 'n'.repeat(64 * 1024) })));
    const result = handshake.process(queue);
    expect(result && 'serverInit' in result ? result.serverInit.name : undefined).toHaveLength(64 * 1024);
  });

  test('width 20000 → VNCProtocolError naming the size and the limit', async () => {
    const stream = concat(banner('3.8'), securityNone('3.8'), serverInit({ width: 20000, height: 100, name: 'huge' }));
    await inEveryChunking(stream, {}, (outcome) => {
      expectError(outcome, VNCProtocolError, 'EPROTOCOL', '20000x100', '16384');
    });
  });

  test('height 20000 → VNCProtocolError', async () => {
    const outcome = await startWith([concat(banner('3.8'), securityNone('3.8'), serverInit({ width: 100, height: 20000, name: '' }))]);
    expectError(outcome, VNCProtocolError, 'EPROTOCOL', '100x20000');
  });
});

// ---------------------------------------------------------------------------------------------
// After ServerInit

test.describe('after ServerInit', () => {
  test('SetPixelFormat, SetEncodings (only what the client decodes), then a full non-incremental request', async () => {
    // The first frame is not sent yet: the client has set up and waits.
    const transport = new FakeTransport();
    const starting = RFBClient.start(transport, { credentials: {}, timeoutMs: 2000 });
    transport.deliver(concat(banner('3.8'), securityNone('3.8'), serverInit({ width: 300, height: 200, name: '' })));
    const prefix = handshakeWrites({ version: '3.8', chosen: 1, shared: 1 });
    const written = transport.writtenBytes;
    expect(hex(written.subarray(0, prefix.length / 2))).toBe(prefix);
    const messages = parseClientMessages(written.subarray(prefix.length / 2));
    expect(messages).toEqual(expectedSetup(300, 200, 0));
    // The raw bytes of SetPixelFormat, field by field.
    expect(hex(written.subarray(prefix.length / 2, prefix.length / 2 + 20))).toBe('00000000' + '20180001' + '00ff00ff00ff' + '000810' + '000000');
    const encodings = (messages[1] as { encodings: number[] }).encodings;
    expect(encodings).toContain(-239);
    expect(encodings).toContain(-223);
    expect(encodings).toContain(-308);
    expect(encodings).toContain(-224);
    expect(encodings).toContain(0xc0a1e5ce | 0);
    expect(encodings).toContain(-312);
    expect(encodings).toContain(-313);
    expect(new Set(encodings).size).toBe(encodings.length);
    // Nothing it cannot decode (no TRLE), and no JPEG quality or compression level by default.
    expect([...encodings].sort((a, b) => a - b)).toEqual([...EXPECTED_ENCODINGS].sort((a, b) => a - b));
    // Then the first frame arrives and start() resolves.
    transport.deliver(framebufferUpdate([rawRect(0, 0, 300, 200, patternPixels(300, 200))]), 'random', 7);
    const client = await starting;
    expect(client.updateCount).toBe(1);
    await client.close();
  });

  test('after each completed update an incremental request for the whole screen follows', async () => {
    const stream = concat(banner('3.8'), securityNone('3.8'), serverInit(INIT), FIRST_FRAME, framebufferUpdate([]), bell(), framebufferUpdate([rawRect(1, 1, 1, 1, patternPixels(1, 1))]));
    await inEveryChunking(stream, {}, (outcome) => {
      const client = expectConnected(outcome, { version: '3.8', chosen: 1, securityType: 1, updates: 3 });
      expect(client.updateCount).toBe(3);
    });
  });

  test('start() resolves only after an update that painted pixels', async () => {
    const transport = new FakeTransport();
    const starting = RFBClient.start(transport, { credentials: {}, timeoutMs: 300 });
    // An empty update paints nothing: the client keeps waiting for a real frame.
    transport.deliver(concat(banner('3.8'), securityNone('3.8'), serverInit(INIT), framebufferUpdate([])));
    const early = await Promise.race([starting.then(() => 'resolved', () => 'rejected'), new Promise((r) => setTimeout(() => r('pending'), 50))]);
    expect(early).toBe('pending');
    transport.deliver(FIRST_FRAME);
    const client = await starting;
    expect(client.updateCount).toBe(2);
    await client.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Timeouts and closes

test.describe('timeouts and closed connections', () => {
  test('a server that sends nothing → VNCTimeoutError after the timeout', async () => {
    const outcome = await startWith([], { timeoutMs: 200 });
    const error = expectError(outcome, VNCTimeoutError, 'ETIMEOUT', '200 ms', 'fake-server:5900');
    expect((error as VNCTimeoutError).timeoutMs).toBe(200);
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(180);
    expect(outcome.elapsedMs).toBeLessThan(1500);
  });

  test('a server that stops mid-handshake → VNCTimeoutError naming the stage', async () => {
    const outcome = await startWith([concat(banner('3.8'), securityTypes([2]))], { timeoutMs: 200, password: 'hunter2-xyzzy' });
    expectError(outcome, VNCTimeoutError, 'ETIMEOUT', 'security');
    expect(outcome.elapsedMs).toBeLessThan(1500);
  });

  test('a server that never sends the first frame → VNCTimeoutError', async () => {
    const outcome = await startWith([concat(banner('3.8'), securityNone('3.8'), serverInit(INIT))], { timeoutMs: 200 });
    expectError(outcome, VNCTimeoutError, 'ETIMEOUT', 'first frame');
  });

  test('a server that closes at any point before the first frame → VNCConnectionError (ECLOSED), never a hang', async () => {
    const full = concat(banner('3.8'), securityVncAuth('3.8'), serverInit(INIT), FIRST_FRAME);
    for (let cut = 0; cut < full.length; cut++) {
      const outcome = await startWith([full.subarray(0, cut)], { password: KAT.password, timeoutMs: 5000 }, (transport) => transport.serverClose());
      try {
        expectError(outcome, VNCConnectionError, 'ECLOSED', 'closed');
        expect(outcome.elapsedMs).toBeLessThan(1000);
      } catch (error) {
        if (error instanceof Error) error.message = `[closed after ${cut} of ${full.length} bytes] ${error.message}`;
        throw error;
      }
    }
  });

  test('a transport that closes with a VNCConnectionError mid-handshake → that error', async () => {
    const reset = new VNCConnectionError('Connection to fake-server:5900 was reset by the server.', { code: 'ECLOSED' });
    const outcome = await startWith([banner('3.8')], {}, (transport) => transport.serverClose(reset));
    expect(outcome.error).toBe(reset);
    expect(outcome.transport.destroyed).toBe(true);
  });

  test('a transport that closes with a plain Error mid-handshake (e.g. a WebSocket transport) → VNCConnectionError', async () => {
    // The Transport interface allows any Error in closed(); after the handshake the client turns it
    // into a VNCConnectionError (ECLOSED), and the handshake must do the same: it is a network
    // failure, not a protocol violation by the server.
    const cause = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const outcome = await startWith([concat(banner('3.8'), securityTypes([1]))], {}, (transport) => transport.serverClose(cause));
    const error = expectError(outcome, VNCConnectionError, 'ECLOSED', 'ECONNRESET');
    expect(error.cause).toBe(cause);
  });

  test('the transport closing with a plain Error after the handshake → VNCConnectionError (ECLOSED)', async () => {
    const cause = new Error('socket hang up');
    const outcome = await startWith([concat(banner('3.8'), securityNone('3.8'), serverInit(INIT))], {}, (transport) => transport.serverClose(cause));
    const error = expectError(outcome, VNCConnectionError, 'ECLOSED', 'socket hang up');
    expect(error.cause).toBe(cause);
  });

  test('bytes arriving after a failure are ignored: one error, no exception', async () => {
    const outcome = await startWith([banner('3.2'), banner('3.8'), securityTypes([1]), u16(0)]);
    expectError(outcome, VNCProtocolError, 'EPROTOCOL', '3.2');
  });
});
