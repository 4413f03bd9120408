/**
 * The bridge over WebSocket against real peers: websockify (tokens, wss with self-signed, expired
 * and misnamed certificates), QEMU's own websocket listener, and x11vnc's. The bridge's behaviour
 * specs also run over websockify in the e2e-websocket project.
 */
import { VNCAgentBridge, VNCConnectionError, WebSocketVNCConnection, type WebSocketVNCConnectionOptions } from '../../src/index.js';
import { makeSelfSignedCert, makeWrongHostCert, type SelfSignedCert } from '../support/certs.js';
import { hexToRgb, pointerLocation } from '../support/desktop.js';
import { expect, test, XVNC_PASSWORD } from '../support/fixtures.js';
import { startWebsockify } from '../support/websockify.js';
import { DEFAULT_BACKGROUND } from '../support/xvnc.js';

const TOKEN = 'tok-Secret-42';

function bridge(options: WebSocketVNCConnectionOptions, timeoutMs = 5000): VNCAgentBridge {
  return new VNCAgentBridge({ connection: new WebSocketVNCConnection(options), timeoutMs });
}

async function failure(vnc: VNCAgentBridge): Promise<Error> {
  const error = await vnc.connect().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'connect() should have failed').toBeInstanceOf(Error);
  return error as Error;
}

test.describe('websockify', () => {
  test('token URL template: the right token connects and the bridge works; a wrong one fails clearly', async ({ xvnc }) => {
    const proxy = await startWebsockify({ tokens: { [TOKEN]: { host: xvnc.host, port: xvnc.port } } });
    try {
      const urlTemplate = 'ws://${host}:${port}/websockify?token=${ticket}';
      await using vnc = await bridge({ urlTemplate, host: proxy.host, port: proxy.port, ticket: TOKEN }).connect();
      expect(vnc.remote).toBe(`ws://127.0.0.1:${proxy.port}/websockify?token=***`);
      await vnc.mouse.move(222, 111);
      await expect.poll(() => pointerLocation(xvnc)).toEqual({ x: 222, y: 111 });
      expect([...vnc.screen.capture({ region: { x: 1279, y: 0, width: 1, height: 1 } }).data.subarray(0, 3)]).toEqual(hexToRgb(DEFAULT_BACKGROUND));

      const error = await failure(bridge({ urlTemplate, host: proxy.host, port: proxy.port, ticket: 'wrong-Secret-99' }));
      expect(error).toBeInstanceOf(VNCConnectionError);
      expect(error.message).toMatch(/token is unknown or expired/);
      expect(error.message).not.toContain('wrong-Secret-99');
    } finally {
      await proxy.stop();
    }
  });

  test.describe('wss', () => {
    let cert: SelfSignedCert;
    test.beforeAll(async () => {
      cert = await makeSelfSignedCert();
    });
    test.afterAll(async () => cert.cleanup());

    test('a self-signed certificate is refused unless trusted with certificatePem or verification is turned off', async ({ xvnc }) => {
      const proxy = await startWebsockify({ target: { host: xvnc.host, port: xvnc.port } }, { tls: { certPath: cert.certPath, keyPath: cert.keyPath, sslOnly: true } });
      try {
        const base = { urlTemplate: 'wss://${host}:${port}/', host: proxy.host, port: proxy.port };
        const refused = await failure(bridge(base));
        expect(refused).toBeInstanceOf(VNCConnectionError);
        expect(refused.message).toMatch(/self-signed and not trusted.*certificatePem/);

        await using trusted = await bridge({ ...base, certificatePem: cert.certPem }).connect();
        expect(trusted.info.width).toBe(1280);

        const warnings: string[] = [];
        const onWarning = (warning: Error & { code?: string }) => {
          if (warning.code === 'VNC_TLS_VERIFY_OFF') warnings.push(warning.message);
        };
        process.on('warning', onWarning);
        try {
          // "localhost": no other test in this process turns verification off for it.
          const insecureOptions = { ...base, host: 'localhost', verifySsl: false };
          await using insecure = await bridge(insecureOptions).connect();
          expect(insecure.isConnected).toBe(true);
          await (await bridge(insecureOptions).connect()).disconnect();
          await new Promise((resolve) => setImmediate(resolve));
        } finally {
          process.off('warning', onWarning);
        }
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain('verification is OFF for localhost');
      } finally {
        await proxy.stop();
      }
    });

    test('an expired certificate and one for another host name say which check failed', async ({ xvnc }) => {
      const expired = await makeSelfSignedCert({ expired: true });
      const wrongHost = await makeWrongHostCert();
      try {
        for (const [certificate, words] of [
          [expired, /has expired/],
          [wrongHost, /is for another host name/],
        ] as const) {
          const proxy = await startWebsockify(
            { target: { host: xvnc.host, port: xvnc.port } },
            { tls: { certPath: certificate.certPath, keyPath: certificate.keyPath, sslOnly: true } },
          );
          try {
            const error = await failure(
              bridge({ urlTemplate: 'wss://${host}:${port}/', host: proxy.host, port: proxy.port, certificatePem: certificate.certPem }),
            );
            expect(error).toBeInstanceOf(VNCConnectionError);
            expect(error.message).toMatch(words);
          } finally {
            await proxy.stop();
          }
        }
      } finally {
        await expired.cleanup();
        await wrongHost.cleanup();
      }
    });
  });

  test('the password server behind websockify: the ticket doubles as the VNC password; a given password wins', async ({ xvncWithPassword: server }) => {
    const proxy = await startWebsockify({ target: { host: server.host, port: server.port } });
    try {
      const base = { urlTemplate: 'ws://${host}:${port}/', host: proxy.host, port: proxy.port };
      await using byTicket = await bridge({ ...base, ticket: XVNC_PASSWORD }).connect();
      expect(byTicket.info.securityType).toBe(2);
      await using byPassword = await bridge({ ...base, ticket: 'not-the-password', password: XVNC_PASSWORD }).connect();
      expect(byPassword.isConnected).toBe(true);
    } finally {
      await proxy.stop();
    }
  });
});

