import { test, expect } from '@playwright/test';

import { VNCInputError } from '../../src/errors.js';
import {
  KEYSYM,
  NAMED_KEYS,
  isShiftedOnUSLayout,
  keysymForCodePoint,
} from '../../src/rfb/keysyms.js';
import {
  type KeyEvent,
  keyEventsForChord,
  keyEventsForText,
  parseChord,
  resolveKey,
} from '../../src/bridge/key-chord.js';

const SHIFT = 0xffe1;
const down = (keysym: number): KeyEvent => ({ keysym, down: true });
const up = (keysym: number): KeyEvent => ({ keysym, down: false });

/** Runs `fn`, expects a VNCInputError, and returns its message. */
function inputErrorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VNCInputError);
    expect((error as VNCInputError).code).toBe('EINPUT');
    return (error as Error).message;
  }
  throw new Error('expected a VNCInputError, but nothing was thrown');
}

test.describe('NAMED_KEYS table', () => {
  test('sample names and aliases have the X11 values', () => {
    const expected: Record<string, number> = {
      enter: 0xff0d,
      return: 0xff0d,
      tab: 0xff09,
      space: 0x20,
      backspace: 0xff08,
      escape: 0xff1b,
      esc: 0xff1b,
      delete: 0xffff,
      del: 0xffff,
      insert: 0xff63,
      home: 0xff50,
      end: 0xff57,
      pageup: 0xff55,
      page_up: 0xff55,
      pgup: 0xff55,
      pagedown: 0xff56,
      pgdn: 0xff56,
      up: 0xff52,
      arrowup: 0xff52,
      down: 0xff54,
      left: 0xff51,
      right: 0xff53,
      f1: 0xffbe,
      f12: 0xffc9,
      f24: 0xffd5,
      kp_0: 0xffb0,
      kp_9: 0xffb9,
      kp_enter: 0xff8d,
      kp_add: 0xffab,
      kp_plus: 0xffab,
      kp_subtract: 0xffad,
      kp_minus: 0xffad,
      kp_multiply: 0xffaa,
      kp_divide: 0xffaf,
      kp_decimal: 0xffae,
      kp_separator: 0xffac,
      kp_equal: 0xffbd,
      kp_home: 0xff95,
      kp_begin: 0xff9d,
      kp_pageup: 0xff9a,
      kp_pagedown: 0xff9b,
      kp_insert: 0xff9e,
      kp_delete: 0xff9f,
      shift: 0xffe1,
      rshift: 0xffe2,
      ctrl: 0xffe3,
      control: 0xffe3,
      ctrl_r: 0xffe4,
      alt: 0xffe9,
      alt_r: 0xffea,
      altgr: 0xfe03,
      meta: 0xffe7,
      super: 0xffeb,
      win: 0xffeb,
      cmd: 0xffeb,
      super_r: 0xffec,
      hyper: 0xffed,
      capslock: 0xffe5,
      numlock: 0xff7f,
      scrolllock: 0xff14,
      printscreen: 0xff61,
      prtsc: 0xff61,
      sysrq: 0xff15,
      pause: 0xff13,
      break: 0xff13,
      menu: 0xff67,
      apps: 0xff67,
      plus: 0x2b,
      minus: 0x2d,
      volumeup: 0x1008ff13,
      volumedown: 0x1008ff11,
      mute: 0x1008ff12,
      play: 0x1008ff14,
      playpause: 0x1008ff14,
      stop: 0x1008ff15,
      prev: 0x1008ff16,
      previous: 0x1008ff16,
      next: 0x1008ff17,
      browser_back: 0x1008ff26,
      browser_forward: 0x1008ff27,
      browser_refresh: 0x1008ff29,
      browser_home: 0x1008ff18,
      mail: 0x1008ff19,
      calculator: 0x1008ff1d,
      sleep: 0x1008ff2f,
      poweroff: 0x1008ff2a,
      eject: 0x1008ff2c,
      brightnessup: 0x1008ff02,
      brightnessdown: 0x1008ff03,
      xf86audioraisevolume: 0x1008ff13,
    };
    for (const [name, keysym] of Object.entries(expected)) {
      expect(NAMED_KEYS.get(name), name).toBe(keysym);
      expect(resolveKey(name), name).toBe(keysym);
    }
  });

  test('every F-key from f1 to f24 is present and consecutive', () => {
    for (let n = 1; n <= 24; n++) {
      expect(NAMED_KEYS.get(`f${n}`), `f${n}`).toBe(0xffbe + n - 1);
    }
  });

  test('every value is a positive integer keysym and every name is lower-case and longer than one character', () => {
    expect(NAMED_KEYS.size).toBeGreaterThan(150);
    for (const [name, keysym] of NAMED_KEYS) {
      expect(Number.isInteger(keysym), name).toBe(true);
      expect(keysym, name).toBeGreaterThan(0);
      expect(keysym, name).toBeLessThanOrEqual(0x1fffffff);
      expect(name, name).toBe(name.toLowerCase());
      // Single characters are typed as themselves, never shadowed by the table.
      expect([...name].length, name).toBeGreaterThan(1);
    }
  });

  test('every X11 name in KEYSYM is a key name, case-insensitively', () => {
    for (const [name, keysym] of Object.entries(KEYSYM)) {
      expect(NAMED_KEYS.get(name.toLowerCase()), name).toBe(keysym);
      expect(resolveKey(name), name).toBe(keysym);
    }
  });
});

