/**
 * Helpers that act on an Xvnc display directly (not through VNC): windows, pointer, clipboard,
 * pixels. They provide the ground truth that end-to-end tests compare the VNC client against.
 *
 * There is no window manager: keyboard focus follows the pointer, so move the pointer into a
 * window (`xterm.focus()`) before typing into it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import pngjs from 'pngjs';
import { childPids, delay, procStat, run, runChecked, startProcess, stopProcess } from './processes.js';
import type { XvncServer } from './xvnc.js';

const { PNG } = pngjs;

/** Anything with a display environment (an `XvncServer` works). */
export type DisplayTarget = Pick<XvncServer, 'display' | 'env'>;

export interface WindowGeometry {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Runs `xdotool ARGS` on the display and returns its stdout; rejects on failure or timeout. */
export async function xdotool(server: DisplayTarget, args: string[], timeoutMs = 10_000): Promise<string> {
  return (await runChecked('xdotool', args, { env: server.env, timeoutMs })).stdout;
}

/** Parses `KEY=value` lines (xdotool's `--shell` output) into numbers. */
function parseShellVars(text: string): Record<string, number> {
  const vars: Record<string, number> = {};
  for (const m of text.matchAll(/^([A-Z]+)=(-?\d+)$/gm)) vars[m[1]] = Number(m[2]);
  return vars;
}

/** A window's position (relative to the root) and size in pixels. */
export async function windowGeometry(server: DisplayTarget, windowId: number): Promise<WindowGeometry> {
  const v = parseShellVars(await xdotool(server, ['getwindowgeometry', '--shell', String(windowId)]));
  return { x: v.X, y: v.Y, width: v.WIDTH, height: v.HEIGHT };
}

/**
 * Binds keysyms to unused keycodes with xmodmap (each entry: [unshifted, shifted?], e.g.
 * ['udiaeresis', 'Udiaeresis'] or ['U2713']). Lets `xdotool type` find non-ASCII characters in the
 * keymap instead of temporarily rebinding a spare keycode per character, which loses or swaps
 * characters under load and lower-cases capitals such as 'Ü'. Changes the display's keymap for
 * good, so use it on a server of your own.
 */
export async function bindKeysyms(server: DisplayTarget, keysyms: string[][]): Promise<void> {
  const table = (await runChecked('xmodmap', ['-pke'], { env: server.env, timeoutMs: 5000 })).stdout;
  const free = [...table.matchAll(/^keycode\s+(\d+) =\s*$/gm)].map((m) => Number(m[1]));
  if (free.length < keysyms.length) throw new Error(`only ${free.length} unused keycodes for ${keysyms.length} keysyms`);
  const exprs = keysyms.flatMap((syms, i) => ['-e', `keycode ${free[i]} = ${syms.join(' ')}`]);
  await runChecked('xmodmap', exprs, { env: server.env, timeoutMs: 5000 });
}

/** The pointer position on the root window. */
export async function pointerLocation(server: DisplayTarget): Promise<{ x: number; y: number }> {
  const v = parseShellVars(await xdotool(server, ['getmouselocation', '--shell']));
  return { x: v.X, y: v.Y };
}

/** Polls `xdotool search --onlyvisible --pid PID` until a window appears (bounded). */
async function waitForWindowOfPid(server: DisplayTarget, pid: number, alive: () => boolean, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`process ${pid} exited before mapping a window`);
    const result = await run('xdotool', ['search', '--onlyvisible', '--pid', String(pid)], { env: server.env, timeoutMs: 5000 });
    const id = Number(result.stdout.trim().split('\n')[0]);
    if (result.code === 0 && id > 0) return id;
    await delay(50);
  }
  throw new Error(`no visible window for pid ${pid} within ${timeoutMs} ms`);
}

/**
 * Waits until xterm's child has exec'd its program (its name is no longer 'xterm', or equals
 * `expected`). Before that the child is still setting up the pty, and keys typed then can be lost.
 */
