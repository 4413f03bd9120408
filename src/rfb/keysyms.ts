/**
 * X11 keysyms: the numbers an RFB KeyEvent carries (RFC 6143 §7.5.4).
 *
 * The values are the ones the X Window System assigns in its public headers: `keysymdef.h` for the
 * core set (TTY function keys, cursor keys, keypad, F-keys, modifiers, ISO Level 3 shift, the
 * Latin-1 range) and `XF86keysym.h` for the multimedia and "Internet keyboard" keys (0x1008FFxx).
 * Characters outside Latin-1 use the Unicode mapping those headers describe: keysym =
 * 0x01000000 + code point. This module restates the facts this library needs; it is not a copy of
 * either header.
 *
 * Layer: protocol. Parsing what a user writes ("ctrl+alt+t") lives in `bridge/key-chord.ts`.
 */

import { VNCInputError } from '../errors.js';
import { legacyKeysymForCodePoint } from './keysym-table.js';

/**
 * Keysyms by their X11 name, spelled exactly as keysymdef.h / XF86keysym.h spell them (without the
 * `XK_` / `XF86XK_` prefix; the XF86 ones keep `XF86` as a name prefix, as X tools print them).
 * Every entry is also a key name users may write, case-insensitively (see {@link NAMED_KEYS}).
 */
