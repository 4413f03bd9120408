/**
 * One RFB session over an open transport: runs the handshake, keeps the framebuffer current with
 * incremental update requests — or, where the server offers them (TigerVNC), continuous updates
 * that it streams unasked — and sends input. Knows nothing of sockets: it reads and writes bytes
 * through the Transport interface.
 */
import { EventEmitter } from 'node:events';
import { VNCAuthenticationError, VNCConfigError, VNCConnectionError, VNCError, VNCProtocolError, VNCStateError, VNCTimeoutError } from '../errors.js';
import type { TlsTrust } from '../transport/tls.js';
import type { Transport } from '../transport/transport.js';
import { ByteQueue } from './byte-queue.js';
import { clientFence, enableContinuousUpdates, framebufferUpdateRequest, keyEvent, pointerEvent, qemuExtendedKeyEvent, setEncodings, setPixelFormat } from './client-messages.js';
import { Encoding } from './constants.js';
import type { CursorImage } from './encodings/cursor.js';
import { chooseEncodings, createDecoders, type PixelEncoding } from './encodings/index.js';
import { ClipboardChannel, type PlainClipboardEncoding } from './clipboard-channel.js';
import { DesktopSizeControl } from './desktop-size-control.js';
import { fenceAnswerFlags, isFenceRequest } from './fence.js';
import { Framebuffer, type Rect } from './framebuffer.js';
import { Handshake, type HandshakeResult, type HandshakeStartTls } from './handshake.js';
import { RGBX_LITTLE_ENDIAN } from './pixel-format.js';
import { checkCompressionLevel, checkQuality, qualityPseudoEncodings, type CompressionLevel, type Quality } from './quality.js';
import type { Credentials, SessionCipher } from './security/security.js';
import { type LockState, ServerMessageParser } from './server-messages.js';
import { sessionTransport } from './session-transport.js';

export interface RFBClientOptions {
  credentials: Credentials;
  /** Pixel encodings to advertise, best first (names as in PIXEL_ENCODINGS); default all. */
  encodings?: readonly string[];
  /** 'lossless' (default: no JPEG, pixel-exact) or a JPEG quality level 0–9 the server may use (Tight). */
  quality?: Quality;
  /** zlib compression level 0–9 to ask the server for; default: the server's choice. */
  compressionLevel?: CompressionLevel;
  /** ClientInit's shared flag (default true: other clients stay connected). */
  shared?: boolean;
  /** Bound on the handshake (a TLS handshake included) and the first full frame. */
  timeoutMs: number;
  /**
   * TLS for VeNCrypt's TLS and X509 sub-types: the name the certificate must carry and what to
   * trust. Default: the host of `transport.remote`, verified against the system's CAs.
   */
  tls?: { servername: string; trust: TlsTrust };
  /** Allow VeNCrypt's Plain sub-type (256) without TLS, which sends the password unencrypted. Default false. */
  allowPlainWithoutTls?: boolean;
  /**
   * Offer continuous updates (the Fence and ContinuousUpdates pseudo-encodings). Default true: a
   * server that takes them up (TigerVNC) then streams changes instead of answering one update
   * request at a time; other servers ignore the offer. false offers neither.
   */
  continuousUpdates?: boolean;
  /**
   * Stall detection, in ms; 0 (default) turns it off. When no byte at all has arrived for half
   * this long, the client sends a probe the server must answer (a non-incremental update request
   * for 1×1 pixel); when no byte has arrived for this long despite the probe, the session ends with
   * a VNCConnectionError (code ECLOSED) saying the server stopped answering, and every pending wait
   * rejects with it. An idle screen is never mistaken for a stall: silence alone only sends a probe.
   */
  stallTimeoutMs?: number;
  /**
   * Offer QEMU Extended Key Events and LED State (default false): key events may then carry
   * scancodes, and the server reports its Caps/Num/Scroll Lock. The bridge turns it on with a
   * keyboard layout.
   */
  keyboardExtensions?: boolean;
  /** Encoding of plain (non-Extended) cut text: 'latin1' (RFC 6143, default) or 'utf-8' (wayvnc). */
  plainClipboardEncoding?: PlainClipboardEncoding;
}

