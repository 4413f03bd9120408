/**
 * Input events as the X server delivered them to the root window, read with xev. A watcher is
 * ready only once xev has seen a marker event (button 9, or the F20 key, sent with xdotool), so no
 * event of the test can be missed while xev starts; the marker itself is not reported.
 */
import type { DisplayTarget } from './desktop.js';
import { delay, run, startProcess, stopProcess } from './processes.js';

export interface EventWatch {
  /** The events since the watcher was ready, waiting (up to 5 s) until there are at least `expectedCount`. */
  events(expectedCount: number): Promise<string[]>;
  stop(): Promise<void>;
}

/** Button events on the root window, as "press 1 @100,100". */
export function watchRootButtons(server: DisplayTarget): Promise<EventWatch> {
  return watch(server, {
    mask: 'button',
    pattern: /Button(Press|Release) event.*?root:\((\d+),(\d+)\).*?button (\d+)/gs,
    format: (m) => `${m[1] === 'Press' ? 'press' : 'release'} ${m[4]} @${m[2]},${m[3]}`,
    marker: ['click', '9'],
    isMarker: (event) => / 9 @/.test(event),
  });
}

/** Key events on the root window (the pointer over no window), as "press Shift_L @12345" (X server time, ms). */
export function watchRootKeys(server: DisplayTarget): Promise<EventWatch> {
  return watch(server, {
    mask: 'keyboard',
    pattern: /Key(Press|Release) event.*?time (\d+).*?keysym 0x[0-9a-f]+, (\w+)\)/gs,
    format: (m) => `${m[1] === 'Press' ? 'press' : 'release'} ${m[3]} @${m[2]}`,
    marker: ['key', 'F20'],
    isMarker: (event) => / F20 @/.test(event),
  });
}

interface WatchSpec {
  mask: string;
  pattern: RegExp;
  format: (match: RegExpMatchArray) => string;
  /** xdotool arguments that make one press and release. */
  marker: string[];
  isMarker: (event: string) => boolean;
}

async function watch(server: DisplayTarget, spec: WatchSpec): Promise<EventWatch> {
  const xev = startProcess('xev', ['-root', '-event', spec.mask], { env: server.env });
  const parse = () => [...xev.log().matchAll(spec.pattern)].map(spec.format);
  let skip = 0;
  const deadline = Date.now() + 10_000;
  for (;;) {
    await run('xdotool', spec.marker, { env: server.env, timeoutMs: 5000 });
    const until = Date.now() + 500;
    while (Date.now() < until && parse().filter(spec.isMarker).length < 2) await delay(20);
    const events = parse();
    if (events.filter(spec.isMarker).length >= 2) {
      skip = events.length;
      break;
    }
    if (Date.now() > deadline) {
      await stopProcess(xev, 2000);
      throw new Error(`xev -root -event ${spec.mask} saw no marker event within 10 s:\n${xev.log()}`);
    }
  }
  const since = () => parse().slice(skip).filter((event) => !spec.isMarker(event));
  return {
    async events(expectedCount) {
      const until = Date.now() + 5000;
      while (since().length < expectedCount && Date.now() < until) await delay(50);
      await delay(100);
      return since();
    },
    stop: () => stopProcess(xev, 2000),
  };
}
