/**
 * The opening of an RFB session (RFC 6143 §7.1–7.3): protocol version, security, ClientInit and
 * ServerInit. A state machine fed from the byte queue; it writes its replies through `send`.
 */
import { VNCAuthenticationError, VNCConnectionError, VNCProtocolError } from '../errors.js';
import type { TlsTrust } from '../transport/tls.js';
import type { TlsUpgradeOptions } from '../transport/transport.js';
import type { ByteQueue } from './byte-queue.js';
import { clientInit, protocolVersionMessage } from './client-messages.js';
import { Limits, type ProtocolVersion, SecurityType, securityTypeName } from './constants.js';
import { checkDesktopSize } from './encodings/desktop-size.js';
import { PIXEL_FORMAT_BYTES, type PixelFormat, readPixelFormat } from './pixel-format.js';
import { AppleDHSecurity } from './security/apple-dh.js';
import { chooseSecurityType, SUPPORTED_SECURITY_TYPES } from './security/choice.js';
import { MsLogonIISecurity } from './security/mslogon2.js';
import { RsaAesSecurity } from './security/rsa-aes.js';
import { NoneSecurity } from './security/none.js';
import type { Credentials, SecurityHandler, SessionCipher } from './security/security.js';
import { readTightInteractionCapabilities, TightSecurity } from './security/tight.js';
import { VeNCryptSecurity } from './security/vencrypt.js';
import { VncAuthSecurity } from './security/vnc-auth.js';

export interface ServerInit {
  width: number;
  height: number;
  pixelFormat: PixelFormat;
  name: string;
}

export interface HandshakeResult {
  /** The version both sides speak. */
  protocolVersion: ProtocolVersion;
  /** What the server announced, e.g. "3.8" or "3.889". */
  serverVersion: string;
  securityType: number;
  /** The inner security: the VeNCrypt sub-type (e.g. 261 for X509Vnc) when `securityType` is 19, Tight's authentication type (1 or 2) when it is 16. */
  securitySubtype?: number;
  /** The security in words: "VNC Authentication (2)", "VeNCrypt X509Vnc (261)". */
  securityName: string;
  serverInit: ServerInit;
}

/** The handshake's request to wrap the connection in TLS before it goes on (VeNCrypt). */
export interface HandshakeStartTls {
  startTls: TlsUpgradeOptions;
}

/**
 * The handshake's request to encrypt everything from here on with the security type's own cipher
 * (RSA-AES RA2 / RA256): bytes already in the queue and all that arrive later go through `open`,
 * every byte sent through `seal`.
 */
export interface HandshakeEncryptSession {
  encryptSession: SessionCipher;
}

export interface HandshakeOptions {
  credentials: Credentials;
  /** ClientInit's shared flag: leave other clients connected (default true). */
  shared: boolean;
  /**
   * TLS for VeNCrypt: the name the server's certificate must carry and what to trust. Leave it
   * out when the transport cannot start TLS: VeNCrypt is then only chosen when nothing else is
   * offered, and only its sub-types without TLS can work.
   */
  tls?: { servername: string; trust: TlsTrust };
  /** Allow VeNCrypt's Plain sub-type (256) without TLS, which sends the password unencrypted. Default false. */
  allowPlainWithoutTls?: boolean;
}


const VERSION_BYTES = 12;
const SERVER_INIT_FIXED_BYTES = 24;
const VERSION_PATTERN = /^RFB (\d{3})\.(\d{3})\n$/;

type State = 'version' | 'security-types' | 'security-type-3.3' | 'security' | 'security-result' | 'server-init' | 'tight-capabilities' | 'done';

function printable(bytes: Uint8Array): string {
  return JSON.stringify(Buffer.from(bytes).toString('latin1'));
}

/** The version this client speaks with a server announcing major.minor. */
export function negotiateVersion(major: number, minor: number): ProtocolVersion | undefined {
  if (major > 3 || (major === 3 && minor >= 8)) return '3.8';
  if (major === 3 && minor === 7) return '3.7';
  // 3.4 / 3.6 (UltraVNC) and 3.5 (early Apple) must be treated as 3.3 (RFC 6143 §7.1.1).
  if (major === 3 && minor >= 3) return '3.3';
  return undefined;
}