export const KEYSYM = {
  // TTY function keys
  BackSpace: 0xff08,
  Tab: 0xff09,
  Linefeed: 0xff0a,
  Clear: 0xff0b,
  Return: 0xff0d,
  Pause: 0xff13,
  Scroll_Lock: 0xff14,
  Sys_Req: 0xff15,
  Escape: 0xff1b,
  Delete: 0xffff,

  // International and multi-key character composition
  Multi_key: 0xff20,
  ISO_Level3_Shift: 0xfe03, // AltGr
  ISO_Left_Tab: 0xfe20,

  // Cursor control and motion
  Home: 0xff50,
  Left: 0xff51,
  Up: 0xff52,
  Right: 0xff53,
  Down: 0xff54,
  Page_Up: 0xff55,
  Page_Down: 0xff56,
  End: 0xff57,
  Begin: 0xff58,

  // Miscellaneous functions
  Select: 0xff60,
  Print: 0xff61,
  Execute: 0xff62,
  Insert: 0xff63,
  Undo: 0xff65,
  Redo: 0xff66,
  Menu: 0xff67,
  Find: 0xff68,
  Cancel: 0xff69,
  Help: 0xff6a,
  Mode_switch: 0xff7e,
  Num_Lock: 0xff7f,

  // Keypad
  KP_Space: 0xff80,
  KP_Tab: 0xff89,
  KP_Enter: 0xff8d,
  KP_F1: 0xff91,
  KP_F2: 0xff92,
  KP_F3: 0xff93,
  KP_F4: 0xff94,
  KP_Home: 0xff95,
  KP_Left: 0xff96,
  KP_Up: 0xff97,
  KP_Right: 0xff98,
  KP_Down: 0xff99,
  KP_Prior: 0xff9a,
  KP_Page_Up: 0xff9a,
  KP_Next: 0xff9b,
  KP_Page_Down: 0xff9b,
  KP_End: 0xff9c,
  KP_Begin: 0xff9d,
  KP_Insert: 0xff9e,
  KP_Delete: 0xff9f,
  KP_Multiply: 0xffaa,
  KP_Add: 0xffab,
  KP_Separator: 0xffac,
  KP_Subtract: 0xffad,
  KP_Decimal: 0xffae,
  KP_Divide: 0xffaf,
  KP_0: 0xffb0,
  KP_1: 0xffb1,
  KP_2: 0xffb2,
  KP_3: 0xffb3,
  KP_4: 0xffb4,
  KP_5: 0xffb5,
  KP_6: 0xffb6,
  KP_7: 0xffb7,
  KP_8: 0xffb8,
  KP_9: 0xffb9,
  KP_Equal: 0xffbd,

  // Function keys: F1 is 0xffbe and the rest follow consecutively up to F35.
  F1: 0xffbe,
  F2: 0xffbf,
  F3: 0xffc0,
  F4: 0xffc1,
  F5: 0xffc2,
  F6: 0xffc3,
  F7: 0xffc4,
  F8: 0xffc5,
  F9: 0xffc6,
  F10: 0xffc7,
  F11: 0xffc8,
  F12: 0xffc9,
  F13: 0xffca,
  F14: 0xffcb,
  F15: 0xffcc,
  F16: 0xffcd,
  F17: 0xffce,
  F18: 0xffcf,
  F19: 0xffd0,
  F20: 0xffd1,
  F21: 0xffd2,
  F22: 0xffd3,
  F23: 0xffd4,
  F24: 0xffd5,
  F25: 0xffd6,
  F26: 0xffd7,
  F27: 0xffd8,
  F28: 0xffd9,
  F29: 0xffda,
  F30: 0xffdb,
  F31: 0xffdc,
  F32: 0xffdd,
  F33: 0xffde,
  F34: 0xffdf,
  F35: 0xffe0,

  // Modifiers
  Shift_L: 0xffe1,
  Shift_R: 0xffe2,
  Control_L: 0xffe3,
  Control_R: 0xffe4,
  Caps_Lock: 0xffe5,
  Shift_Lock: 0xffe6,
  Meta_L: 0xffe7,
  Meta_R: 0xffe8,
  Alt_L: 0xffe9,
  Alt_R: 0xffea,
  Super_L: 0xffeb,
  Super_R: 0xffec,
  Hyper_L: 0xffed,
  Hyper_R: 0xffee,

  // XF86keysym.h: backlight, power and "Internet keyboard" keys
  XF86MonBrightnessUp: 0x1008ff02,
  XF86MonBrightnessDown: 0x1008ff03,
  XF86KbdBrightnessUp: 0x1008ff05,
  XF86KbdBrightnessDown: 0x1008ff06,
  XF86Standby: 0x1008ff10,
  XF86AudioLowerVolume: 0x1008ff11,
  XF86AudioMute: 0x1008ff12,
  XF86AudioRaiseVolume: 0x1008ff13,
  XF86AudioPlay: 0x1008ff14,
  XF86AudioStop: 0x1008ff15,
  XF86AudioPrev: 0x1008ff16,
  XF86AudioNext: 0x1008ff17,
  XF86HomePage: 0x1008ff18,
  XF86Mail: 0x1008ff19,
  XF86Search: 0x1008ff1b,
  XF86AudioRecord: 0x1008ff1c,
  XF86Calculator: 0x1008ff1d,
  XF86PowerDown: 0x1008ff21,
  XF86Back: 0x1008ff26,
  XF86Forward: 0x1008ff27,
  XF86Stop: 0x1008ff28,
  XF86Refresh: 0x1008ff29,
  XF86PowerOff: 0x1008ff2a,
  XF86WakeUp: 0x1008ff2b,
  XF86Eject: 0x1008ff2c,
  XF86ScreenSaver: 0x1008ff2d,
  XF86WWW: 0x1008ff2e,
  XF86Sleep: 0x1008ff2f,
  XF86Favorites: 0x1008ff30,
  XF86AudioPause: 0x1008ff31,
  XF86AudioMedia: 0x1008ff32,
  XF86MyComputer: 0x1008ff33,
  XF86AudioRewind: 0x1008ff3e,
  XF86Copy: 0x1008ff57,
  XF86Cut: 0x1008ff58,
  XF86Display: 0x1008ff59,
  XF86Explorer: 0x1008ff5d,
  XF86Paste: 0x1008ff6d,
  XF86Reload: 0x1008ff73,
  XF86AudioForward: 0x1008ff97,
  XF86Suspend: 0x1008ffa7,
  XF86Hibernate: 0x1008ffa8,
  XF86AudioMicMute: 0x1008ffb2,
} as const;

export type KeysymName = keyof typeof KEYSYM;

/**
 * keysymdef.h names of the printable ASCII punctuation keys (their keysym is the character's code).
 * They let a chord say "ctrl+comma" or "shift+plus" where writing the character itself would be
 * awkward.
 */
