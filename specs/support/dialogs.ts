/**
 * Dialogs whose answer the test can read back from the program itself: `xmessage -print` writes the
 * clicked button's label on stdout, `zenity --question` exits 0 (OK) or 1 (Cancel), `zenity --entry`
 * prints what was typed. The proof that a locator clicked or typed in the right place.
 */
import { delay, startProcess, stopProcess, type StartedProcess } from './processes.js';
import type { DisplayTarget } from './desktop.js';

export interface Dialog {
  /** What the program printed on stdout so far. */
  stdout(): string;
  /** Resolves with the exit code once the program ends, or rejects after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<number | null>;
  /** Program output (stdout and stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts `argv` on the display, after `delayS` seconds when given (the window then appears late). */
export function startDialog(server: DisplayTarget, argv: string[], delayS = 0): Dialog {
  const env = { ...server.env, NO_AT_BRIDGE: '1', GTK_THEME: 'Adwaita', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  const quoted = argv.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const proc: StartedProcess = startProcess('sh', ['-c', delayS > 0 ? `sleep ${delayS}; exec ${quoted}` : `exec ${quoted}`], { env });
  let stdout = '';
  proc.child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  return {
    stdout: () => stdout,
    async exit(timeoutMs = 10_000) {
      const ended = await Promise.race([proc.exited, delay(timeoutMs).then(() => undefined)]);
      if (!ended) throw new Error(`${argv[0]} did not exit within ${timeoutMs} ms; its output:\n${proc.log()}`);
      await Promise.race([proc.closed, delay(1000)]);
      return ended.code;
    },
    log: () => proc.log(),
    stop: () => stopProcess(proc, 3000),
  };
}
