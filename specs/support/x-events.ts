/** Input events as the X server delivered them to the root window, read with xev. */
import type { DisplayTarget } from './desktop.js';
import { delay, startProcess, stopProcess } from './processes.js';

export interface EventWatch {
  /** The events so far, waiting (up to 5 s) until there are at least `expectedCount`. */
  events(expectedCount: number): Promise<string[]>;
  stop(): Promise<void>;
}

/** Button events on the root window, as "press 1 @100,100". */
export async function watchRootButtons(server: DisplayTarget): Promise<EventWatch> {
  return watch(server, 'button', /Button(Press|Release) event.*?root:\((\d+),(\d+)\).*?button (\d+)/gs, (m) => `${m[1] === 'Press' ? 'press' : 'release'} ${m[4]} @${m[2]},${m[3]}`);
}

/** Key events on the root window (the pointer over no window), as "press Shift_L @12345" (X server time, ms). */
export async function watchRootKeys(server: DisplayTarget): Promise<EventWatch> {
  return watch(server, 'keyboard', /Key(Press|Release) event.*?time (\d+).*?keysym 0x[0-9a-f]+, (\w+)\)/gs, (m) => `${m[1] === 'Press' ? 'press' : 'release'} ${m[3]} @${m[2]}`);
}

async function watch(server: DisplayTarget, mask: string, pattern: RegExp, format: (match: RegExpMatchArray) => string): Promise<EventWatch> {
  const xev = startProcess('xev', ['-root', '-event', mask], { env: server.env });
  await delay(300);
  const parse = () => [...xev.log().matchAll(pattern)].map(format);
  return {
    async events(expectedCount) {
      const deadline = Date.now() + 5000;
      while (parse().length < expectedCount && Date.now() < deadline) await delay(50);
      await delay(100);
      return parse();
    },
    stop: () => stopProcess(xev, 2000),
  };
}
