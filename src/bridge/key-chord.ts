/**
 * What users write for keys, turned into keysyms and key events: single key names ("enter", "F5",
 * "é"), chords ("ctrl+alt+t", "Ctrl + Shift + Esc", "ctrl++") and text to type ("Hello!\r\n").
 *
 * The keysym facts come from `rfb/keysyms.ts`; this module only parses and plans press/release
 * order. Sending the events is the caller's job.
 */

import { VNCInputError } from '../errors.js';
import {
  KEYSYM,
  MAX_KEYSYM,
  NAMED_KEYS,
  formatCodePoint,
  isShiftedOnUSLayout,
  keysymForCodePoint,
} from '../rfb/keysyms.js';
import { isCaseAmbiguousKeysymName, keysymByName } from '../rfb/keysym-table.js';
import { editDistance } from '../transport/suggest.js';

/** One RFB KeyEvent to send: press (`down: true`) or release (`down: false`) of `keysym`. */
export interface KeyEvent {
  keysym: number;
  down: boolean;
  /** The key's XT scancode, sent with the keysym where the server takes QEMU Extended Key Events. */
  scancode?: number;
}

const README_HINT = 'Key names are listed in the README (Keys).';

/** How many names an "unknown key" error suggests at most. */
const MAX_SUGGESTIONS = 3;

/**
 * The keysym for one key name:
 * 1. a name from the table (case-insensitive, surrounding spaces ignored): "Enter", "esc",
 *    "Page_Up", "KP_Enter", "ctrl", "altgr", "volumeup", "XF86AudioRaiseVolume", "plus", ...;
 * 2. a single character, case kept ("a" is 0x61, "A" is 0x41, "€" is EuroSign 0x20ac, " " is space);
 * 3. any X11 keysym name as keysymdef.h spells it ("EuroSign", "eacute", "dead_grave", "Cyrillic_a");
 *    case-insensitive only where that is unambiguous;
 * 4. a keysym number written in hex, "0xff0d", or a code point written "U+20AC".
 *
 * Throws `VNCInputError` for anything else, suggesting the closest known names.
 */
export function resolveKey(name: string): number {
  return resolveKeyIn(name, undefined);
}

/**
 * The keysyms of a chord such as "ctrl+alt+t", in press order. Parts are joined by "+", spaces
 * around them are ignored, names are resolved by {@link resolveKey}. A literal "+" may be the last
 * key ("ctrl++", "ctrl + +"); elsewhere write "plus" (and "minus" for "-"). Release the keys in the
 * reverse order (see {@link keyEventsForChord}).
 *
 * Throws `VNCInputError` for an empty chord, an empty part ("ctrl++a", "ctrl+"), an unknown key, or
 * a key listed twice.
 */
export function parseChord(chord: string): number[] {
  if (typeof chord !== 'string') {
    throw new VNCInputError(`A key chord must be a string such as "ctrl+c", got ${describeValue(chord)}.`);
  }
  let rest = chord.trim();
  if (rest === '') {
    throw new VNCInputError(`The key chord is empty. Write key names joined by "+", e.g. "ctrl+c" or "enter". ${README_HINT}`);
  }

  // A trailing "+" after a separator is the plus key itself: "ctrl++" is ctrl and "+".
  if (rest === '+') return [0x2b];
  let trailingPlus = false;
  if (rest.endsWith('+')) {
    const beforeKey = rest.slice(0, -1).trimEnd();
    if (beforeKey.endsWith('+')) {
      rest = beforeKey.slice(0, -1);
      trailingPlus = true;
    }
  }

  const parts = rest.split('+');
  const keysyms: number[] = [];
  const seen = new Map<number, string>();
  parts.forEach((raw, index) => {
    const part = raw.trim();
    if (part === '') {
      const where = parts.length === 1 ? '' : index === 0 ? ' before the first "+"' : index === parts.length - 1 ? ' after the last "+"' : ` between "+" signs (part ${index + 1})`;
      throw new VNCInputError(
        `Empty key name${where} in "${chord}". Join key names with a single "+", e.g. "ctrl+shift+t"; ` +
          'write the plus key as "plus" (or as the last key: "ctrl++") and the minus key as "minus".',
      );
    }
    pushUnique(keysyms, seen, resolveKeyIn(part, chord), part, chord);
  });
  if (trailingPlus) pushUnique(keysyms, seen, 0x2b, '+', chord);
  return keysyms;
}

