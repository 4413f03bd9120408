/**
 * The shape of a tool: a schema (zod, as the MCP SDK takes it), a description for the model, and
 * a handler over the shared context. One file per family of tools under ./tools/.
 */
import type { z } from 'zod';
import type { McpContext } from './context.js';
import type { ImageFormat } from './image.js';

export interface ToolOutcome {
  /** What happened, for the model (each a line). */
  lines: string[];
  /**
   * 'after-action': wait for the screen to settle and add a screenshot (unless turned off);
   * 'always': add one (screenshot, wait); 'none' (default): no image.
   */
  screenshot?: 'after-action' | 'always' | 'none';
  /** Image format for this result; default the server's. */
  format?: ImageFormat;
  /** What the stderr line says about the call (no typed text, no clipboard text). */
  log: string;
}

export interface ToolDefinition<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  schema: Shape;
  /** Only looks (served with --read-only too). */
  readOnly: boolean;
  /** Acts on the desktop: one stderr line per call. */
  handle(context: McpContext, args: z.infer<z.ZodObject<Shape>>): Promise<ToolOutcome>;
}

/** Keeps a tool's argument types tied to its schema. */
export function defineTool<Shape extends z.ZodRawShape>(tool: ToolDefinition<Shape>): ToolDefinition<Shape> {
  return tool;
}

/** Said in every tool that takes a point. */
export const COORDINATES_NOTE =
  'Coordinates are pixels in the space of the last screenshot (its width and height, top-left is 0,0); the server maps them to the real screen.';