/** The host part of a transport's `remote` ("host:port", "[v6]:port" or a URL), for TLS. */
export function hostOfRemote(remote: string): string {
  if (/^[a-z][a-z\d+.-]*:\/\//i.test(remote)) {
    try {
      return new URL(remote).hostname.replace(/^\[(.*)\]$/, '$1');
    } catch {
      // Not a URL after all: fall through.
    }
  }
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(remote);
  if (bracketed) return bracketed[1];
  return remote.replace(/:\d+$/, '');
}

export interface RFBClientEvents {
  /** A FramebufferUpdate was applied; `rects` are the areas that changed. */
  update: [rects: Rect[]];
  resize: [width: number, height: number];
  cursor: [cursor: CursorImage | null];
  bell: [];
  /** The server's clipboard text changed. */
  clipboard: [text: string];
  /** The server's keyboard lock keys changed (QEMU LED State). */
  locks: [locks: LockState];
  /** The first frame has arrived: the first update that painted pixels, with no size change pending. */
  ready: [];
  /** The server renamed its desktop (DesktopName pseudo-encoding). */
  name: [name: string];
  /** The session ended; `error` says why unless `close()` ended it. */
  closed: [error: VNCError | undefined];
}

/** Pseudo-encodings always advertised after the pixel encodings (quality and compression level follow when asked for). */
const PSEUDO_ENCODINGS: readonly number[] = [
  Encoding.Cursor,
  Encoding.DesktopSize,
  Encoding.ExtendedDesktopSize,
  Encoding.LastRect,
  Encoding.ExtendedClipboard,
  Encoding.DesktopName,
];

/** Offered with `keyboardExtensions`: scancodes for key events, and the remote lock keys. */
const KEYBOARD_PSEUDO_ENCODINGS: readonly number[] = [Encoding.QEMUExtendedKeyEvent, Encoding.LEDState];

/** Offered unless `continuousUpdates: false`: TigerVNC enables continuous updates only for clients that answer fences. */
const CONTINUOUS_UPDATES_PSEUDO_ENCODINGS: readonly number[] = [Encoding.Fence, Encoding.ContinuousUpdates];

/**
 * Continuous updates: 'unknown' until the server's first EndOfContinuousUpdates (its way of saying
 * it supports them), 'on' once this client enabled them, 'off' after a later EndOfContinuousUpdates
 * (the server stopped them; requests again, for good).
 */
type ContinuousUpdatesState = 'unknown' | 'on' | 'off';

/** Checks `stallTimeoutMs`: 0 or undefined for off, else a positive number of ms. */
export function checkStallTimeout(value: unknown, what: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new VNCConfigError(`${what}: stallTimeoutMs must be 0 (off) or a positive number of milliseconds, got ${JSON.stringify(value)}.`);
  }
  return value;
}

/** The error for a transport that closed: its own VNCError, or a VNCConnectionError wrapping what it gave. */
function connectionClosedError(remote: string, error: Error | undefined, when: string): VNCError {
  if (error instanceof VNCError) return error;
  const reason = error ? `: ${error.message}` : '';
  return new VNCConnectionError(`The connection to ${remote} was closed ${when}${reason}.`, { cause: error, code: 'ECLOSED' });
}

export class RFBClient extends EventEmitter<RFBClientEvents> {
  readonly info: HandshakeResult;
  readonly framebuffer: Framebuffer;
  /** The pointer image the server last sent (kept apart from the framebuffer), null when hidden. */
  cursor: CursorImage | null = null;
  /** Completed FramebufferUpdates so far. */
  updateCount = 0;
  /** Whether the server confirmed QEMU Extended Key Events: key events may then carry a scancode. */
  extendedKeyEvents = false;
  /** The remote keyboard's lock keys, once the server reported them (QEMU LED State). */
  locks: LockState | undefined;

  private readonly transport: Transport;
  private readonly queue: ByteQueue;
  private readonly parser: ServerMessageParser;
  private readonly clipboardChannel: ClipboardChannel;
  private readonly desktopSize: DesktopSizeControl;
  private currentName: string;
  private damage: Rect[] = [];
  private needFullUpdate = false;
  private closing = false;
  /** How many holdUpdates() are in force: while any is, received data is queued, not parsed. */
  private holds = 0;
  /** Whether key or pointer events were sent (a close then waits until the server has them). */
  private inputSent = false;
  private isReady = false;
  private continuousUpdatesState: ContinuousUpdatesState = 'unknown';
  private closedBecause: { error: VNCError | undefined } | undefined;

