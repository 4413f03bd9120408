/** list_targets, use_target: served when several desktops are. */
import { z } from 'zod';
import { defineTool } from '../tool.js';

export const listTargets = defineTool({
  name: 'list_targets',
  title: 'List the desktops',
  description: 'The desktops (targets) this server can operate, which one is in use, and whether it is connected. use_target switches.',
  schema: {},
  readOnly: true,
  async handle(context) {
    const lines = context.targets.map(
      (target) => `${target.name === context.target.name ? '* ' : '  '}${target.name}: ${target.description}${context.isConnected(target.name) ? ' (connected)' : ''}`,
    );
    return { lines: [...lines, '(* = in use)'], log: 'list_targets' };
  },
});

export const useTarget = defineTool({
  name: 'use_target',
  title: 'Switch desktop',
  description:
    'Make another desktop (target, see list_targets) the one every later tool call acts on, and return its screenshot. Each desktop keeps its own connection and its own screenshot space.',
  schema: {
    name: z.string().min(1).describe('The target name, as list_targets shows it.'),
  },
  readOnly: true,
  async handle(context, args) {
    const target = context.useTarget(args.name);
    await context.bridge();
    return { lines: [`Now using ${target.name}: ${target.description}.`], screenshot: 'always', log: `use_target ${target.name}` };
  },
});

export const targetTools = [listTargets, useTarget];