async function waitForTerminalProgram(xtermPid: number, expected: string | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ready = (): boolean =>
    childPids(xtermPid).some((pid) => {
      const comm = procStat(pid)?.comm;
      return expected === undefined ? comm !== undefined && comm !== 'xterm' : comm === expected;
    });
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`xterm ${xtermPid} did not start ${expected ?? 'its program'} within ${timeoutMs} ms`);
    await delay(20);
  }
}

export interface XtermOptions {
  /** xterm geometry in characters + position, default '80x24+40+40'. */
  geometry?: string;
  /**
   * Typing sink: the xterm runs `cat >> FILE` in a cooked (line-buffered) terminal, so each line
   * reaches the file when Return is typed. End typed text with "\n" — a final line without a
   * newline stays in the terminal's line buffer and never arrives. The file is created empty first.
   */
  sinkFile?: string;
  /** Program to run instead (argv). Mutually exclusive with `sinkFile`. */
  command?: string[];
  /** Limit for the window to appear, default 10 s. */
  timeoutMs?: number;
}

export interface Xterm {
  pid: number;
  windowId: number;
  /** Outer window geometry in pixels, relative to the root window. */
  geometry: WindowGeometry;
  sinkFile?: string;
  /** Moves the pointer to the window's centre, which gives it keyboard focus (no window manager). */
  focus(): Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

/** The argv after `-e` for the given options (empty: xterm's default shell). */
function xtermCommand(options: XtermOptions): string[] {
  if (options.sinkFile !== undefined && options.command) throw new Error('startXterm: sinkFile and command are exclusive');
  if (options.sinkFile !== undefined) return ['-e', 'sh', '-c', 'exec cat >> "$1"', 'sh', options.sinkFile];
  return options.command ? ['-e', ...options.command] : [];
}

/**
 * Starts an xterm on the display (UTF-8 mode, C.UTF-8 locale) and resolves once its window is
 * visible, with its window id and pixel geometry.
 */
export async function startXterm(server: DisplayTarget, options: XtermOptions = {}): Promise<Xterm> {
  if (options.sinkFile !== undefined) await writeFile(options.sinkFile, '');
  const env = { ...server.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  const args = ['-u8', '-geometry', options.geometry ?? '80x24+40+40', ...xtermCommand(options)];
  const proc = startProcess('xterm', args, { env });
  try {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const windowId = await waitForWindowOfPid(server, proc.pid, () => !proc.hasExited(), timeoutMs);
    await waitForTerminalProgram(proc.pid, options.sinkFile !== undefined ? 'cat' : undefined, timeoutMs);
    const geometry = await windowGeometry(server, windowId);
    const focus = async (): Promise<void> => {
      const cx = geometry.x + Math.floor(geometry.width / 2);
      const cy = geometry.y + Math.floor(geometry.height / 2);
      // Not `--sync`: it waits for motion, which never comes when the pointer is already there.
      await xdotool(server, ['mousemove', String(cx), String(cy)]);
      const deadline = Date.now() + 5000;
      for (let at = await pointerLocation(server); at.x !== cx || at.y !== cy; at = await pointerLocation(server)) {
        if (Date.now() > deadline) throw new Error(`xterm.focus: the pointer stayed at ${at.x},${at.y} instead of ${cx},${cy}`);
        await delay(20);
      }
    };
    return { pid: proc.pid, windowId, geometry, sinkFile: options.sinkFile, focus, log: () => proc.log(), stop: () => stopProcess(proc, 3000) };
  } catch (e) {
    await stopProcess(proc, 1000).catch(() => {});
    await Promise.race([proc.closed, delay(500)]); // let the last log lines arrive
    const { code, signal } = await proc.exited;
    throw new Error(`${(e as Error).message} (xterm exit: ${code ?? signal})\n--- xterm log ---\n${proc.logTail()}`);
  }
}

/**
 * The CLIPBOARD selection's text, or '' when nobody owns it (xclip exits non-zero).
 * Rejects if the owner does not answer within `timeoutMs`.
 */
export async function clipboardGet(server: DisplayTarget, timeoutMs = 5000): Promise<string> {
  const result = await run('xclip', ['-o', '-selection', 'clipboard'], { env: server.env, timeoutMs });
  if (result.timedOut) throw new Error(`xclip -o timed out after ${timeoutMs} ms (clipboard owner did not answer)`);
  return result.code === 0 ? result.stdout : '';
}

export interface ClipboardOwner {
  pid: number;
  log(): string;
  /** Stops xclip (the clipboard then has no owner, unless someone else took it). */
  stop(): Promise<void>;
}

/**
 * Makes `text` the CLIPBOARD content: runs `xclip -quiet -selection clipboard` (kept running, it
 * serves requests until stopped or until another client takes the selection) and waits until
 * `xclip -o` reads the text back. Xvnc then sends it to its clients as ServerCutText.
 */
export async function clipboardOwn(server: DisplayTarget, text: string, timeoutMs = 5000): Promise<ClipboardOwner> {
  const env = { ...server.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  const proc = startProcess('xclip', ['-quiet', '-selection', 'clipboard'], { env, stdin: 'pipe' });
  proc.child.stdin?.on('error', () => {});
  proc.child.stdin?.end(text);
  const owner: ClipboardOwner = { pid: proc.pid, log: () => proc.log(), stop: () => stopProcess(proc, 2000) };
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  while (Date.now() < deadline) {
    seen = await clipboardGet(server, Math.max(500, deadline - Date.now())).catch(() => seen);
    if (seen === text) return owner;
    if (proc.hasExited()) break;
    await delay(30);
  }
  await owner.stop();
  throw new Error(`xclip did not take the clipboard within ${timeoutMs} ms (read back ${JSON.stringify(seen)})\n${proc.logTail()}`);
}

/** An RGBA image: 4 bytes per pixel, row-major, alpha always 255. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Buffer;
}

/**
 * A screenshot of the root window straight from the X server: `xwd -root -silent`, converted by
 * ImageMagick (`/usr/bin/convert`, called by full path) to PNG, decoded by pngjs.
 */
export async function rootPixels(server: DisplayTarget, timeoutMs = 15_000): Promise<RgbaImage> {
  const xwd = await runChecked('xwd', ['-root', '-silent', '-display', `:${server.display}`], { env: server.env, timeoutMs });
  const png = await runChecked('/usr/bin/convert', ['xwd:-', 'png:-'], { input: xwd.stdoutBuffer, timeoutMs });
  const image = PNG.sync.read(png.stdoutBuffer);
  for (let i = 3; i < image.data.length; i += 4) image.data[i] = 255;
  return { width: image.width, height: image.height, data: image.data };
}

/** The [r, g, b] of one pixel of an `RgbaImage`. */
export function pixelAt(image: RgbaImage, x: number, y: number): [number, number, number] {
  const i = (y * image.width + x) * 4;
  return [image.data[i], image.data[i + 1], image.data[i + 2]];
}

/** '#rrggbb' → [r, g, b]. */
export function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.replace(/^#/, ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The file's text, or '' if it does not exist (yet). */
async function readOrEmpty(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Polls a file until `predicate(content)` holds or `timeoutMs` passes, and returns the last content
 * either way (never throws on timeout — let `expect()` show the difference).
 */
export async function waitForFile(path: string, predicate: (content: string) => boolean, timeoutMs = 5000, intervalMs = 50): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let content = await readOrEmpty(path);
  while (!predicate(content) && Date.now() < deadline) {
    await delay(intervalMs);
    content = await readOrEmpty(path);
  }
  return content;
}

/** `waitForFile` until the content includes `expected`. */
export function readFileWhenContains(path: string, expected: string, timeoutMs = 5000): Promise<string> {
  return waitForFile(path, (content) => content.includes(expected), timeoutMs);
}
