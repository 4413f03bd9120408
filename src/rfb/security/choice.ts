/**
 * Which security type to use among those a server offers: the one documented order (README,
 * "Security types"), encrypting types first, then those that use the credentials given, then None.
 */
import { VNCAuthenticationError } from '../../errors.js';
import { SecurityType, securityTypeName } from '../constants.js';
import type { Credentials } from './security.js';

/** What a security type needs before it can be chosen. */
type Needs = 'tls' | 'password' | 'username-and-password' | 'nothing';

interface Candidate {
  type: number;
  needs: Needs;
}

/**
 * Strongest first. VeNCrypt wraps the whole session in TLS; the types that need credentials come
 * before those that do not: RSA-AES (RSA key exchange, AES-EAX credentials) first, then the ones
 * that send a username and password encrypted with a Diffie-Hellman key, then VNC Authentication
 * (a password-keyed DES challenge). Tight runs VNC Authentication or None inside:
 * with a password it comes before plain VNC Authentication (as in TightVNC's viewer and noVNC: the
 * same check, and the server then lists its capabilities); without one, after None (its list may
 * hold only VNC Authentication).
 */
export const SECURITY_PREFERENCE: readonly Candidate[] = [
  { type: SecurityType.VeNCrypt, needs: 'tls' },
  { type: SecurityType.RA256, needs: 'password' },
  { type: SecurityType.RA2, needs: 'password' },
  { type: SecurityType.RAne256, needs: 'password' },
  { type: SecurityType.RA2ne, needs: 'password' },
  { type: SecurityType.AppleRemoteDesktop, needs: 'username-and-password' },
  { type: SecurityType.MSLogonII, needs: 'username-and-password' },
  { type: SecurityType.Tight, needs: 'password' },
  { type: SecurityType.VncAuthentication, needs: 'password' },
  { type: SecurityType.None, needs: 'nothing' },
  { type: SecurityType.Tight, needs: 'nothing' },
];

/** Every security type this client implements, in the order of preference. */
export const SUPPORTED_SECURITY_TYPES: readonly number[] = [...new Set(SECURITY_PREFERENCE.map((candidate) => candidate.type))];

export interface SecurityChoiceOptions {
  credentials: Credentials;
  /** Whether the transport can start TLS (VeNCrypt's TLS sub-types). */
  tlsAvailable: boolean;
}

function satisfied(needs: Needs, options: SecurityChoiceOptions): boolean {
  const { username, password } = options.credentials;
  switch (needs) {
    case 'tls':
      return options.tlsAvailable;
    case 'password':
      return password !== undefined && password !== '';
    case 'username-and-password':
      return !!username && password !== undefined;
    case 'nothing':
      return true;
  }
}

/**
 * The first type in SECURITY_PREFERENCE that the server offers and whose needs are met. When none
 * is met, the first supported type offered (VeNCrypt last: without TLS only its sub-types 1, 2
 * and 256 can work), whose handler then says what is missing. Throws when nothing offered is supported.
 */
export function chooseSecurityType(offered: readonly number[], options: SecurityChoiceOptions): number {
  const candidates = SECURITY_PREFERENCE.filter((candidate) => offered.includes(candidate.type));
  const usable = candidates.find((candidate) => satisfied(candidate.needs, options));
  if (usable) return usable.type;
  const fallback = candidates.find((candidate) => candidate.type !== SecurityType.VeNCrypt) ?? candidates[0];
  if (fallback) return fallback.type;
  throw new VNCAuthenticationError(
    `The server offers security types ${offered.map(securityTypeName).join(', ')}; this client supports ` +
      `${SUPPORTED_SECURITY_TYPES.map(securityTypeName).join(', ')}. Configure the server to allow one of these.`,
  );
}
