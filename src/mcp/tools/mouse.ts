/** Pointer tools: click, move, drag, scroll, mouse_down, mouse_up, cursor_position. */
import { z } from 'zod';
import { VNCInputError, type Point, type VNCAgentBridge } from '../../index.js';
import type { McpContext } from '../context.js';
import { COORDINATES_NOTE, defineTool } from '../tool.js';

const coordinate = (axis: 'x' | 'y', what = '') => z.number().describe(`${axis === 'x' ? 'Horizontal' : 'Vertical'} position${what} in screenshot pixels.`);
const optionalPoint = {
  x: coordinate('x').optional(),
  y: coordinate('y').optional(),
};
const button = z.enum(['left', 'right', 'middle']).default('left').describe('Mouse button (default left).');

/** (x, y) mapped to the screen; both or neither (then undefined: where the pointer is). */
function optionalTarget(context: McpContext, bridge: VNCAgentBridge, x: number | undefined, y: number | undefined): Point | undefined {
  if (x === undefined && y === undefined) {
    if (context.pointerKnown(bridge)) return undefined;
    throw new VNCInputError('Give x and y: no tool has put the pointer anywhere on this connection yet, and VNC servers do not report where it is.');
  }
  if (x === undefined || y === undefined) throw new VNCInputError('Give both x and y, or neither (to act where the pointer is).');
  return context.toScreen(bridge, x, y);
}

function at(shown: { x?: number; y?: number }, point: Point | undefined): string {
  return point ? ` at (${shown.x}, ${shown.y}) → screen (${point.x}, ${point.y})` : ' where the pointer is';
}

export const click = defineTool({
  name: 'click',
  title: 'Click',
  description: `Click a mouse button at (x, y), or where the pointer is without x and y. count 2 double-clicks. ${COORDINATES_NOTE} Returns a screenshot taken once the screen settled.`,
  schema: {
    ...optionalPoint,
    button,
    count: z.number().int().min(1).max(10).default(1).describe('Clicks in a row: 2 double-clicks, 3 triple-clicks.'),
  },
  readOnly: false,
  async handle(context, args) {
    const bridge = await context.bridge();
    const point = optionalTarget(context, bridge, args.x, args.y);
    await bridge.mouse.click(point?.x, point?.y, { button: args.button, count: args.count });
    context.notePointer(bridge);
    const what = `${args.button} click${args.count > 1 ? ` ×${args.count}` : ''}${at(args, point)}`;
    return { lines: [`Clicked: ${what}.`], screenshot: 'after-action', log: `click ${what}` };
  },
});

export const move = defineTool({
  name: 'move',
  title: 'Move the pointer',
  description: `Move the mouse pointer to (x, y) without clicking (hover). ${COORDINATES_NOTE} Returns a screenshot taken once the screen settled.`,
  schema: { x: coordinate('x'), y: coordinate('y') },
  readOnly: false,
  async handle(context, args) {
    const bridge = await context.bridge();
    const point = context.toScreen(bridge, args.x, args.y);
    await bridge.mouse.move(point.x, point.y);
    context.notePointer(bridge);
    return { lines: [`Moved the pointer to (${args.x}, ${args.y}).`], screenshot: 'after-action', log: `move${at(args, point)}` };
  },
});

export const drag = defineTool({
  name: 'drag',
  title: 'Drag',
  description: `Press a mouse button at (start_x, start_y), move in steps to (end_x, end_y) and release there. ${COORDINATES_NOTE} Returns a screenshot taken once the screen settled.`,
  schema: {
    start_x: coordinate('x', ' of the start'),
    start_y: coordinate('y', ' of the start'),
    end_x: coordinate('x', ' of the end'),
    end_y: coordinate('y', ' of the end'),
    button,
    steps: z.number().int().min(1).max(200).default(10).describe('Pointer moves between start and end (default 10).'),
  },
  readOnly: false,
  async handle(context, args) {
    const bridge = await context.bridge();
    const from = context.toScreen(bridge, args.start_x, args.start_y, 'start_x, start_y');
    const to = context.toScreen(bridge, args.end_x, args.end_y, 'end_x, end_y');
    await bridge.mouse.drag(from, to, { button: args.button, steps: args.steps });
    context.notePointer(bridge);
    const what = `(${args.start_x}, ${args.start_y}) → (${args.end_x}, ${args.end_y})`;
    return { lines: [`Dragged ${what} with the ${args.button} button.`], screenshot: 'after-action', log: `drag ${what} screen (${from.x}, ${from.y}) → (${to.x}, ${to.y})` };
  },
});

