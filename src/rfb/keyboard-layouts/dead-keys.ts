/**
 * Dead-key composition: which dead key and base character make a character, derived from Unicode's
 * canonical decomposition (String.prototype.normalize('NFD')), so "é" is dead_acute + "e". A
 * spacing accent ("^", "`", "~", "´", "¨") is its dead key followed by the space bar, as both xkb's
 * Compose tables and the Linux console do.
 */
import { keysymByName } from '../keysym-table.js';

/** Combining mark → the dead keysym that adds it (keysymdef.h names). */
const DEAD_KEY_FOR_MARK: ReadonlyMap<number, string> = new Map([
  [0x0300, 'dead_grave'],
  [0x0301, 'dead_acute'],
  [0x0302, 'dead_circumflex'],
  [0x0303, 'dead_tilde'],
  [0x0304, 'dead_macron'],
  [0x0306, 'dead_breve'],
  [0x0307, 'dead_abovedot'],
  [0x0308, 'dead_diaeresis'],
  [0x030a, 'dead_abovering'],
  [0x030b, 'dead_doubleacute'],
  [0x030c, 'dead_caron'],
  [0x0327, 'dead_cedilla'],
  [0x0328, 'dead_ogonek'],
]);

/** Spacing accents typed as dead key + space. */
const SPACING_ACCENT: ReadonlyMap<number, string> = new Map([
  [0x60, 'dead_grave'],
  [0xb4, 'dead_acute'],
  [0x5e, 'dead_circumflex'],
  [0x7e, 'dead_tilde'],
  [0xaf, 'dead_macron'],
  [0xa8, 'dead_diaeresis'],
  [0xb0, 'dead_abovering'],
  [0xb8, 'dead_cedilla'],
  [0x2d8, 'dead_breve'],
  [0x2d9, 'dead_abovedot'],
  [0x2dd, 'dead_doubleacute'],
  [0x2c7, 'dead_caron'],
  [0x2db, 'dead_ogonek'],
]);

export interface Composition {
  deadKeysym: number;
  /** The character typed after the dead key. */
  base: number;
}

/** Ways to type `cp` with one dead key, most usual first (none for characters that need none). */
export function compositionsFor(cp: number): Composition[] {
  const result: Composition[] = [];
  const spacing = SPACING_ACCENT.get(cp);
  if (spacing) result.push({ deadKeysym: keysymByName(spacing) as number, base: 0x20 });
  const decomposed = Array.from(String.fromCodePoint(cp).normalize('NFD'), (ch) => ch.codePointAt(0) as number);
  if (decomposed.length === 2) {
    const [base, mark] = decomposed as [number, number];
    const dead = DEAD_KEY_FOR_MARK.get(mark);
    if (dead) result.push({ deadKeysym: keysymByName(dead) as number, base });
  }
  return result;
}
