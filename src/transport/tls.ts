/**
 * TLS trust, shared by every transport that speaks TLS (wss://, VeNCrypt): verification is on by
 * default, a PEM string can be trusted for one connection, and turning verification off is an
 * explicit choice that warns once.
 */
import type { ConnectionOptions } from 'node:tls';
import { createRequire } from 'node:module';
import { VNCConfigError, VNCConnectionError } from '../errors.js';

export interface TlsTrust {
  /** Verify the server's certificate and host name (default true). */
  verify?: boolean;
  /** Certificates (PEM) to trust for this connection, in addition to the system's CAs. */
  certificatePem?: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** The CA certificates Node trusts by default; node:tls is loaded only when TLS is used. */
function systemCertificates(): readonly string[] {
  return (createRequire(import.meta.url)('node:tls') as typeof import('node:tls')).rootCertificates;
}

/** Node TLS options for a trust setting. */
export function tlsOptions(trust: TlsTrust, servername: string): ConnectionOptions {
  if (trust.certificatePem !== undefined && !PEM_CERTIFICATE.test(trust.certificatePem)) {
    throw new VNCConfigError(
      'certificatePem is not a PEM certificate: expected text with "-----BEGIN CERTIFICATE-----" … "-----END CERTIFICATE-----" (for Proxmox, the `cert` field of the vncproxy answer).',
    );
  }
  const verify = trust.verify ?? true;
  if (!verify) warnVerificationOff(servername);
  return {
    rejectUnauthorized: verify,
    // A trusted PEM is added to the system's CAs, never instead of them.
    ca: trust.certificatePem ? [...systemCertificates(), trust.certificatePem] : undefined,
    servername: isIpAddress(servername) ? undefined : servername,
  };
}

/**
 * Node TLS options for anonymous TLS (VeNCrypt TLS* sub-types, as TigerVNC and libvncserver speak
 * them): TLS 1.2 with an anonymous Diffie-Hellman cipher suite such as AECDH-AES256-SHA. OpenSSL 3
 * only offers those at security level 0, and TLS 1.3 has no anonymous suites at all. The server
 * sends no certificate, so nothing can be verified: the session is encrypted, but the server is
 * not authenticated.
 */
export function anonymousTlsOptions(): ConnectionOptions {
  return { ciphers: 'aNULL:@SECLEVEL=0', maxVersion: 'TLSv1.2', rejectUnauthorized: false };
}

function isIpAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

const warned = new Set<string>();

/** Says once per host, on stderr, that its certificate is not checked. */
export function warnVerificationOff(host: string): void {
  if (warned.has(host)) return;
  warned.add(host);
  process.emitWarning(
    `TLS certificate verification is OFF for ${host}: anyone on the network path can read and change this VNC session. ` +
      'Trust the server instead with certificatePem (CLI: --ca-file).',
    { code: 'VNC_TLS_VERIFY_OFF' },
  );
}

const HOW_TO_TRUST = 'Trust its certificate with certificatePem (CLI: --ca-file PEM), or — only on a network you trust — turn verification off with verifySsl: false (CLI: --insecure).';

/** A VNCConnectionError that says which TLS check failed and how to fix it. */
export function describeTlsError(error: NodeJS.ErrnoException, remote: string): VNCConnectionError {
  const code = error.code ?? '';
  let message: string;
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      message = `The TLS certificate of ${remote} is self-signed and not trusted. ${HOW_TO_TRUST}`;
      break;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      message = `The TLS certificate of ${remote} was issued by an authority this machine does not trust. ${HOW_TO_TRUST}`;
      break;
    case 'CERT_HAS_EXPIRED':
      message = `The TLS certificate of ${remote} has expired. Renew it on the server (or check this machine's clock).`;
      break;
    case 'CERT_NOT_YET_VALID':
      message = `The TLS certificate of ${remote} is not valid yet. Check this machine's clock and the server's.`;
      break;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      message = `The TLS certificate of ${remote} is for another host name (${error.message.replace(/^.*?: /, '')}). Connect with the name the certificate names, or fix the certificate's subjectAltName.`;
      break;
    default:
      message = `TLS with ${remote} failed: ${error.message}`;
  }
  return new VNCConnectionError(message, { cause: error });
}

/** Whether an error comes from TLS certificate verification. */
export function isTlsVerificationError(error: NodeJS.ErrnoException): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET)|ALTNAME/.test(error.code ?? '');
}