/**
 * Key events that type `text`, character by character (by code point: an emoji is one character).
 * "\r\n", "\n" and "\r" each type one Return; "\t" types Tab. Characters that need Shift on a US
 * keyboard (A–Z and ~!@#$%^&*()_+{}|:"<>?) are wrapped in Shift_L down/up, as a real keyboard does;
 * the rest are a press and a release.
 *
 * Throws `VNCInputError` for characters no key types (control characters other than the ones above,
 * lone surrogates), naming the character as U+XXXX and its index in the string (UTF-16 index, as
 * `text[index]` / `text.codePointAt(index)` count).
 */
export function keyEventsForText(text: string): KeyEvent[] {
  if (typeof text !== 'string') {
    throw new VNCInputError(`The text to type must be a string, got ${describeValue(text)}.`);
  }
  const events: KeyEvent[] = [];
  let index = 0;
  while (index < text.length) {
    const cp = text.codePointAt(index) as number;
    const width = cp > 0xffff ? 2 : 1;
    let keysym: number;
    try {
      keysym = keysymForCodePoint(cp);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new VNCInputError(`Cannot type character ${formatCodePoint(cp)} at index ${index} of the text: ${reason}`, {
        cause: error,
      });
    }
    if (isShiftedOnUSLayout(cp)) {
      events.push(
        { keysym: KEYSYM.Shift_L, down: true },
        { keysym, down: true },
        { keysym, down: false },
        { keysym: KEYSYM.Shift_L, down: false },
      );
    } else {
      events.push({ keysym, down: true }, { keysym, down: false });
    }
    // A CR LF pair is one line break: one Return.
    index += cp === 0x0d && text.charCodeAt(index + 1) === 0x0a ? 2 : width;
  }
  return events;
}

/**
 * Key events for pressing a chord: every key down in the given order, then every key up in reverse
 * order (ctrl, alt, t → ctrl↓ alt↓ t↓ t↑ alt↑ ctrl↑).
 */
export function keyEventsForChord(keysyms: readonly number[]): KeyEvent[] {
  for (const keysym of keysyms) assertKeysym(keysym);
  const events: KeyEvent[] = keysyms.map((keysym) => ({ keysym, down: true }));
  for (let i = keysyms.length - 1; i >= 0; i--) events.push({ keysym: keysyms[i] as number, down: false });
  return events;
}

// ---------------------------------------------------------------------------------------------

function resolveKeyIn(name: string, chord: string | undefined): number {
  if (typeof name !== 'string') {
    throw new VNCInputError(`A key name must be a string such as "enter" or "a", got ${describeValue(name)}.`);
  }
  const context = chord === undefined ? '' : ` in "${chord}"`;
  if (name === '') {
    throw new VNCInputError(`Empty key name${context}. Write a key name such as "enter", "f5" or "a". ${README_HINT}`);
  }

  const trimmed = name.trim();
  const lower = trimmed.toLowerCase();
  const named = NAMED_KEYS.get(lower);
  if (named !== undefined) return named;

  // One character, case kept. An untrimmed " " is the space bar; " a " is "a".
  const single = singleCodePoint(name) ?? singleCodePoint(trimmed);
  if (single !== undefined) {
    try {
      return keysymForCodePoint(single);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new VNCInputError(`Key ${formatCodePoint(single)}${context} cannot be pressed: ${reason}`, { cause: error });
    }
  }

  // Any X11 keysym name as keysymdef.h spells it: "EuroSign", "eacute", "dead_grave", "Cyrillic_a".
  const x11 = keysymByName(trimmed);
  if (x11 !== undefined) return x11;
  if (isCaseAmbiguousKeysymName(trimmed)) {
    throw new VNCInputError(
      `Key name "${trimmed}"${context} names different keysyms depending on case (e.g. "eacute" is é, "Eacute" is É): ` +
        'write it exactly as keysymdef.h spells it.',
    );
  }

  if (/^0x[0-9a-f]+$/i.test(trimmed)) {
    const value = Number.parseInt(trimmed.slice(2), 16);
    if (value < 1 || value > MAX_KEYSYM) {
      throw new VNCInputError(
        `Keysym ${trimmed}${context} is out of range: keysyms are from 0x1 to 0x${MAX_KEYSYM.toString(16)}.`,
      );
    }
    return value;
  }

  if (/^u\+[0-9a-f]{1,6}$/i.test(trimmed)) {
    const cp = Number.parseInt(trimmed.slice(2), 16);
    try {
      return keysymForCodePoint(cp);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new VNCInputError(`Key "${trimmed}"${context} cannot be pressed: ${reason}`, { cause: error });
    }
  }

  throw new VNCInputError(unknownKeyMessage(trimmed, context));
}

