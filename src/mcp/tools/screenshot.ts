/** screenshot: the screen, scaled so its long edge fits the model. */
import { z } from 'zod';
import { defineTool } from '../tool.js';

export const screenshot = defineTool({
  name: 'screenshot',
  title: 'Screenshot',
  description:
    'Take a screenshot of the remote desktop. It is scaled so its long edge is at most the server\'s maximum (default 1280 px); the text says the scale. Coordinates in every other tool are in the space of the last screenshot, so take one before pointing at anything.',
  schema: {
    format: z.enum(['png', 'jpeg']).optional().describe('Image format; default the server\'s (PNG unless started with --format jpeg). JPEG is smaller, PNG exact.'),
  },
  readOnly: true,
  async handle(context, args) {
    await context.bridge();
    return { lines: [], screenshot: 'always', format: args.format, log: 'screenshot' };
  },
});

export const screenshotTools = [screenshot];
