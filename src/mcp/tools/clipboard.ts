/** Clipboard tools: clipboard_get, clipboard_set. */
import { z } from 'zod';
import { VNCTimeoutError } from '../../index.js';
import { defineTool } from '../tool.js';

export const clipboardGet = defineTool({
  name: 'clipboard_get',
  title: 'Read the clipboard',
  description:
    "The remote desktop's clipboard text: what was last copied there (or set with clipboard_set). Servers announce clipboard text when it changes, so copy something (e.g. key ctrl+c) before reading; waits up to timeout_ms for an announcement when none has come yet.",
  schema: {
    timeout_ms: z.number().min(0).max(60_000).default(2000).describe('How long to wait for the server to announce clipboard text (default 2000 ms).'),
  },
  readOnly: true,
  async handle(context, args) {
    const bridge = await context.bridge();
    try {
      const text = await bridge.clipboard.getText({ timeoutMs: args.timeout_ms });
      return { lines: [text], log: `clipboard_get ${[...text].length} characters` };
    } catch (error) {
      if (!(error instanceof VNCTimeoutError)) throw error;
      return {
        lines: [`The server announced no clipboard text within ${args.timeout_ms} ms: copy something on the desktop first (e.g. select text and press ctrl+c), then read again.`],
        log: 'clipboard_get: nothing announced',
      };
    }
  },
});

export const clipboardSet = defineTool({
  name: 'clipboard_set',
  title: 'Set the clipboard',
  description:
    "Make text the remote desktop's clipboard, ready to paste there (e.g. key ctrl+v, or shift+Insert in terminals). Some servers (TigerVNC) keep it only while this server stays connected.",
  schema: {
    text: z.string().max(1_000_000).describe('The text to put on the clipboard.'),
  },
  readOnly: false,
  async handle(context, args) {
    const bridge = await context.bridge();
    await bridge.clipboard.setText(args.text);
    const count = [...args.text].length;
    return { lines: [`The clipboard now holds ${count} character${count === 1 ? '' : 's'}.`], log: `clipboard_set ${count} characters` };
  },
});

export const clipboardTools = [clipboardGet, clipboardSet];
