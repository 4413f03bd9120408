/**
 * Security type 19, VeNCrypt (rfbproto, "VeNCrypt"): a version exchange, then the server's list of
 * sub-types, then — for the TLS* and X509* sub-types — a TLS handshake, and an inner security
 * type (None, VNC Authentication or Plain) run over TLS.
 *
 *   server: u8 major, u8 minor (0.2)        client: u8 major, u8 minor (0.2, or 0.0 to give up)
 *   server: u8 status (0 = version accepted)
 *   server: u8 count, count × u32 sub-type  client: u32 chosen sub-type
 *   TLS* / X509* only: server u8 (1 = accepted), then the TLS handshake
 *   the inner security over TLS, then the usual SecurityResult
 *
 * TLS* sub-types use anonymous TLS: the session is encrypted but the server is not authenticated,
 * so anyone in the middle could pose as it. X509* sub-types verify the server's certificate like
 * HTTPS does (against the system's CAs plus `certificatePem`).
 */
import { VNCAuthenticationError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { SecurityType, VeNCryptSubtype, securityTypeName, vencryptSubtypeName } from '../constants.js';
import { NoneSecurity } from './none.js';
import { PlainSecurity } from './plain.js';
import type { Credentials, SecurityHandler, SecurityStatus } from './security.js';
import { VncAuthSecurity } from './vnc-auth.js';

/** The only VeNCrypt version this client speaks (0.1 is obsolete and unsupported everywhere). */
const VERSION_MAJOR = 0;
const VERSION_MINOR = 2;

type Transport = 'clear' | 'anonymous-tls' | 'x509-tls';
type Auth = 'none' | 'vnc' | 'plain';

interface SubtypeInfo {
  transport: Transport;
  auth: Auth;
}

/** The sub-types this client implements. */
const SUBTYPES: ReadonlyMap<number, SubtypeInfo> = new Map([
  [VeNCryptSubtype.X509Plain, { transport: 'x509-tls', auth: 'plain' }],
  [VeNCryptSubtype.X509Vnc, { transport: 'x509-tls', auth: 'vnc' }],
  [VeNCryptSubtype.X509None, { transport: 'x509-tls', auth: 'none' }],
  [VeNCryptSubtype.TLSPlain, { transport: 'anonymous-tls', auth: 'plain' }],
  [VeNCryptSubtype.TLSVnc, { transport: 'anonymous-tls', auth: 'vnc' }],
  [VeNCryptSubtype.TLSNone, { transport: 'anonymous-tls', auth: 'none' }],
  [VeNCryptSubtype.VncAuth, { transport: 'clear', auth: 'vnc' }],
  [VeNCryptSubtype.Plain, { transport: 'clear', auth: 'plain' }],
  [VeNCryptSubtype.None, { transport: 'clear', auth: 'none' }],
]);

/**
 * The preference, strongest first. A verified server beats an anonymous one beats none at all
 * (the transport decides more than the authentication); within each, the sub-type that uses the
 * credentials given comes first (Plain with a username and password, VNC Authentication with a
 * password, None otherwise) — the same rule as the handshake's for types 1 and 2. Without TLS,
 * VNC Authentication (a DES challenge) comes before Plain (the password in the clear).
 */
export const VENCRYPT_PREFERENCE: readonly number[] = [
  VeNCryptSubtype.X509Plain,
  VeNCryptSubtype.X509Vnc,
  VeNCryptSubtype.X509None,
  VeNCryptSubtype.TLSPlain,
  VeNCryptSubtype.TLSVnc,
  VeNCryptSubtype.TLSNone,
  VeNCryptSubtype.VncAuth,
  VeNCryptSubtype.Plain,
  VeNCryptSubtype.None,
];

export interface VeNCryptOptions {
  credentials: Credentials;
  /** Whether the transport can start TLS; without it only the sub-types 1, 2 and 256 can work. */
  tlsAvailable: boolean;
  /** Allow the Plain sub-type (256) without TLS, which sends the password unencrypted. Default false. */
  allowPlainWithoutTls?: boolean;
}

/** Why a sub-type the server offers cannot be used, or undefined when it can. */
function unusableBecause(subtype: number, options: VeNCryptOptions): string | undefined {
  const info = SUBTYPES.get(subtype);
  if (!info) return 'not supported by this client';
  if (info.transport !== 'clear' && !options.tlsAvailable) return 'needs TLS, which this transport cannot start';
  const { username, password } = options.credentials;
  // An empty password is a valid Plain password (the server decides); a missing one is not.
  if (info.auth === 'plain' && (!username || password === undefined)) return 'needs a username and a password';
  if (info.auth === 'vnc' && !password) return 'needs a password';
  if (info.auth === 'plain' && info.transport === 'clear' && !options.allowPlainWithoutTls) {
    return 'would send the password unencrypted, which this client refuses unless allowPlainWithoutTls is set';
  }
  return undefined;
}

/**
 * The sub-type to use among those offered (VENCRYPT_PREFERENCE order, whatever the server's
 * order). Throws a VNCAuthenticationError saying why each offered sub-type is unusable.
 */
export function chooseVeNCryptSubtype(offered: readonly number[], options: VeNCryptOptions): number {
  const chosen = VENCRYPT_PREFERENCE.find((subtype) => offered.includes(subtype) && unusableBecause(subtype, options) === undefined);
  if (chosen !== undefined) return chosen;
  const reasons = [...new Set(offered)].map((subtype) => `${vencryptSubtypeName(subtype)} ${unusableBecause(subtype, options)}`);
  const advice: string[] = [];
  const needsTls = offered.some((subtype) => SUBTYPES.get(subtype)?.transport !== 'clear' && SUBTYPES.has(subtype));
  if (!options.tlsAvailable && needsTls) {
    advice.push('VeNCrypt needs TLS over this transport, which it cannot do; use a TCP connection or wss://.');
  }
  const { username, password } = options.credentials;
  const authsOffered = new Set(offered.map((subtype) => SUBTYPES.get(subtype)?.auth));
  if (!password && (authsOffered.has('vnc') || authsOffered.has('plain'))) {
    advice.push(`Pass \`password\`${authsOffered.has('plain') && !authsOffered.has('vnc') ? ' and `username`' : ''} (CLI: --password or VNC_PASSWORD).`);
  } else if (!username && authsOffered.has('plain') && !authsOffered.has('vnc')) {
    advice.push('Pass `username` as well as `password`.');
  }
  if (offered.includes(VeNCryptSubtype.Plain) && !options.allowPlainWithoutTls && username && password) {
    advice.push('Better: enable TLSPlain or X509Plain on the server (TigerVNC: -SecurityTypes X509Plain).');
  }
  throw new VNCAuthenticationError(
    `The server offers VeNCrypt sub-types ${offered.map(vencryptSubtypeName).join(', ')}, and none can be used: ${reasons.join('; ')}. ` +
      `This client supports ${VENCRYPT_PREFERENCE.map(vencryptSubtypeName).join(', ')}.${advice.length > 0 ? ` ${advice.join(' ')}` : ''}`,
  );
}

type State = 'version' | 'version-status' | 'subtypes' | 'subtype-status' | 'inner' | 'done';

/** Security type 19: see the file comment. */
export class VeNCryptSecurity implements SecurityHandler {
  readonly type = SecurityType.VeNCrypt;
  private readonly options: VeNCryptOptions;
  private state: State = 'version';
  private chosen: number | undefined;
  private inner: SecurityHandler | undefined;

  constructor(options: VeNCryptOptions) {
    this.options = options;
  }

  get subtype(): number | undefined {
    return this.chosen;
  }

  get name(): string {
    return this.chosen === undefined ? securityTypeName(SecurityType.VeNCrypt) : `VeNCrypt ${vencryptSubtypeName(this.chosen)}`;
  }

  get failureHint(): string | undefined {
    return this.inner?.failureHint;
  }

  process(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
    switch (this.state) {
      case 'version':
        return this.readVersion(queue, send);
      case 'version-status':
        return this.readVersionStatus(queue);
      case 'subtypes':
        return this.readSubtypes(queue, send);
      case 'subtype-status':
        return this.readSubtypeStatus(queue);
      case 'inner': {
        const status = this.inner!.process(queue, send);
        if (status === true) this.state = 'done';
        return status;
      }
      case 'done':
        throw new Error('VeNCryptSecurity.process called after its exchange finished');
    }
  }

  private readVersion(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
    if (!queue.has(2)) return false;
    const major = queue.u8();
    const minor = queue.u8();
    if (major === VERSION_MAJOR && minor < VERSION_MINOR) {
      // 0.0 tells the server we cannot speak its version.
      send(Uint8Array.of(0, 0));
      throw new VNCAuthenticationError(
        `The server speaks VeNCrypt ${major}.${minor}; this client speaks VeNCrypt 0.2 (0.1 is obsolete). Update the VNC server, or allow another security type on it.`,
      );
    }
    // A newer server gets our highest version; it says below whether it can speak it.
    send(Uint8Array.of(VERSION_MAJOR, VERSION_MINOR));
    this.state = 'version-status';
    return 'continue';
  }

  private readVersionStatus(queue: ByteQueue): SecurityStatus {
    if (!queue.has(1)) return false;
    if (queue.u8() !== 0) {
      throw new VNCAuthenticationError('The server does not accept VeNCrypt 0.2, the only version this client speaks. Allow another security type on the server.');
    }
    this.state = 'subtypes';
    return 'continue';
  }

  private readSubtypes(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
    if (!queue.has(1)) return false;
    // At most 255 sub-types (a u8 count): 1 KiB, no further limit needed.
    const count = queue.peekU8();
    if (count === 0) {
      throw new VNCAuthenticationError('The server offers VeNCrypt but no VeNCrypt sub-types. Check its security configuration.');
    }
    if (!queue.has(1 + 4 * count)) return false;
    queue.skip(1);
    const offered: number[] = [];
    for (let i = 0; i < count; i++) offered.push(queue.u32());
    const chosen = chooseVeNCryptSubtype(offered, this.options);
    const choice = Buffer.alloc(4);
    choice.writeUInt32BE(chosen);
    send(choice);
    this.chosen = chosen;
    const info = SUBTYPES.get(chosen)!;
    const { credentials } = this.options;
    this.inner = info.auth === 'none' ? new NoneSecurity() : info.auth === 'vnc' ? new VncAuthSecurity(credentials.password) : new PlainSecurity(credentials);
    // The sub-types without TLS go straight on to their inner security, without a status byte.
    this.state = info.transport === 'clear' ? 'inner' : 'subtype-status';
    return 'continue';
  }

  private readSubtypeStatus(queue: ByteQueue): SecurityStatus {
    if (!queue.has(1)) return false;
    if (queue.u8() !== 1) {
      throw new VNCAuthenticationError(
        `The server refused VeNCrypt sub-type ${vencryptSubtypeName(this.chosen!)}, which it had offered (it may have failed to set up TLS). Check the server's log and its TLS certificate and key.`,
      );
    }
    this.state = 'inner';
    return { startTls: { anonymous: SUBTYPES.get(this.chosen!)!.transport === 'anonymous-tls' } };
  }
}