const ASCII_PUNCTUATION_NAMES = {
  space: 0x20,
  exclam: 0x21,
  quotedbl: 0x22,
  numbersign: 0x23,
  dollar: 0x24,
  percent: 0x25,
  ampersand: 0x26,
  apostrophe: 0x27,
  parenleft: 0x28,
  parenright: 0x29,
  asterisk: 0x2a,
  plus: 0x2b,
  comma: 0x2c,
  minus: 0x2d,
  period: 0x2e,
  slash: 0x2f,
  colon: 0x3a,
  semicolon: 0x3b,
  less: 0x3c,
  equal: 0x3d,
  greater: 0x3e,
  question: 0x3f,
  at: 0x40,
  bracketleft: 0x5b,
  backslash: 0x5c,
  bracketright: 0x5d,
  asciicircum: 0x5e,
  underscore: 0x5f,
  grave: 0x60,
  braceleft: 0x7b,
  bar: 0x7c,
  braceright: 0x7d,
  asciitilde: 0x7e,
} as const;

/**
 * Friendly names people write, mapped to the X11 name they stand for. Lower-case; the lookup is
 * case-insensitive.
 *
 * Deliberate choices where a word is ambiguous:
 * - "next" / "prev" are the media keys (XF86AudioNext/Prev); X11's `Next`/`Prior` aliases of
 *   Page_Down/Page_Up are not accepted (write "pagedown"/"pageup", or "kp_next"/"kp_prior").
 * - "break" is the PC "Pause/Break" key, which sends Pause (X11's separate `Break` keysym, 0xff6b,
 *   is reachable as "0xff6b").
 * - "stop" is the media stop key (XF86AudioStop); the browser's stop is "browser_stop".
 * - "super", "win", "cmd" are the left Super key; "meta" is Meta_L.
 */
