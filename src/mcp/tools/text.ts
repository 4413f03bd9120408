/**
 * Text on the screen, read by OCR (loaded on first use): read_text, find_text, click_text. Regions
 * and boxes are in the space of the last screenshot, like every coordinate.
 */
import { z } from 'zod';
import { VNCInputError, VNCTimeoutError, type Rect, type VNCAgentBridge } from '../../index.js';
import type { McpContext } from '../context.js';
import { COORDINATES_NOTE, defineTool } from '../tool.js';

const region = z
  .object({
    x: z.number().describe('Left edge, screenshot pixels.'),
    y: z.number().describe('Top edge, screenshot pixels.'),
    width: z.number().describe('Width, screenshot pixels.'),
    height: z.number().describe('Height, screenshot pixels.'),
  })
  .optional()
  .describe('Only this part of the screen (faster, fewer look-alikes); default the whole screen.');

const OCR_NOTE = 'Text is read by OCR (the first read loads the engine, a few seconds); it may misread small or low-contrast text.';

function describeBox(box: Rect): string {
  return `x=${box.x} y=${box.y} width=${box.width} height=${box.height}, centre (${box.x + Math.floor(box.width / 2)}, ${box.y + Math.floor(box.height / 2)})`;
}

function screenRegion(context: McpContext, bridge: VNCAgentBridge, area: Rect | undefined): Rect | undefined {
  return area === undefined ? undefined : context.regionToScreen(bridge, area);
}

export const readText = defineTool({
  name: 'read_text',
  title: 'Read text',
  description: `The text on the screen (or in a region), in reading order, one line per row of text. ${OCR_NOTE} ${COORDINATES_NOTE}`,
  schema: {
    region,
    timeout_ms: z.number().min(1).max(120_000).default(30_000).describe('Give up reading after this long (default 30 000 ms; the first read loads the engine).'),
  },
  readOnly: true,
  async handle(context, args) {
    const bridge = await context.bridge();
    const text = await bridge.screen.text({ region: screenRegion(context, bridge, args.region), timeoutMs: args.timeout_ms });
    const lines = text === '' ? ['(no text was read there)'] : [text];
    return { lines, log: `read_text ${text.split('\n').filter(Boolean).length} lines` };
  },
});

export const findText = defineTool({
  name: 'find_text',
  title: 'Find text',
  description: `Where text is on the screen: every place it is read, with its box and centre in screenshot pixels (click the centre, or use click_text). Case-insensitive substring unless exact. With timeout_ms, waits for the text to appear. ${OCR_NOTE} ${COORDINATES_NOTE}`,
  schema: {
    text: z.string().min(1).max(500).describe('The text to look for.'),
    exact: z.boolean().default(false).describe('Case-sensitive whole-string match.'),
    region,
    timeout_ms: z.number().min(0).max(60_000).default(0).describe('Wait up to this long for the text to appear (default 0: look once).'),
  },
  readOnly: true,
  async handle(context, args) {
    const bridge = await context.bridge();
    const locator = bridge.getByText(args.text, { exact: args.exact, region: screenRegion(context, bridge, args.region) });
    const what = JSON.stringify(args.text);
    try {
      // waitFor names the closest text read when it finds nothing.
      await locator.first().waitFor({ timeout: Math.max(1, args.timeout_ms) });
    } catch (error) {
      if (!(error instanceof VNCTimeoutError)) throw error;
      return { lines: [`${what} is not on the screen: ${error.message}`], log: `find_text ${what}: not found` };
    }
    const matches = await locator.matches();
    const lines = matches.map((match, index) => `${index}: ${JSON.stringify(match.text ?? '')} at ${describeBox(context.boxFromScreen(bridge, match.box))}`);
    return { lines: [`${what} found ${matches.length === 1 ? 'once' : `${matches.length} times`} (screenshot pixels):`, ...lines], log: `find_text ${what}: ${matches.length}` };
  },
});

export const clickText = defineTool({
  name: 'click_text',
  title: 'Click text',
  description: `Wait until text is on the screen and still, then click its middle (e.g. a button label). When the text is read in several places, pass nth (0 = first in reading order) — find_text lists them. ${OCR_NOTE} Returns a screenshot taken once the screen settled.`,
  schema: {
    text: z.string().min(1).max(500).describe('The text to click, e.g. "Save".'),
    exact: z.boolean().default(false).describe('Case-sensitive whole-string match.'),
    nth: z.number().int().min(-100).max(100).optional().describe('Which match, in reading order (0 first, -1 last); needed when there are several.'),
    button: z.enum(['left', 'right', 'middle']).default('left').describe('Mouse button (default left).'),
    count: z.number().int().min(1).max(10).default(1).describe('Clicks in a row: 2 double-clicks.'),
    region,
    timeout_ms: z.number().min(0).max(60_000).default(5000).describe('How long to wait for the text (default 5000 ms).'),
  },
  readOnly: false,
  async handle(context, args) {
    const bridge = await context.bridge();
    const base = bridge.getByText(args.text, { exact: args.exact, region: screenRegion(context, bridge, args.region) });
    const what = JSON.stringify(args.text);
    if (args.nth === undefined) {
      const now = await base.matches();
      if (now.length > 1) {
        const places = now.map((match, index) => `${index}: ${JSON.stringify(match.text ?? '')} at ${describeBox(context.boxFromScreen(bridge, match.box))}`);
        throw new VNCInputError(`${what} is read in ${now.length} places; pass nth to pick one (screenshot pixels):\n${places.join('\n')}`);
      }
    }
    const locator = args.nth === undefined ? base : base.nth(args.nth);
    const match = await locator.click({ button: args.button, clickCount: args.count, timeout: Math.max(1, args.timeout_ms) });
    context.notePointer(bridge);
    const box = context.boxFromScreen(bridge, match.box);
    return { lines: [`Clicked ${JSON.stringify(match.text ?? args.text)} at ${describeBox(box)}.`], screenshot: 'after-action', log: `click_text ${what} at screen (${match.box.x}, ${match.box.y})` };
  },
});

export const textTools = [readText, findText, clickText];
