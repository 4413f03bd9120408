#!/usr/bin/env node
// Generates src/rfb/keyboard-layouts/layouts.generated.ts: for each keyboard layout, which key
// (as a QEMU "XT" scancode number) and which modifiers (Shift, AltGr) produce each keysym.
//
// Sources, both well kept:
// - the layouts: Debian's xkb-data (/usr/share/X11/xkb), compiled with xkbcomp (x11-xkb-utils)
//   the way an X server or a Wayland compositor does (model pc105, rules evdev);
// - Linux evdev key code -> XT scancode number: the comments QEMU's qemu-keymap writes into
//   /usr/share/qemu/keymaps/* (from QEMU's keycodemapdb), e.g. `# evdev 1 (0x1), QKeyCode "esc", number 0x1`.
//
// Run: node scripts/generate-keyboard-layouts.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Our layout name -> [xkb layout(variant), keycodes alias file]. */
const LAYOUTS = {
  us: ['us', 'qwerty'],
  gb: ['gb', 'qwerty'],
  de: ['de', 'qwertz'],
  'de-nodeadkeys': ['de(nodeadkeys)', 'qwertz'],
  fr: ['fr', 'azerty'],
  es: ['es', 'qwerty'],
  it: ['it', 'qwerty'],
  ch: ['ch', 'qwertz'],
  se: ['se', 'qwerty'],
  fi: ['fi', 'qwerty'],
  no: ['no', 'qwerty'],
  dk: ['dk', 'qwerty'],
  jp: ['jp', 'qwerty'],
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'src', 'rfb', 'keyboard-layouts');
const keysymSource = readFileSync(join(root, 'src', 'rfb', 'keysymdef.generated.ts'), 'utf8');
const keysymByName = new Map();
const charOfKeysym = new Map();
for (const m of keysymSource.matchAll(/\['([A-Za-z0-9_]+)', (0x[0-9a-f]+), (-1|0x[0-9a-f]+)/g)) {
  const keysym = Number.parseInt(m[2], 16);
  keysymByName.set(m[1], keysym);
  if (m[3] !== '-1' && !charOfKeysym.has(keysym)) charOfKeysym.set(keysym, String.fromCodePoint(Number.parseInt(m[3], 16)));
}
if (keysymByName.size < 2000) throw new Error('run scripts/generate-keysyms.mjs first');

/** The human name of an xkb layout or variant, from xkb-data's rules/evdev.lst. */
function describe(xkb) {
  const list = readFileSync('/usr/share/X11/xkb/rules/evdev.lst', 'utf8');
  const [, layout, variant] = /^([a-z]+)(?:\((\w+)\))?$/.exec(xkb);
  const line = variant
    ? new RegExp(`^\\s+${variant}\\s+${layout}: (.+)$`, 'm')
    : new RegExp(`^\\s+${layout}\\s+(.+)$`, 'm');
  const section = variant ? list.slice(list.indexOf('! variant')) : list.slice(list.indexOf('! layout'), list.indexOf('! variant'));
  return line.exec(section)?.[1]?.trim() ?? xkb;
}

function evdevToScancode() {
  const dir = '/usr/share/qemu/keymaps';
  const table = new Map();
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const m of text.matchAll(/^# evdev (\d+) \(0x[0-9a-f]+\), QKeyCode "[^"]*", number (0x[0-9a-f]+)/gim)) {
      table.set(Number(m[1]), Number.parseInt(m[2], 16));
    }
  }
  if (table.size < 80) throw new Error(`only ${table.size} scancodes found in ${dir}: is qemu-system-data installed?`);
  return table;
}

