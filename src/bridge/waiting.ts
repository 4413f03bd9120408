import { VNCInputError, VNCTimeoutError } from '../errors.js';

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function checkTimeout(timeoutMs: unknown, what: string): number {
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new VNCInputError(`${what}: timeoutMs must be a non-negative number of milliseconds, got ${JSON.stringify(timeoutMs)}.`);
  }
  return timeoutMs;
}

/**
 * Waits for `subscribe` to call its `done` callback, or fails with a VNCTimeoutError after
 * `timeoutMs`. `subscribe` returns its unsubscribe function; it is always called.
 */
export function waitFor<T>(
  timeoutMs: number,
  timeoutMessage: () => string,
  subscribe: (done: (value: T) => void, fail: (error: unknown) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let unsubscribe: (() => void) | undefined;
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      action();
    };
    const timer = setTimeout(() => settle(() => reject(new VNCTimeoutError(timeoutMessage(), timeoutMs))), timeoutMs);
    unsubscribe = subscribe(
      (value) => settle(() => resolve(value)),
      (error) => settle(() => reject(error)),
    );
    if (settled) unsubscribe();
  });
}
