/**
 * Runs the same behaviour specs over every transport: `vncTransport` (a project option) decides
 * whether `bridgeFor(server)` reaches the server over plain TCP or over a WebSocket through a
 * websockify started in front of it (one per server, per worker).
 */
import { VNCAgentBridge, WebSocketVNCConnection, type VNCAgentBridgeOptions } from '../../src/index.js';
import { test as base } from './fixtures.js';
import { startWebsockify, type Websockify } from './websockify.js';

export type VncTransport = 'tcp' | 'websocket';

export interface TransportOptions {
  vncTransport: VncTransport;
}

interface Reachable {
  host: string;
  port: number;
}

type BridgeOptions = Omit<VNCAgentBridgeOptions, 'host' | 'port' | 'connection'>;

export interface BridgeFixtures {
  /** A bridge (not connected) to `server` over the project's transport. */
  bridgeFor(server: Reachable, options?: BridgeOptions): Promise<VNCAgentBridge>;
}

interface WorkerFixtures {
  websockifyFor(server: Reachable): Promise<Websockify>;
}

export const test = base.extend<TransportOptions & BridgeFixtures, WorkerFixtures>({
  vncTransport: ['tcp', { option: true }],
  websockifyFor: [
    async ({}, use) => {
      const started = new Map<number, Promise<Websockify>>();
      await use((server) => {
        let proxy = started.get(server.port);
        if (!proxy) {
          proxy = startWebsockify({ target: { host: server.host, port: server.port } });
          started.set(server.port, proxy);
        }
        return proxy;
      });
      for (const proxy of started.values()) await (await proxy.catch(() => undefined))?.stop();
    },
    { scope: 'worker' },
  ],
  bridgeFor: async ({ vncTransport, websockifyFor }, use) => {
    await use(async (server, options = {}) => {
      if (vncTransport === 'tcp') return new VNCAgentBridge({ host: server.host, port: server.port, ...options });
      const proxy = await websockifyFor(server);
      const { password, username, ...rest } = options;
      const connection = new WebSocketVNCConnection({
        urlTemplate: 'ws://${host}:${port}/websockify',
        host: proxy.host,
        port: proxy.port,
        password,
        username,
      });
      return new VNCAgentBridge({ connection, ...rest });
    });
  },
});

export { expect } from './fixtures.js';
export { XVNC_PASSWORD } from './fixtures.js';