export class Handshake {
  private state: State = 'version';
  private readonly options: HandshakeOptions;
  private readonly send: (bytes: Uint8Array) => void;
  private protocolVersion: ProtocolVersion = '3.8';
  private serverVersion = '';
  private security: SecurityHandler | undefined;
  /** Whether the server just said it accepted credentials (SecurityResult OK after a type that sends them). */
  private credentialsAccepted = false;
  /** ServerInit, kept while a Tight server's interaction capabilities are still to come. */
  private serverInitResult: HandshakeResult | undefined;

  constructor(options: HandshakeOptions, send: (bytes: Uint8Array) => void) {
    this.options = options;
    this.send = send;
  }

  /** What has been agreed so far, for error messages. */
  get stage(): string {
    return this.state;
  }

  /**
   * Consumes handshake bytes. Returns the result once ServerInit has been read; bytes after it
   * stay in the queue for the message parser. Returns undefined while more bytes are needed.
   *
   * Returns a start-TLS request when the chosen security needs TLS from here on (VeNCrypt): the
   * caller wraps the transport in TLS (`Transport.startTls`) and then calls `process` again with
   * the bytes that arrive over TLS.
   */
  process(queue: ByteQueue): HandshakeResult | HandshakeStartTls | HandshakeEncryptSession | undefined {
    for (;;) {
      queue.mark();
      const result = this.step(queue);
      if (result === false) {
        queue.restore();
        return undefined;
      }
      queue.commit();
      if (result === true) continue;
      if ('startTls' in result && queue.length > 0) {
        throw new VNCProtocolError(
          `The server sent ${queue.length} byte(s) after accepting the VeNCrypt sub-type, where the TLS handshake must begin.`,
        );
      }
      return result;
    }
  }

  /** One step: false = need more bytes, true = advanced, a result = done, or a start-TLS request. */
  private step(queue: ByteQueue): boolean | HandshakeResult | HandshakeStartTls | HandshakeEncryptSession {
    switch (this.state) {
      case 'version':
        return this.readVersion(queue);
      case 'security-types':
        return this.readSecurityTypes(queue);
      case 'security-type-3.3':
        return this.readSecurityType33(queue);
      case 'security':
        return this.runSecurity(queue);
      case 'security-result':
        return this.readSecurityResult(queue);
      case 'server-init':
        return this.readServerInit(queue);
      case 'tight-capabilities':
        if (!readTightInteractionCapabilities(queue)) return false;
        this.state = 'done';
        return this.serverInitResult!;
      case 'done':
        throw new Error('Handshake.process called after the handshake finished');
    }
  }

  private readVersion(queue: ByteQueue): boolean {
    if (!queue.has(VERSION_BYTES)) {
      // Fail early on a server that is clearly not VNC and may never send 12 bytes.
      if (queue.has(4)) {
        const head = queue.view(queue.length);
        if (Buffer.from(head.subarray(0, 4)).toString('latin1') !== 'RFB ') throw this.notVnc(head);
      }
      return false;
    }
    const banner = queue.view(VERSION_BYTES);
    const match = VERSION_PATTERN.exec(Buffer.from(banner).toString('latin1'));
    if (!match) throw this.notVnc(banner);
    const major = Number(match[1]);
    const minor = Number(match[2]);
    const version = negotiateVersion(major, minor);
    if (!version) {
      throw new VNCProtocolError(`The server speaks RFB ${major}.${minor}, older than 3.3, which this client does not support.`);
    }
    this.serverVersion = `${major}.${minor}`;
    this.protocolVersion = version;
    this.send(protocolVersionMessage(version));
    this.state = version === '3.3' ? 'security-type-3.3' : 'security-types';
    return true;
  }

  private notVnc(bytes: Uint8Array): VNCProtocolError {
    const text = Buffer.from(bytes).toString('latin1');
    const hint = text.startsWith('HTTP')
      ? ' This looks like an HTTP server: if it is a WebSocket endpoint (websockify, noVNC, Proxmox), connect with a ws:// or wss:// URL.'
      : text.startsWith('\x16\x03')
        ? ' This looks like a TLS server: it may expect wss:// or a TLS tunnel.'
        : ' Check that the port is a VNC server (display :N listens on 5900+N).';
    return new VNCProtocolError(`The server did not send an RFB version banner (got ${printable(bytes)}).${hint}`);
  }