function compile(xkbLayout, aliases) {
  const dir = mkdtempSync(join(tmpdir(), 'xkb-'));
  try {
    const source = join(dir, 'in.xkb');
    writeFileSync(
      source,
      `xkb_keymap {
  xkb_keycodes { include "evdev+aliases(${aliases})" };
  xkb_types { include "complete" };
  xkb_compat { include "complete" };
  xkb_symbols { include "pc+${xkbLayout}+inet(evdev)" };
};
`,
    );
    execFileSync('xkbcomp', ['-w', '0', '-xkb', source, join(dir, 'out.xkb')]);
    return readFileSync(join(dir, 'out.xkb'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SHIFT = 1;
const LOCK = 2;
const LEVEL3 = 4;
const MOD_BITS = { Shift: SHIFT, Lock: LOCK, LevelThree: LEVEL3 };

/** type name -> (modifier combination of SHIFT|LOCK|LEVEL3 -> level, 1-based). */
function parseTypes(text) {
  const types = new Map();
  for (const m of text.matchAll(/type "([^"]+)" \{([^}]*)\}/g)) {
    const body = m[2];
    const mods = /modifiers= ([^;]+);/.exec(body)?.[1] ?? 'none';
    const parse = (expr) => {
      let bits = 0;
      for (const part of expr.split('+')) {
        if (part === 'none' || part === 'None') continue;
        if (!(part in MOD_BITS)) return undefined;
        bits |= MOD_BITS[part];
      }
      return bits;
    };
    const typeMask = parse(mods.split('+').filter((p) => p in MOD_BITS || p === 'none' || p === 'None').join('+'));
    const unreachable = mods.split('+').filter((p) => !(p in MOD_BITS) && p !== 'none' && p !== 'None');
    const map = new Map();
    for (const e of body.matchAll(/map\[([^\]]+)\]= Level(\d+);/g)) {
      const bits = parse(e[1]);
      if (bits !== undefined) map.set(bits, Number(e[2]));
    }
    const levelOf = (combo) => map.get(combo & typeMask) ?? 1;
    types.set(m[1], { levelOf, unreachable });
  }
  return types;
}

function keysymOf(name) {
  if (name === 'NoSymbol' || name === 'VoidSymbol') return undefined;
  if (/^0x[0-9a-f]+$/i.test(name)) return Number.parseInt(name, 16);
  if (/^U[0-9A-Fa-f]{4,6}$/.test(name)) return 0x01000000 + Number.parseInt(name.slice(1), 16);
  // Vendor keysyms (Sun*, osf*) are not in keysymdef.h / XF86keysym.h; no text needs them.
  return keysymByName.get(name);
}

const isLowerUpper = (a, b) => {
  const char = (k) => (k >= 0x01000100 && k <= 0x0110ffff ? String.fromCodePoint(k - 0x01000000) : charOfKeysym.get(k) ?? '');
  const x = char(a);
  const y = char(b);
  return x !== '' && x !== y && x.toUpperCase() === y && x.toLowerCase() === x;
};
const isKeypad = (k) => k >= 0xff80 && k <= 0xffbd;

function autoType(syms) {
  const [a, b, c, d] = syms;
  if (syms.length <= 1) return 'ONE_LEVEL';
  if (syms.length === 2) {
    if (isKeypad(a) || isKeypad(b)) return 'KEYPAD';
    return a !== undefined && b !== undefined && isLowerUpper(a, b) ? 'ALPHABETIC' : 'TWO_LEVEL';
  }
  if (isKeypad(a) || isKeypad(b)) return 'FOUR_LEVEL_KEYPAD';
  const first = a !== undefined && b !== undefined && isLowerUpper(a, b);
  const second = c !== undefined && d !== undefined && isLowerUpper(c, d);
  return first && second ? 'FOUR_LEVEL_ALPHABETIC' : first ? 'FOUR_LEVEL_SEMIALPHABETIC' : 'FOUR_LEVEL';
}

/** Modifier bits for our output: 1 = Shift, 2 = AltGr (ISO_Level3_Shift). */
function outputMods(combo) {
  return (combo & SHIFT ? 1 : 0) | (combo & LEVEL3 ? 2 : 0);
}

function layoutEntries(text, scancodes, description) {
  const keycodes = new Map();
  for (const m of text.matchAll(/^\s*<([A-Z0-9+-]+)>\s*=\s*(\d+);/gm)) keycodes.set(m[1], Number(m[2]));
  const types = parseTypes(text);
  const symbolsSection = text.slice(text.indexOf('xkb_symbols'));
  const candidates = [];
  for (const m of symbolsSection.matchAll(/key\s+<([A-Z0-9+-]+)>\s*\{([^}]*)\};/g)) {
    const keyName = m[1];
    const body = m[2];
    const keycode = keycodes.get(keyName);
    if (keycode === undefined) continue;
    const scancode = scancodes.get(keycode - 8);
    if (scancode === undefined) continue;
    const list = /symbols\[Group1\]\s*=\s*\[([^\]]*)\]/.exec(body)?.[1] ?? /^\s*\[([^\]]*)\]/.exec(body)?.[1];
    if (list === undefined) continue;
    const syms = list.split(',').map((s) => keysymOf(s.trim()));
    const typeName = /type(?:\[Group1\])?\s*=\s*"([^"]+)"/.exec(body)?.[1] ?? autoType(syms);
    const type = types.get(typeName);
    if (!type) throw new Error(`unknown key type ${typeName}`);
    syms.forEach((keysym, index) => {
      if (keysym === undefined) return;
      const level = index + 1;
      let plain = -1;
      let caps = -1;
      for (const combo of [0, SHIFT, LEVEL3, SHIFT | LEVEL3]) {
        if (plain < 0 && type.levelOf(combo) === level) plain = outputMods(combo);
        if (caps < 0 && type.levelOf(combo | LOCK) === level) caps = outputMods(combo);
      }
      if (plain < 0 && caps < 0) return;
      const lessUsual = keyName === 'LSGT' || keyName.startsWith('KP') || isKeypad(keysym) ? 1 : 0;
      // Fewest modifiers first, Shift before AltGr. Among AltGr choices, keys other than the a–z
      // letter keys win: xkb's generic "latin" AltGr extras sit on the letter keys (AltGr+Q = @ on
      // it, fr, es, se), while the symbol a national keyboard prints there (AltGr+ò, AltGr+0,
      // AltGr+2) is on another key; consoles and other systems often know only that one.
      const cost = plain < 0 ? 9 : (plain & 1) + (plain & 2 ? 2 : 0);
      const letterKey = syms[0] !== undefined && syms[0] >= 0x61 && syms[0] <= 0x7a ? 1 : 0;
      candidates.push({ keysym, scancode, plain, caps, rank: [lessUsual, cost, cost >= 2 ? letterKey : 0, keycode] });
    });
  }
  candidates.sort((x, y) => x.rank[0] - y.rank[0] || x.rank[1] - y.rank[1] || x.rank[2] - y.rank[2] || x.rank[3] - y.rank[3]);
  const chosen = new Map();
  for (const c of candidates) if (!chosen.has(c.keysym)) chosen.set(c.keysym, c);
  return { description, entries: [...chosen.values()].sort((a, b) => a.scancode - b.scancode || a.keysym - b.keysym) };
}

