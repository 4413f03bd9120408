import type { Rect } from '../rfb/framebuffer.js';

/**
 * What an action did on the screen, told to whoever listens (the trace recorder, the MCP server's
 * log): where the pointer acted, what a locator found. Parts of the bridge emit details while an
 * action runs; listeners collect them per step. Text is never carried here (keys typed are masked
 * by the step title), so nothing secret can leak through this channel.
 */
export interface ActionDetail {
  /** Where the pointer pressed, released or moved to, in screen pixels. */
  point?: { x: number; y: number };
  /** A drag's start and end, in screen pixels. */
  drag?: { from: { x: number; y: number }; to: { x: number; y: number } };
  /** What a locator found and acted on, in screen pixels. */
  box?: Rect;
  /** A short label for the detail, e.g. `click left`, `getByText("Save")`. */
  label?: string;
}

export type ActionDetailListener = (detail: ActionDetail) => void;

/** A tiny synchronous channel: emit() calls every listener; a throwing listener is ignored. */
export class ActionDetails {
  private readonly listeners = new Set<ActionDetailListener>();

  /** Adds a listener; returns the function that removes it. */
  on(listener: ActionDetailListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(detail: ActionDetail): void {
    for (const listener of this.listeners) {
      try {
        listener(detail);
      } catch {
        // A listener (a trace, a log) must never break the action that reported to it.
      }
    }
  }
}
