/** wait: a pause, or until the screen stops changing. */
import { z } from 'zod';
import { VNCInputError, VNCTimeoutError } from '../../index.js';
import { sleep } from '../../bridge/waiting.js';
import { defineTool } from '../tool.js';

const MAX_WAIT_MS = 60_000;

export const wait = defineTool({
  name: 'wait',
  title: 'Wait',
  description:
    'Wait, then return a screenshot. Either ms milliseconds, or until_still: until the screen has not changed for still_ms (default 500) — at most timeout_ms (default 10 000). Actions already wait for the screen to settle (up to about 2 s); use this for slower things such as a program starting.',
  schema: {
    ms: z.number().min(0).max(MAX_WAIT_MS).optional().describe('Wait this long, in ms (at most 60 000).'),
    until_still: z.boolean().optional().describe('Wait until the screen stops changing instead.'),
    still_ms: z.number().min(50).max(MAX_WAIT_MS).default(500).describe('With until_still: how long the screen must not change (default 500 ms).'),
    timeout_ms: z.number().min(0).max(MAX_WAIT_MS).default(10_000).describe('With until_still: give up after this long (default 10 000 ms).'),
  },
  readOnly: true,
  async handle(context, args) {
    if ((args.ms === undefined) === (args.until_still !== true)) {
      throw new VNCInputError('Give either ms (a pause) or until_still: true (wait for the screen to stop changing), not both and not neither.');
    }
    const bridge = await context.bridge();
    const started = Date.now();
    if (args.ms !== undefined) {
      await sleep(args.ms);
      return { lines: [`Waited ${args.ms} ms.`], screenshot: 'always', log: `wait ${args.ms} ms` };
    }
    try {
      await bridge.screen.waitForStable({ stillMs: args.still_ms, timeoutMs: args.timeout_ms });
    } catch (error) {
      if (!(error instanceof VNCTimeoutError)) throw error;
      return {
        lines: [`The screen kept changing for ${args.timeout_ms} ms; it never stayed still for ${args.still_ms} ms. This is how it looks now.`],
        screenshot: 'always',
        log: `wait until still: still changing after ${args.timeout_ms} ms`,
      };
    }
    const elapsed = Date.now() - started;
    return { lines: [`The screen has been still for ${args.still_ms} ms (waited ${elapsed} ms).`], screenshot: 'always', log: `wait until still ${elapsed} ms` };
  },
});

export const waitTools = [wait];
