import { VNCConfigError } from '../errors.js';
import type { Credentials } from '../rfb/security/security.js';
import type { TlsTrust } from '../transport/tls.js';
import type { Transport } from '../transport/transport.js';
import { expandUrlTemplate, maskUrl } from '../transport/url-template.js';
import { WebSocketTransportOpener } from '../transport/websocket.js';
import { checkPort, type VNCConnection } from './connection.js';

export interface WebSocketVNCConnectionOptions extends Credentials {
  /** e.g. `wss://${host}:${port}/websockify?token=${ticket}`; any name in `vars` may appear too. */
  urlTemplate: string;
  host: string;
  port: number;
  /** A ticket or token, for `${ticket}`; also the VNC password when none is given (the Proxmox convention). */
  ticket?: string;
  /** More placeholder values, e.g. `{ node: 'pve', vmid: 100, vncPort: 5900 }`. */
  vars?: Readonly<Record<string, string | number>>;
  /** A server certificate or CA (PEM) to trust for this connection, e.g. Proxmox's `cert` field. */
  certificatePem?: string;
  /** Verify the server's TLS certificate (default true). false works but warns once per host. */
  verifySsl?: boolean;
  /** Extra headers on the upgrade request, e.g. `{ Authorization: 'PVEAPIToken=…' }`. Never printed. */
  headers?: Readonly<Record<string, string>>;
  /** Subprotocols to offer; default ['binary']; [] offers none. */
  subprotocols?: readonly string[];
  /** Bound on opening the WebSocket; default the bridge's timeout. */
  timeoutMs?: number;
}

const RESERVED = ['host', 'port', 'ticket', 'password'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function checkHeaders(headers: Readonly<Record<string, string>> | undefined): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!HEADER_NAME.test(name)) throw new VNCConfigError(`Invalid HTTP header name ${JSON.stringify(name)}.`);
    if (typeof value !== 'string' || /[\r\n]/.test(value)) {
      throw new VNCConfigError(`The value of header "${name}" must be one line of text.`);
    }
  }
}

function checkSubprotocols(subprotocols: readonly string[] | undefined): void {
  for (const protocol of subprotocols ?? []) {
    if (typeof protocol !== 'string' || !HEADER_NAME.test(protocol)) {
      throw new VNCConfigError(`Invalid WebSocket subprotocol ${JSON.stringify(protocol)}: use a token such as "binary", or [] for none.`);
    }
  }
}

/**
 * A VNC server behind a WebSocket: websockify, noVNC's proxy, QEMU's `websocket=` listener,
 * Proxmox's vncwebsocket, x11vnc. The URL comes from a template; nothing is fetched from the
 * server's own API — tickets are the caller's to obtain.
 */
export class WebSocketVNCConnection implements VNCConnection {
  readonly remote: string;
  readonly credentials: Credentials;
  private readonly opener: WebSocketTransportOpener;
  private readonly timeoutMs: number | undefined;

  constructor(options: WebSocketVNCConnectionOptions) {
    const { urlTemplate, host, port, ticket, password, username, vars = {}, certificatePem, verifySsl, headers, subprotocols, timeoutMs } = options;
    if (typeof host !== 'string' || host.trim() === '') {
      throw new VNCConfigError('Missing host for the WebSocket URL: pass { host, port } (they fill ${host} and ${port}).');
    }
    checkPort(port);
    for (const name of Object.keys(vars)) {
      if (RESERVED.includes(name)) throw new VNCConfigError(`vars.${name} is not allowed: pass "${name}" as its own option.`);
    }
    checkHeaders(headers);
    checkSubprotocols(subprotocols);
    const url = expandUrlTemplate(urlTemplate, { host, port, ticket, password, ...vars });
    const trust: TlsTrust = { verify: verifySsl ?? true, certificatePem };
    this.remote = maskUrl(url, [ticket, password]);
    this.credentials = { password: password ?? ticket, username };
    this.timeoutMs = timeoutMs;
    this.opener = new WebSocketTransportOpener({ url, remote: this.remote, headers, subprotocols, trust });
  }

  open(options: { timeoutMs: number; signal?: AbortSignal }): Promise<Transport> {
    return this.opener.open({ ...options, timeoutMs: this.timeoutMs ?? options.timeoutMs });
  }
}
