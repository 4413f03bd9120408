/**
 * Typing on a known keyboard layout: which keys (keysym + XT scancode) and modifiers type each
 * character, with Caps Lock taken into account, and which characters no key of the layout types.
 *
 * Two ways to send what is planned here (the caller picks by what the server confirmed):
 * - by scancode (QEMU Extended Key Event): the remote layout turns keys into characters, as a
 *   physical keyboard's would, so Shift / AltGr are pressed here, by their own scancodes;
 * - by keysym only: the server finds the keysym in its own layout and adds modifiers itself; the
 *   layout only tells which characters need a dead key and which cannot be typed at all.
 */
import { VNCInputError } from '../errors.js';
import { KEYSYM, formatCodePoint, keysymForCodePoint } from '../rfb/keysyms.js';
import { codePointOfKeysym } from '../rfb/keysym-table.js';
import { type KeyboardLayout, type LayoutKey, Modifier } from '../rfb/keyboard-layouts/index.js';
import { type KeyEvent, keyEventsForText } from './key-chord.js';

/** Where the layout keeps no Shift / AltGr key, the scancodes of the PC keyboard's left Shift and right Alt. */
const DEFAULT_SHIFT_SCANCODE = 0x2a;
const DEFAULT_ALTGR_SCANCODE = 0xb8;

export interface PlanOptions {
  /** Send scancodes (the server confirmed QEMU Extended Key Events). */
  scancodes: boolean;
  /** Caps Lock is on at the remote side (only matters with scancodes). */
  capsLock: boolean;
}

/** One character of the text: its key events, or why no key of the layout types it. */
export type CharacterPlan =
  | { text: string; index: number; events: KeyEvent[] }
  | { text: string; index: number; events: undefined; reason: string };

/** Plans `text` character by character ("\r\n" is one Return). Never throws for untypeable characters. */
export function planText(text: string, layout: KeyboardLayout, options: PlanOptions): CharacterPlan[] {
  const plans: CharacterPlan[] = [];
  let index = 0;
  while (index < text.length) {
    const cp = text.codePointAt(index) as number;
    let width = cp > 0xffff ? 2 : 1;
    if (cp === 0x0d && text.charCodeAt(index + 1) === 0x0a) width = 2;
    const piece = text.slice(index, index + width);
    plans.push(planCharacter(cp, piece, index, layout, options));
    index += width;
  }
  return plans;
}

function planCharacter(cp: number, piece: string, index: number, layout: KeyboardLayout, options: PlanOptions): CharacterPlan {
  // Controls that are keys (Return, Tab, BackSpace, Escape): keysymForCodePoint names them or throws.
  if (cp < 0x20 || cp === 0x7f) {
    let keysym: number;
    try {
      keysym = keysymForCodePoint(cp);
    } catch (error) {
      throw new VNCInputError(`Cannot type character ${formatCodePoint(cp)} at index ${index} of the text: ${(error as Error).message}`, { cause: error });
    }
    const key = layout.keyForKeysym(keysym);
    return { text: piece, index, events: [{ keysym, down: true, scancode: key?.scancode }, { keysym, down: false, scancode: key?.scancode }] };
  }
  const keys = layout.keysForCharacter(cp);
  if (!keys) {
    return {
      text: piece,
      index,
      events: undefined,
      reason: `no key of the "${layout.name}" keyboard layout (${layout.description}) types ${formatCodePoint(cp)}, not even with a dead key`,
    };
  }
  if (!options.scancodes) {
    // The server adds modifiers itself: the character's keysym, or the dead key's and then the base's.
    // The layout's own keysym for it (the layout may list U2032 where keysymdef.h has "prime").
    if (keys.length === 1) return { text: piece, index, events: withKeysym(keyEventsForText(piece), keysymForCodePoint(cp), (keys[0] as LayoutKey).keysym) };
    const [dead, base] = keys as [LayoutKey, LayoutKey];
    return {
      text: piece,
      index,
      events: [{ keysym: dead.keysym, down: true }, { keysym: dead.keysym, down: false }, ...keyEventsForText(String.fromCodePoint(codeOf(base)))],
    };
  }
  const events: KeyEvent[] = [];
  for (const key of keys) {
    const modifiers = options.capsLock ? key.modifiersWithCapsLock : key.modifiers;
    if (modifiers < 0) {
      return { text: piece, index, events: undefined, reason: `the "${layout.name}" layout reaches ${formatCodePoint(cp)} only with Caps Lock ${options.capsLock ? 'off' : 'on'}` };
    }
    events.push(...keyWithModifiers(key, modifiers, layout));
  }
  return { text: piece, index, events };
}

function withKeysym(events: KeyEvent[], from: number, to: number): KeyEvent[] {
  return events.map((event) => (event.keysym === from ? { ...event, keysym: to } : event));
}

/** The character a base key types (keysForCharacter found it by character, so there is one). */
function codeOf(key: LayoutKey): number {
  return codePointOfKeysym(key.keysym) ?? 0x20;
}

/** Press the modifiers, the key, release in reverse order; every event with its scancode. */
function keyWithModifiers(key: LayoutKey, modifiers: number, layout: KeyboardLayout): KeyEvent[] {
  const held: KeyEvent[] = [];
  if (modifiers & Modifier.Shift) {
    held.push({ keysym: KEYSYM.Shift_L, down: true, scancode: layout.scancodeOf(KEYSYM.Shift_L) ?? DEFAULT_SHIFT_SCANCODE });
  }
  if (modifiers & Modifier.AltGr) {
    held.push({ keysym: KEYSYM.ISO_Level3_Shift, down: true, scancode: layout.scancodeOf(KEYSYM.ISO_Level3_Shift) ?? DEFAULT_ALTGR_SCANCODE });
  }
  return [
    ...held,
    { keysym: key.keysym, down: true, scancode: key.scancode },
    { keysym: key.keysym, down: false, scancode: key.scancode },
    ...held.reverse().map((event) => ({ ...event, down: false })),
  ];
}

/** Adds the layout's scancode to each event of a chord or single key, where the layout has that keysym. */
export function withScancodes(events: readonly KeyEvent[], layout: KeyboardLayout): KeyEvent[] {
  return events.map((event) => {
    const scancode = layout.keyForKeysym(event.keysym)?.scancode ?? CHORD_FALLBACK.get(event.keysym);
    return scancode === undefined ? { ...event } : { ...event, scancode };
  });
}

/** Keys some layouts lack but every PC keyboard has (AltGr on layouts without level 3 is right Alt). */
const CHORD_FALLBACK: ReadonlyMap<number, number> = new Map([[KEYSYM.ISO_Level3_Shift, DEFAULT_ALTGR_SCANCODE]]);
