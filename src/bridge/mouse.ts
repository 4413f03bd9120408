import { VNCInputError } from '../errors.js';
import type { BridgeContext } from './context.js';
import { lookForImage, type FindOnScreenOptions, type ImageSource, type Match } from './image-search.js';
import { sleep } from './waiting.js';

export type MouseButton = 'left' | 'middle' | 'right';

/** Bits of the RFB pointer button mask. Wheel "buttons" 4–7 are used by Scroll. */
export const BUTTON_MASK = {
  left: 1 << 0,
  middle: 1 << 1,
  right: 1 << 2,
  wheelUp: 1 << 3,
  wheelDown: 1 << 4,
  wheelLeft: 1 << 5,
  wheelRight: 1 << 6,
} as const;

export interface Point {
  x: number;
  y: number;
}

export interface ClickOptions {
  button?: MouseButton;
  /** Clicks in a row (2 = double click). Default 1. */
  count?: number;
}

export interface DragOptions {
  button?: MouseButton;
  /** Pointer moves between the two points, the last one at `to`. Default 10. */
  steps?: number;
  /** Pause between steps. Default 0. */
  delayMs?: number;
}

export interface ClickImageOptions extends FindOnScreenOptions {
  button?: MouseButton;
  /** Click this far from the match's centre. */
  offset?: Point;
}

function buttonMask(button: unknown): number {
  if (button === 'left' || button === 'middle' || button === 'right') return BUTTON_MASK[button];
  throw new VNCInputError(`Unknown mouse button ${JSON.stringify(button)}: use "left", "middle" or "right".`);
}

/** The pointer: moves, clicks and drags, tracking position and held buttons. */
export class Mouse {
  private readonly context: BridgeContext;
  private x = 0;
  private y = 0;
  private known = false;
  private buttons = 0;
  /** > 0 while a compound action (click, drag) runs: it reports itself, not its parts. */
  private quiet = 0;

  constructor(context: BridgeContext) {
    this.context = context;
  }

  /** Where this client last put the pointer; (0, 0) until it has moved it (servers do not tell). */
  get position(): Point {
    return { x: this.x, y: this.y };
  }

  /** Forgets position and held buttons: a new session starts with neither. */
  reset(): void {
    this.x = this.y = this.buttons = 0;
    this.known = false;
  }

  /** Moves to (x, y) when given; otherwise checks that acting "where the pointer is" means somewhere known. */
  async moveIfGiven(x: number | undefined, y: number | undefined, action: string): Promise<void> {
    if (x !== undefined || y !== undefined) {
      await this.move(x as number, y as number);
    } else if (!this.known) {
      throw new VNCInputError(
        `Cannot ${action} where the pointer is: this connection has not moved the pointer yet, and VNC servers do not tell where it is. Pass x and y.`,
      );
    }
  }

  /** The RFB button mask currently held down. */
  get buttonMask(): number {
    return this.buttons;
  }