  private readonly encodings: readonly PixelEncoding[];
  private readonly pseudoEncodings: readonly number[];
  /** Stall detection (see `RFBClientOptions.stallTimeoutMs`); 0 = off. */
  private readonly stallTimeoutMs: number;
  private stallTimer: NodeJS.Timeout | undefined;
  private lastReceivedAt = Date.now();
  /** When the liveness probe went out, while it is unanswered (no byte since). */
  private probeSentAt: number | undefined;

  private constructor(
    transport: Transport,
    queue: ByteQueue,
    info: HandshakeResult,
    encodings: readonly PixelEncoding[],
    pseudoEncodings: readonly number[],
    stallTimeoutMs: number,
    plainClipboardEncoding: PlainClipboardEncoding = 'latin1',
  ) {
    super();
    this.stallTimeoutMs = stallTimeoutMs;
    this.transport = transport;
    this.queue = queue;
    this.info = info;
    this.encodings = encodings;
    this.pseudoEncodings = pseudoEncodings;
    this.framebuffer = new Framebuffer(info.serverInit.width, info.serverInit.height);
    this.currentName = info.serverInit.name;
    this.desktopSize = new DesktopSizeControl((bytes) => this.send(bytes), transport.remote);
    const advertised = new Set(pseudoEncodings);
    this.clipboardChannel = new ClipboardChannel((bytes) => this.send(bytes), plainClipboardEncoding);
    this.clipboardChannel.on('text', (text) => this.emit('clipboard', text));
    this.parser = new ServerMessageParser(
      this.framebuffer,
      {
        damaged: (rect) => this.damage.push(rect),
        updateEnded: () => this.updateEnded(),
        resized: (width, height) => {
          this.needFullUpdate = true;
          // The streamed area follows the framebuffer: a grown screen would otherwise stream only its old part.
          if (this.continuousUpdatesState === 'on') this.sendInBackground(enableContinuousUpdates(true, 0, 0, width, height));
          this.emit('resize', width, height);
          this.desktopSize.resized(width, height);
        },
        extendedDesktopSize: (change) => this.desktopSize.changed(change),
        desktopName: (name) => {
          this.currentName = name;
          this.emit('name', name);
        },
        cursorChanged: (cursor) => {
          this.cursor = cursor;
          this.emit('cursor', cursor);
        },
        colourMapEntries: () => {
          // The client always asks for true colour; a colour map is of no use to it.
        },
        bell: () => this.emit('bell'),
        cutText: (text) => this.clipboardChannel.receivedPlainBytes(text),
        extendedClipboard: (message) => this.clipboardChannel.receivedExtended(message),
        fence: (flags, payload) => this.fenceReceived(flags, payload),
        endOfContinuousUpdates: () => this.endOfContinuousUpdates(),
        extendedKeyEvents: () => {
          this.extendedKeyEvents = true;
        },
        lockState: (locks) => {
          this.locks = locks;
          this.emit('locks', locks);
        },
      },
      { advertised, decoders: createDecoders(encodings) },
    );
  }