test.describe('resolveKey', () => {
  test('is case-insensitive and ignores surrounding spaces for names', () => {
    expect(resolveKey('Page_Up')).toBe(0xff55);
    expect(resolveKey('PAGEUP')).toBe(0xff55);
    expect(resolveKey('KP_Enter')).toBe(0xff8d);
    expect(resolveKey('XF86AudioRaiseVolume')).toBe(0x1008ff13);
    expect(resolveKey('F1')).toBe(0xffbe);
    expect(resolveKey('  Enter ')).toBe(0xff0d);
    expect(resolveKey('AltGr')).toBe(0xfe03);
  });

  test('single characters keep their case and map through keysymForCodePoint', () => {
    expect(resolveKey('a')).toBe(0x61);
    expect(resolveKey('A')).toBe(0x41);
    expect(resolveKey('1')).toBe(0x31);
    expect(resolveKey('+')).toBe(0x2b);
    expect(resolveKey(' ')).toBe(0x20);
    expect(resolveKey('é')).toBe(0xe9);
    expect(resolveKey('€')).toBe(0x20ac);
    expect(resolveKey('😀')).toBe(0x101f600);
  });

  test('accepts hexadecimal keysyms and rejects out-of-range ones', () => {
    expect(resolveKey('0xff0d')).toBe(0xff0d);
    expect(resolveKey('0XFF0D')).toBe(0xff0d);
    expect(resolveKey('0x1008ff13')).toBe(0x1008ff13);
    expect(inputErrorMessage(() => resolveKey('0x0'))).toContain('out of range');
    expect(inputErrorMessage(() => resolveKey('0x20000000'))).toContain('out of range');
  });

  test('an unknown key names the key and suggests the closest names', () => {
    const message = inputErrorMessage(() => resolveKey('entr'));
    expect(message).toBe('Unknown key "entr". Did you mean "enter"? Key names are listed in the README (Keys).');
    expect(inputErrorMessage(() => resolveKey('escpe'))).toContain('Did you mean "escape"?');
    expect(inputErrorMessage(() => resolveKey('pagup'))).toContain('"pageup"');
    const noGuess = inputErrorMessage(() => resolveKey('qqqqqqqqqqqq'));
    expect(noGuess).toContain('Unknown key "qqqqqqqqqqqq"');
    expect(noGuess).not.toContain('Did you mean');
  });

  test('at most three suggestions are offered', () => {
    const message = inputErrorMessage(() => resolveKey('f99'));
    expect(message).toContain('Did you mean');
    const suggested = message.match(/Did you mean (.*)\?/)?.[1] ?? '';
    expect(suggested.split(/, | or /).filter((s) => s !== '').length).toBeLessThanOrEqual(3);
  });

  test('an empty name is rejected', () => {
    expect(inputErrorMessage(() => resolveKey(''))).toContain('Empty key name');
  });

  test('a control character is not a key', () => {
    expect(inputErrorMessage(() => resolveKey('\u0007'))).toContain('U+0007');
  });
});

