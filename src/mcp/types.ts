/** What `vnc-agent mcp` hands the MCP server: targets that make connected bridges, and settings. */
import type { VNCAgentBridge } from '../index.js';
import type { ImageFormat } from './image.js';

/** A bridge just connected, and the secrets it was made with (never shown). */
export interface ConnectedTarget {
  bridge: VNCAgentBridge;
  /** Passwords, tickets, header values a provider returned…: masked in every result and log line. */
  secrets: readonly string[];
}

/** One desktop the agent may operate. */
export interface McpTarget {
  readonly name: string;
  /** One line about where it connects, safe to show (no secret). */
  readonly description: string;
  /**
   * A new, connected bridge. Called for the first tool call and again after every loss, so a
   * provider is asked for fresh credentials each time; `attempt` counts from 0.
   */
  connect(attempt: number): Promise<ConnectedTarget>;
  /** Stops what was started for this target (a launched desktop); called once at shutdown. */
  close?(): Promise<void>;
}

export interface McpSettings {
  /** Long edge of screenshots, in pixels. Default 1280. */
  maxSize: number;
  format: ImageFormat;
  /** JPEG quality 1–100. Default 80. */
  jpegQuality: number;
  /** After an action, wait for the screen to settle and return a screenshot. Default true. */
  screenshotAfterAction: boolean;
  /** Bound on that wait, in ms. Default 2000. */
  settleTimeoutMs: number;
  /** How long the screen must not change to count as settled, in ms. Default 300. */
  stillMs: number;
  /** Serve only the tools that look (screenshot, cursor_position, wait, clipboard_get, text reading). */
  readOnly: boolean;
}

export const DEFAULT_SETTINGS: McpSettings = {
  maxSize: 1280,
  format: 'png',
  jpegQuality: 80,
  screenshotAfterAction: true,
  settleTimeoutMs: 2000,
  stillMs: 300,
  readOnly: false,
};

/** One line on stderr per action (already free of secrets when it arrives). */
export type McpLogger = (line: string) => void;
