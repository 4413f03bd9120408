/** vnc-agent-bridge: drive remote desktops over VNC. */
export { VNCAgentBridge, DEFAULT_TIMEOUT_MS, type VNCAgentBridgeOptions, type ServerInfo } from './bridge/bridge.js';
export { TCPVNCConnection, type VNCConnection, type TCPVNCConnectionOptions } from './bridge/connection.js';
export { WebSocketVNCConnection, type WebSocketVNCConnectionOptions } from './bridge/websocket-connection.js';
export { createWebSocketVNC, proxmoxConnection, PROXMOX_URL_TEMPLATE, type ProxmoxVNCOptions } from './proxmox/index.js';
export {
  loadTargets,
  parseTargets,
  resolveTarget,
  describeTarget,
  launchTarget,
  runProvider,
  DEFAULT_TARGETS_FILE,
  DEFAULT_TARGETS_YAML,
  EMBEDDED_TARGETS_FILE,
  VNCTargetsFileError,
  type LoadTargetsOptions,
  type ParseTargetsOptions,
  type ResolveTargetOptions,
  type LaunchTargetOptions,
  type LaunchedTarget,
  type TargetProvider,
  type ProviderContext,
  type ProviderResult,
  type ConfigProblem,
  type SourceLocation,
  type TargetsFile,
  type TargetConfig,
  type TargetDefaults,
  type TargetConnection,
  type TcpTargetConnection,
  type WebSocketTargetConnection,
  type TargetCredentials,
  type CertificateConfig,
  type ProviderConfig,
  type LaunchConfig,
  type LocalDesktopLaunch,
  type CommandLaunch,
  type CompareSettings,
} from './config/index.js';
export { expandUrlTemplate, maskUrl, templatePlaceholders } from './transport/url-template.js';
export type { TlsTrust } from './transport/tls.js';
export type { Mouse, MouseButton, Point, ClickOptions, DragOptions, ClickImageOptions } from './bridge/mouse.js';
export type { Keyboard, TypeOptions } from './bridge/keyboard.js';
export type { Scroll, ScrollOptions } from './bridge/scroll.js';
export type { Clipboard, GetTextOptions } from './bridge/clipboard.js';
export type { Screen, CaptureOptions, ScreenshotOptions, WaitForChangeOptions, WaitForStableOptions, ScreenWord, ReadTextOptions } from './bridge/screen.js';
export {
  TesseractEngine,
  TextReader,
  findText,
  closestText,
  type TesseractEngineOptions,
  type TextReaderOptions,
  type TextReaderStats,
  type TextMatch,
  type FindTextOptions,
  type OcrBox,
  type OcrEngine,
  type OcrImage,
  type OcrReadOptions,
  type OcrWord,
} from './ocr/index.js';
export {
  ScreenLocator,
  STILL_MS,
  type LocatorMatch,
  type GetByTextOptions,
  type GetByImageOptions,
  type LocatorClickOptions,
  type LocatorFillOptions,
  type LocatorTimeoutOptions,
  type LocatorWaitForOptions,
  type LocatorState,
} from './bridge/locators/index.js';
export { encodePng, decodePng } from './bridge/png.js';
export { compareFrames, checkMatch, type CompareOptions, type CompareResult, type MatchTolerance, type FrameSize } from './bridge/image-diff.js';
export { findImage, closestMatch, loadImage, type FindImageOptions, type FindOnScreenOptions, type Match, type ImageSource } from './bridge/image-search.js';
export { encodeApng, type ApngOptions } from './bridge/apng.js';
export type { RFBClient, RFBClientEvents } from './rfb/client.js';
export type { Frame, Rect } from './rfb/framebuffer.js';
export type { CursorImage } from './rfb/encodings/cursor.js';
export type { Credentials } from './rfb/security/security.js';
export type { Transport, TransportEvents, TlsUpgradeOptions } from './transport/transport.js';
export { Limits } from './rfb/constants.js';
export {
  VNCError,
  VNCException,
  VNCConnectionError,
  VNCAuthenticationError,
  VNCProtocolError,
  VNCTimeoutError,
  VNCInputError,
  VNCStateError,
  VNCConfigError,
  type VNCErrorCode,
} from './errors.js';
