/**
 * Security type 16, Tight (rfbproto "Tight Security Type"; TightVNC servers): a list of tunnels
 * and a list of authentication types, each as capabilities, then the chosen authentication.
 *
 *   server: u32 tunnel count, count × capability   client (count > 0): u32 tunnel code (0 = none)
 *   server: u32 auth count, count × capability     client (count > 0): u32 auth code
 *   the chosen authentication (None: nothing; VNC Authentication: the DES challenge), SecurityResult
 *
 * A capability is u32 code, 4-byte vendor, 8-byte signature ("TGHT" "NOTUNNEL", "STDV"
 * "VNCAUTH_"). No authentication types at all means none is needed. This client uses no tunnel
 * and VNC Authentication or None. After ServerInit a Tight server sends its interaction
 * capabilities (see `readTightInteractionCapabilities`), which this client reads and ignores.
 */
import { VNCAuthenticationError, VNCProtocolError } from '../../errors.js';
import type { ByteQueue } from '../byte-queue.js';
import { SecurityType, securityTypeName } from '../constants.js';
import { NoneSecurity } from './none.js';
import type { Credentials, SecurityHandler, SecurityStatus } from './security.js';
import { VncAuthSecurity } from './vnc-auth.js';

const CAPABILITY_BYTES = 16;
/** Most capabilities accepted in one list (TightVNC sends a handful); more is a protocol error. */
export const MAX_TIGHT_CAPABILITIES = 1024;

/** Tight's tunnel and authentication codes this client knows. */
export const TightCode = {
  NoTunnel: 0,
  AuthNone: 1,
  AuthVnc: 2,
  /** TightVNC's Unix login ("TGHT" "ULGNAUTH"): not supported. */
  AuthUnixLogin: 129,
} as const;

export interface TightCapability {
  code: number;
  vendor: string;
  signature: string;
}

function readCapabilities(queue: ByteQueue, count: number): TightCapability[] {
  const capabilities: TightCapability[] = [];
  for (let i = 0; i < count; i++) {
    const code = queue.u32();
    const text = Buffer.from(queue.view(12)).toString('latin1');
    capabilities.push({ code, vendor: text.slice(0, 4), signature: text.slice(4) });
  }
  return capabilities;
}

function describe(capability: TightCapability): string {
  return `${capability.code} (${`${capability.vendor} ${capability.signature}`.replace(/[^\x20-\x7e]/g, '?')})`;
}

/** Reads a u32 count and that many capabilities; undefined while they have not all arrived. */
function readCapabilityList(queue: ByteQueue, what: string): TightCapability[] | undefined {
  if (!queue.has(4)) return undefined;
  const count = queue.peekU32();
  if (count > MAX_TIGHT_CAPABILITIES) {
    throw new VNCProtocolError(`The server (Tight security) announced ${count} ${what}, more than the limit of ${MAX_TIGHT_CAPABILITIES}.`);
  }
  if (!queue.has(4 + count * CAPABILITY_BYTES)) return undefined;
  queue.skip(4);
  return readCapabilities(queue, count);
}

type State = 'tunnels' | 'auth-types' | 'inner' | 'done';

/** Security type 16: see the file comment. */
export class TightSecurity implements SecurityHandler {
  readonly type = SecurityType.Tight;
  private readonly credentials: Credentials;
  private state: State = 'tunnels';
  private inner: SecurityHandler | undefined;

  constructor(credentials: Credentials) {
    this.credentials = credentials;
  }

  /** The authentication run inside: 1 (None) or 2 (VNC Authentication), once chosen. */
  get subtype(): number | undefined {
    return this.inner?.type;
  }

  get name(): string {
    const base = securityTypeName(SecurityType.Tight);
    return this.inner ? `${base} with ${this.inner.name}` : base;
  }

  get failureHint(): string | undefined {
    return this.inner?.failureHint;
  }

  process(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
    switch (this.state) {
      case 'tunnels':
        return this.readTunnels(queue, send);
      case 'auth-types':
        return this.readAuthTypes(queue, send);
      case 'inner': {
        const status = this.inner!.process(queue, send);
        if (status === true) this.state = 'done';
        return status;
      }
      case 'done':
        throw new Error('TightSecurity.process called after its exchange finished');
    }
  }

  private readTunnels(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
    const tunnels = readCapabilityList(queue, 'tunnel types');
    if (!tunnels) return false;
    if (tunnels.length > 0) {
      if (!tunnels.some((tunnel) => tunnel.code === TightCode.NoTunnel)) {
        throw new VNCAuthenticationError(
          `The server (Tight security) requires a tunnel (${tunnels.map(describe).join(', ')}); this client supports none. ` +
            'Allow connections without a tunnel on the server, or another security type.',
        );
      }
      send(u32(TightCode.NoTunnel));
    }
    this.state = 'auth-types';
    return 'continue';
  }

  private readAuthTypes(queue: ByteQueue, send: (bytes: Uint8Array) => void): SecurityStatus {
    const types = readCapabilityList(queue, 'authentication types');
    if (!types) return false;
    if (types.length === 0) {
      // No authentication needed: on to SecurityResult (3.8) or ServerInit, as for type None.
      this.inner = new NoneSecurity();
      this.state = 'done';
      return true;
    }
    const codes = types.map((type) => type.code);
    const { password } = this.credentials;
    const preference = password ? [TightCode.AuthVnc, TightCode.AuthNone] : [TightCode.AuthNone, TightCode.AuthVnc];
    const chosen = preference.find((code) => codes.includes(code));
    if (chosen === undefined) {
      throw new VNCAuthenticationError(
        `The server (Tight security) offers authentication types ${types.map(describe).join(', ')}; this client supports ` +
          `${TightCode.AuthNone} (None) and ${TightCode.AuthVnc} (VNC Authentication). Allow one of them on the server, or another security type.`,
      );
    }
    send(u32(chosen));
    this.inner = chosen === TightCode.AuthVnc ? new VncAuthSecurity(password) : new NoneSecurity();
    this.state = 'inner';
    return 'continue';
  }
}

function u32(value: number): Uint8Array {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

const INTERACTION_HEADER_BYTES = 8;

/**
 * Reads (and drops) the interaction capabilities a server sends after ServerInit when Tight
 * security was used: u16 server-message count, u16 client-message count, u16 encoding count, u16
 * padding, then the three capability lists. Returns false while they have not all arrived.
 */
export function readTightInteractionCapabilities(queue: ByteQueue): boolean {
  if (!queue.has(INTERACTION_HEADER_BYTES)) return false;
  const counts = [queue.peekU16(0), queue.peekU16(2), queue.peekU16(4)];
  const total = counts[0] + counts[1] + counts[2];
  if (total > MAX_TIGHT_CAPABILITIES) {
    throw new VNCProtocolError(
      `The server (Tight security) announced ${total} interaction capabilities after ServerInit, more than the limit of ${MAX_TIGHT_CAPABILITIES}.`,
    );
  }
  if (!queue.has(INTERACTION_HEADER_BYTES + total * CAPABILITY_BYTES)) return false;
  queue.skip(INTERACTION_HEADER_BYTES + total * CAPABILITY_BYTES);
  return true;
}