test.describe('QEMU', () => {
  test('its websocket listener at path "/" with VNC authentication shows the BIOS screen', async ({ qemu }) => {
    await using vnc = await bridge({ urlTemplate: 'ws://${host}:${port}/', host: qemu.host, port: qemu.wsPort!, ticket: qemu.password }, 10_000).connect();
    expect(vnc.info.securityType).toBe(2);
    // 640x480 at first, 720x400 once SeaBIOS runs: either way a real VGA picture arrives.
    expect([640, 720]).toContain(vnc.screen.width);
    const frame = await vnc.screen.waitForStable({ stillMs: 300, timeoutMs: 10_000 });
    expect(frame.width * frame.height).toBeGreaterThan(0);
  });

  test('any other path is a 404, explained', async ({ qemu }) => {
    const error = await failure(bridge({ urlTemplate: 'ws://${host}:${port}/websockify', host: qemu.host, port: qemu.wsPort!, ticket: qemu.password }));
    expect(error).toBeInstanceOf(VNCConnectionError);
    expect(error.message).toMatch(/HTTP 404.*QEMU's path is exactly "\/"/);
  });

  test('no subprotocol offered works too', async ({ qemu }) => {
    await using vnc = await bridge({ urlTemplate: 'ws://${host}:${port}/', host: qemu.host, port: qemu.wsPort!, ticket: qemu.password, subprotocols: [] }, 10_000).connect();
    expect(vnc.isConnected).toBe(true);
  });
});

test.describe('x11vnc', () => {
  test('the RFB port also takes ws://, and captures match TCP captures', async ({ x11vnc }) => {
    await using overTcp = await new VNCAgentBridge({ host: x11vnc.host, port: x11vnc.port }).connect();
    await using overWs = await bridge({ urlTemplate: 'ws://${host}:${port}/', host: x11vnc.host, port: x11vnc.port }).connect();
    // x11vnc draws its cursor into the picture: compare a corner far from it.
    const region = { x: 1200, y: 700, width: 80, height: 100 };
    await overTcp.screen.waitForStable({ region, stillMs: 300 });
    await overWs.screen.waitForStable({ region, stillMs: 300 });
    expect(overWs.screen.capture({ region }).data.equals(overTcp.screen.capture({ region }).data)).toBe(true);
    expect([...overWs.screen.capture({ region }).data.subarray(0, 3)]).toEqual(hexToRgb(DEFAULT_BACKGROUND));
  });
});
