import { test, expect } from '@playwright/test';

import { VNCConfigError, VNCInputError } from '../../src/errors.js';
import { ByteQueue } from '../../src/rfb/byte-queue.js';
import { keyEvent, qemuExtendedKeyEvent } from '../../src/rfb/client-messages.js';
import { Encoding } from '../../src/rfb/constants.js';
import { chooseEncodings, createDecoders } from '../../src/rfb/encodings/index.js';
import { Framebuffer } from '../../src/rfb/framebuffer.js';
import { KEYBOARD_LAYOUT_NAMES, getKeyboardLayout } from '../../src/rfb/keyboard-layouts/index.js';
import { codePointOfKeysym, keysymByName, keysymName } from '../../src/rfb/keysym-table.js';
import { KEYSYM } from '../../src/rfb/keysyms.js';
import { type LockState, ServerMessageParser, type ServerMessageHandler } from '../../src/rfb/server-messages.js';
import { resolveKey, type KeyEvent } from '../../src/bridge/key-chord.js';
import { planText } from '../../src/bridge/key-plan.js';
import { Keyboard } from '../../src/bridge/keyboard.js';
import type { BridgeContext } from '../../src/bridge/context.js';
import { RFBClient } from '../../src/rfb/client.js';
import { ActionDetails } from '../../src/bridge/action-details.js';
import { parseTargets, resolveTarget } from '../../src/config/index.js';
import { parseCommandLine } from '../../src/cli/args.js';
import {
  FakeTransport,
  banner,
  chunkings,
  concat,
  copyRect,
  framebufferUpdate,
  hex,
  rawRect,
  rectHeader,
  securityResult,
  securityTypes,
  serverInit,
  solidPixels,
  u8,
} from '../support/rfb-bytes.js';
import { ignoringHandler } from '../support/parser-handler.js';

const SHIFT = 1;
const ALTGR = 2;

