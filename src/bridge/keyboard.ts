import { VNCInputError } from '../errors.js';
import type { BridgeContext } from './context.js';
import { type KeyEvent, keyEventsForChord, keyEventsForText, parseChord, resolveKey } from './key-chord.js';
import { sleep } from './waiting.js';

export interface TypeOptions {
  /** Mask this text in test steps, traces and reports (passwords). */
  secret?: boolean;
  /** Pause after each character, in ms. Default: the bridge's typing delay (about 30 keys/s); 0 = as fast as the connection takes it. */
  delayMs?: number;
}

/** Default pause between typed characters: about 30 keys a second, as openQA types. */
export const DEFAULT_TYPING_DELAY_MS = 33;

/** The keyboard: text, chords and single keys, by X11 keysym. Tracks held keys so none stays stuck. */
export class Keyboard {
  private readonly context: BridgeContext;
  private readonly held = new Set<number>();
  private readonly defaultDelayMs: number;

  constructor(context: BridgeContext, typingDelayMs = DEFAULT_TYPING_DELAY_MS) {
    this.context = context;
    this.defaultDelayMs = checkDelay(typingDelayMs);
  }

  private send(event: KeyEvent): Promise<void> {
    if (event.down) this.held.add(event.keysym);
    else this.held.delete(event.keysym);
    return this.context.session().sendKey(event.keysym, event.down);
  }

  /**
   * Sends a batch of key events. Without a delay they go out in one burst (the transport keeps
   * them in order); with one, the pause falls after each key release.
   */
  private async sendAll(events: KeyEvent[], delayMs: number): Promise<void> {
    if (delayMs === 0) {
      await Promise.all(events.map((event) => this.send(event)));
      return;
    }
    let pressed = 0;
    for (const event of events) {
      await this.send(event);
      pressed += event.down ? 1 : -1;
      if (pressed === 0) await sleep(delayMs);
    }
  }

  /** Types any Unicode text; "\n" presses Return and "\t" Tab. */
  async type(text: string, options: TypeOptions = {}): Promise<void> {
    if (typeof text !== 'string') throw new VNCInputError(`keyboard.type expects a string, got ${typeof text}.`);
    const events = keyEventsForText(text);
    await this.sendAll(events, checkDelay(options.delayMs ?? this.defaultDelayMs));
  }

  /** Presses a key or chord such as "enter", "ctrl+alt+t" or "shift+F10"; modifiers are released in reverse order. */
  async press(chord: string, options: TypeOptions = {}): Promise<void> {
    const events = keyEventsForChord(parseChord(chord));
    await this.sendAll(events, checkDelay(options.delayMs ?? 0));
  }

  /** Holds a key down (by name, e.g. "shift") until `up`. */
  async down(key: string): Promise<void> {
    await this.send({ keysym: resolveKey(key), down: true });
  }

  async up(key: string): Promise<void> {
    await this.send({ keysym: resolveKey(key), down: false });
  }

  /** Holds `keys` (a chord like "ctrl+shift") while `action` runs, then releases them in reverse order. */
  async hold<T>(keys: string, action: () => Promise<T>): Promise<T> {
    const keysyms = parseChord(keys);
    for (const keysym of keysyms) await this.send({ keysym, down: true });
    try {
      return await action();
    } finally {
      for (const keysym of [...keysyms].reverse()) await this.send({ keysym, down: false }).catch(() => undefined);
    }
  }

  /** Forgets held keys: a new session starts with none. */
  reset(): void {
    this.held.clear();
  }

  /** Releases every key this client holds down (used before disconnecting). */
  async releaseAll(): Promise<void> {
    for (const keysym of [...this.held].reverse()) await this.send({ keysym, down: false });
  }
}

function checkDelay(delayMs: unknown): number {
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new VNCInputError(`Typing delay ${JSON.stringify(delayMs)} is not valid: use a number of milliseconds ≥ 0 (0 = as fast as possible).`);
  }
  return delayMs;
}
