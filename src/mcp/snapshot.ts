/** A screenshot as MCP content: scaled for the model, with the text that says how it maps to the screen. */
import type { ImageContent, TextContent } from '@modelcontextprotocol/sdk/types.js';
import type { VNCAgentBridge } from '../index.js';
import type { McpContext } from './context.js';
import { encodeImage, mappingFor, scaleFrame, scaleOf, type ImageFormat } from './image.js';

export async function screenshotContent(context: McpContext, bridge: VNCAgentBridge, format: ImageFormat = context.settings.format): Promise<[TextContent, ImageContent]> {
  const { width, height } = bridge.screen;
  const mapping = mappingFor(width, height, context.settings.maxSize);
  // Scaling reads the live framebuffer (synchronously, so no update lands half-way) instead of a
  // copy of it; at scale 1 the copy is the picture.
  const shown = mapping.width === width && mapping.height === height ? bridge.screen.capture() : scaleFrame(bridge.session().framebuffer, mapping.width, mapping.height);
  const image = await encodeImage(shown, format, context.settings.jpegQuality);
  context.rememberMapping(mapping);
  const scale = scaleOf(mapping);
  const how =
    scale === 1
      ? `Screenshot ${mapping.width}x${mapping.height} (the screen's own size).`
      : `Screenshot ${mapping.width}x${mapping.height} of the ${mapping.screenWidth}x${mapping.screenHeight} screen (scale ${scale}); give coordinates in this ${mapping.width}x${mapping.height} space.`;
  return [
    { type: 'text', text: how },
    { type: 'image', data: image.toString('base64'), mimeType: format === 'png' ? 'image/png' : 'image/jpeg' },
  ];
}