test.describe('keysymForCodePoint', () => {
  test('Latin-1 printable characters map to themselves', () => {
    expect(keysymForCodePoint(0x20)).toBe(0x20);
    expect(keysymForCodePoint(0x7e)).toBe(0x7e);
    expect(keysymForCodePoint(0xa0)).toBe(0xa0);
    expect(keysymForCodePoint(0xe9)).toBe(0xe9);
    expect(keysymForCodePoint(0xff)).toBe(0xff);
  });

  test('characters with a legacy keysym in keysymdef.h get it: servers with a fixed layout know those', () => {
    expect(keysymForCodePoint(0x20ac)).toBe(0x20ac); // € EuroSign
    expect(keysymForCodePoint(0x100)).toBe(0x3c0); // Ā Amacron
    expect(keysymForCodePoint(0x153)).toBe(0x13bd); // œ oe
    expect(keysymForCodePoint(0x430)).toBe(0x6c1); // а Cyrillic_a
    expect(keysymForCodePoint(0x3b1)).toBe(0x7e1); // α Greek_alpha
    expect(keysymForCodePoint(0x2713)).toBe(0xaf3); // ✓ checkmark
  });

  test('other characters use the Unicode keysym range, astral included', () => {
    expect(keysymForCodePoint(0x2603)).toBe(0x1002603); // ☃ has no legacy keysym
    expect(keysymForCodePoint(0x1f600)).toBe(0x101f600);
  });

  test('newline, carriage return, tab, backspace and escape become their keys', () => {
    expect(keysymForCodePoint(0x0a)).toBe(0xff0d);
    expect(keysymForCodePoint(0x0d)).toBe(0xff0d);
    expect(keysymForCodePoint(0x09)).toBe(0xff09);
    expect(keysymForCodePoint(0x08)).toBe(0xff08);
    expect(keysymForCodePoint(0x1b)).toBe(0xff1b);
  });

  test('other control characters and lone surrogates are rejected, naming U+XXXX', () => {
    expect(inputErrorMessage(() => keysymForCodePoint(0x07))).toContain('U+0007');
    expect(inputErrorMessage(() => keysymForCodePoint(0x00))).toContain('U+0000');
    expect(inputErrorMessage(() => keysymForCodePoint(0x7f))).toContain('U+007F');
    expect(inputErrorMessage(() => keysymForCodePoint(0x85))).toContain('U+0085');
    expect(inputErrorMessage(() => keysymForCodePoint(0xd83d))).toContain('U+D83D');
    expect(inputErrorMessage(() => keysymForCodePoint(0x110000))).toContain('not a Unicode code point');
  });
});

test.describe('isShiftedOnUSLayout', () => {
  test('capitals and the shifted symbols need Shift; the rest do not', () => {
    for (const ch of 'AZQ~!@#$%^&*()_+{}|:"<>?') expect(isShiftedOnUSLayout(ch.codePointAt(0) as number), ch).toBe(true);
    for (const ch of 'az09 `-=[]\\;\',./é€\n') expect(isShiftedOnUSLayout(ch.codePointAt(0) as number), ch).toBe(false);
  });
});

