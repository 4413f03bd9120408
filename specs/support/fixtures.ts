/**
 * Playwright fixtures for end-to-end tests against real Xvnc servers.
 *
 * Both servers are WORKER-scoped: started on first use in a worker, shared by that worker's tests,
 * stopped at worker teardown. Tests must therefore leave the desktop tidy (stop their windows and
 * clipboard owners).
 *
 *   import { test, expect } from '../support/fixtures.js';
 *   test('…', async ({ xvnc }) => { … xvnc.port … });
 */
import { test as base, expect } from '@playwright/test';
import { startXvnc, type XvncServer } from './xvnc.js';
import { startQemu, type QemuServer } from './qemu.js';
import { startX11vnc, type X11vncServer } from './x11vnc.js';

export interface XvncWorkerFixtures {
  /** Xvnc, no password (SecurityTypes None), 1280x800, background #204080. */
  xvnc: XvncServer;
  /** Xvnc with VNC authentication, password 'secret12'. */
  xvncWithPassword: XvncServer;
  /** QEMU's VNC server (diskless VM, SeaBIOS screen) with VncAuth password 'secret12' and a ws:// port. */
  qemu: QemuServer;
  /** x11vnc on Xvfb, no password, 1280x800, background #204080 (its port also takes ws:// with an Origin header). */
  x11vnc: X11vncServer;
}

export const XVNC_PASSWORD = 'secret12';

export const test = base.extend<{}, XvncWorkerFixtures>({
  xvnc: [
    async ({}, use) => {
      const server = await startXvnc({ geometry: '1280x800' });
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: 30_000 },
  ],
  xvncWithPassword: [
    async ({}, use) => {
      const server = await startXvnc({ geometry: '1280x800', password: XVNC_PASSWORD });
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: 30_000 },
  ],
  qemu: [
    async ({}, use) => {
      const server = await startQemu({ password: XVNC_PASSWORD, websocket: true });
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: 30_000 },
  ],
  x11vnc: [
    async ({}, use) => {
      const server = await startX11vnc({ geometry: '1280x800' });
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: 30_000 },
  ],
});

export { expect };