export const scroll = defineTool({
  name: 'scroll',
  title: 'Scroll',
  description: `Turn the mouse wheel: direction up, down, left or right, amount wheel steps (about 3 lines each in most programs), at (x, y) or where the pointer is. ${COORDINATES_NOTE} Returns a screenshot taken once the screen settled.`,
  schema: {
    direction: z.enum(['up', 'down', 'left', 'right']).describe('Which way to scroll.'),
    amount: z.number().int().min(1).max(100).default(3).describe('Wheel steps (default 3).'),
    ...optionalPoint,
  },
  readOnly: false,
  async handle(context, args) {
    const bridge = await context.bridge();
    const point = optionalTarget(context, bridge, args.x, args.y);
    await bridge.scroll.scroll(args.direction, args.amount, point ?? {});
    context.notePointer(bridge);
    const what = `${args.direction} ×${args.amount}${at(args, point)}`;
    return { lines: [`Scrolled ${what}.`], screenshot: 'after-action', log: `scroll ${what}` };
  },
});

function buttonTool(name: 'mouse_down' | 'mouse_up') {
  const down = name === 'mouse_down';
  return defineTool({
    name,
    title: down ? 'Press a mouse button' : 'Release a mouse button',
    description: down
      ? `Press and hold a mouse button at (x, y) or where the pointer is; mouse_up releases it (for drags that need pauses or key presses in between). ${COORDINATES_NOTE}`
      : `Release a mouse button pressed with mouse_down, at (x, y) or where the pointer is. ${COORDINATES_NOTE} Returns a screenshot taken once the screen settled.`,
    schema: { ...optionalPoint, button },
    readOnly: false,
    async handle(context, args) {
      const bridge = await context.bridge();
      const point = optionalTarget(context, bridge, args.x, args.y);
      if (point) {
        await bridge.mouse.move(point.x, point.y);
        context.notePointer(bridge);
      }
      if (down) await bridge.mouse.down(args.button);
      else await bridge.mouse.up(args.button);
      const what = `${args.button} button ${down ? 'down' : 'up'}${at(args, point)}`;
      return { lines: [`Mouse ${what}.`], screenshot: 'after-action', log: `${name} ${what}` };
    },
  });
}

export const mouseDown = buttonTool('mouse_down');
export const mouseUp = buttonTool('mouse_up');

export const cursorPosition = defineTool({
  name: 'cursor_position',
  title: 'Pointer position',
  description: `Where this server last put the mouse pointer, in the space of the last screenshot. VNC servers do not report the pointer, so before the first pointer action it is unknown.`,
  schema: {},
  readOnly: true,
  async handle(context) {
    const bridge = await context.bridge();
    if (!context.pointerKnown(bridge)) return { lines: ['The pointer position is unknown: no tool has moved it on this connection yet (VNC servers do not report it).'], log: 'cursor_position unknown' };
    const point = context.fromScreen(bridge, bridge.mouse.position);
    return { lines: [`x=${point.x} y=${point.y} (screenshot space; screen ${bridge.mouse.position.x}, ${bridge.mouse.position.y})`], log: `cursor_position (${point.x}, ${point.y})` };
  },
});

export const mouseTools = [click, move, drag, scroll, mouseDown, mouseUp, cursorPosition];
