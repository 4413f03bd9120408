/**
 * What a targets file (`vnc.targets.yaml`) becomes once loaded: plain data (JSON-serialisable, so a
 * test runner may pass it to its workers), validated, with `${env:NAME}` already filled in.
 */
import type { Quality } from '../rfb/quality.js';
import type { ConfigProblem, SourceLocation } from './problems.js';

export type { SourceLocation } from './problems.js';

/** Screen comparison tolerances, as Playwright's `toHaveScreenshot` takes them. */
export interface CompareSettings {
  /** Per-pixel colour distance (YIQ) that still counts as equal, 0..1. */
  threshold: number;
  /** Pixels that may differ. */
  maxDiffPixels: number;
  /** Share of the pixels that may differ, 0..1. */
  maxDiffPixelRatio: number;
}

/** `lossless`, or a JPEG quality level 0..9 (lower: fewer bytes, blurrier). */
export type { Quality } from '../rfb/quality.js';

/** The `defaults:` section, with the library's defaults filled in. */
export interface TargetDefaults {
  timeoutMs: number;
  typingDelayMs: number;
  /** The remote system's keyboard layout ("us", "de", …), for servers with a fixed layout. */
  keyboardLayout?: string;
  /** The chord that pastes on the remote side (type via clipboard). */
  pasteChord?: string;
  /** Pixel encodings to offer, best first; undefined: every one this client decodes. */
  encodings?: string[];
  quality: Quality;
  compare: CompareSettings;
  shared: boolean;
  /** `size: 1280x800`: the desktop size set on connect (SetDesktopSize); undefined: the server's. */
  size?: { width: number; height: number };
}

/** A certificate (PEM) to trust for this target, besides the system's CAs. */
export interface CertificateConfig {
  pem: string;
  /** The absolute path it was read from, when given as `{ file }`. */
  file?: string;
}

export interface TcpTargetConnection {
  type: 'tcp';
  host: string;
  port: number;
  /** For VeNCrypt's X509 sub-types. */
  certificate?: CertificateConfig;
  /** Verify the VeNCrypt certificate; default true. */
  verifyTls: boolean;
  source: SourceLocation;
}

export interface WebSocketTargetConnection {
  type: 'websocket';
  /** The URL template with `${env:…}` filled in; `${host}`, `${port}`, `${ticket}`, `${password}` and vars stay. */
  url: string;
  /** The template as written (environment values not filled in): safe to print. */
  urlAsWritten: string;
  /** Filled into `${host}`; undefined when the URL names its host itself or a provider gives it. */
  host?: string;
  port?: number;
  vars: Record<string, string | number>;
  /** Upgrade request headers; never printed. */
  headers: Record<string, string>;
  /** Default: the connection's default (['binary']). */
  subprotocols?: string[];
  certificate?: CertificateConfig;
  verifyTls: boolean;
  /** Bound on opening the WebSocket; default the target's timeout. */
  timeoutMs?: number;
  source: SourceLocation;
}

export type TargetConnection = TcpTargetConnection | WebSocketTargetConnection;

export interface TargetCredentials {
  password?: string;
  username?: string;
  /** For `${ticket}` in a WebSocket URL; also the VNC password when no password is given. */
  ticket?: string;
}

export interface ProviderConfig {
  /** Absolute path of the module (default export or named export `provider`). */
  module: string;
  /** The module path as written, relative to the YAML file. */
  modulePath: string;
  /** Bound on one provider call; default the target's timeoutMs. */
  timeoutMs: number;
  source: SourceLocation;
}

/** `launch: { preset: local-desktop }`: TigerVNC Xvnc on a free display and port, with an xterm. */
export interface LocalDesktopLaunch {
  kind: 'local-desktop';
  /** Screen size, e.g. "1280x800". */
  geometry: string;
  depth: 16 | 24 | 32;
  /** Bound on starting it. */
  timeoutMs: number;
  scope: LaunchScope;
  source: SourceLocation;
}

/** `launch: { command }`: a command that serves VNC on `host:port` (like Playwright's `webServer`). */
export interface CommandLaunch {
  kind: 'command';
  /** Run with `sh -c` when text; an argv list is run as it is. */
  command: string | string[];
  host: string;
  port: number;
  /** When something already serves VNC on host:port, use it instead of starting the command. */
  reuseExisting: boolean;
  /** Bound on the server becoming ready (the RFB banner on host:port). */
  timeoutMs: number;
  /** Added to the environment of the command. */
  env: Record<string, string>;
  /** Absolute; default the YAML file's folder. */
  cwd: string;
  scope: LaunchScope;
  source: SourceLocation;
}

export type LaunchConfig = LocalDesktopLaunch | CommandLaunch;

/**
 * How long a launched target lives under the Playwright fixture: `worker` starts it once per worker
 * and shares it between that worker's tests; `test` starts a fresh one for every test (and retry),
 * like a fresh browser context. Default: `test` for `preset: local-desktop`, `worker` for `command:`.
 */
export type LaunchScope = 'worker' | 'test';

export interface TargetConfig {
  /** Unique; for a matrix `base[param=value,…]`. */
  name: string;
  /** The name under `targets:`. */
  baseName: string;
  /** The matrix values of this target (empty without a matrix). */
  params: Record<string, string>;
  /** How to reach the server; absent when the launch provides it (`preset: local-desktop`). */
  connection?: TargetConnection;
  credentials: TargetCredentials;
  /** A module asked for fresh credentials before every connection. */
  provider?: ProviderConfig;
  launch?: LaunchConfig;
  timeoutMs: number;
  typingDelayMs: number;
  keyboardLayout?: string;
  pasteChord?: string;
  encodings?: string[];
  quality: Quality;
  compare: CompareSettings;
  /** The desktop size set on connect; undefined: the server's. */
  size?: { width: number; height: number };
  tags: string[];
  /** May several test workers drive this target at once? Default false. */
  shared: boolean;
  /** `specs:` — globs of the spec files that run on this target (the project's `testMatch`); default all. */
  specs?: string[];
  /** `grep:` — regular expressions (source text); only tests whose title matches one run on this target. */
  grep?: string[];
  /**
   * Loaded with `missingEnv: 'defer'`: the environment variables this target needs that are not
   * set. Such a target has no connection, credentials or launch; connecting to it or launching it
   * throws these problems (with `file:line:column`).
   */
  unresolved?: ConfigProblem[];
  /** Where the target is written (its name under `targets:`). */
  source: SourceLocation;
}

export interface TargetsFile {
  /** The absolute path of the YAML file, or `<embedded default>` when there was none. */
  file: string;
  /** True when no file existed and the embedded default was used. */
  embedded: boolean;
  /** Matrices expanded, in file order. */
  targets: TargetConfig[];
  defaults: TargetDefaults;
}
