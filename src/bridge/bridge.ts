import { VNCConfigError, VNCStateError } from '../errors.js';
import type { OcrEngine } from '../ocr/types.js';
import { checkStallTimeout, RFBClient } from '../rfb/client.js';
import { chooseEncodings } from '../rfb/encodings/index.js';
import { checkCompressionLevel, checkQuality, type CompressionLevel, type Quality } from '../rfb/quality.js';
import { ActionDetails } from './action-details.js';
import { Clipboard } from './clipboard.js';
import { TCPVNCConnection, type VNCConnection } from './connection.js';
import type { BridgeContext } from './context.js';
import { Keyboard } from './keyboard.js';
import { imageLocator, textLocator, type GetByImageOptions, type GetByTextOptions, type ScreenLocator } from './locators/index.js';
import type { ImageSource } from './image-search.js';
import { Mouse } from './mouse.js';
import { Screen } from './screen.js';
import { Scroll } from './scroll.js';
import { checkTimeout } from './waiting.js';

export interface VNCAgentBridgeOptions {
  /** Server host, for a plain TCP connection (or pass `connection`). */
  host?: string;
  /** Server port; default 5900 (display :N listens on 5900+N). */
  port?: number;
  /** VNC password, when the server asks for one. */
  password?: string;
  username?: string;
  /** For VeNCrypt's X509 sub-types: a certificate (PEM) to trust besides the system's CAs. */
  certificatePem?: string;
  /** Verify the server's VeNCrypt certificate (default true); false works but warns once. */
  verifySsl?: boolean;
  /** Allow VeNCrypt Plain (256), which sends the password unencrypted. Default false. */
  allowPlainWithoutTls?: boolean;
  /** Pixel encodings to offer the server, best first, e.g. ['tight', 'zrle']; default all this client decodes. */
  encodings?: readonly string[];
  /**
   * 'lossless' (default): the server is asked for no JPEG, so the screen is pixel-exact. A JPEG
   * quality level 0 (smallest) to 9 (best) lets Tight servers send JPEG for photo-like areas:
   * less bandwidth, approximate pixels.
   */
  quality?: Quality;
  /** zlib compression level 0 (fastest) to 9 (smallest) to ask the server for; default: the server's choice. */
  compressionLevel?: CompressionLevel;
  /** A connection of your own (e.g. WebSocket); replaces host, port and credentials. */
  connection?: VNCConnection;
  /** Leave other clients connected (ClientInit shared flag). Default true. */
  shared?: boolean;
  /** Bound on connecting and on every wait, in ms. Default 10 000. */
  timeoutMs?: number;
  /**
   * End the session with a VNCConnectionError (code ECLOSED) when the server stops answering: after
   * half this many ms without a byte the client sends a probe every server must answer (a 1×1
   * non-incremental update request), and when this many ms pass without any byte the session
   * ends and every pending wait rejects. An idle screen is not a stall. Default 0 = off.
   */
  stallTimeoutMs?: number;
  /** Pause after each typed character, in ms. Default 33 (about 30 keys/s); 0 = as fast as possible. */
  typingDelayMs?: number;
  /**
   * The OCR engine for `screen.text()`, `screen.words()` and text locators. Default: tesseract.js
   * with English data from npm, loaded on the first read, one worker per connection. An engine you
   * pass is shared by every connection of this bridge and not closed by it.
   */
  ocr?: OcrEngine;
}

export interface ServerInfo {
  /** The desktop name the server announced. */
  name: string;
  width: number;
  height: number;
  /** The RFB version both sides speak ("3.3", "3.7" or "3.8"). */
  protocolVersion: string;
  /** The version the server announced, e.g. "3.8" or "3.889". */
  serverVersion: string;
  securityType: number;
  /** The VeNCrypt sub-type (e.g. 261, X509Vnc) when `securityType` is 19. */
  securitySubtype?: number;
  /** E.g. "VNC Authentication (2)" or "VeNCrypt X509Vnc (261)". */
  securityTypeName: string;
  /** Where the bridge is connected, without credentials. */
  remote: string;
  /** Whether clipboard text travels as UTF-8 (Extended Clipboard). */
  extendedClipboard: boolean;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Drives one remote desktop over VNC: `mouse`, `keyboard`, `scroll`, `clipboard` and `screen`.
 *
 * ```ts
 * await using vnc = await new VNCAgentBridge({ host: '127.0.0.1', port: 5901, password }).connect();
 * await vnc.mouse.click(100, 200);
 * await vnc.keyboard.type('hello\n');
 * ```
 */
export class VNCAgentBridge implements AsyncDisposable {
  readonly mouse: Mouse;
  readonly keyboard: Keyboard;
  readonly scroll: Scroll;
  readonly clipboard: Clipboard;
  readonly screen: Screen;
  readonly timeoutMs: number;
  /** What actions did (pointer points, locator boxes), for traces and logs: `vnc.actionDetails.on(listener)`. */
  readonly actionDetails = new ActionDetails();

  private readonly connection: VNCConnection;
  private readonly shared: boolean;
  private readonly allowPlainWithoutTls: boolean;
  private readonly encodings: readonly string[] | undefined;
  private readonly quality: Quality;
  private readonly compressionLevel: CompressionLevel | undefined;
  private readonly stallTimeoutMs: number;
  private client: RFBClient | undefined;
  private readonly partsContext: BridgeContext;
  private connecting: Promise<this> | undefined;