test.describe('parseChord', () => {
  test('resolves names in press order, whitespace tolerant and case-insensitive', () => {
    expect(parseChord('ctrl+alt+t')).toEqual([0xffe3, 0xffe9, 0x74]);
    expect(parseChord('Ctrl + Shift + Esc')).toEqual([0xffe3, 0xffe1, 0xff1b]);
    expect(parseChord('enter')).toEqual([0xff0d]);
    expect(parseChord('super+L')).toEqual([0xffeb, 0x4c]);
  });

  test('plus and minus by name, and a literal "+" as the last key', () => {
    expect(parseChord('shift+plus')).toEqual([0xffe1, 0x2b]);
    expect(parseChord('ctrl+minus')).toEqual([0xffe3, 0x2d]);
    expect(parseChord('ctrl+-')).toEqual([0xffe3, 0x2d]);
    expect(parseChord('ctrl++')).toEqual([0xffe3, 0x2b]);
    expect(parseChord('ctrl + +')).toEqual([0xffe3, 0x2b]);
    expect(parseChord('+')).toEqual([0x2b]);
  });

  test('an empty chord or an empty part is rejected with a clear message', () => {
    expect(inputErrorMessage(() => parseChord(''))).toContain('chord is empty');
    expect(inputErrorMessage(() => parseChord('   '))).toContain('chord is empty');
    expect(inputErrorMessage(() => parseChord('ctrl+'))).toContain('Empty key name after the last "+"');
    expect(inputErrorMessage(() => parseChord('+a'))).toContain('Empty key name before the first "+"');
    expect(inputErrorMessage(() => parseChord('ctrl++a'))).toContain('Empty key name between "+" signs');
  });

  test('an unknown key names it, the chord, and a close name', () => {
    expect(inputErrorMessage(() => parseChord('ctrl+entr'))).toBe(
      'Unknown key "entr" in "ctrl+entr". Did you mean "enter"? Key names are listed in the README (Keys).',
    );
    expect(inputErrorMessage(() => parseChord('ctrl-alt-t'))).toContain('Join keys with "+"');
  });

  test('a key listed twice is rejected', () => {
    expect(inputErrorMessage(() => parseChord('ctrl+control+c'))).toContain('appears twice');
  });
});

test.describe('key events', () => {
  test('a chord presses in order and releases in reverse order', () => {
    expect(keyEventsForChord(parseChord('ctrl+alt+t'))).toEqual([
      down(0xffe3),
      down(0xffe9),
      down(0x74),
      up(0x74),
      up(0xffe9),
      up(0xffe3),
    ]);
    expect(keyEventsForChord([])).toEqual([]);
    expect(inputErrorMessage(() => keyEventsForChord([0]))).toContain('not a keysym');
  });

  test('"Hello!" wraps only the shifted characters in Shift', () => {
    expect(keyEventsForText('Hello!')).toEqual([
      down(SHIFT), down(0x48), up(0x48), up(SHIFT),
      down(0x65), up(0x65),
      down(0x6c), up(0x6c),
      down(0x6c), up(0x6c),
      down(0x6f), up(0x6f),
      down(SHIFT), down(0x21), up(0x21), up(SHIFT),
    ]);
  });

  test('"\\r\\n" is one Return; lone "\\n" and "\\r" are one each; tab is Tab', () => {
    expect(keyEventsForText('\r\n')).toEqual([down(0xff0d), up(0xff0d)]);
    expect(keyEventsForText('a\r\nb')).toEqual([down(0x61), up(0x61), down(0xff0d), up(0xff0d), down(0x62), up(0x62)]);
    expect(keyEventsForText('\n\r')).toEqual([down(0xff0d), up(0xff0d), down(0xff0d), up(0xff0d)]);
    expect(keyEventsForText('\t')).toEqual([down(0xff09), up(0xff09)]);
  });

  test('text is iterated by code point, not UTF-16 unit', () => {
    expect(keyEventsForText('😀é€')).toEqual([
      down(0x101f600), up(0x101f600),
      down(0xe9), up(0xe9),
      down(0x20ac), up(0x20ac),
    ]);
    expect(keyEventsForText('')).toEqual([]);
  });

  test('a control character is rejected naming U+XXXX and its index', () => {
    const message = inputErrorMessage(() => keyEventsForText('ab\u0007c'));
    expect(message).toContain('U+0007');
    expect(message).toContain('index 2');
    expect(inputErrorMessage(() => keyEventsForText('x\ud83d'))).toContain('U+D83D at index 1');
  });
});
