/**
 * Self-signed TLS certificates for tests (websockify wss://, VeNCrypt), made with the `openssl` CLI
 * in a private temp directory.
 *
 * - A valid certificate: `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=… -addext
 *   subjectAltName=…` (OpenSSL's default config marks it CA:TRUE, so passing its PEM as `ca` makes a
 *   TLS client trust it).
 * - An expired certificate: OpenSSL 3.0's `req`/`x509` cannot set a start date in the past, so the
 *   request is signed by `openssl ca -selfsign -startdate … -enddate …` with a throw-away CA database
 *   in the same directory. Everything else (key, SAN, CA:TRUE) is as for a valid one, so a client
 *   that trusts it still fails with CERT_HAS_EXPIRED and nothing else.
 * - A certificate for the wrong host: `makeWrongHostCert()` (only DNS:example.invalid).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecked } from './processes.js';

export interface SelfSignedCertOptions {
  /** Subject alternative names: IP addresses become `IP:`, anything else `DNS:`. Default ['127.0.0.1', 'localhost']. */
  hosts?: string[];
  /** Validity in days (default 30). For an expired certificate: how long it was valid, ending yesterday. */
  days?: number;
  /** Make a certificate whose validity ended yesterday (notBefore = yesterday − days). */
  expired?: boolean;
  /** Subject common name, default the first host. */
  commonName?: string;
}

export interface SelfSignedCert {
  /** The temp directory holding the files (removed by `cleanup()`). */
  dir: string;
  /** PEM certificate file. */
  certPath: string;
  /** PEM private key file (unencrypted). */
  keyPath: string;
  /** The certificate's PEM text (pass it as `ca` to trust it). */
  certPem: string;
  /** The SANs written into the certificate, e.g. ['IP:127.0.0.1', 'DNS:localhost']. */
  subjectAltNames: string[];
  notBefore: Date;
  notAfter: Date;
  /** Removes the temp directory. Idempotent. */
  cleanup(): Promise<void>;
  /** Alias of `cleanup()`, so a cert can be torn down like a server. */
  stop(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** 'YYYYMMDDHHMMSSZ' (GeneralizedTime, as `openssl ca -startdate` accepts it). */
function asn1Time(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** The minimal `openssl ca` configuration for signing one request with its own key. */
function caConfig(dir: string): string {
  return [
    '[ ca ]',
    'default_ca = selfsign',
    '[ selfsign ]',
    `database = ${join(dir, 'index.txt')}`,
    `new_certs_dir = ${dir}`,
    `serial = ${join(dir, 'serial')}`,
    'default_md = sha256',
    'policy = any_subject',
    // Keep the request's extensions (subjectAltName, basicConstraints).
    'copy_extensions = copy',
    'unique_subject = no',
    '[ any_subject ]',
    'commonName = supplied',
    '',
  ].join('\n');
}

/** Creates a self-signed RSA-2048 certificate and key in a new temp directory. */
export async function makeSelfSignedCert(options: SelfSignedCertOptions = {}): Promise<SelfSignedCert> {
  const hosts = options.hosts ?? ['127.0.0.1', 'localhost'];
  if (hosts.length === 0) throw new Error('makeSelfSignedCert: hosts must not be empty');
  const days = options.days ?? 30;
  const commonName = options.commonName ?? hosts[0];
  const subjectAltNames = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`));
  const subject = `/CN=${commonName}`;
  const san = `subjectAltName=${subjectAltNames.join(',')}`;

  const dir = await mkdtemp(join(tmpdir(), 'vnc-agent-cert-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  let notBefore: Date;
  let notAfter: Date;
  try {
    if (!options.expired) {
      notBefore = new Date();
      notAfter = new Date(notBefore.getTime() + days * DAY_MS);
      await runChecked(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', String(days), '-subj', subject, '-addext', san],
        { timeoutMs: 20_000 },
      );
    } else {
      notAfter = new Date(Date.now() - DAY_MS);
      notBefore = new Date(notAfter.getTime() - days * DAY_MS);
      const csrPath = join(dir, 'req.csr');
      const configPath = join(dir, 'ca.cnf');
      await writeFile(configPath, caConfig(dir));
      await writeFile(join(dir, 'index.txt'), '');
      await writeFile(join(dir, 'serial'), '01\n');
      await runChecked(
        'openssl',
        ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', subject, '-addext', san, '-addext', 'basicConstraints=critical,CA:TRUE'],
        { timeoutMs: 20_000 },
      );
      await runChecked(
        'openssl',
        ['ca', '-batch', '-config', configPath, '-selfsign', '-keyfile', keyPath, '-in', csrPath, '-notext', '-out', certPath,
          '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter)],
        { timeoutMs: 20_000 },
      );
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const certPem = await readFile(certPath, 'utf8');
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> => (cleaned ??= rm(dir, { recursive: true, force: true }));
  return { dir, certPath, keyPath, certPem, subjectAltNames, notBefore, notAfter, cleanup, stop: cleanup };
}

/** The only name in `makeWrongHostCert()` certificates. */
export const WRONG_HOST = 'example.invalid';

/** A valid self-signed certificate for `example.invalid` only — for hostname-mismatch tests against 127.0.0.1. */
export function makeWrongHostCert(options: Omit<SelfSignedCertOptions, 'hosts'> = {}): Promise<SelfSignedCert> {
  return makeSelfSignedCert({ ...options, hosts: [WRONG_HOST] });
}
