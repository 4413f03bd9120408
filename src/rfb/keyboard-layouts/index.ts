/**
 * Keyboard layouts: which physical key (an XT scancode, as the QEMU Extended Key Event carries it)
 * and which modifiers produce a keysym or a character on a given layout, with Caps Lock off or on.
 * Tables come from xkb-data (see layouts.generated.ts); dead-key composition from dead-keys.ts.
 */
import { VNCConfigError } from '../../errors.js';
import { codePointOfKeysym } from '../keysym-table.js';
import { compositionsFor } from './dead-keys.js';
import { LAYOUT_DEFINITIONS } from './layouts.generated.js';

export type KeyboardLayoutName = keyof typeof LAYOUT_DEFINITIONS;

/** The layout names this library knows ("us", "de", "fr", …). */
export const KEYBOARD_LAYOUT_NAMES = Object.keys(LAYOUT_DEFINITIONS) as readonly KeyboardLayoutName[];

/** Modifier bits of a {@link LayoutKey}. */
export const Modifier = { Shift: 1, AltGr: 2 } as const;

/** One key of a layout and the modifiers to hold with it. */
export interface LayoutKey {
  /** The keysym this key produces with these modifiers. */
  keysym: number;
  /** XT scancode number (0xe0-prefixed keys with bit 0x80 set, as QEMU numbers them). */
  scancode: number;
  /** Modifiers with Caps Lock off: a combination of {@link Modifier} bits; -1 when unreachable. */
  modifiers: number;
  /** Modifiers with Caps Lock on; -1 when unreachable. */
  modifiersWithCapsLock: number;
}

/** How to type one character: the keys in order (a dead key first where one is needed). */
export type KeySequence = readonly LayoutKey[];

export class KeyboardLayout {
  readonly name: KeyboardLayoutName;
  readonly description: string;
  private readonly byKeysym = new Map<number, LayoutKey>();
  private readonly byChar = new Map<number, LayoutKey>();

  constructor(name: KeyboardLayoutName) {
    const definition = LAYOUT_DEFINITIONS[name];
    this.name = name;
    this.description = definition.description;
    for (const [keysym, scancode, modifiers, modifiersWithCapsLock] of definition.keys) {
      const key: LayoutKey = { keysym, scancode, modifiers, modifiersWithCapsLock };
      this.byKeysym.set(keysym, key);
      const cp = codePointOfKeysym(keysym);
      if (cp !== undefined && !this.byChar.has(cp)) this.byChar.set(cp, key);
    }
  }

  /** The key that produces `keysym` on this layout, if any. */
  keyForKeysym(keysym: number): LayoutKey | undefined {
    return this.byKeysym.get(keysym);
  }

  /**
   * The keys that type the character `cp`: its own key, else a dead key and then the base
   * character (é on a German layout: dead_acute, then e), else undefined.
   */
  keysForCharacter(cp: number): KeySequence | undefined {
    const direct = this.byChar.get(cp);
    if (direct) return [direct];
    for (const { deadKeysym, base } of compositionsFor(cp)) {
      const dead = this.byKeysym.get(deadKeysym);
      const baseKey = this.byChar.get(base);
      if (dead && baseKey) return [dead, baseKey];
    }
    return undefined;
  }

  /** The scancode of a modifier key on this layout (Shift_L, ISO_Level3_Shift), if it has one. */
  scancodeOf(keysym: number): number | undefined {
    return this.byKeysym.get(keysym)?.scancode;
  }
}

const loaded = new Map<string, KeyboardLayout>();

/** The layout called `name` (case-insensitive); throws VNCConfigError naming the known ones. */
export function getKeyboardLayout(name: string): KeyboardLayout {
  if (typeof name !== 'string' || !Object.hasOwn(LAYOUT_DEFINITIONS, name.trim().toLowerCase())) {
    throw new VNCConfigError(
      `Unknown keyboard layout ${JSON.stringify(name)}: use one of ${KEYBOARD_LAYOUT_NAMES.join(', ')} ` +
        "(the remote system's keyboard layout; it decides which key makes which character).",
    );
  }
  const key = name.trim().toLowerCase() as KeyboardLayoutName;
  let layout = loaded.get(key);
  if (!layout) {
    layout = new KeyboardLayout(key);
    loaded.set(key, layout);
  }
  return layout;
}
