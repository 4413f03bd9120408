import type { RFBClient } from '../rfb/client.js';

/** What the bridge's parts (mouse, keyboard, …) need from the bridge. */
export interface BridgeContext {
  /** The live session; throws VNCStateError when not connected. */
  session(): RFBClient;
  /** Default bound for waits, in milliseconds. */
  readonly timeoutMs: number;
}
