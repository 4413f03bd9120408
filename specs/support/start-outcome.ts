/** Checks on how `RFBClient.start()` ended in the byte-level specs. */
import { expect } from '@playwright/test';
import { VNCError } from '../../src/errors.js';

/** What a spec records about one start: the client or the error, and anything that escaped. */
export interface StartOutcome {
  transport: { destroyed: boolean };
  client?: unknown;
  error?: unknown;
  /** An exception that escaped the transport's data callback (never acceptable). */
  escaped?: unknown;
}

/** No secret in the error's message, stack or cause. */
export function expectNoSecret(error: unknown, secrets: readonly string[]): void {
  const texts = [String(error), error instanceof Error ? (error.stack ?? '') : '', error instanceof Error ? String(error.cause ?? '') : ''];
  for (const secret of secrets) {
    for (const text of texts) expect(text, 'an error message must never contain the password').not.toContain(secret);
  }
}

/**
 * The failure shape every failed start must have: start() rejected, nothing escaped, the error's
 * class, name, code and message parts, no secret in it, and the transport destroyed.
 */
export function expectStartFailure(
  outcome: StartOutcome,
  secrets: readonly string[],
  errorClass: new (...args: never[]) => VNCError,
  code: string,
  ...fragments: Array<string | RegExp>
): VNCError {
  expect(outcome.escaped, 'no exception escapes the transport callback').toBeUndefined();
  expect(outcome.client, 'start() must reject').toBeUndefined();
  const error = outcome.error as VNCError;
  expect(error).toBeInstanceOf(errorClass);
  expect(error).toBeInstanceOf(VNCError);
  expect(error.name).toBe(errorClass.name);
  expect(error.code).toBe(code);
  for (const fragment of fragments) {
    if (typeof fragment === 'string') expect(error.message).toContain(fragment);
    else expect(error.message).toMatch(fragment);
  }
  expectNoSecret(error, secrets);
  expect(outcome.transport.destroyed, 'the transport is destroyed after a failed start').toBe(true);
  return error;
}
