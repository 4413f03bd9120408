import { VNCInputError } from '../errors.js';
import { BUTTON_MASK, type Mouse } from './mouse.js';

export interface ScrollOptions {
  /** Scroll at this point (the pointer moves there first); default: where the pointer is. */
  x?: number;
  y?: number;
}

type Direction = 'up' | 'down' | 'left' | 'right';

const WHEEL: Record<Direction, number> = {
  up: BUTTON_MASK.wheelUp,
  down: BUTTON_MASK.wheelDown,
  left: BUTTON_MASK.wheelLeft,
  right: BUTTON_MASK.wheelRight,
};

/** The mouse wheel: each step presses and releases wheel button 4–7 at the pointer. */
export class Scroll {
  private readonly mouse: Mouse;

  constructor(mouse: Mouse) {
    this.mouse = mouse;
  }

  up(amount = 1, options: ScrollOptions = {}): Promise<void> {
    return this.scroll('up', amount, options);
  }

  down(amount = 1, options: ScrollOptions = {}): Promise<void> {
    return this.scroll('down', amount, options);
  }

  left(amount = 1, options: ScrollOptions = {}): Promise<void> {
    return this.scroll('left', amount, options);
  }

  right(amount = 1, options: ScrollOptions = {}): Promise<void> {
    return this.scroll('right', amount, options);
  }

  async scroll(direction: Direction, amount = 1, options: ScrollOptions = {}): Promise<void> {
    const wheel = WHEEL[direction];
    if (wheel === undefined) throw new VNCInputError(`Unknown scroll direction ${JSON.stringify(direction)}: use up, down, left or right.`);
    if (!Number.isInteger(amount) || amount < 0 || amount > 1000) {
      throw new VNCInputError(`Scroll amount ${String(amount)} is not valid: use a whole number of wheel steps from 0 to 1000.`);
    }
    await this.mouse.moveIfGiven(options.x, options.y, 'scroll');
    const held = this.mouse.buttonMask;
    for (let i = 0; i < amount; i++) {
      await Promise.all([this.mouse.sendState(held | wheel), this.mouse.sendState(held)]);
    }
  }
}