  /** Reads a length-prefixed reason string; undefined while incomplete. */
  private readReason(queue: ByteQueue): string | undefined {
    if (!queue.has(4)) return undefined;
    const length = queue.peekU32();
    if (length > Limits.maxReasonBytes) {
      throw new VNCProtocolError(`The server sent a ${length}-byte reason string, more than the ${Limits.maxReasonBytes}-byte limit.`);
    }
    if (!queue.has(4 + length)) return undefined;
    queue.skip(4);
    // QEMU ends its reasons with a NUL byte.
    return Buffer.from(queue.view(length)).toString('utf8').replace(/\0+$/, '').trim();
  }

  private refused(reason: string): VNCConnectionError {
    return new VNCConnectionError(
      `The server refused the connection: ${reason || '(no reason given)'}.` +
        (/too many/i.test(reason) ? ' It is blocking this address after failed logins; wait before retrying, and check the password.' : ''),
    );
  }

  private readSecurityTypes(queue: ByteQueue): boolean {
    if (!queue.has(1)) return false;
    const count = queue.peekU8();
    if (count === 0) {
      queue.skip(1);
      const reason = this.readReason(queue);
      if (reason === undefined) return false;
      throw this.refused(reason);
    }
    if (!queue.has(1 + count)) return false;
    queue.skip(1);
    const offered = [...queue.view(count)];
    const chosen = this.chooseSecurityType(offered);
    this.send(Buffer.from([chosen]));
    this.startSecurity(chosen);
    return true;
  }

  /** See SECURITY_PREFERENCE (security/choice.ts) and the README's "Security types". */
  private chooseSecurityType(offered: number[]): number {
    return chooseSecurityType(offered, { credentials: this.options.credentials, tlsAvailable: this.options.tls !== undefined });
  }

  private readSecurityType33(queue: ByteQueue): boolean {
    if (!queue.has(4)) return false;
    const type = queue.peekU32();
    if (type === SecurityType.Invalid) {
      queue.skip(4);
      const reason = this.readReason(queue);
      if (reason === undefined) return false;
      throw this.refused(reason);
    }
    queue.skip(4);
    if (!SUPPORTED_SECURITY_TYPES.includes(type)) {
      throw new VNCAuthenticationError(`The server (RFB 3.3) requires security type ${securityTypeName(type)}, which this client does not support.`);
    }
    this.startSecurity(type);
    return true;
  }

  /** The one place a security type becomes its handler. */
  private startSecurity(type: number): void {
    const { credentials, tls, allowPlainWithoutTls } = this.options;
    switch (type) {
      case SecurityType.None:
        this.security = new NoneSecurity();
        break;
      case SecurityType.VncAuthentication:
        this.security = new VncAuthSecurity(credentials.password);
        break;
      case SecurityType.VeNCrypt:
        this.security = new VeNCryptSecurity({ credentials, tlsAvailable: tls !== undefined, allowPlainWithoutTls });
        break;
      case SecurityType.Tight:
        this.security = new TightSecurity(credentials);
        break;
      case SecurityType.AppleRemoteDesktop:
        this.security = new AppleDHSecurity(credentials);
        break;
      case SecurityType.MSLogonII:
        this.security = new MsLogonIISecurity(credentials);
        break;
      case SecurityType.RA2:
      case SecurityType.RA2ne:
      case SecurityType.RA256:
      case SecurityType.RAne256:
        this.security = new RsaAesSecurity(type, credentials);
        break;
      default:
        throw new Error(`Bug: no handler for security type ${type}`);
    }
    this.state = 'security';
  }

  private runSecurity(queue: ByteQueue): boolean | HandshakeStartTls | HandshakeEncryptSession {
    const security = this.security!;
    const status = security.process(queue, this.send);
    if (status === false) return false;
    if (status === 'continue') return true;
    if (status !== true) {
      // Only VeNCrypt asks for TLS, and it is only offered TLS sub-types when `tls` is set.
      const tls = this.options.tls;
      if (!tls) throw new Error('Bug: a security handler asked for TLS over a transport that cannot start it');
      return { startTls: { ...tls, anonymous: status.startTls.anonymous } };
    }
    // Before 3.8, security type None (VeNCrypt's None sub-type included) is not followed by a SecurityResult.
    if ((security.subtype ?? security.type) === SecurityType.None && this.protocolVersion !== '3.8') this.sendClientInit();
    else this.state = 'security-result';
    return security.sessionCipher ? { encryptSession: security.sessionCipher } : true;
  }

