/**
 * Screens with known text for the OCR specs, the OCR benchmark and the locator specs, on an Xvnc
 * from ./xvnc.ts: xterm output in two fonts, GTK dialogs (zenity question, list, entry; light and
 * dark theme) and an Athena `xmessage`.
 *
 * The truth of where each word is comes from the X server, not from OCR: every window is first
 * shown with its text invisible (GTK: a theme whose text colour is transparent; Athena and xterm:
 * the foreground set to the background colour), the root window is captured, then the real window
 * is shown at the same place and captured again. The pixels that differ are the text; they are cut
 * into lines (rows without text between them) and words (columns without text between them), and
 * the word count of every line is checked against the text the screen was given.
 *
 * There is no window manager: windows are placed with `xdotool windowmove`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xdotool, type DisplayTarget, type RgbaImage } from './desktop.js';
import { delay, startProcess, stopProcess, type StartedProcess } from './processes.js';
import { stableRoot, textMask, wordBoxes, type Box } from './text-truth.js';

export { wordBoxes, type Box } from './text-truth.js';

/** A word of a test screen and where the X server drew it. */
export interface KnownWord {
  text: string;
  box: Box;
  /** True for the label of a button (a click target). */
  button: boolean;
}

export interface ShownWindow {
  pid: number;
  windowId: number;
  /** Where the window is, in root coordinates. */
  geometry: Box;
  /** What the program printed on stdout so far (zenity: the entry text; xmessage -print: the button). */
  stdout(): string;
  /** Resolves when the program exits, with its exit code. */
  exited: Promise<number | null>;
  /** The words and where they are (known after `showKnownText`). */
  words: KnownWord[];
  stop(): Promise<void>;
}

/** What a screen shows: its lines of text (words separated by spaces), buttons marked with brackets. */
export interface TextLayout {
  /** Lines top to bottom as they appear (side-by-side buttons are one line: '[Discard] [Save]'). */
  lines: string[];
}

/** Unique window titles, so `xdotool search --name` finds exactly ours. */
let titleCounter = 0;
function uniqueTitle(what: string): string {
  titleCounter += 1;
  return `${what}-${process.pid}-${titleCounter}`;
}

async function findWindow(server: DisplayTarget, title: string, proc: StartedProcess, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.hasExited()) throw new Error(`the window '${title}' did not appear: the program exited\n${proc.logTail()}`);
    const out = await xdotool(server, ['search', '--onlyvisible', '--name', `^${title}$`]).catch(() => '');
    const id = Number(out.trim().split('\n')[0]);
    if (id > 0) return id;
    if (Date.now() > deadline) throw new Error(`the window '${title}' did not appear within ${timeoutMs} ms\n${proc.logTail()}`);
    await delay(50);
  }
}

