/**
 * `vnc-agent show-trace FILE`: opens a test's VNC trace (vnc-trace.zip, or the vnc-trace.html
 * written beside it) in the viewer. The viewer is one self-contained HTML file, so by default it
 * is written to a file and opened in the browser; `--serve` serves it on 127.0.0.1 instead. With
 * no browser to start, the path or URL is printed for the user to open.
 *
 * Loaded only when this command runs (main.ts imports it on demand).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderTraceViewer } from '../trace/viewer/html.js';

export interface ShowTraceIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the user interrupts (Ctrl-C): ends `--serve`. */
  interrupted: Promise<void>;
}

export const SHOW_TRACE_HELP = `Usage: vnc-agent show-trace FILE [--serve] [--port N] [--no-open] [--out HTML]

Opens a VNC trace in the viewer: FILE is the vnc-trace.zip a test run wrote (with use: { vncTrace })
into its output folder, or the vnc-trace.html beside it. The viewer is one HTML file that needs no
network: it is written to a temporary file (or --out) and opened in the browser ($BROWSER, else
xdg-open / open); with no browser to start, its path is printed.

Options:
  --serve      serve the viewer on http://127.0.0.1:PORT/ until Ctrl-C (loopback only)
  --port N     the port for --serve (default: a free one)
  --no-open    do not start a browser; print the path or URL
  --out HTML   write the viewer here instead of a temporary file

Examples:
  $ vnc-agent show-trace test-results/login-desk/vnc-trace.zip
  $ vnc-agent show-trace vnc-trace.zip --serve --port 9323
`;

class ShowTraceUsage extends Error {}

interface Options {
  file: string;
  serve: boolean;
  port: number;
  open: boolean;
  out?: string;
}

function parse(args: readonly string[]): Options | 'help' {
  const options: Partial<Options> = { serve: false, port: 0, open: true };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') return 'help';
    else if (arg === '--serve') options.serve = true;
    else if (arg === '--no-open') options.open = false;
    else if (arg === '--port' || arg === '--out') {
      const value = args[++i];
      if (value === undefined) throw new ShowTraceUsage(`${arg} needs a value.`);
      if (arg === '--out') options.out = value;
      else {
        const port = Number(value);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ShowTraceUsage(`--port ${JSON.stringify(value)} is not a port: use a whole number from 0 to 65535.`);
        options.port = port;
      }
    } else if (arg.startsWith('-')) throw new ShowTraceUsage(`Unknown option ${arg}.`);
    else if (options.file !== undefined) throw new ShowTraceUsage(`One trace at a time: got ${JSON.stringify(options.file)} and ${JSON.stringify(arg)}.`);
    else options.file = arg;
  }
  if (options.file === undefined) throw new ShowTraceUsage('Which trace? Pass the vnc-trace.zip (or vnc-trace.html) from the test output folder.');
  return options as Options;
}

/** The viewer page for FILE: a trace zip is rendered, a viewer page written by the fixture is used as is. */
async function viewerFor(file: string): Promise<string> {
  const data = await readFile(file);
  const text = data.subarray(0, 64).toString('latin1');
  if (/^\s*<!DOCTYPE html>/i.test(text) && data.includes('id="vnc-trace-data"')) return data.toString('utf8');
  return renderTraceViewer(data);
}

function onPath(command: string, env: ShowTraceIO['env']): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The browser command to start, or undefined when there is none. */
function browserCommand(env: ShowTraceIO['env']): string | undefined {
  if (env.BROWSER) return env.BROWSER;
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  if (process.platform === 'win32') return undefined;
  return onPath(opener, env) ? opener : undefined;
}

/** Starts the browser on `target`, detached; false when none could be started. */
function openInBrowser(target: string, env: ShowTraceIO['env']): Promise<boolean> {
  const command = browserCommand(env);
  if (!command) return Promise.resolve(false);
  return new Promise((done) => {
    const child = spawn(command, [target], { detached: true, stdio: 'ignore', env: env as NodeJS.ProcessEnv });
    child.once('error', () => done(false));
    child.once('spawn', () => {
      child.unref();
      done(true);
    });
  });
}

/** Runs the command; returns the exit code (0, 1 for a bad file, 2 for bad usage). */
export async function runShowTrace(args: readonly string[], io: ShowTraceIO): Promise<number> {
  let options: Options | 'help';
  try {
    options = parse(args);
  } catch (error) {
    if (!(error instanceof ShowTraceUsage)) throw error;
    io.stderr(`vnc-agent show-trace: ${error.message}\nRun: vnc-agent show-trace --help\n`);
    return 2;
  }
  if (options === 'help') {
    io.stdout(SHOW_TRACE_HELP);
    return 0;
  }
  let html: string;
  try {
    html = await viewerFor(options.file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${options.file} does not exist.` : (error as Error).message;
    io.stderr(`vnc-agent show-trace: ${reason}\n`);
    return 1;
  }

  if (options.serve) {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || (request.url !== '/' && request.url !== '/index.html')) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: the trace viewer is at /\n');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    });
    const address = await new Promise<{ port: number }>((done, fail) => {
      server.once('error', fail);
      server.listen(options.port, '127.0.0.1', () => done(server.address() as { port: number }));
    }).catch((error: NodeJS.ErrnoException) => {
      io.stderr(`vnc-agent show-trace: cannot listen on 127.0.0.1:${options.port} (${error.code ?? error.message}); pick another --port.\n`);
      return undefined;
    });
    if (!address) return 1;
    const url = `http://127.0.0.1:${address.port}/`;
    io.stdout(`Serving the trace viewer at ${url} (Ctrl-C to stop)\n`);
    if (options.open && !(await openInBrowser(url, io.env))) io.stdout(`No browser to start: open ${url}\n`);
    await io.interrupted;
    await new Promise((done) => server.close(done));
    return 0;
  }

  const out = resolve(options.out ?? join(tmpdir(), `vnc-trace-${basename(options.file).replace(/\.\w+$/, '')}-${createHash('sha1').update(html).digest('hex').slice(0, 8)}.html`));
  await writeFile(out, html);
  const url = pathToFileURL(out).href;
  io.stdout(`Wrote the trace viewer to ${out}\n`);
  if (options.open && (await openInBrowser(url, io.env))) io.stdout(`Opened it in the browser.\n`);
  else io.stdout(`${options.open ? 'No browser to start: open' : 'Open'} ${url}\n`);
  return 0;
}
