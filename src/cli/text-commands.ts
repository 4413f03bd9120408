/**
 * The screen-text commands: `text`, `click-text`, `wait-text`, `find-text`. Their help and parsing
 * live here; running them is in text-run.ts, loaded only when one of them runs (the OCR engine is
 * heavy and other commands never need it).
 */
import type { Rect } from '../rfb/framebuffer.js';

export const TEXT_COMMAND_NAMES = ['text', 'find-text', 'click-text', 'wait-text'] as const;
export type TextCommandName = (typeof TEXT_COMMAND_NAMES)[number];

export type TextCommand =
  | { name: 'text'; region: Rect | undefined }
  | { name: 'find-text'; text: string; region: Rect | undefined; exact: boolean }
  | { name: 'click-text'; text: string; region: Rect | undefined; exact: boolean; nth: number | undefined; double: boolean; button: 'left' | 'middle' | 'right' }
  | { name: 'wait-text'; text: string; region: Rect | undefined; exact: boolean; gone: boolean };

/** The shape of args.ts's CommandSpec (kept here so this file imports nothing from args.ts). */
interface TextCommandSpec {
  synopsis: string;
  summary: string;
  examples: string[];
  options: string[];
}

export const TEXT_COMMANDS: Record<TextCommandName, TextCommandSpec> = {
  text: {
    synopsis: '[--region X,Y,W,H]',
    summary: 'Print the text on the screen (or a region), read by OCR, line by line in reading order; --json adds each word with its box.',
    examples: ['vnc-agent text', 'vnc-agent text --region 0,0,800,200', 'vnc-agent --json text'],
    options: ['region'],
  },
  'find-text': {
    synopsis: 'TEXT [--exact] [--region X,Y,W,H]',
    summary:
      'Print where TEXT is on the screen now, one match per line as "X Y W H text" in reading order (case-insensitive ' +
      'substring unless --exact); exit 1, naming the closest words read, when it is not there.',
    examples: ['vnc-agent find-text Save', 'vnc-agent --json find-text "Save as" --region 0,0,800,600'],
    options: ['exact', 'region'],
  },
  'click-text': {
    synopsis: 'TEXT [--exact] [--nth N] [--region X,Y,W,H] [--button left|right|middle] [--double]',
    summary:
      'Wait (up to --timeout) until TEXT is on the screen and still, then click its middle. Several matches are an error ' +
      'that lists them, unless --nth picks one (0 = first in reading order, -1 = last).',
    examples: ['vnc-agent click-text Discard', 'vnc-agent click-text OK --exact --nth -1', 'vnc-agent --timeout 30 click-text "Install now"'],
    options: ['exact', 'nth', 'region', 'button', 'double'],
  },
  'wait-text': {
    synopsis: 'TEXT [--gone] [--exact] [--region X,Y,W,H]',
    summary: 'Wait (up to --timeout) until TEXT is shown, or with --gone until it is not; exit 1 on timeout, naming what was read instead.',
    examples: ['vnc-agent --timeout 60 wait-text "Installation complete"', 'vnc-agent wait-text Loading --gone'],
    options: ['gone', 'exact', 'region'],
  },
};

export const TEXT_COMMAND_OPTIONS: Record<string, { type: 'string' | 'boolean'; value?: string; help: string }> = {
  exact: { type: 'boolean', help: 'match TEXT case-sensitively as whole words (default: case-insensitive substring)' },
  nth: { type: 'string', value: 'N', help: 'which of several matches: 0 = first in reading order, 1 = second, -1 = last' },
  gone: { type: 'boolean', help: 'wait until the text is no longer shown' },
};

export interface TextParseTools {
  args: string[];
  has(option: string): boolean;
  string(option: string): string | undefined;
  region(): Rect | undefined;
  button(): 'left' | 'middle' | 'right';
  /** Throws the usage error. */
  fail(message: string): never;
}

export function isTextCommand(name: string): name is TextCommandName {
  return (TEXT_COMMAND_NAMES as readonly string[]).includes(name);
}

export function parseTextCommand(name: TextCommandName, tools: TextParseTools): TextCommand {
  const { args, fail } = tools;
  if (name === 'text') {
    if (args.length > 0) fail(`text: unexpected argument ${JSON.stringify(args[0])} (the text command reads the screen; to find a text use find-text)`);
    return { name, region: tools.region() };
  }
  if (args.length === 0) fail(`${name}: missing TEXT (the words to look for)`);
  if (args.length > 1) fail(`${name}: unexpected argument ${JSON.stringify(args[1])} (quote TEXT that contains spaces)`);
  const text = args[0];
  if (text.trim() === '') fail(`${name}: TEXT must not be empty`);
  const exact = tools.has('exact');
  const region = tools.region();
  if (name === 'find-text') return { name, text, region, exact };
  if (name === 'wait-text') return { name, text, region, exact, gone: tools.has('gone') };
  const nthText = tools.string('nth');
  let nth: number | undefined;
  if (nthText !== undefined) {
    if (!/^-?\d+$/.test(nthText) || !Number.isSafeInteger(Number(nthText))) fail(`--nth must be a whole number (0 = first, -1 = last), got ${JSON.stringify(nthText)}`);
    nth = Number(nthText);
  }
  return { name, text, region, exact, nth, double: tools.has('double'), button: tools.button() };
}
