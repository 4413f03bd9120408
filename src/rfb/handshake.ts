/**
 * The opening of an RFB session (RFC 6143 §7.1–7.3): protocol version, security, ClientInit and
 * ServerInit. A state machine fed from the byte queue; it writes its replies through `send`.
 */
import { VNCAuthenticationError, VNCConnectionError, VNCProtocolError } from '../errors.js';
import type { ByteQueue } from './byte-queue.js';
import { clientInit, protocolVersionMessage } from './client-messages.js';
import { Limits, type ProtocolVersion, SecurityType, securityTypeName } from './constants.js';
import { checkDesktopSize } from './encodings/desktop-size.js';
import { PIXEL_FORMAT_BYTES, type PixelFormat, readPixelFormat } from './pixel-format.js';
import { NoneSecurity } from './security/none.js';
import type { Credentials, SecurityHandler } from './security/security.js';
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
  serverInit: ServerInit;
}

export interface HandshakeOptions {
  credentials: Credentials;
  /** ClientInit's shared flag: leave other clients connected (default true). */
  shared: boolean;
}

/** Security types this client implements, strongest first. */
const SUPPORTED_SECURITY_TYPES: readonly number[] = [SecurityType.VncAuthentication, SecurityType.None];

const VERSION_BYTES = 12;
const SERVER_INIT_FIXED_BYTES = 24;
const VERSION_PATTERN = /^RFB (\d{3})\.(\d{3})\n$/;

type State = 'version' | 'security-types' | 'security-type-3.3' | 'security' | 'security-result' | 'server-init' | 'done';

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
   */
  process(queue: ByteQueue): HandshakeResult | undefined {
    for (;;) {
      queue.mark();
      const result = this.step(queue);
      if (result === false) {
        queue.restore();
        return undefined;
      }
      queue.commit();
      if (result !== true) return result;
    }
  }

  /** One step: false = need more bytes, true = advanced, a result = done. */
  private step(queue: ByteQueue): boolean | HandshakeResult {
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

  private chooseSecurityType(offered: number[]): number {
    const { password } = this.options.credentials;
    const usable = SUPPORTED_SECURITY_TYPES.filter((type) => offered.includes(type));
    // With a password, prefer authenticating; without one, prefer None where the server allows it.
    const chosen = password ? usable[0] : (usable.find((type) => type === SecurityType.None) ?? usable[0]);
    if (chosen === undefined) {
      throw new VNCAuthenticationError(
        `The server offers security types ${offered.map(securityTypeName).join(', ')}; this client supports ` +
          `${SUPPORTED_SECURITY_TYPES.map(securityTypeName).join(', ')}. Configure the server to allow one of these.`,
      );
    }
    return chosen;
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

  private startSecurity(type: number): void {
    this.security = type === SecurityType.None ? new NoneSecurity() : new VncAuthSecurity(this.options.credentials.password);
    this.state = 'security';
  }

  private runSecurity(queue: ByteQueue): boolean {
    const security = this.security!;
    if (!security.process(queue, this.send)) return false;
    // Before 3.8, security type None is not followed by a SecurityResult.
    if (security.type === SecurityType.None && this.protocolVersion !== '3.8') this.sendClientInit();
    else this.state = 'security-result';
    return true;
  }

  private readSecurityResult(queue: ByteQueue): boolean {
    if (!queue.has(4)) return false;
    const status = queue.peekU32();
    if (status === 0) {
      queue.skip(4);
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
    const hint =
      this.security?.type === SecurityType.VncAuthentication
        ? ' Check the password (VNC Authentication uses only its first 8 characters).'
        : '';
    throw new VNCAuthenticationError(`Authentication failed${reason ? `: ${reason}` : ''}.${hint}`);
  }

  private sendClientInit(): void {
    this.send(clientInit(this.options.shared));
    this.state = 'server-init';
  }

  private readServerInit(queue: ByteQueue): boolean | HandshakeResult {
    if (!queue.has(SERVER_INIT_FIXED_BYTES)) return false;
    const nameLength = queue.peekU32(20);
    if (nameLength > Limits.maxDesktopNameBytes) {
      throw new VNCProtocolError(`The server's desktop name is ${nameLength} bytes, more than the ${Limits.maxDesktopNameBytes}-byte limit.`);
    }
    if (!queue.has(SERVER_INIT_FIXED_BYTES + nameLength)) return false;
    const width = queue.u16();
    const height = queue.u16();
    checkDesktopSize(width, height, 'ServerInit');
    const pixelFormat = readPixelFormat(queue.view(PIXEL_FORMAT_BYTES));
    queue.skip(4);
    const name = Buffer.from(queue.view(nameLength)).toString('utf8');
    this.state = 'done';
    return {
      protocolVersion: this.protocolVersion,
      serverVersion: this.serverVersion,
      securityType: this.security!.type,
      serverInit: { width, height, pixelFormat, name },
    };
  }
}