const scancodes = evdevToScancode();
mkdirSync(outDir, { recursive: true });
const hex = (n) => `0x${n.toString(16)}`;
const blocks = [];
for (const [name, [xkb, aliases]] of Object.entries(LAYOUTS)) {
  const { description, entries } = layoutEntries(compile(xkb, aliases), scancodes, describe(xkb));
  const rows = [];
  for (let i = 0; i < entries.length; i += 6) {
    rows.push('      ' + entries.slice(i, i + 6).map((e) => `[${hex(e.keysym)}, ${hex(e.scancode)}, ${e.plain}, ${e.caps}]`).join(', ') + ',');
  }
  blocks.push(`  '${name}': {\n    xkb: '${xkb}',\n    description: ${JSON.stringify(description)},\n    keys: [\n${rows.join('\n')}\n    ],\n  },`);
  console.log(`${name}: ${entries.length} keysyms (${description})`);
}
writeFileSync(
  join(outDir, 'layouts.generated.ts'),
  `/*
 * DO NOT EDIT — generated by scripts/generate-keyboard-layouts.mjs from Debian's xkb-data (compiled
 * with xkbcomp, model pc105, evdev rules) and the evdev-to-XT scancode numbers in QEMU's keymaps.
 * Regenerate with: node scripts/generate-keyboard-layouts.mjs
 *
 * Each key entry: [keysym, XT scancode number as the QEMU Extended Key Event carries it (0xe0-prefixed
 * keys have bit 0x80 set), modifiers with Caps Lock off, modifiers with Caps Lock on]; modifiers:
 * 1 = Shift, 2 = AltGr (ISO_Level3_Shift), -1 = this level cannot be reached in that lock state.
 */
export interface LayoutDefinition {
  /** The xkb layout (and variant) the table was compiled from. */
  readonly xkb: string;
  readonly description: string;
  readonly keys: ReadonlyArray<readonly [keysym: number, scancode: number, modifiers: number, modifiersWithCapsLock: number]>;
}

export const LAYOUT_DEFINITIONS = {
${blocks.join('\n')}
} as const satisfies Record<string, LayoutDefinition>;
`,
);
