/** Keyboard tools: type, key, hold_key. */
import { z } from 'zod';
import { sleep } from '../../bridge/waiting.js';
import { defineTool } from '../tool.js';

const KEY_NAMES =
  'Key names: letters and digits, Return (enter), Tab, Escape (esc), BackSpace, Delete, Home, End, Page_Up, Page_Down, Up, Down, Left, Right, F1–F12, space, and modifiers ctrl, alt, shift, super (meta/win).';

export const type = defineTool({
  name: 'type',
  title: 'Type text',
  description:
    'Type text on the keyboard of the remote desktop, into whatever has the keyboard focus (click a field first). Any Unicode text; "\\n" presses Return and "\\t" Tab. Returns a screenshot taken once the screen settled.',
  schema: {
    text: z.string().max(100_000).describe('The text to type.'),
    delay_ms: z.number().min(0).max(1000).optional().describe('Pause after each character in ms (default: the connection typing rate, about 30 keys/s).'),
  },
  readOnly: false,
  async handle(context, args) {
    const bridge = await context.bridge();
    await bridge.keyboard.type(args.text, args.delay_ms === undefined ? {} : { delayMs: args.delay_ms });
    // The log says how much was typed, never what: it may be a password.
    const count = [...args.text].length;
    return { lines: [`Typed ${count} character${count === 1 ? '' : 's'}.`], screenshot: 'after-action', log: `type ${count} characters` };
  },
});

export const key = defineTool({
  name: 'key',
  title: 'Press a key or chord',
  description: `Press a key or a chord: names joined by "+", e.g. "Return", "ctrl+c", "ctrl+alt+t", "shift+Tab"; modifiers are released in reverse order. Several chords separated by spaces are pressed one after another ("ctrl+a BackSpace"). ${KEY_NAMES} Returns a screenshot taken once the screen settled.`,
  schema: {
    keys: z.string().min(1).max(1000).describe('A key or chord such as "ctrl+alt+t"; several separated by spaces.'),
    repeat: z.number().int().min(1).max(100).default(1).describe('Press it this many times (default 1).'),
  },
  readOnly: false,
  async handle(context, args) {
    const bridge = await context.bridge();
    // Spaces next to "+" belong to a chord ("ctrl + c"); others separate chords.
    const chords = args.keys.trim().split(/(?<!\+)\s+(?!\+)/);
    for (let i = 0; i < args.repeat; i++) for (const chord of chords) await bridge.keyboard.press(chord);
    const what = `${chords.join(' ')}${args.repeat > 1 ? ` ×${args.repeat}` : ''}`;
    return { lines: [`Pressed ${what}.`], screenshot: 'after-action', log: `key ${what}` };
  },
});

export const holdKey = defineTool({
  name: 'hold_key',
  title: 'Hold keys down',
  description: `Hold a key or chord (e.g. "shift", "ctrl+alt") down for duration_ms, then release it. ${KEY_NAMES} Returns a screenshot taken once the screen settled.`,
  schema: {
    keys: z.string().min(1).max(200).describe('A key or chord to hold, e.g. "shift" or "ctrl+alt".'),
    duration_ms: z.number().min(0).max(10_000).describe('How long to hold it, in ms (at most 10 000).'),
  },
  readOnly: false,
  async handle(context, args) {
    const bridge = await context.bridge();
    await bridge.keyboard.hold(args.keys, () => sleep(args.duration_ms));
    return { lines: [`Held ${args.keys} for ${args.duration_ms} ms.`], screenshot: 'after-action', log: `hold_key ${args.keys} ${args.duration_ms} ms` };
  },
});

export const keyboardTools = [type, key, holdKey];