  constructor(options: VNCAgentBridgeOptions) {
    if (options === null || typeof options !== 'object') {
      throw new VNCConfigError('VNCAgentBridge needs options: { host, port, password } or { connection }.');
    }
    if (options.connection && (options.host !== undefined || options.port !== undefined || options.certificatePem !== undefined || options.verifySsl !== undefined)) {
      throw new VNCConfigError('Pass either `connection` or `host`/`port`/`certificatePem`/`verifySsl` to VNCAgentBridge, not both: a connection carries its own.');
    }
    this.connection =
      options.connection ??
      new TCPVNCConnection({
        host: options.host as string,
        port: options.port,
        password: options.password,
        username: options.username,
        certificatePem: options.certificatePem,
        verifySsl: options.verifySsl,
      });
    this.allowPlainWithoutTls = options.allowPlainWithoutTls ?? false;
    this.encodings = options.encodings;
    chooseEncodings(this.encodings);
    this.quality = checkQuality(options.quality, 'VNCAgentBridge');
    this.compressionLevel = checkCompressionLevel(options.compressionLevel, 'VNCAgentBridge');
    this.shared = options.shared ?? true;
    this.stallTimeoutMs = checkStallTimeout(options.stallTimeoutMs, 'VNCAgentBridge');
    this.timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'VNCAgentBridge');
    if (options.ocr !== undefined && (options.ocr === null || typeof options.ocr.read !== 'function' || typeof options.ocr.close !== 'function')) {
      throw new VNCConfigError('VNCAgentBridge: `ocr` must be an OcrEngine (an object with read(image, options) and close()), or left out for the default tesseract.js engine.');
    }
    const context: BridgeContext = { session: () => this.session(), timeoutMs: this.timeoutMs, details: this.actionDetails, ocr: options.ocr };
    this.partsContext = context;
    this.mouse = new Mouse(context);
    this.keyboard = new Keyboard(context, options.typingDelayMs);
    this.scroll = new Scroll(this.mouse);
    this.clipboard = new Clipboard(context);
    this.screen = new Screen(context);
  }

  get isConnected(): boolean {
    return this.client !== undefined && !this.client.isClosed;
  }

  /** Where this bridge connects, without credentials. */
  get remote(): string {
    return this.connection.remote;
  }

  /** What the server announced during the handshake. */
  get info(): ServerInfo {
    const client = this.session();
    const { info } = client;
    return {
      name: info.serverInit.name,
      width: client.framebuffer.width,
      height: client.framebuffer.height,
      protocolVersion: info.protocolVersion,
      serverVersion: info.serverVersion,
      securityType: info.securityType,
      securitySubtype: info.securitySubtype,
      securityTypeName: info.securityName,
      remote: this.connection.remote,
      extendedClipboard: client.extendedClipboard,
    };
  }

  /** The live protocol session, for events (`update`, `bell`, `clipboard`, `closed`). */
  session(): RFBClient {
    const client = this.client;
    if (!client) throw new VNCStateError(`Not connected to ${this.connection.remote}: call connect() first.`);
    if (client.isClosed) {
      throw new VNCStateError(
        `The connection to ${this.connection.remote} is closed${client.closeReason ? ` (${client.closeReason.message})` : ''}. Call connect() to reconnect.`,
        { cause: client.closeReason },
      );
    }
    return client;
  }

  /**
   * A locator for text on the screen (read by OCR): `await vnc.getByText('Save').click()` waits until
   * "Save" is shown and still, then clicks its middle. Case-insensitive substring unless `exact`.
   */
  getByText(text: string | RegExp, options: GetByTextOptions = {}): ScreenLocator {
    return textLocator(this.locatorHost(), text, options);
  }

  /** A locator for a picture (a PNG file path, PNG bytes or a frame): `await vnc.getByImage('ok.png').click()`. */
  getByImage(image: ImageSource, options: GetByImageOptions = {}): ScreenLocator {
    return imageLocator(this.locatorHost(), image, options);
  }

  private locatorHost() {
    return { context: this.partsContext, mouse: this.mouse, keyboard: this.keyboard };
  }

  /** Connects, authenticates and waits for the first full frame. Resolves to the bridge itself. */
  connect(): Promise<this> {
    if (this.isConnected) return Promise.resolve(this);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<this> {
    const deadline = Date.now() + this.timeoutMs;
    const transport = await this.connection.open({ timeoutMs: this.timeoutMs });
    this.client = await RFBClient.start(transport, {
      credentials: this.connection.credentials,
      tls: this.connection.tls,
      allowPlainWithoutTls: this.allowPlainWithoutTls,
      encodings: this.encodings,
      quality: this.quality,
      compressionLevel: this.compressionLevel,
      shared: this.shared,
      stallTimeoutMs: this.stallTimeoutMs,
      timeoutMs: Math.max(1, deadline - Date.now()),
    });
    this.mouse.reset();
    this.keyboard.reset();
    return this;
  }

  /** Releases held keys and buttons, sends what is queued, and closes. Safe to call twice. */
  async disconnect(): Promise<void> {
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    if (!client || client.isClosed) return;
    try {
      await this.keyboard.releaseAll();
      await this.mouse.releaseAll();
    } catch {
      // The connection failed while releasing; closing below is all that is left to do.
    }
    await client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.disconnect();
  }
}