  /**
   * Runs the handshake over `transport`, sets the pixel format and encodings, and resolves once
   * the first full frame has arrived. On failure the transport is destroyed.
   */
  static async start(transport: Transport, options: RFBClientOptions): Promise<RFBClient> {
    let encodings: PixelEncoding[];
    let pseudoEncodings: number[];
    let stallTimeoutMs: number;
    try {
      stallTimeoutMs = checkStallTimeout(options.stallTimeoutMs, 'RFBClient');
      encodings = chooseEncodings(options.encodings);
      const quality = checkQuality(options.quality, 'RFBClient');
      const compressionLevel = checkCompressionLevel(options.compressionLevel, 'RFBClient');
      pseudoEncodings = [
        ...PSEUDO_ENCODINGS,
        ...(options.keyboardExtensions === true ? KEYBOARD_PSEUDO_ENCODINGS : []),
        ...(options.continuousUpdates === false ? [] : CONTINUOUS_UPDATES_PSEUDO_ENCODINGS),
        ...qualityPseudoEncodings(quality, compressionLevel),
      ];
    } catch (error) {
      transport.destroy();
      throw error;
    }
    const queue = new ByteQueue();
    const { timeoutMs } = options;
    let stage = 'waiting for the server to speak';
    let client: RFBClient | undefined;
    try {
      return await new Promise<RFBClient>((resolve, reject) => {
        /** Once the start failed, nothing more is processed. */
        let failed = false;
        const timer = setTimeout(() => {
          failed = true;
          reject(
            new VNCTimeoutError(
              `Timed out after ${timeoutMs} ms connecting to ${transport.remote} (${stage}). Is it a VNC server, and is it responsive?`,
              timeoutMs,
            ),
          );
        }, timeoutMs);
        const fail = (error: unknown) => {
          failed = true;
          clearTimeout(timer);
          reject(error);
        };
        // RSA-AES RA2 / RA256 encrypt the rest of the session with their own cipher: set once the handshake asks.
        let sessionCipher: SessionCipher | undefined;
        const session = sessionTransport(transport, () => sessionCipher);
        const handshake = new Handshake(
          {
            credentials: options.credentials,
            shared: options.shared ?? true,
            // VeNCrypt's TLS sub-types are only on offer over a transport that can start TLS.
            tls: transport.startTls ? (options.tls ?? { servername: hostOfRemote(transport.remote), trust: {} }) : undefined,
            allowPlainWithoutTls: options.allowPlainWithoutTls,
          },
          (bytes) => void session.write(bytes).catch(() => undefined),
        );
        /** While TLS is being set up, bytes wait in the queue instead of going to the handshake. */
        let upgrading = false;
        const advance = () => {
          if (failed) return;
          try {
            const result = handshake.process(queue);
            stage = `handshake stage: ${handshake.stage}`;
            if (!result) return;
            if ('startTls' in result) {
              upgradeToTls(result);
              return;
            }
            if ('encryptSession' in result) {
              sessionCipher = result.encryptSession;
              // What already arrived after the security exchange is encrypted too.
              const rest = queue.take(queue.length);
              if (rest.length > 0) queue.push(sessionCipher.open(rest));
              advance();
              return;
            }
            client = new RFBClient(session, queue, result, encodings, pseudoEncodings, stallTimeoutMs, options.plainClipboardEncoding);
            stage = 'waiting for the first frame';
            client.once('ready', () => {
              clearTimeout(timer);
              resolve(client!);
            });
            client.once('closed', (error) => fail(error ?? new VNCConnectionError(`Connection to ${transport.remote} closed during setup.`)));
            client.begin();
          } catch (error) {
            fail(error);
          }
        };
        const upgradeToTls = ({ startTls: request }: HandshakeStartTls) => {
          if (!transport.startTls) {
            throw new VNCAuthenticationError(
              `VeNCrypt needs TLS over this transport (${transport.remote}), which it cannot do; use a TCP connection or wss://.`,
            );
          }
          upgrading = true;
          stage = `TLS handshake (${request.anonymous ? 'anonymous' : `verifying the certificate of ${request.servername}`})`;
          transport.startTls(request).then(
            () => {
              upgrading = false;
              advance();
            },
            fail,
          );
        };
        transport.start({
          data: (raw) => {
            let chunk = raw;
            if (sessionCipher) {
              try {
                chunk = sessionCipher.open(raw);
              } catch (error) {
                if (client) client.failWith(error);
                else fail(error);
                return;
              }
            }
            if (client) {
              client.received(chunk);
              return;
            }
            try {
              queue.push(chunk);
            } catch (error) {
              fail(error);
              return;
            }
            if (!upgrading) advance();
          },
          closed: (error) => {
            if (client) client.transportClosed(error);
            else fail(connectionClosedError(transport.remote, error, `during the handshake (${stage})`));
          },
        });
      });
    } catch (error) {
      transport.destroy();
      client?.removeAllListeners();
      throw error instanceof VNCError ? error : new VNCProtocolError(`Handshake with ${transport.remote} failed: ${String(error)}`, { cause: error });
    }
  }

