import { VNCConfigError, VNCInputError } from '../errors.js';
import { formatCodePoint } from '../rfb/keysyms.js';
import { type KeyboardLayout, getKeyboardLayout } from '../rfb/keyboard-layouts/index.js';
import type { LockState } from '../rfb/server-messages.js';
import type { BridgeContext } from './context.js';
import { type KeyEvent, keyEventsForChord, keyEventsForText, parseChord, resolveKey } from './key-chord.js';
import { type CharacterPlan, planText, withScancodes } from './key-plan.js';
import { sleep } from './waiting.js';

/** How `type()` makes text arrive: by key presses, by pasting from the clipboard, or keys where possible and pasting the rest. */
export type TypeVia = 'keys' | 'clipboard' | 'auto';

export interface TypeOptions {
  /** Mask this text in test steps, traces, reports and errors (passwords). */
  secret?: boolean;
  /** Pause after each character, in ms. Default: the bridge's typing delay (about 30 keys/s); 0 = as fast as the connection takes it. */
  delayMs?: number;
  /**
   * 'keys' (default): key presses; a character no key can type is a VNCInputError naming it.
   * 'clipboard': sets the remote clipboard to the text and presses the paste chord.
   * 'auto': keys where the layout has them, the clipboard for runs of characters it has not.
   */
  via?: TypeVia;
  /** The chord that pastes on the remote side, for the clipboard path. Default: the bridge's `pasteChord` ("ctrl+v"). */
  pasteChord?: string;
}

/** Which path made each piece of the text arrive (text masked when `secret`). */
export interface TypeResult {
  pieces: Array<{ text: string; via: 'keys' | 'clipboard' }>;
}

export interface KeyboardOptions {
  typingDelayMs?: number;
  /** The remote system's keyboard layout ("us", "de", …; see KEYBOARD_LAYOUT_NAMES). */
  keyboardLayout?: string;
  /** Chord that pastes on the remote side. Default "ctrl+v". */
  pasteChord?: string;
}

/**
 * The remote keyboard's lock keys; `known` is false until the server reported them (QEMU LED State,
 * offered only with a `keyboardLayout`).
 */
export interface KeyboardLocks extends LockState {
  known: boolean;
}

/** Default pause between typed characters: about 30 keys a second, as openQA types. */
export const DEFAULT_TYPING_DELAY_MS = 33;
export const DEFAULT_PASTE_CHORD = 'ctrl+v';
/** Time a paste gets to land before the next keys (the remote side reads the clipboard asynchronously). */
const PASTE_SETTLE_MS = 150;

/** The keyboard: text, chords and single keys, by X11 keysym (and scancode on a known layout). Tracks held keys so none stays stuck. */
export class Keyboard {
  private readonly context: BridgeContext;
  private readonly held = new Map<string, KeyEvent>();
  private readonly defaultDelayMs: number;
  private readonly keyboardLayout: KeyboardLayout | undefined;
  private readonly pasteChord: string;