function unknownKeyMessage(name: string, context: string): string {
  let message = `Unknown key "${name}"${context}.`;
  // "ctrl-alt-t" written with dashes: say how to join keys instead of guessing a name.
  if (name.includes('-') && name.split('-').every((part) => part !== '' && isKnownName(part))) {
    return `${message} Join keys with "+", not "-": "${name.split('-').join('+')}". ${README_HINT}`;
  }
  const suggestions = suggestKeyNames(name);
  if (suggestions.length > 0) message += ` Did you mean ${joinOr(suggestions.map((s) => `"${s}"`))}?`;
  return `${message} ${README_HINT}`;
}

function isKnownName(name: string): boolean {
  return NAMED_KEYS.has(name.trim().toLowerCase()) || singleCodePoint(name.trim()) !== undefined;
}

/**
 * Up to three known names closest to `name` by edit distance (insertions, deletions, substitutions
 * and swaps of neighbours): only names close enough to be a typo, only those at the smallest distance
 * found, at most one name per keysym.
 */
function suggestKeyNames(name: string): string[] {
  const query = name.toLowerCase();
  const limit = query.length <= 3 ? 1 : query.length <= 6 ? 2 : 3;
  const bestPerKeysym = new Map<number, { name: string; distance: number }>();
  for (const [candidate, keysym] of NAMED_KEYS) {
    if (Math.abs(candidate.length - query.length) > limit) continue;
    const distance = editDistance(query, candidate);
    if (distance > limit) continue;
    const best = bestPerKeysym.get(keysym);
    if (best === undefined || distance < best.distance || (distance === best.distance && candidate < best.name)) {
      bestPerKeysym.set(keysym, { name: candidate, distance });
    }
  }
  const candidates = [...bestPerKeysym.values()];
  const closest = Math.min(...candidates.map((entry) => entry.distance));
  return candidates
    .filter((entry) => entry.distance === closest)
    .sort((a, b) => a.distance - b.distance || a.name.length - b.name.length || (a.name < b.name ? -1 : 1))
    .slice(0, MAX_SUGGESTIONS)
    .map((entry) => entry.name);
}


function joinOr(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** The code point if `s` is exactly one character (one code point), else undefined. */
function singleCodePoint(s: string): number | undefined {
  if (s.length === 0 || s.length > 2) return undefined;
  const cp = s.codePointAt(0) as number;
  return (cp > 0xffff ? 2 : 1) === s.length ? cp : undefined;
}

function pushUnique(keysyms: number[], seen: Map<number, string>, keysym: number, part: string, chord: string): void {
  const earlier = seen.get(keysym);
  if (earlier !== undefined) {
    throw new VNCInputError(`Key "${part}" appears twice in "${chord}" (same key as "${earlier}"); list each key once.`);
  }
  seen.set(keysym, part);
  keysyms.push(keysym);
}

function assertKeysym(keysym: unknown): void {
  if (typeof keysym !== 'number' || !Number.isInteger(keysym) || keysym < 1 || keysym > MAX_KEYSYM) {
    throw new VNCInputError(
      `${describeValue(keysym)} is not a keysym: keysyms are integers from 0x1 to 0x${MAX_KEYSYM.toString(16)}.`,
    );
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? `0x${value.toString(16)}` : String(value);
  return value === null ? 'null' : typeof value;
}
