/**
 * The whole X11 keysym table (keysymdef.h + XF86keysym.h, generated into keysymdef.generated.ts):
 * names ↔ keysyms ↔ characters, both ways.
 *
 * Which keysym a character gets: the legacy X11 keysym where keysymdef.h maps one exactly to it
 * (é → eacute 0xe9, € → EuroSign 0x20ac, ✓ → checkmark 0xaf3, а → Cyrillic_a 0x6c1), because servers
 * with a fixed keyboard layout (wayvnc, QEMU, macOS, Windows) know those; the Unicode keysym
 * 0x01000000 + code point otherwise.
 */
import { KEYSYM_DEFINITIONS } from './keysymdef.generated.js';

/** Keysyms for Unicode characters are this offset plus the code point (keysymdef.h). */
const UNICODE_OFFSET = 0x01000000;

let tables:
  | {
      byName: Map<string, number>;
      byLowerName: Map<string, number | null>;
      nameOf: Map<number, string>;
      charOf: Map<number, number>;
      legacyFor: Map<number, number>;
    }
  | undefined;

function build(): NonNullable<typeof tables> {
  const byName = new Map<string, number>();
  const byLowerName = new Map<string, number | null>();
  const nameOf = new Map<number, string>();
  const charOf = new Map<number, number>();
  const legacyFor = new Map<number, number>();
  for (const [name, keysym, cp, preferred] of KEYSYM_DEFINITIONS) {
    byName.set(name, keysym);
    const lower = name.toLowerCase();
    const earlier = byLowerName.get(lower);
    // null marks a name that differs only by case between two keysyms (eacute / Eacute).
    byLowerName.set(lower, earlier === undefined || earlier === keysym ? keysym : null);
    if (!nameOf.has(keysym)) nameOf.set(keysym, name);
    if (cp >= 0 && !charOf.has(keysym)) charOf.set(keysym, cp);
    if (cp >= 0 && preferred === 1 && keysym < UNICODE_OFFSET && !legacyFor.has(cp)) legacyFor.set(cp, keysym);
  }
  return { byName, byLowerName, nameOf, charOf, legacyFor };
}

function get(): NonNullable<typeof tables> {
  tables ??= build();
  return tables;
}

/**
 * The keysym of an X11 name as keysymdef.h spells it ("EuroSign", "eacute", "dead_grave",
 * "Cyrillic_a", "XF86AudioMute"). The exact spelling wins; otherwise a case-insensitive match
 * when only one keysym has that name in any case ("eurosign"), else undefined.
 */
export function keysymByName(name: string): number | undefined {
  const { byName, byLowerName } = get();
  return byName.get(name) ?? byLowerName.get(name.toLowerCase()) ?? undefined;
}

/** Whether a name is ambiguous except for its case ("Eacute" vs "eacute" written "EACUTE"). */
export function isCaseAmbiguousKeysymName(name: string): boolean {
  return get().byLowerName.get(name.toLowerCase()) === null;
}

/** The first X11 name of a keysym ("EuroSign"), "U20AC" for Unicode keysyms, or "0x…" when it has none. */
export function keysymName(keysym: number): string {
  const name = get().nameOf.get(keysym);
  if (name !== undefined) return name;
  if (keysym >= UNICODE_OFFSET + 0x100 && keysym <= UNICODE_OFFSET + 0x10ffff) {
    return `U${(keysym - UNICODE_OFFSET).toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `0x${keysym.toString(16)}`;
}

/** The character a keysym types, as a code point, or undefined (function keys, modifiers, dead keys). */
export function codePointOfKeysym(keysym: number): number | undefined {
  if ((keysym >= 0x20 && keysym <= 0x7e) || (keysym >= 0xa0 && keysym <= 0xff)) return keysym;
  if (keysym >= UNICODE_OFFSET + 0x100 && keysym <= UNICODE_OFFSET + 0x10ffff) return keysym - UNICODE_OFFSET;
  return get().charOf.get(keysym);
}

/** The legacy (non-Unicode) keysym keysymdef.h maps exactly to `cp`, if any, outside Latin-1. */
export function legacyKeysymForCodePoint(cp: number): number | undefined {
  return get().legacyFor.get(cp);
}

/** Every keysym name in the table (for suggestions). */
export function allKeysymNames(): IterableIterator<string> {
  return get().byName.keys();
}
