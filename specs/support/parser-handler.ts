import type { ServerMessageHandler } from '../../src/rfb/server-messages.js';

/** A ServerMessageHandler that ignores every message, but for the `overrides` a spec counts or records. */
export function ignoringHandler(overrides: Partial<ServerMessageHandler> = {}): ServerMessageHandler {
  const ignore = (): void => undefined;
  return { damaged: ignore, updateEnded: ignore, resized: ignore, cursorChanged: ignore, colourMapEntries: ignore, bell: ignore, cutText: ignore, extendedClipboard: ignore, ...overrides };
}
