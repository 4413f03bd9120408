/**
 * What every server launcher in the test support needs: the RFB banner, waiting for it, the
 * display an X server picked with `-displayfd 3`, and start-up errors that carry the server's log.
 */
import { connect } from 'node:net';
import { delay, type StartedProcess } from './processes.js';

export const RFB_BANNER = 'RFB 003.008\n';

/**
 * Connects to host:port and resolves with the first 12 bytes the server sends.
 * Rejects on connection error, early close, or after `timeoutMs`.
 */
export function readBanner(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    let received = Buffer.alloc(0);
    const finish = (error: Error | null, banner?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(banner!);
    };
    const timer = setTimeout(() => finish(new Error(`no RFB banner from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 12) finish(null, received.subarray(0, 12).toString('latin1'));
    });
    socket.on('error', (e) => finish(e));
    socket.on('close', () => finish(new Error(`connection to ${host}:${port} closed after ${received.length} bytes`)));
  });
}

/** Polls `readBanner` until the RFB 3.8 banner arrives, `program` exits, or the deadline passes. */
export async function waitForBanner(proc: StartedProcess, program: string, port: number, deadline: number): Promise<void> {
  let lastError = '';
  while (Date.now() < deadline) {
    if (proc.hasExited()) throw new Error(`${program} exited before it served the RFB banner`);
    try {
      const banner = await readBanner(port, '127.0.0.1', Math.max(100, Math.min(2000, deadline - Date.now())));
      if (banner === RFB_BANNER) return;
      lastError = `unexpected banner ${JSON.stringify(banner)}`;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await delay(50);
  }
  throw new Error(`${program} on port ${port} not ready: ${lastError}`);
}

/** Reads the display number an X server writes to fd 3 (`-displayfd 3`); rejects if it exits or times out. */
export function readDisplayFd(proc: StartedProcess, program: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const pipe = proc.child.stdio[3];
    if (!pipe || !('on' in pipe)) return reject(new Error('fd 3 is not a pipe'));
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${program} did not report its display within ${timeoutMs} ms`)), timeoutMs);
    pipe.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /^(\d+)\n/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void proc.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${program} exited early (${code ?? signal})`));
    });
  });
}

/**
 * The error to throw when `program` failed to start: `cause`'s message plus the last lines of the
 * server's log (waiting briefly for them to arrive), with the whole log as `serverLog`.
 */
export async function startupError(proc: StartedProcess, program: string, cause: unknown): Promise<Error> {
  await Promise.race([proc.closed, delay(500)]);
  const error = new Error(`${(cause as Error).message}\n--- ${program} log tail ---\n${proc.logTail(40)}`);
  (error as Error & { serverLog?: string }).serverLog = proc.log();
  return error;
}