const ALIASES: ReadonlyArray<readonly [KeysymName | keyof typeof ASCII_PUNCTUATION_NAMES, readonly string[]]> = [
  ['Return', ['enter']],
  ['BackSpace', ['bksp']],
  ['Escape', ['esc']],
  ['Delete', ['del']],
  ['Insert', ['ins']],
  ['Page_Up', ['pageup', 'pgup']],
  ['Page_Down', ['pagedown', 'pgdn']],
  ['Up', ['arrowup', 'arrow_up']],
  ['Down', ['arrowdown', 'arrow_down']],
  ['Left', ['arrowleft', 'arrow_left']],
  ['Right', ['arrowright', 'arrow_right']],
  ['space', ['spacebar']],
  ['Multi_key', ['compose']],

  // Keypad
  ['KP_Add', ['kp_plus']],
  ['KP_Subtract', ['kp_minus']],
  ['KP_Multiply', ['kp_times']],
  ['KP_Decimal', ['kp_dot', 'kp_period']],
  ['KP_Equal', ['kp_equals']],
  ['KP_Enter', ['kp_return']],
  ['KP_Insert', ['kp_ins']],
  ['KP_Delete', ['kp_del']],
  ['KP_Page_Up', ['kp_pageup', 'kp_pgup']],
  ['KP_Page_Down', ['kp_pagedown', 'kp_pgdn']],

  // Modifiers
  ['Shift_L', ['shift', 'lshift']],
  ['Shift_R', ['rshift']],
  ['Control_L', ['ctrl', 'control', 'lctrl', 'lcontrol', 'ctrl_l']],
  ['Control_R', ['rctrl', 'rcontrol', 'ctrl_r']],
  ['Alt_L', ['alt', 'lalt', 'option', 'opt']],
  ['Alt_R', ['ralt']],
  ['ISO_Level3_Shift', ['altgr', 'alt_gr']],
  ['Meta_L', ['meta', 'lmeta']],
  ['Meta_R', ['rmeta']],
  ['Super_L', ['super', 'lsuper', 'win', 'lwin', 'windows', 'cmd', 'command']],
  ['Super_R', ['rsuper', 'rwin']],
  ['Hyper_L', ['hyper']],
  ['Caps_Lock', ['capslock', 'caps']],
  ['Num_Lock', ['numlock']],
  ['Scroll_Lock', ['scrolllock']],

  // System keys
  ['Print', ['printscreen', 'print_screen', 'prtsc', 'prtscn', 'prtscr']],
  ['Sys_Req', ['sysrq']],
  ['Pause', ['break']],
  ['Menu', ['apps', 'application', 'contextmenu', 'context_menu']],

  // Media and "Internet keyboard" keys
  ['XF86AudioRaiseVolume', ['volumeup', 'volume_up', 'volup']],
  ['XF86AudioLowerVolume', ['volumedown', 'volume_down', 'voldown']],
  ['XF86AudioMute', ['mute', 'volumemute', 'volume_mute']],
  ['XF86AudioMicMute', ['micmute', 'mic_mute']],
  ['XF86AudioPlay', ['play', 'playpause', 'play_pause', 'mediaplay', 'media_play']],
  ['XF86AudioPause', ['mediapause', 'media_pause']],
  ['XF86AudioStop', ['stop', 'mediastop', 'media_stop']],
  ['XF86AudioPrev', ['prev', 'previous', 'prevtrack', 'prev_track', 'mediaprev', 'media_prev']],
  ['XF86AudioNext', ['next', 'nexttrack', 'next_track', 'medianext', 'media_next']],
  ['XF86AudioRecord', ['record']],
  ['XF86AudioRewind', ['rewind']],
  ['XF86AudioForward', ['fastforward', 'fast_forward']],
  ['XF86Back', ['browserback', 'browser_back']],
  ['XF86Forward', ['browserforward', 'browser_forward']],
  ['XF86Refresh', ['browserrefresh', 'browser_refresh', 'refresh']],
  ['XF86Stop', ['browserstop', 'browser_stop']],
  ['XF86HomePage', ['browserhome', 'browser_home', 'homepage']],
  ['XF86Search', ['search', 'browsersearch', 'browser_search']],
  ['XF86Favorites', ['favorites', 'browserfavorites', 'browser_favorites']],
  ['XF86WWW', ['www', 'browser']],
  ['XF86Mail', ['mail', 'email']],
  ['XF86Calculator', ['calculator', 'calc']],
  ['XF86MyComputer', ['mycomputer', 'my_computer']],
  ['XF86Explorer', ['explorer', 'filemanager', 'file_manager']],
  ['XF86Sleep', ['sleep']],
  ['XF86Suspend', ['suspend']],
  ['XF86Hibernate', ['hibernate']],
  ['XF86WakeUp', ['wakeup', 'wake_up']],
  ['XF86PowerOff', ['poweroff', 'power_off']],
  ['XF86ScreenSaver', ['screensaver', 'screen_saver']],
  ['XF86Eject', ['eject']],
  ['XF86MonBrightnessUp', ['brightnessup', 'brightness_up']],
  ['XF86MonBrightnessDown', ['brightnessdown', 'brightness_down']],
  ['XF86KbdBrightnessUp', ['kbdbrightnessup', 'kbd_brightness_up']],
  ['XF86KbdBrightnessDown', ['kbdbrightnessdown', 'kbd_brightness_down']],
];

function buildNamedKeys(): Map<string, number> {
  const table = new Map<string, number>();
  const add = (name: string, keysym: number): void => {
    const key = name.toLowerCase();
    const existing = table.get(key);
    if (existing !== undefined && existing !== keysym) {
      // A bug in the tables above, caught the first time the module loads.
      throw new Error(`keysym table: "${key}" is defined twice (0x${existing.toString(16)} and 0x${keysym.toString(16)})`);
    }
    table.set(key, keysym);
  };
  for (const [name, keysym] of Object.entries(KEYSYM)) add(name, keysym);
  for (const [name, keysym] of Object.entries(ASCII_PUNCTUATION_NAMES)) add(name, keysym);
  const canonical: Record<string, number> = { ...KEYSYM, ...ASCII_PUNCTUATION_NAMES };
  for (const [target, aliases] of ALIASES) {
    const keysym = canonical[target];
    if (keysym === undefined) throw new Error(`keysym table: alias target "${target}" is not defined`);
    for (const alias of aliases) add(alias, keysym);
  }
  return table;
}