async function geometryOf(server: DisplayTarget, windowId: number): Promise<Box> {
  const out = await xdotool(server, ['getwindowgeometry', '--shell', String(windowId)]);
  const v = Object.fromEntries([...out.matchAll(/^([A-Z]+)=(-?\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  return { x: v.X, y: v.Y, width: v.WIDTH, height: v.HEIGHT };
}

interface Launch {
  command: string;
  args: (title: string) => string[];
  env?: NodeJS.ProcessEnv;
}

async function launchAt(server: DisplayTarget, launch: Launch, x: number, y: number, timeoutMs: number): Promise<ShownWindow> {
  const title = uniqueTitle(launch.command);
  const proc = startProcess(launch.command, launch.args(title), { env: { ...server.env, ...launch.env } });
  let out = '';
  proc.child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    const windowId = await findWindow(server, title, proc, timeoutMs);
    await xdotool(server, ['windowmove', '--sync', String(windowId), String(x), String(y)]).catch(async () => {
      // --sync waits for a move event, which never comes when the window is already there.
      await xdotool(server, ['windowmove', String(windowId), String(x), String(y)]);
    });
    const geometry = await geometryOf(server, windowId);
    return {
      pid: proc.pid,
      windowId,
      geometry,
      stdout: () => out,
      exited: proc.exited.then((e) => e.code),
      words: [],
      stop: () => stopProcess(proc, 3000),
    };
  } catch (error) {
    await stopProcess(proc, 1000).catch(() => undefined);
    throw error;
  }
}

export interface KnownTextScreen {
  /** Starts the program showing the text; `invisible` draws it in its background colour. */
  show(invisible: boolean): Promise<ShownWindow>;
  layout: TextLayout;
  /** Empty columns that separate words (a space in the screen's font). Default 3. */
  wordGap?: number;
}

/**
 * Shows a screen twice (text invisible, then visible) and returns the visible window with the
 * X server's truth of where each word is. Throws when the text pixels do not cut into the expected
 * lines and words (then the screen, not the OCR, needs fixing).
 */
export async function showKnownText(server: DisplayTarget, screen: KnownTextScreen): Promise<ShownWindow> {
  const hidden = await screen.show(true);
  let without: RgbaImage;
  try {
    without = await stableRoot(server);
  } finally {
    await hidden.stop();
  }
  const shown = await screen.show(false);
  try {
    const withText = await stableRoot(server);
    const area = shown.geometry;
    const lines = wordBoxes(textMask(withText, without, area), area, screen.wordGap ?? 3);
    const expected = screen.layout.lines.map((line) => line.split(' ').filter(Boolean));
    const counts = (l: unknown[][]) => l.map((x) => x.length).join(',');
    if (counts(lines) !== counts(expected)) {
      throw new Error(`text pixels of window ${shown.windowId} cut into words per line ${counts(lines)}, expected ${counts(expected)} for ${JSON.stringify(screen.layout.lines)}`);
    }
    shown.words = expected.flatMap((words, l) =>
      words.map((word, w) => {
        const button = /^\[.*\]$/.test(word);
        return { text: button ? word.slice(1, -1) : word, box: lines[l][w], button };
      }),
    );
    return shown;
  } catch (error) {
    await shown.stop();
    throw error;
  }
}

/** A GTK theme directory: Adwaita (light or dark) plus `css`, with transparent text when `invisible`. */
async function gtkTheme(dark: boolean, css: string, invisible: boolean): Promise<{ dataHome: string; name: string }> {
  const dataHome = await mkdtemp(join(tmpdir(), 'vnc-agent-gtk-'));
  const name = 'TestScreen';
  await mkdir(join(dataHome, 'themes', name, 'gtk-3.0'), { recursive: true });
  const base = dark ? 'gtk-contained-dark.css' : 'gtk-contained.css';
  // The theme's own rules for views, entries and buttons are more specific than `*`: name them too.
  const hide =
    '*, *:selected, *:hover, *:focus, label, button, button label, entry, entry text, .view, .view:selected, treeview.view, treeview.view:selected, treeview.view header button { color: transparent; caret-color: transparent; }\n';
  await writeFile(join(dataHome, 'themes', name, 'gtk-3.0', 'gtk.css'), `@import url("resource:///org/gtk/libgtk/theme/Adwaita/${base}");\n${css}\n${invisible ? hide : ''}`);
  return { dataHome, name };
}

export interface ZenityOptions {
  /** zenity's arguments after the dialog kind, e.g. ['--question', '--text', 'Save?', '--ok-label', 'Save']. */
  args: string[];
  layout: TextLayout;
  x: number;
  y: number;
  dark?: boolean;
  /** Extra GTK CSS, e.g. coloured buttons. */
  css?: string;
  timeoutMs?: number;
}

export function zenityScreen(server: DisplayTarget, options: ZenityOptions): KnownTextScreen {
  return {
    layout: options.layout,
    show: async (invisible) => {
      const theme = invisible || options.css ? await gtkTheme(options.dark ?? false, options.css ?? '', invisible) : undefined;
      const env: NodeJS.ProcessEnv = theme
        ? { XDG_DATA_HOME: theme.dataHome, GTK_THEME: theme.name }
        : { GTK_THEME: options.dark ? 'Adwaita:dark' : 'Adwaita' };
      const window = await launchAt(server, { command: 'zenity', args: (title) => [...options.args, '--title', title], env: { ...env, NO_AT_BRIDGE: '1' } }, options.x, options.y, options.timeoutMs ?? 15_000);
      if (!theme) return window;
      const stop = window.stop;
      return { ...window, stop: () => stop().finally(() => rm(theme.dataHome, { recursive: true, force: true })) };
    },
  };
}

export interface XmessageOptions {
  message: string;
  buttons: string[];
  x: number;
  y: number;
  timeoutMs?: number;
}

/** `xmessage -buttons … -print MESSAGE`: prints the clicked button's name on stdout and exits. */
export function xmessageScreen(server: DisplayTarget, options: XmessageOptions): KnownTextScreen {
  return {
    layout: { lines: [options.message, options.buttons.map((b) => `[${b}]`).join(' ')] },
    wordGap: 4,
    show: (invisible) =>
      launchAt(
        server,
        {
          command: 'xmessage',
          args: (title) => [
            '-xrm', '*background: white', '-xrm', '*message.scrollVertical: never', '-xrm', '*message.scrollHorizontal: never',
            ...(invisible ? ['-xrm', '*foreground: white'] : []),
            '-title', title, '-buttons', options.buttons.join(','), '-print', options.message,
          ],
        },
        options.x,
        options.y,
        options.timeoutMs ?? 10_000,
      ),
  };
}

export interface XtermTextOptions {
  lines: string[];
  x: number;
  y: number;
  /** 'fixed' (the default 6×13 bitmap font) or an Xft font name with a size, e.g. 'DejaVu Sans Mono:14'. */
  font?: string;
  columns?: number;
  /** Empty columns between words (see KnownTextScreen.wordGap); default 5, for the 6-pixel cells of 'fixed'. */
  wordGap?: number;
  timeoutMs?: number;
}

/** An xterm that prints known lines and then waits (black on white; invisible: white on white). */
export function xtermScreen(server: DisplayTarget, options: XtermTextOptions): KnownTextScreen {
  const columns = options.columns ?? Math.max(20, ...options.lines.map((l) => l.length + 2));
  const fontArgs = !options.font || options.font === 'fixed' ? [] : ['-fa', options.font.split(':')[0], '-fs', options.font.split(':')[1] ?? '12'];
  return {
    layout: { lines: options.lines },
    wordGap: options.wordGap ?? 5,
    show: (invisible) =>
      launchAt(
        server,
        {
          command: 'xterm',
          args: (title) => [
            '-u8', '-title', title, '-bg', 'white', '-fg', invisible ? 'white' : 'black', '-cr', 'white', ...fontArgs,
            '-geometry', `${columns}x${options.lines.length + 1}`,
            // Print, then hide the cursor and wait; `exec sleep` keeps the window until stopped.
            '-e', 'sh', '-c', 'printf "%s\\n" "$@"; printf "\\033[?25l"; exec sleep 100000', 'sh', ...options.lines,
          ],
          env: { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
        },
        options.x,
        options.y,
        options.timeoutMs ?? 10_000,
      ),
  };
}

/** One screen of the standard test desktop, with its name for reports. */
export interface NamedScreen {
  name: string;
  screen: KnownTextScreen;
}

/**
 * The standard sparse 1920×1080 test desktop: two xterms (bitmap and anti-aliased font), GTK
 * questions (light, dark, coloured buttons), a dark GTK list, a GTK entry and two Athena
 * xmessages, side by side without overlapping.
 */
export function standardScreens(server: DisplayTarget): NamedScreen[] {
  return [
    {
      name: 'xterm (fixed 6x13)',
      screen: xtermScreen(server, {
        x: 40,
        y: 40,
        lines: ['hello world from xterm', 'total 42 files in /var/log', 'error: connection refused (code 111)', 'The quick brown fox jumps over the lazy dog'],
      }),
    },
    {
      name: 'xterm (DejaVu Sans Mono 14)',
      screen: xtermScreen(server, {
        x: 40,
        y: 260,
        font: 'DejaVu Sans Mono:14',
        wordGap: 9,
        lines: ['Build finished: 17 passed, 2 failed', 'Press Enter to continue', 'Settings saved to config.yaml'],
      }),
    },
    {
      name: 'GTK question',
      screen: zenityScreen(server, {
        x: 760,
        y: 40,
        args: ['--question', '--text', 'Do you want to save the changes to report.txt?', '--ok-label', 'Save', '--cancel-label', 'Discard'],
        layout: { lines: ['Do you want to save the changes to report.txt?', '[Discard] [Save]'] },
      }),
    },
    {
      name: 'GTK entry',
      screen: zenityScreen(server, {
        x: 760,
        y: 300,
        args: ['--entry', '--text', 'Enter the new server name:'],
        layout: { lines: ['Enter the new server name:', '[Cancel] [OK]'] },
      }),
    },
    {
      name: 'GTK list (dark theme)',
      screen: zenityScreen(server, {
        x: 1320,
        y: 40,
        dark: true,
        args: ['--list', '--text', 'Choose a colour', '--column', 'Colour', '--column', 'Code', 'Yellow', '1001', 'Purple', '2002', 'Orange', '3003', '--width', '360', '--height', '330'],
        layout: { lines: ['Choose a colour', 'Colour Code', 'Yellow 1001', 'Purple 2002', 'Orange 3003', '[Cancel] [OK]'] },
      }),
    },
    {
      name: 'Athena xmessage',
      screen: xmessageScreen(server, { x: 760, y: 560, message: 'The file has been modified outside the editor.', buttons: ['Apply', 'Discard'] }),
    },
    {
      name: 'GTK question (dark theme)',
      screen: zenityScreen(server, {
        x: 40,
        y: 440,
        dark: true,
        args: ['--question', '--text', 'Delete the selected backup files permanently?', '--ok-label', 'Delete', '--cancel-label', 'Keep'],
        layout: { lines: ['Delete the selected backup files permanently?', '[Keep] [Delete]'] },
      }),
    },
    {
      name: 'GTK coloured buttons',
      screen: zenityScreen(server, {
        x: 40,
        y: 640,
        css: 'button, button:hover { background-image: none; background-color: #1a73e8; color: #ffffff; border: none; border-radius: 6px; box-shadow: none; text-shadow: none; }',
        args: ['--question', '--text', 'Upload failed: the server did not answer.', '--ok-label', 'Retry', '--cancel-label', 'Cancel', '--extra-button', 'Details'],
        layout: { lines: ['Upload failed: the server did not answer.', '[Details] [Cancel] [Retry]'] },
      }),
    },
    {
      name: 'Athena xmessage (four buttons)',
      screen: xmessageScreen(server, { x: 1320, y: 460, message: 'Quit without saving your work?', buttons: ['Yes', 'No', 'Cancel', 'Help'] }),
    },
  ];
}