  constructor(context: BridgeContext, options: KeyboardOptions | number = {}) {
    const settings = typeof options === 'number' ? { typingDelayMs: options } : options;
    this.context = context;
    this.defaultDelayMs = checkDelay(settings.typingDelayMs ?? DEFAULT_TYPING_DELAY_MS);
    this.keyboardLayout = settings.keyboardLayout === undefined ? undefined : getKeyboardLayout(settings.keyboardLayout);
    this.pasteChord = settings.pasteChord ?? DEFAULT_PASTE_CHORD;
    try {
      parseChord(this.pasteChord);
    } catch (error) {
      throw new VNCConfigError(`pasteChord ${JSON.stringify(this.pasteChord)} is not a key chord: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The remote system's keyboard layout as configured (`keyboardLayout`), if any. */
  get layout(): string | undefined {
    return this.keyboardLayout?.name;
  }

  /** Caps / Num / Scroll Lock on the remote side, as its LEDs show them. */
  get locks(): KeyboardLocks {
    const locks = this.context.session().locks;
    return locks ? { ...locks, known: true } : { capsLock: false, numLock: false, scrollLock: false, known: false };
  }

  /** Whether keys go out as scancodes: a layout is configured and the server takes QEMU Extended Key Events. */
  get sendsScancodes(): boolean {
    return this.keyboardLayout !== undefined && this.context.session().extendedKeyEvents;
  }

  private send(event: KeyEvent): Promise<void> {
    const id = `${event.keysym}/${event.scancode ?? ''}`;
    if (event.down) this.held.set(id, { ...event, down: false });
    else this.held.delete(id);
    return this.context.session().sendKey(event.keysym, event.down, event.scancode);
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

  /**
   * Types any Unicode text; "\n" presses Return and "\t" Tab. With a `keyboardLayout`, each
   * character is typed with the keys (Shift, AltGr, dead keys) that make it on that layout, by
   * scancode where the server takes them; a character the layout cannot type is a VNCInputError
   * naming it unless `via` is 'clipboard' or 'auto'.
   */
  async type(text: string, options: TypeOptions = {}): Promise<TypeResult> {
    if (typeof text !== 'string') throw new VNCInputError(`keyboard.type expects a string, got ${typeof text}.`);
    const delayMs = checkDelay(options.delayMs ?? this.defaultDelayMs);
    const via = options.via ?? 'keys';
    if (via !== 'keys' && via !== 'clipboard' && via !== 'auto') {
      throw new VNCInputError(`keyboard.type: via must be 'keys', 'clipboard' or 'auto', got ${JSON.stringify(via)}.`);
    }
    const pasteChord = options.pasteChord ?? this.pasteChord;
    const mask = (piece: string) => (options.secret ? '*'.repeat([...piece].length) : piece);
    if (via === 'clipboard') {
      await this.paste(text, 0, pasteChord, options.secret === true);
      return { pieces: [{ text: mask(text), via: 'clipboard' }] };
    }
    const pieces = this.planPieces(text, via, options.secret === true);
    // Refuse before typing anything, so a text never arrives in part.
    for (const piece of pieces) if (piece.via === 'clipboard') this.checkPasteable(piece.text, piece.index, options.secret === true);
    for (const piece of pieces) {
      if (piece.via === 'keys') await this.sendAll(piece.events, delayMs);
      else await this.paste(piece.text, piece.index, pasteChord, options.secret === true);
    }
    return { pieces: pieces.map((piece) => ({ text: mask(piece.text), via: piece.via })) };
  }

  /** Groups the text into runs typed by keys and runs pasted; throws for untypeable characters with via 'keys'. */
  private planPieces(text: string, via: 'keys' | 'auto', secret: boolean): Piece[] {
    const layout = this.keyboardLayout;
    const plans: CharacterPlan[] = layout
      ? planText(text, layout, { scancodes: this.sendsScancodes, capsLock: this.context.session().locks?.capsLock ?? false })
      : [{ text, index: 0, events: keyEventsForText(text) }];
    const pieces: Piece[] = [];
    for (const plan of plans) {
      if (plan.events === undefined) {
        if (via === 'keys') {
          const what = secret ? `The character at index ${plan.index} of the secret text` : `"${plan.text}" (${formatCodePoint(plan.text.codePointAt(0) as number)}) at index ${plan.index} of the text`;
          throw new VNCInputError(
            `${what} cannot be typed: ${secret ? 'no key of the keyboard layout types it' : plan.reason}. ` +
              `Type it with { via: 'clipboard' } (or { via: 'auto' }: keys where possible, the clipboard for the rest), ` +
              'or set keyboardLayout to the layout the remote system uses.',
          );
        }
        const last = pieces[pieces.length - 1];
        if (last?.via === 'clipboard') last.text += plan.text;
        else pieces.push({ via: 'clipboard', text: plan.text, index: plan.index, events: [] });
        continue;
      }
      const last = pieces[pieces.length - 1];
      if (last?.via === 'keys') {
        last.text += plan.text;
        last.events.push(...plan.events);
      } else pieces.push({ via: 'keys', text: plan.text, index: plan.index, events: [...plan.events] });
    }
    return pieces;
  }

  /** Sets the remote clipboard to `text` and presses the paste chord. */
  private async paste(text: string, index: number, pasteChord: string, secret: boolean): Promise<void> {
    this.checkPasteable(text, index, secret);
    await this.context.session().setClipboard(text);
    await this.press(pasteChord);
    await sleep(PASTE_SETTLE_MS);
  }

  /** Throws VNCInputError naming the first character the server's clipboard cannot carry. */
  private checkPasteable(text: string, index: number, secret: boolean): void {
    const session = this.context.session();
    if (!session.clipboardUnicode) {
      const offset = [...text].findIndex((ch) => (ch.codePointAt(0) as number) > 0xff);
      if (offset >= 0) {
        const at = index + [...text].slice(0, offset).join('').length;
        const what = secret ? `the character at index ${at} of the secret text` : `"${[...text][offset]}" (${formatCodePoint([...text][offset]!.codePointAt(0) as number)}) at index ${at}`;
        throw new VNCInputError(
          `Cannot paste ${what}: this server takes clipboard text only as Latin-1 (it does not speak Extended Clipboard), so no available means types it. ` +
            "If the server reads plain cut text as UTF-8 (wayvnc does), set plainClipboardEncoding: 'utf-8'.",
        );
      }
    }
  }

  /** Presses a key or chord such as "enter", "ctrl+alt+t" or "shift+F10"; modifiers are released in reverse order. */
  async press(chord: string, options: TypeOptions = {}): Promise<void> {
    const events = this.onLayout(keyEventsForChord(parseChord(chord)));
    await this.sendAll(events, checkDelay(options.delayMs ?? 0));
  }

  /** Holds a key down (by name, e.g. "shift") until `up`. */
  async down(key: string): Promise<void> {
    await this.send(this.onLayout([{ keysym: resolveKey(key), down: true }])[0] as KeyEvent);
  }

  async up(key: string): Promise<void> {
    await this.send(this.onLayout([{ keysym: resolveKey(key), down: false }])[0] as KeyEvent);
  }

  /** Holds `keys` (a chord like "ctrl+shift") while `action` runs, then releases them in reverse order. */
  async hold<T>(keys: string, action: () => Promise<T>): Promise<T> {
    const pressed = this.onLayout(parseChord(keys).map((keysym) => ({ keysym, down: true })));
    for (const event of pressed) await this.send(event);
    try {
      return await action();
    } finally {
      for (const event of [...pressed].reverse()) await this.send({ ...event, down: false }).catch(() => undefined);
    }
  }

  /** Chords and single keys: by scancode of the configured layout where the server takes them. */
  private onLayout(events: KeyEvent[]): KeyEvent[] {
    return this.keyboardLayout && this.sendsScancodes ? withScancodes(events, this.keyboardLayout) : events;
  }

  /** Forgets held keys: a new session starts with none. */
  reset(): void {
    this.held.clear();
  }

  /** Releases every key this client holds down (used before disconnecting). */
  async releaseAll(): Promise<void> {
    for (const event of [...this.held.values()].reverse()) await this.send(event);
  }
}

interface Piece {
  via: 'keys' | 'clipboard';
  text: string;
  /** Index of the piece's first character in the text. */
  index: number;
  events: KeyEvent[];
}

function checkDelay(delayMs: unknown): number {
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new VNCInputError(`Typing delay ${JSON.stringify(delayMs)} is not valid: use a number of milliseconds ≥ 0 (0 = as fast as possible).`);
  }
  return delayMs;
}