test.describe('keysym names from keysymdef.h', () => {
  test('names the README promises resolve, both ways', () => {
    const names: Record<string, [number, string | undefined]> = {
      EuroSign: [0x20ac, '€'],
      eacute: [0xe9, 'é'],
      Eacute: [0xc9, 'É'],
      udiaeresis: [0xfc, 'ü'],
      dead_grave: [0xfe50, undefined],
      dead_circumflex: [0xfe52, undefined],
      Cyrillic_a: [0x6c1, 'а'],
      Greek_alpha: [0x7e1, 'α'],
      oe: [0x13bd, 'œ'],
      checkmark: [0xaf3, '✓'],
      XF86AudioMute: [0x1008ff12, undefined],
    };
    for (const [name, [keysym, char]] of Object.entries(names)) {
      expect(resolveKey(name), name).toBe(keysym);
      expect(keysymByName(name), name).toBe(keysym);
      expect(keysymName(keysym), name).toBe(name);
      expect(codePointOfKeysym(keysym), name).toBe(char?.codePointAt(0));
    }
  });

  test('case-insensitive only where unambiguous', () => {
    expect(resolveKey('eurosign')).toBe(0x20ac);
    expect(resolveKey('DEAD_ACUTE')).toBe(0xfe51);
    const message = (() => {
      try {
        resolveKey('EACUTE');
      } catch (error) {
        expect(error).toBeInstanceOf(VNCInputError);
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toContain('"eacute" is é, "Eacute" is É');
  });

  test('the hand-kept KEYSYM names agree with the generated table', () => {
    for (const [name, keysym] of Object.entries(KEYSYM)) expect(keysymByName(name), name).toBe(keysym);
  });

  test('Unicode keysyms map to their character', () => {
    expect(codePointOfKeysym(0x1002603)).toBe(0x2603);
    expect(keysymName(0x1002603)).toBe('U2603');
  });
});

test.describe('QEMU Extended Key Event bytes', () => {
  test('255, sub-type 0, u16 down, u32 keysym, u32 XT keycode', () => {
    expect(hex(qemuExtendedKeyEvent(true, 0x40, 0x10))).toBe('ff00000100000040' + '00000010');
    expect(hex(qemuExtendedKeyEvent(false, 0xfe03, 0xb8))).toBe('ff0000000000fe03' + '000000b8');
    expect(hex(qemuExtendedKeyEvent(true, 0x20ac, 0x12))).toBe('ff000001000020ac' + '00000012');
  });

  test('the plain KeyEvent stays 8 bytes', () => {
    expect(hex(keyEvent(true, 0x61))).toBe('0401000000000061');
  });

  test('pseudo-encoding numbers are rfbproto’s', () => {
    expect(Encoding.QEMUExtendedKeyEvent).toBe(-258);
    expect(Encoding.LEDState).toBe(-261);
  });
});

test.describe('server confirmation and LED state', () => {
  const base = ignoringHandler();
  const stream = concat(
    framebufferUpdate([rectHeader(0, 0, 4, 4, Encoding.QEMUExtendedKeyEvent), concat(rectHeader(0, 0, 0, 0, Encoding.LEDState), u8(0b100))]),
    framebufferUpdate([rawRect(0, 0, 1, 1, solidPixels(1, 1, [1, 2, 3])), concat(rectHeader(0, 0, 0, 0, Encoding.LEDState), u8(0b011))]),
  );

  test('an empty -258 rectangle confirms extended keys; -261 carries one byte of lock bits, in every chunking', () => {
    for (const { name, chunks } of chunkings(stream, { maxSplitLength: 4096 })) {
      const events: string[] = [];
      const handler: ServerMessageHandler = {
        ...base,
        updateEnded: () => events.push('update'),
        extendedKeyEvents: () => events.push('extended keys'),
        lockState: (locks: LockState) => events.push(`caps ${locks.capsLock} num ${locks.numLock} scroll ${locks.scrollLock}`),
      };
      const parser = new ServerMessageParser(new Framebuffer(4, 4), handler, {
        advertised: new Set([Encoding.QEMUExtendedKeyEvent, Encoding.LEDState]),
        decoders: createDecoders(chooseEncodings()),
      });
      const queue = new ByteQueue();
      for (const chunk of chunks) {
        queue.push(chunk);
        parser.parse(queue);
      }
      expect(events, name).toEqual([
        'extended keys',
        'caps true num false scroll false',
        'update',
        'caps false num true scroll true',
        'update',
      ]);
      expect(queue.length, name).toBe(0);
    }
  });
});

test.describe('layouts generated from xkb-data', () => {
  test('every listed layout is there', () => {
    for (const name of ['us', 'gb', 'de', 'fr', 'es', 'it', 'ch', 'se', 'fi', 'no', 'dk', 'jp']) {
      expect(KEYBOARD_LAYOUT_NAMES).toContain(name);
      expect(getKeyboardLayout(name).name).toBe(name);
    }
  });

  /** [layout, character, expected keys as "scancode+modifiers"], dead keys first. */
  const cases: Array<[string, string, string[]]> = [
    ['us', '@', ['0x03+1']],
    ['us', 'z', ['0x2c+0']],
    ['gb', '@', ['0x28+1']],
    ['gb', '"', ['0x03+1']],
    ['gb', '£', ['0x04+1']],
    ['de', '@', ['0x10+2']], // AltGr+Q
    ['de', '€', ['0x12+2']], // AltGr+E
    ['de', 'z', ['0x15+0']],
    ['de', 'y', ['0x2c+0']],
    ['de', 'ß', ['0x0c+0']],
    ['de', 'Ü', ['0x1a+1']],
    ['de', 'é', ['0x0d+0', '0x12+0']], // dead_acute, e
    ['de', '^', ['0x29+0', '0x39+0']], // dead_circumflex, space
    ['de', '`', ['0x0d+1', '0x39+0']], // Shift+dead_acute key = dead_grave, space
    ['de-nodeadkeys', '^', ['0x29+0']],
    ['fr', 'a', ['0x10+0']],
    ['fr', '@', ['0x0b+2']],
    ['fr', 'ê', ['0x1a+0', '0x12+0']], // dead_circumflex, e
    ['es', '@', ['0x03+2']],
    ['es', 'ñ', ['0x27+0']],
    ['it', '@', ['0x27+2']],
    ['ch', '@', ['0x03+2']],
    ['ch', 'ü', ['0x1a+0']],
    ['se', '@', ['0x03+2']],
    ['se', 'å', ['0x1a+0']],
    ['fi', '€', ['0x12+2']],
    ['no', 'ø', ['0x27+0']],
    ['dk', 'æ', ['0x27+0']],
    ['jp', '@', ['0x1a+0']],
    ['jp', '_', ['0x73+1']], // the "ro" key
  ];
  for (const [layoutName, char, expected] of cases) {
    test(`${layoutName}: ${char}`, () => {
      const keys = getKeyboardLayout(layoutName).keysForCharacter(char.codePointAt(0) as number);
      expect(keys?.map((key) => `0x${key.scancode.toString(16).padStart(2, '0')}+${key.modifiers}`)).toEqual(expected);
    });
  }

  test('every printable ASCII character, plus Return and Tab, is typeable on every layout', () => {
    let ascii = '\n\t';
    for (let cp = 0x20; cp <= 0x7e; cp++) ascii += String.fromCodePoint(cp);
    for (const name of KEYBOARD_LAYOUT_NAMES) {
      const plans = planText(ascii, getKeyboardLayout(name), { scancodes: true, capsLock: false });
      expect(plans.filter((plan) => plan.events === undefined).map((plan) => plan.text), name).toEqual([]);
    }
  });

  test('an unknown layout is a VNCConfigError listing the known ones', () => {
    expect(() => getKeyboardLayout('klingon')).toThrow(VNCConfigError);
    expect(() => getKeyboardLayout('klingon')).toThrow(/use one of us, gb, de/);
  });
});

test.describe('typing plans by scancode', () => {
  const de = getKeyboardLayout('de');
  const events = (text: string, capsLock = false): string[] =>
    planText(text, de, { scancodes: true, capsLock }).flatMap((plan) =>
      (plan.events ?? []).map((e) => `${e.down ? '↓' : '↑'}${e.scancode?.toString(16)}`),
    );

  test('@ on de is AltGr (right Alt, e0 38 = 0xb8) + Q', () => {
    expect(events('@')).toEqual(['↓b8', '↓10', '↑10', '↑b8']);
  });

  test('a capital holds Shift; with Caps Lock on, the capital needs no Shift and the small letter does', () => {
    expect(events('A')).toEqual(['↓2a', '↓1e', '↑1e', '↑2a']);
    expect(events('A', true)).toEqual(['↓1e', '↑1e']);
    expect(events('a', true)).toEqual(['↓2a', '↓1e', '↑1e', '↑2a']);
    // Digits and symbols ignore Caps Lock.
    expect(events('1', true)).toEqual(['↓2', '↑2']);
  });

  test('é is the dead acute key, then e', () => {
    expect(events('é')).toEqual(['↓d', '↑d', '↓12', '↑12']);
  });

  test('without scancodes the plan sends the layout’s keysyms (dead key first), no scancodes', () => {
    const plan = planText('é€', de, { scancodes: false, capsLock: false });
    expect(plan.flatMap((p) => p.events ?? []).map((e) => [e.keysym.toString(16), e.scancode])).toEqual([
      ['fe51', undefined], ['fe51', undefined], ['65', undefined], ['65', undefined], ['20ac', undefined], ['20ac', undefined],
    ]);
  });

  test('a control character no key types is refused with its index, as without a layout', () => {
    expect(() => planText('ab\u0007', de, { scancodes: true, capsLock: false })).toThrow(/Cannot type character U\+0007 at index 2 of the text/);
  });

  test('a character the layout lacks is reported, not dropped', () => {
    const [plan] = planText('✓', de, { scancodes: true, capsLock: false });
    expect(plan?.events).toBeUndefined();
    expect(plan && 'reason' in plan ? plan.reason : '').toContain('no key of the "de" keyboard layout (German) types U+2713');
  });
});

test.describe('Keyboard.type paths (byte-level, against a recording session)', () => {
  interface Sent {
    keys: KeyEvent[];
    clipboard: string[];
  }
  function keyboard(options: { layout?: string; extendedKeys?: boolean; extendedClipboard?: boolean; capsLock?: boolean }): { keyboard: Keyboard; sent: Sent } {
    const sent: Sent = { keys: [], clipboard: [] };
    const session = {
      extendedKeyEvents: options.extendedKeys ?? true,
      clipboardUnicode: options.extendedClipboard ?? true,
      locks: options.capsLock === undefined ? undefined : { capsLock: options.capsLock, numLock: false, scrollLock: false },
      sendKey: async (keysym: number, down: boolean, scancode?: number) => {
        sent.keys.push({ keysym, down, ...(scancode !== undefined && (options.extendedKeys ?? true) ? { scancode } : {}) });
      },
      setClipboard: async (text: string) => {
        sent.clipboard.push(text);
        sent.keys.push({ keysym: -1, down: true });
      },
    };
    const context: BridgeContext = { session: () => session as unknown as RFBClient, timeoutMs: 1000, details: new ActionDetails() };
    return { keyboard: new Keyboard(context, { typingDelayMs: 0, keyboardLayout: options.layout }), sent };
  }

  test("via 'keys' names the character the layout cannot type, and sends nothing", async () => {
    const { keyboard: kb, sent } = keyboard({ layout: 'us' });
    const error = await kb.type('uni é', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VNCInputError);
    expect((error as Error).message).toContain('"é" (U+00E9) at index 4 of the text cannot be typed');
    expect((error as Error).message).toContain("{ via: 'clipboard' }");
    expect(sent.keys).toEqual([]);
  });

  test('a secret text is not quoted in the error', async () => {
    const { keyboard: kb } = keyboard({ layout: 'us' });
    const error = await kb.type('pässword', { secret: true }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('The character at index 1 of the secret text cannot be typed');
    expect((error as Error).message).not.toContain('ä');
    expect((error as Error).message).not.toContain('ssword');
  });

  test("via 'auto' types what the layout has and pastes the rest, saying which path took which text", async () => {
    const { keyboard: kb, sent } = keyboard({ layout: 'de' });
    const result = await kb.type('uni é ü € ✓ end', { via: 'auto' });
    expect(result.pieces).toEqual([
      { text: 'uni é ü € ', via: 'keys' },
      { text: '✓', via: 'clipboard' },
      { text: ' end', via: 'keys' },
    ]);
    expect(sent.clipboard).toEqual(['✓']);
    // The paste chord (ctrl+v) follows the clipboard, by scancode: Control_L 0x1d, v 0x2f.
    const afterClipboard = sent.keys.slice(sent.keys.findIndex((k) => k.keysym === -1) + 1, sent.keys.findIndex((k) => k.keysym === -1) + 5);
    expect(afterClipboard.map((k) => `${k.down ? '↓' : '↑'}${k.scancode?.toString(16)}`)).toEqual(['↓1d', '↓2f', '↑2f', '↑1d']);
  });

  test("via 'clipboard' refuses non-Latin-1 text where the server has no Extended Clipboard, naming the character", async () => {
    const { keyboard: kb, sent } = keyboard({ extendedClipboard: false });
    const error = await kb.type('ok ✓', { via: 'clipboard' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VNCInputError);
    expect((error as Error).message).toContain('"✓" (U+2713) at index 3');
    expect(sent.clipboard).toEqual([]);
  });

  test('Caps Lock reported by the server is honoured when typing by scancode', async () => {
    const { keyboard: kb, sent } = keyboard({ layout: 'us', capsLock: true });
    expect(kb.locks).toEqual({ capsLock: true, numLock: false, scrollLock: false, known: true });
    await kb.type('aB');
    expect(sent.keys.map((k) => `${k.down ? '↓' : '↑'}${k.scancode?.toString(16)}`)).toEqual(['↓2a', '↓1e', '↑1e', '↑2a', '↓30', '↑30']);
  });

  test('chords go by scancode on a layout: ctrl+alt+delete', async () => {
    const { keyboard: kb, sent } = keyboard({ layout: 'de' });
    await kb.press('ctrl+alt+delete');
    expect(sent.keys.map((k) => `${k.down ? '↓' : '↑'}${k.scancode?.toString(16)}`)).toEqual(['↓1d', '↓38', '↓d3', '↑d3', '↑38', '↑1d']);
  });

  test('without extended keys no scancode goes out, but the layout still decides what is typeable', async () => {
    const { keyboard: kb, sent } = keyboard({ layout: 'de', extendedKeys: false });
    await kb.type('z@');
    expect(sent.keys.every((k) => k.scancode === undefined)).toBe(true);
    expect(sent.keys.map((k) => k.keysym.toString(16))).toEqual(['7a', '7a', 'ffe1', '40', '40', 'ffe1']);
  });
});

test.describe('keyboardLayout and pasteChord in a targets file, --layout on the command line', () => {
  const yaml = (extra: string) =>
    ['defaults:', '  keyboardLayout: de', 'targets:', '  vm:', '    connection: { type: tcp, host: 127.0.0.1, port: 5901 }', extra].join('\n');

  test('a target inherits the layout from defaults, overrides it, and the bridge options carry it', async () => {
    const inherited = parseTargets(yaml('    pasteChord: ctrl+shift+v'), { file: '/tmp/targets.yaml' }).targets[0]!;
    expect(inherited.keyboardLayout).toBe('de');
    expect(inherited.pasteChord).toBe('ctrl+shift+v');
    const own = parseTargets(yaml('    keyboardLayout: FR'), { file: '/tmp/targets.yaml' }).targets[0]!;
    expect(own.keyboardLayout).toBe('fr');
    expect(await resolveTarget(own)).toMatchObject({ keyboardLayout: 'fr' });
  });

  test('an unknown layout or a bad paste chord is a problem with its line', () => {
    expect(() => parseTargets(yaml('    keyboardLayout: dee'), { file: '/tmp/targets.yaml' })).toThrow(
      /6:21: targets\.vm\.keyboardLayout: unknown keyboard layout "dee"\. Did you mean "de"\?/,
    );
    expect(() => parseTargets(yaml('    pasteChord: ctrl+vv'), { file: '/tmp/targets.yaml' })).toThrow(/targets\.vm\.pasteChord: Unknown key "vv"/);
  });

  test('--layout is checked against the known layouts', () => {
    const result = parseCommandLine(['--layout', 'DE', 'type', 'x']);
    expect(result.kind === 'run' ? result.globals.keyboardLayout : result.kind).toBe('de');
    expect(() => parseCommandLine(['--layout', 'klingon', 'type', 'x'])).toThrow(/--layout: unknown keyboard layout "klingon"; use one of us, gb, de/);
  });
});

test.describe('RFBClient: keyboard extensions on the wire', () => {
  const W = 16;
  const H = 8;
  const handshake = concat(banner('3.8'), securityTypes([1]), securityResult(0), serverInit({ width: W, height: H, name: 'kb' }));
  /** Version, security type None, shared flag. */
  const HANDSHAKE_WRITES = 12 + 1 + 1;
  const firstFrame = framebufferUpdate([copyRect(0, 0, W, H, 0, 0)]);

  async function start(server: Uint8Array, keyboardExtensions: boolean): Promise<{ client: RFBClient; transport: FakeTransport; encodings: number[] }> {
    const transport = new FakeTransport();
    const starting = RFBClient.start(transport, { credentials: {}, timeoutMs: 1000, keyboardExtensions });
    transport.deliverChunks([handshake, server]);
    const client = await starting;
    // After ClientInit: SetPixelFormat (20 bytes), then SetEncodings: 2, pad, u16 count, s32 each.
    const bytes = Buffer.from(transport.writtenBytes.subarray(HANDSHAKE_WRITES + 20));
    expect(bytes[0]).toBe(2);
    const count = bytes.readUInt16BE(2);
    const encodings = Array.from({ length: count }, (_, i) => bytes.readInt32BE(4 + 4 * i));
    return { client, transport, encodings };
  }

  test('offered only when asked; the confirmation turns scancodes on, LED State fills the lock state', async () => {
    const confirmations = concat(
      framebufferUpdate([rectHeader(0, 0, W, H, Encoding.QEMUExtendedKeyEvent)]),
      framebufferUpdate([concat(rectHeader(0, 0, 1, 1, Encoding.LEDState), u8(0b100))]),
      firstFrame,
    );
    const { client, transport, encodings } = await start(confirmations, true);
    expect(encodings).toContain(-258);
    expect(encodings).toContain(-261);
    expect(client.extendedKeyEvents).toBe(true);
    expect(client.locks).toEqual({ capsLock: true, numLock: false, scrollLock: false });
    const before = transport.writtenBytes.length;
    await client.sendKey(0x40, true, 0x10);
    expect(hex(transport.writtenBytes.subarray(before))).toBe('ff000001000000400000' + '0010');
    await client.close();
  });

  test('without the option SetEncodings offers neither, and a scancode never goes out', async () => {
    const { client, transport, encodings } = await start(firstFrame, false);
    expect(encodings).not.toContain(-258);
    expect(encodings).not.toContain(-261);
    expect(client.extendedKeyEvents).toBe(false);
    const before = transport.writtenBytes.length;
    await client.sendKey(0x40, true, 0x10);
    expect(hex(transport.writtenBytes.subarray(before))).toBe('0401000000000040');
    await client.close();
  });
});