  private checkPoint(x: unknown, y: unknown): Point {
    const { width, height } = this.context.session().framebuffer;
    const valid = (v: unknown, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < max;
    if (!valid(x, width) || !valid(y, height)) {
      throw new VNCInputError(
        `Pointer position (${String(x)}, ${String(y)}) is off the ${width}x${height} screen: use whole numbers with 0 ≤ x < ${width} and 0 ≤ y < ${height}.`,
      );
    }
    return { x: x as number, y: y as number };
  }

  /** Tells listeners (traces, logs) where the pointer acted. */
  private report(label: string, extra: { drag?: { from: Point; to: Point } } = {}): void {
    if (this.quiet > 0) return;
    this.context.details.emit({ point: { x: this.x, y: this.y }, label, ...extra });
  }

  /** Runs `body` without reporting its moves and presses (the caller reports the whole). */
  private async quietly<T>(body: () => Promise<T>): Promise<T> {
    this.quiet++;
    try {
      return await body();
    } finally {
      this.quiet--;
    }
  }

  /** @internal Runs `body` without the pointer's own reports: the caller (a locator) reports the whole action. */
  unreported<T>(body: () => Promise<T>): Promise<T> {
    return this.quietly(body);
  }

  /** Sends the pointer state with `mask` at the current position (used by Scroll too). */
  sendState(mask: number): Promise<void> {
    return this.context.session().sendPointer(mask, this.x, this.y);
  }

  async move(x: number, y: number): Promise<void> {
    const point = this.checkPoint(x, y);
    this.x = point.x;
    this.y = point.y;
    this.known = true;
    this.report('move');
    await this.sendState(this.buttons);
  }

  async down(button: MouseButton = 'left'): Promise<void> {
    this.buttons |= buttonMask(button);
    this.report(`down ${button}`);
    await this.sendState(this.buttons);
  }

  async up(button: MouseButton = 'left'): Promise<void> {
    this.buttons &= ~buttonMask(button);
    this.report(`up ${button}`);
    await this.sendState(this.buttons);
  }

  /** Clicks at (x, y), or where the pointer is when no point is given. */
  async click(x?: number, y?: number, options: ClickOptions = {}): Promise<void> {
    const { button = 'left', count = 1 } = options;
    const mask = buttonMask(button);
    if (!Number.isInteger(count) || count < 1 || count > 10) {
      throw new VNCInputError(`Click count ${String(count)} is not valid: use a whole number from 1 to 10.`);
    }
    await this.quietly(() => this.moveIfGiven(x, y, 'click'));
    this.report(count === 1 ? `click ${button}` : `click ${button} ×${count}`);
    for (let i = 0; i < count; i++) {
      const pressed = this.sendState(this.buttons | mask);
      await Promise.all([pressed, this.sendState(this.buttons)]);
    }
  }

  leftClick(x?: number, y?: number): Promise<void> {
    return this.click(x, y, { button: 'left' });
  }

  rightClick(x?: number, y?: number): Promise<void> {
    return this.click(x, y, { button: 'right' });
  }

  middleClick(x?: number, y?: number): Promise<void> {
    return this.click(x, y, { button: 'middle' });
  }

  doubleClick(x?: number, y?: number, options: { button?: MouseButton } = {}): Promise<void> {
    return this.click(x, y, { button: options.button, count: 2 });
  }

  /**
   * Waits for `image` (a frame, PNG bytes or a PNG file path) on the screen, like
   * `screen.waitForImage`, and clicks its centre (plus `offset`). Resolves with the match.
   */
  async clickImage(image: ImageSource, options: ClickImageOptions = {}): Promise<Match> {
    const match = (await lookForImage(this.context, image, options, { what: 'mouse.clickImage', defaultTimeoutMs: this.context.timeoutMs, onTimeout: 'throw' }))!;
    const x = match.x + Math.floor(match.width / 2) + (options.offset?.x ?? 0);
    const y = match.y + Math.floor(match.height / 2) + (options.offset?.y ?? 0);
    await this.click(x, y, { button: options.button });
    return match;
  }

  /** Presses at `from`, moves in steps to `to`, releases there. The button is released even if a step fails. */
  async drag(from: Point, to: Point, options: DragOptions = {}): Promise<void> {
    const { button = 'left', steps = 10, delayMs = 0 } = options;
    if (!Number.isInteger(steps) || steps < 1) throw new VNCInputError(`Drag steps ${String(steps)} is not valid: use a whole number ≥ 1.`);
    const mask = buttonMask(button);
    this.checkPoint(to.x, to.y);
    this.checkPoint(from.x, from.y);
    await this.quietly(async () => {
      await this.move(from.x, from.y);
      await this.down(button);
    });
    this.report(`drag ${button}`, { drag: { from: { x: from.x, y: from.y }, to: { x: to.x, y: to.y } } });
    await this.quietly(async () => {
      try {
        for (let step = 1; step <= steps; step++) {
          const x = Math.round(from.x + ((to.x - from.x) * step) / steps);
          const y = Math.round(from.y + ((to.y - from.y) * step) / steps);
          await this.move(x, y);
          if (delayMs > 0) await sleep(delayMs);
        }
      } finally {
        this.buttons &= ~mask;
        await this.sendState(this.buttons).catch(() => undefined);
      }
    });
  }

  /** Releases every held button (used before disconnecting). */
  async releaseAll(): Promise<void> {
    if (this.buttons === 0) return;
    this.buttons = 0;
    await this.sendState(0);
  }
}