  get isClosed(): boolean {
    return this.closedBecause !== undefined;
  }

  /** Why the session ended, if it did. */
  get closeReason(): VNCError | undefined {
    return this.closedBecause?.error;
  }

  get remote(): string {
    return this.transport.remote;
  }

  /** The desktop name: ServerInit's, or the latest the server sent (DesktopName). */
  get desktopName(): string {
    return this.currentName;
  }

  /** Whether the server lets clients resize its desktop (it announced ExtendedDesktopSize). */
  get canResize(): boolean {
    return this.desktopSize.supported;
  }

  /**
   * Asks the server to resize the desktop (SetDesktopSize) and resolves once the framebuffer has
   * the new size; rejects with the server's reason (VNCInputError), or a VNCTimeoutError.
   */
  setDesktopSize(width: number, height: number, timeoutMs: number): Promise<void> {
    if (this.closedBecause) {
      return Promise.reject(this.closedBecause.error ?? new VNCStateError(`The connection to ${this.remote} is closed; connect again to resize.`));
    }
    return this.desktopSize.request(width, height, this.framebuffer, timeoutMs);
  }

  /** The clipboard text as last known (announced by the server or set by this client), if any. */
  get clipboardText(): string | undefined {
    return this.clipboardChannel.text;
  }

  /** Whether the server speaks Extended Clipboard (UTF-8 both ways). */
  get extendedClipboard(): boolean {
    return this.clipboardChannel.extended;
  }

  /** Whether clipboard text may hold any Unicode: Extended Clipboard, or plain cut text configured as UTF-8. */
  get clipboardUnicode(): boolean {
    return this.clipboardChannel.extended || this.clipboardChannel.plainEncoding === 'utf-8';
  }

  /** Whether continuous updates are on: the server streams changes, and no update request follows an update. */
  get continuousUpdates(): boolean {
    return this.continuousUpdatesState === 'on';
  }

  private begin(): void {
    const encodings = [...this.encodings.map((encoding) => encoding.number), ...this.pseudoEncodings];
    this.sendInBackground(setPixelFormat(RGBX_LITTLE_ENDIAN));
    this.sendInBackground(setEncodings(encodings));
    this.requestUpdate(false);
    this.received(new Uint8Array(0));
    this.lastReceivedAt = Date.now();
    this.scheduleStallCheck();
  }

