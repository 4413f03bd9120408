/**
 * Proxmox VE convenience: builds the vncwebsocket URL and connection from values the caller has
 * already fetched. It makes no call to Proxmox's API — see the README ("Proxmox") for how to get a
 * ticket with vncproxy.
 */
import { VNCAgentBridge } from '../bridge/bridge.js';
import { WebSocketVNCConnection } from '../bridge/websocket-connection.js';

export interface ProxmoxVNCOptions {
  /** The Proxmox host (API and web UI). */
  host: string;
  /** The API port; default 8006. */
  port?: number;
  /** The node the VM runs on, e.g. "pve". */
  node: string;
  /** The VM id. */
  vmid: number | string;
  /** `port` from the vncproxy answer (5900 + something). */
  vncPort: number | string;
  /** `ticket` from the vncproxy answer; also the VNC password unless `password` is given. */
  ticket: string;
  /** `password` from vncproxy with generate-password=1, when it differs from the ticket. */
  password?: string;
  /** `cert` from the vncproxy answer, to trust a self-signed node certificate. */
  certificatePem?: string;
  /** Authentication for the upgrade: `{ Authorization: 'PVEAPIToken=USER@REALM!ID=SECRET' }` or `{ Cookie: 'PVEAuthCookie=…' }`. */
  headers?: Readonly<Record<string, string>>;
  /** Verify the node's TLS certificate (default true). */
  verifySsl?: boolean;
  /** Bound on connecting and every wait; default 10 s. */
  timeoutMs?: number;
}

export const PROXMOX_URL_TEMPLATE = 'wss://${host}:${port}/api2/json/nodes/${node}/qemu/${vmid}/vncwebsocket?port=${vncPort}&vncticket=${ticket}';

/** The WebSocket connection to a Proxmox VM's console. */
export function proxmoxConnection(options: ProxmoxVNCOptions): WebSocketVNCConnection {
  const { host, port = 8006, node, vmid, vncPort, ticket, password, certificatePem, headers, verifySsl, timeoutMs } = options;
  return new WebSocketVNCConnection({
    urlTemplate: PROXMOX_URL_TEMPLATE,
    host,
    port,
    ticket,
    password,
    vars: { node, vmid, vncPort },
    certificatePem,
    headers,
    verifySsl,
    timeoutMs,
    // pveproxy echoes whatever is offered: offer exactly one.
    subprotocols: ['binary'],
  });
}

/**
 * A bridge to a Proxmox VM's console, ready to `connect()` — do so right after fetching the
 * ticket: it lives 40 s, and each new vncproxy call resets the VM's VNC password.
 */
export function createWebSocketVNC(options: ProxmoxVNCOptions): VNCAgentBridge {
  return new VNCAgentBridge({ connection: proxmoxConnection(options), timeoutMs: options.timeoutMs });
}
