/**
 * Known pictures on a real X display, for image-locator specs: a PNG written by the spec and shown
 * 1:1 by ImageMagick's `display` at a given place (no window manager, so no frame), optionally
 * after a delay; the X server's own window geometry is the truth to compare with.
 */
import { writeFile } from 'node:fs/promises';
import { encodePng, type Frame } from '../../src/index.js';
import { windowGeometry, xdotool, type DisplayTarget, type WindowGeometry } from './desktop.js';
import { startProcess, stopProcess } from './processes.js';

/** A `width`×`height` picture of coloured blocks; `seed` changes the colours. */
export function blocks(width: number, height: number, seed = 1): Frame {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const block = Math.floor(x / 8) + Math.floor(y / 8) * 7 + seed * 13;
      data.set([(block * 67) % 256, (block * 139 + 40) % 256, (block * 29 + 90) % 256, 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

export async function writePicture(path: string, frame: Frame): Promise<string> {
  await writeFile(path, encodePng(frame));
  return path;
}

export interface ShownPicture {
  /** The window's geometry on the X server, once mapped (waits for it). */
  geometry(): Promise<WindowGeometry>;
  stop(): Promise<void>;
}

let shown = 0;

/** Shows the PNG at (x, y) with `display`, after `delayS` seconds (0 = at once). */
export function showPicture(server: DisplayTarget, path: string, x: number, y: number, delayS = 0): ShownPicture {
  const title = `locator-picture-${process.pid}-${++shown}`;
  const command = `sleep ${delayS}; exec display -borderwidth 0 -title ${title} -geometry +${x}+${y} '${path}'`;
  const proc = startProcess('sh', ['-c', command], { env: server.env });
  return {
    async geometry() {
      const id = Number((await xdotool(server, ['search', '--sync', '--onlyvisible', '--name', title], 15_000)).trim().split('\n')[0]);
      return windowGeometry(server, id);
    },
    stop: () => stopProcess(proc, 3000),
  };
}