  private readSecurityResult(queue: ByteQueue): boolean {
    if (!queue.has(4)) return false;
    const status = queue.peekU32();
    if (status === 0) {
      queue.skip(4);
      // Handlers that send credentials have a hint for when they are rejected.
      this.credentialsAccepted = this.security?.failureHint !== undefined;
      this.sendClientInit();
      return true;
    }
    let reason = '';
    if (this.protocolVersion === '3.8') {
      queue.skip(4);
      const text = this.readReason(queue);
      if (text === undefined) return false;
      reason = text;
    } else {
      queue.skip(4);
    }
    const hint = this.security?.failureHint ? ` ${this.security.failureHint}` : '';
    // Types that run another inside (VeNCrypt, Tight) say which.
    const via = this.security?.subtype !== undefined ? ` (${this.security.name})` : '';
    throw new VNCAuthenticationError(`Authentication failed${via}${reason ? `: ${reason}` : ''}.${hint}`);
  }

  private sendClientInit(): void {
    this.send(clientInit(this.options.shared));
    this.state = 'server-init';
  }

  /**
   * What makes a ServerInit impossible, or undefined: a name over the limit, a size over the limit,
   * a pixel format no server sends.
   */
  private impossibleServerInit(queue: ByteQueue): string | undefined {
    const nameLength = queue.peekU32(20);
    if (nameLength > Limits.maxDesktopNameBytes) return `The server's desktop name is ${nameLength} bytes, more than the ${Limits.maxDesktopNameBytes}-byte limit.`;
    const width = queue.peekU16(0);
    const height = queue.peekU16(2);
    if (width > Limits.maxFramebufferSide || height > Limits.maxFramebufferSide) {
      return `ServerInit announces a ${width}x${height} desktop, larger than the ${Limits.maxFramebufferSide}x${Limits.maxFramebufferSide} limit.`;
    }
    // The true-colour flag is any non-zero value (x11vnc sends 255): only the size is checked.
    const bitsPerPixel = queue.peekU8(4);
    if (![8, 16, 32].includes(bitsPerPixel)) {
      return `ServerInit announces a pixel format with ${bitsPerPixel} bits per pixel (RFC 6143 allows 8, 16 or 32).`;
    }
    return undefined;
  }

  /**
   * An impossible ServerInit right after the server accepted credentials: the likeliest reason is
   * a server that rejected them without saying so and went on with something else (wayvnc 0.5 /
   * neatvnc over TLS answers "OK" to a wrong password, then sends garbage).
   */
  private silentRejection(problem: string): VNCAuthenticationError {
    const security = this.security!;
    return new VNCAuthenticationError(
      `The server said it accepted the credentials (${security.name}), then sent an impossible ServerInit: ${problem} ` +
        'That is what a server that rejected the credentials without saying so looks like: wayvnc (neatvnc 0.5) answers a wrong ' +
        `username or password over TLS this way. ${security.failureHint ?? 'Check the credentials.'}`,
      { cause: new VNCProtocolError(problem) },
    );
  }

  private readServerInit(queue: ByteQueue): boolean | HandshakeResult {
    if (!queue.has(SERVER_INIT_FIXED_BYTES)) return false;
    const problem = this.impossibleServerInit(queue);
    if (problem) throw this.credentialsAccepted ? this.silentRejection(problem) : new VNCProtocolError(problem);
    const nameLength = queue.peekU32(20);
    if (!queue.has(SERVER_INIT_FIXED_BYTES + nameLength)) return false;
    const width = queue.u16();
    const height = queue.u16();
    checkDesktopSize(width, height, 'ServerInit');
    const pixelFormat = readPixelFormat(queue.view(PIXEL_FORMAT_BYTES));
    queue.skip(4);
    const name = Buffer.from(queue.view(nameLength)).toString('utf8');
    const result: HandshakeResult = {
      protocolVersion: this.protocolVersion,
      serverVersion: this.serverVersion,
      securityType: this.security!.type,
      ...(this.security!.subtype === undefined ? {} : { securitySubtype: this.security!.subtype }),
      securityName: this.security!.name,
      serverInit: { width, height, pixelFormat, name },
    };
    // Tight security: the server's interaction capabilities follow ServerInit.
    if (this.security!.type === SecurityType.Tight) {
      this.serverInitResult = result;
      this.state = 'tight-capabilities';
      return true;
    }
    this.state = 'done';
    return result;
  }
}