/**
 * Every key name a user may write, lower-cased, mapped to its keysym: the X11 names of
 * {@link KEYSYM} and the ASCII punctuation ("plus", "minus", "comma", ...), plus friendly aliases
 * ("enter", "esc", "pgup", "ctrl", "win", "altgr", "volumeup", ...). Look names up lower-cased.
 * Letters, digits and other single characters are not listed: a one-character key name is typed as
 * that character (see {@link keysymForCodePoint}).
 */
export const NAMED_KEYS: ReadonlyMap<string, number> = buildNamedKeys();

/** The largest keysym value: keysyms are 29-bit numbers (the top three bits are always zero). */
export const MAX_KEYSYM = 0x1fffffff;

/** Keysyms for Unicode characters outside Latin-1 are this offset plus the code point. */
export const UNICODE_KEYSYM_OFFSET = 0x01000000;

/** Formats a code point the way Unicode charts do: "U+0007", "U+20AC", "U+1F600". */
export function formatCodePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The keysym that types the character `cp`.
 *
 * - Printable Latin-1 (U+0020–U+007E, U+00A0–U+00FF): the keysym equals the code point.
 * - Line feed and carriage return: Return; tab: Tab; backspace (U+0008): BackSpace; escape
 *   (U+001B): Escape.
 * - Characters keysymdef.h gives a legacy keysym (é is Latin-1 already; € → EuroSign 0x20ac,
 *   œ → oe 0x13bd, а → Cyrillic_a 0x6c1, α → Greek_alpha 0x7e1, ✓ → checkmark 0xaf3): that keysym,
 *   which servers with a fixed keyboard layout know.
 * - Any other character, astral ones (emoji) included: 0x01000000 + code point.
 *
 * Throws `VNCInputError` for what no key types: other C0 controls, DEL, C1 controls, lone
 * surrogates, and numbers that are not code points. The message names the character as U+XXXX;
 * where it sits in the caller's text is for the caller to add.
 */
export function keysymForCodePoint(cp: number): number {
  if (!Number.isInteger(cp) || cp < 0 || cp > 0x10ffff) {
    throw new VNCInputError(`${String(cp)} is not a Unicode code point (expected an integer from 0 to 0x10FFFF).`);
  }
  switch (cp) {
    case 0x0a:
    case 0x0d:
      return KEYSYM.Return;
    case 0x09:
      return KEYSYM.Tab;
    case 0x08:
      return KEYSYM.BackSpace;
    case 0x1b:
      return KEYSYM.Escape;
  }
  if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
    throw new VNCInputError(
      `${formatCodePoint(cp)} is a control character and no key types it. ` +
        'Remove it from the text, or press a named key instead (e.g. "enter", "tab", "escape").',
    );
  }
  if (cp >= 0xd800 && cp <= 0xdfff) {
    throw new VNCInputError(
      `${formatCodePoint(cp)} is a lone UTF-16 surrogate, not a character; the string is malformed ` +
        '(it may have been cut in the middle of an emoji or other astral character).',
    );
  }
  return legacyKeysymForCodePoint(cp) ?? UNICODE_KEYSYM_OFFSET + cp;
}

/** Characters that need Shift on a US keyboard, besides the capital letters. */
const US_SHIFTED_SYMBOLS = new Set(Array.from('~!@#$%^&*()_+{}|:"<>?', (ch) => ch.codePointAt(0) as number));

/**
 * Whether typing `cp` on a US keyboard takes Shift: the capital letters A–Z and
 * `~ ! @ # $ % ^ & * ( ) _ + { } | : " < > ?`.
 */
export function isShiftedOnUSLayout(cp: number): boolean {
  return (cp >= 0x41 && cp <= 0x5a) || US_SHIFTED_SYMBOLS.has(cp);
}