  /**
   * Stall detection. Silence alone proves nothing: after an incremental request an unchanging
   * screen legitimately sends nothing, and with continuous updates on nothing is ever asked. So
   * after `stallTimeoutMs / 2` without a byte the client asks a question every server must answer —
   * a non-incremental FramebufferUpdateRequest for the 1×1 pixel at 0,0 (RFC 6143: the server sends
   * that area whatever changed; TigerVNC honours it with continuous updates on too) — and gives up
   * only when `stallTimeoutMs` has passed without any byte, the probe having had at least half of
   * it. Any byte counts as an answer (it may be queued behind a large update still arriving). A
   * Fence request would cost no pixels, but only servers that speak Fence must answer it; the
   * 1×1 update costs about 30 bytes each way, at most once per half period of silence.
   */
  private scheduleStallCheck(): void {
    const stallMs = this.stallTimeoutMs;
    if (stallMs <= 0 || this.closedBecause) return;
    const due =
      this.probeSentAt === undefined
        ? this.lastReceivedAt + stallMs / 2
        : Math.max(this.lastReceivedAt + stallMs, this.probeSentAt + stallMs / 2);
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.checkStall(), Math.max(1, due - Date.now()));
    this.stallTimer.unref();
  }

  private checkStall(): void {
    if (this.closedBecause) return;
    const stallMs = this.stallTimeoutMs;
    const now = Date.now();
    if (this.probeSentAt !== undefined && now - this.lastReceivedAt >= stallMs && now - this.probeSentAt >= stallMs / 2) {
      this.finish(
        new VNCConnectionError(
          `${this.remote} stopped answering: nothing arrived for ${now - this.lastReceivedAt} ms, not even the answer to a 1×1 update ` +
            `request (stallTimeoutMs ${stallMs}). The server is hung or the network drops its traffic; connect again.`,
          { code: 'ECLOSED' },
        ),
      );
      this.transport.destroy();
      return;
    }
    if (this.probeSentAt === undefined && now - this.lastReceivedAt >= stallMs / 2) {
      this.probeSentAt = now;
      this.sendInBackground(framebufferUpdateRequest(false, 0, 0, Math.min(1, this.framebuffer.width), Math.min(1, this.framebuffer.height)));
    }
    this.scheduleStallCheck();
  }

  private requestUpdate(incremental: boolean): void {
    const { width, height } = this.framebuffer;
    this.sendInBackground(framebufferUpdateRequest(incremental, 0, 0, width, height));
  }

  private updateEnded(): void {
    this.updateCount++;
    const rects = this.damage;
    this.damage = [];
    const full = this.needFullUpdate;
    this.needFullUpdate = false;
    // After a size change the whole new screen is asked for, streaming or not (servers honour a
    // non-incremental request during continuous updates); otherwise a streaming server needs no request.
    if (full) this.requestUpdate(false);
    else if (this.continuousUpdatesState !== 'on') this.requestUpdate(true);
    this.emit('update', rects);
    if (!full && !this.isReady && rects.length > 0) {
      this.isReady = true;
      this.emit('ready');
    }
  }

  /**
   * Answers a fence request at once, before the next message is parsed, with its payload and the
   * flags this client honours. Answers to requests (this client makes none) are ignored.
   */
  private fenceReceived(flags: number, payload: Uint8Array): void {
    if (isFenceRequest(flags)) this.sendInBackground(clientFence(fenceAnswerFlags(flags), payload));
  }

  private endOfContinuousUpdates(): void {
    if (this.continuousUpdatesState === 'unknown') {
      // The first one says the server supports continuous updates: enable them for the whole screen.
      this.continuousUpdatesState = 'on';
      const { width, height } = this.framebuffer;
      this.sendInBackground(enableContinuousUpdates(true, 0, 0, width, height));
    } else if (this.continuousUpdatesState === 'on') {
      // The server stopped streaming: back to one request per update, starting now (none is outstanding).
      // Not enabled again: a server that ends them on every enable would make that a loop.
      this.continuousUpdatesState = 'off';
      this.requestUpdate(true);
    }
  }

  /**
   * Stops painting server messages into the framebuffer until the returned function is called
   * (once; later calls do nothing): what arrives meanwhile is kept and handled then. For reading the
   * framebuffer across awaits (a PNG compressed on the thread pool) without a half-updated picture.
   */
  holdUpdates(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0) this.received(new Uint8Array(0));
    };
  }

  private received(chunk: Uint8Array): void {
    if (this.closedBecause) return;
    if (chunk.length > 0) {
      this.lastReceivedAt = Date.now();
      this.probeSentAt = undefined;
    }
    try {
      if (chunk.length > 0) this.queue.push(chunk);
      if (this.holds === 0) this.parser.parse(this.queue);
    } catch (error) {
      const failure =
        error instanceof VNCError ? error : new VNCProtocolError(`Failed to handle data from ${this.remote}: ${String(error)}`, { cause: error });
      this.finish(failure);
      this.transport.destroy();
    }
  }

  /** Ends the session with `error` (a decryption failure below the parser) and drops the connection. */
  private failWith(error: unknown): void {
    this.finish(error instanceof VNCError ? error : new VNCProtocolError(`Failed to handle data from ${this.remote}: ${String(error)}`, { cause: error }));
    this.transport.destroy();
  }

  private transportClosed(error: Error | undefined): void {
    this.finish(this.closing ? undefined : connectionClosedError(this.remote, error, 'during the session'));
  }

  private finish(error: VNCError | undefined): void {
    if (this.closedBecause) return;
    this.closedBecause = { error };
    clearTimeout(this.stallTimer);
    this.desktopSize.closed(error ?? new VNCStateError(`The connection to ${this.remote} was closed before the desktop was resized.`));
    this.emit('closed', error);
  }

  private send(bytes: Uint8Array): Promise<void> {
    if (this.closedBecause) {
      return Promise.reject(
        this.closedBecause.error ?? new VNCStateError(`The connection to ${this.remote} is closed; connect again before sending input.`),
      );
    }
    return this.transport.write(bytes);
  }

  /** Sends without waiting; a failed write closes the session, which reports it. */
  private sendInBackground(bytes: Uint8Array): void {
    this.send(bytes).catch(() => undefined);
  }

  /**
   * Asks for the whole screen again (a non-incremental update request) and resolves once updates
   * have repainted every pixel — for benchmarks, and to recover a screen suspected to be stale.
   * Works the same with continuous updates on: the server honours non-incremental requests then too.
   */
  refresh(timeoutMs: number): Promise<void> {
    if (this.closedBecause) {
      return Promise.reject(this.closedBecause.error ?? new VNCStateError(`The connection to ${this.remote} is closed; connect again to refresh.`));
    }
    let covered = new Uint8Array(this.framebuffer.width * this.framebuffer.height);
    let paintedArea = 0;
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: VNCError) => {
        clearTimeout(timer);
        this.off('update', onUpdate);
        this.off('resize', onResize);
        this.off('closed', onClosed);
        if (error) reject(error);
        else resolve();
      };
      const onUpdate = (rects: Rect[]) => {
        const width = this.framebuffer.width;
        for (const rect of rects) {
          for (let row = rect.y; row < rect.y + rect.height; row++) covered.fill(1, row * width + rect.x, row * width + rect.x + rect.width);
          paintedArea += rect.width * rect.height;
        }
        // Rectangles may overlap, so the area only says when it is worth looking for a gap.
        if (paintedArea >= covered.length && covered.indexOf(0) < 0) finish();
      };
      // After a size change the server sends the whole new screen: count afresh at the new size.
      const onResize = (width: number, height: number) => {
        covered = new Uint8Array(width * height);
        paintedArea = 0;
      };
      const onClosed = (error: VNCError | undefined) =>
        finish(error ?? new VNCStateError(`The connection to ${this.remote} was closed while refreshing the screen.`));
      const timer = setTimeout(
        () => finish(new VNCTimeoutError(`The server did not repaint the whole screen within ${timeoutMs} ms of a full refresh request.`, timeoutMs)),
        timeoutMs,
      );
      this.on('update', onUpdate);
      this.on('resize', onResize);
      this.on('closed', onClosed);
      this.requestUpdate(false);
    });
  }

  /**
   * Sends a key event. With a `scancode` and a server that confirmed QEMU Extended Key Events,
   * the scancode travels with the keysym (the remote layout then decides the character); otherwise
   * a plain KeyEvent.
   */
  sendKey(keysym: number, down: boolean, scancode?: number): Promise<void> {
    this.inputSent = true;
    if (scancode !== undefined && this.extendedKeyEvents) return this.send(qemuExtendedKeyEvent(down, keysym, scancode));
    return this.send(keyEvent(down, keysym));
  }

  sendPointer(buttonMask: number, x: number, y: number): Promise<void> {
    this.inputSent = true;
    return this.send(pointerEvent(buttonMask, x, y));
  }

  /**
   * Resolves once the server has answered a 1×1 update request sent now (or after `timeoutMs`):
   * servers handle messages in order, so by then everything sent before has been handled.
   */
  private syncWithServer(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.off('update', onUpdate);
        this.off('closed', done);
        resolve();
      };
      const onUpdate = (rects: Rect[]) => {
        if (rects.some((rect) => rect.x === 0 && rect.y === 0)) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.on('update', onUpdate);
      this.on('closed', done);
      this.sendInBackground(framebufferUpdateRequest(false, 0, 0, 1, 1));
    });
  }

  /** Offers text as the client's clipboard (UTF-8 with Extended Clipboard, else Latin-1). */
  setClipboard(text: string): Promise<void> {
    return this.clipboardChannel.setText(text);
  }

  /** Sends everything queued, then closes the connection. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closedBecause) return;
    // A proxy on the way (websockify) may drop what it has not forwarded yet when the client
    // closes: make sure the server has handled the input first.
    if (this.transport.mayDropOnClose && this.inputSent) await this.syncWithServer(Math.min(timeoutMs, 2000));
    this.closing = true;
    await this.transport.close(timeoutMs);
    this.finish(undefined);
  }
}
