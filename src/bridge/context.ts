import type { OcrEngine } from '../ocr/types.js';
import type { RFBClient } from '../rfb/client.js';
import type { ActionDetails } from './action-details.js';

/** What the bridge's parts (mouse, keyboard, …) need from the bridge. */
export interface BridgeContext {
  /** The live session; throws VNCStateError when not connected. */
  session(): RFBClient;
  /** Default bound for waits, in milliseconds. */
  readonly timeoutMs: number;
  /** Where parts report what an action did (pointer points, locator boxes) for traces and logs. */
  readonly details: ActionDetails;
  /** The OCR engine the user plugged in (VNCAgentBridgeOptions.ocr); default: tesseract.js, loaded on first read. */
  readonly ocr?: OcrEngine;
}
