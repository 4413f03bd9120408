/**
 * Runs the screen-text commands on a connected bridge. Loaded with a dynamic import by commands.ts,
 * so other commands never load this (nor, through it, the OCR engine).
 */
import type { VNCAgentBridge } from '../index.js';
import type { Rect } from '../rfb/framebuffer.js';
import { CliError } from './output.js';
import type { TextCommand } from './text-commands.js';

type Json = Record<string, unknown>;

export interface TextRunResult {
  /** Where the pointer ended, for commands that moved it (the CLI remembers it per server). */
  moved: boolean;
}

function boxText(box: Rect): string {
  return `${box.x} ${box.y} ${box.width} ${box.height}`;
}

export async function runTextCommand(bridge: VNCAgentBridge, command: TextCommand, print: (human: string | undefined, json: Json) => void): Promise<TextRunResult> {
  switch (command.name) {
    case 'text': {
      const words = await bridge.screen.words({ region: command.region });
      const text = await bridge.screen.text({ region: command.region });
      print(text === '' ? '' : `${text}\n`, { text, words });
      return { moved: false };
    }
    case 'find-text': {
      const locator = bridge.getByText(command.text, { exact: command.exact, region: command.region });
      const look = await locator.lookNow();
      if (look.matches.length === 0) {
        throw new CliError(`No text ${JSON.stringify(command.text)} on the screen${command.region ? ' region' : ''}; ${look.seen()}.`, 'hint: check with "vnc-agent text" what the screen shows');
      }
      print(look.matches.map((match) => `${boxText(match.box)} ${match.text ?? ''}\n`).join(''), {
        matches: look.matches.map((match) => ({ box: match.box, text: match.text, confidence: match.confidence })),
      });
      return { moved: false };
    }
    case 'click-text': {
      const found = bridge.getByText(command.text, { exact: command.exact, region: command.region });
      const locator = command.nth === undefined ? found : found.nth(command.nth);
      const match = command.double ? await locator.dblclick({ button: command.button }) : await locator.click({ button: command.button });
      const { x, y } = bridge.mouse.position;
      print(`clicked ${JSON.stringify(match.text)} at ${x},${y} (box ${boxText(match.box)})\n`, { clicked: true, text: match.text, box: match.box, x, y });
      return { moved: true };
    }
    case 'wait-text': {
      const started = Date.now();
      const locator = bridge.getByText(command.text, { exact: command.exact, region: command.region });
      if (command.gone) {
        await locator.waitFor({ state: 'hidden' });
        const elapsedMs = Date.now() - started;
        print(`gone after ${elapsedMs} ms\n`, { gone: true, elapsedMs });
      } else {
        await locator.first().waitFor();
        const elapsedMs = Date.now() - started;
        const box = await locator.first().boundingBox();
        print(`shown after ${elapsedMs} ms${box ? ` at ${boxText(box)}` : ''}\n`, { shown: true, elapsedMs, box });
      }
      return { moved: false };
    }
  }
}
