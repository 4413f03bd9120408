/**
 * The WebSocket transport at the byte level, against an in-process `ws` server: the RFB stream
 * split across and merged within WebSocket messages at every offset, upgrade failures, text
 * messages, subprotocols. Real servers (websockify, QEMU, x11vnc) are in specs/e2e.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { expect, test } from '@playwright/test';
import { VNCAgentBridge, VNCConfigError, VNCConnectionError, VNCProtocolError, WebSocketVNCConnection } from '../../src/index.js';
import { expandUrlTemplate, maskUrl, templatePlaceholders } from '../../src/transport/url-template.js';
import { PROXMOX_URL_TEMPLATE, proxmoxConnection } from '../../src/proxmox/index.js';
import { banner, concat, framebufferUpdate, patternPixels, rawRect, securityResult, securityTypes, serverInit } from '../support/rfb-bytes.js';

const WIDTH = 4;
const HEIGHT = 2;
const PIXELS = patternPixels(WIDTH, HEIGHT, 7);
/** What the client must show: the raw pixels with alpha 255. */
const EXPECTED_RGBA = Buffer.from(PIXELS.map((value, i) => (i % 4 === 3 ? 255 : value)));
/** A whole server side of a session with security None: it does not depend on what the client says. */
const SESSION = concat(
  banner('003.008'),
  securityTypes([1]),
  securityResult(0),
  serverInit({ width: WIDTH, height: HEIGHT, name: 'ws-test' }),
  framebufferUpdate([rawRect(0, 0, WIDTH, HEIGHT, PIXELS)]),
);

interface FakeServer {
  port: number;
  /** Subprotocol headers each upgrade request carried. */
  offered: string[];
  headers: Record<string, string | string[] | undefined>[];
  close(): Promise<void>;
}

/** A WebSocket server that answers every connection with `onConnection`. */
async function fakeServer(onConnection: (socket: ServerSocket) => void, options: { status?: number } = {}): Promise<FakeServer> {
  const http: HttpServer = createServer();
  const offered: string[] = [];
  const headers: FakeServer['headers'] = [];
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false) });
  http.on('upgrade', (request, socket, head) => {
    offered.push(String(request.headers['sec-websocket-protocol'] ?? ''));
    headers.push(request.headers);
    if (options.status) {
      socket.end(`HTTP/1.1 ${options.status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    port: (http.address() as AddressInfo).port,
    offered,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        http.close(() => resolve());
      }),
  };
}

function connectionTo(port: number, extra: Partial<ConstructorParameters<typeof WebSocketVNCConnection>[0]> = {}) {
  return new WebSocketVNCConnection({ urlTemplate: 'ws://${host}:${port}/websockify?token=${ticket}', host: '127.0.0.1', port, ticket: 'T0KEN', ...extra });
}

test.describe('the RFB stream in WebSocket messages', () => {
  test('split into two messages at every offset, the session and its first frame are the same', async () => {
    let split = 0;
    const server = await fakeServer((socket) => {
      socket.send(SESSION.subarray(0, split));
      socket.send(SESSION.subarray(split));
    });
    try {
      for (split = 1; split < SESSION.length; split++) {
        const vnc = await new VNCAgentBridge({ connection: connectionTo(server.port), timeoutMs: 3000 }).connect();
        expect(vnc.info.name).toBe('ws-test');
        expect(vnc.screen.capture().data.equals(EXPECTED_RGBA), `split at byte ${split}`).toBe(true);
        await vnc.disconnect();
      }
    } finally {
      await server.close();
    }
  });

  test('one message per byte, and everything merged into one message, give the same result', async () => {
    for (const mode of ['bytewise', 'merged'] as const) {
      const server = await fakeServer((socket) => {
        if (mode === 'merged') socket.send(SESSION);
        else for (const byte of SESSION) socket.send(Uint8Array.of(byte));
      });
      try {
        const vnc = await new VNCAgentBridge({ connection: connectionTo(server.port), timeoutMs: 5000 }).connect();
        expect(vnc.screen.capture().data.subarray(0, 3).equals(Buffer.from(PIXELS.subarray(0, 3)))).toBe(true);
        await vnc.disconnect();
      } finally {
        await server.close();
      }
    }
  });

  test('client messages arrive whole and in order as binary messages', async () => {
    const received: Buffer[] = [];
    const server = await fakeServer((socket) => {
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        expect(isBinary).toBe(true);
        received.push(data);
      });
      socket.send(SESSION);
    });
    try {
      const vnc = await new VNCAgentBridge({ connection: connectionTo(server.port), timeoutMs: 3000 }).connect();
      await vnc.keyboard.type('ab', { delayMs: 0 });
      await vnc.disconnect();
      const stream = Buffer.concat(received);
      expect(stream.subarray(0, 12).toString('latin1')).toBe('RFB 003.008\n');
      // Key events for a and b, down and up, in order; then, before closing, a 1×1 update request
      // that makes sure a proxy has passed them on (websockify drops what it holds at close).
      expect(stream.subarray(stream.length - 42).toString('hex')).toBe(
        ['0401000000000061', '0400000000000061', '0401000000000062', '0400000000000062', '03000000000000010001'].join(''),
      );
    } finally {
      await server.close();
    }
  });

  test('a text message is a VNCProtocolError that points at the subprotocol', async () => {
    const server = await fakeServer((socket) => socket.send('UkZCIDAwMy4wMDgK'));
    try {
      const error = await new VNCAgentBridge({ connection: connectionTo(server.port), timeoutMs: 3000 }).connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VNCProtocolError);
      expect((error as Error).message).toContain('binary');
    } finally {
      await server.close();
    }
  });
});

test.describe('opening the WebSocket', () => {
  for (const [status, words] of [
    [401, 'expired'],
    [403, 'refused the credentials'],
    [404, 'no WebSocket endpoint at this path'],
    [400, 'subprotocols'],
  ] as const) {
    test(`HTTP ${status} on the upgrade says what it likely means, without the ticket`, async () => {
      const server = await fakeServer(() => undefined, { status });
      try {
        const error = await new VNCAgentBridge({ connection: connectionTo(server.port, { ticket: 'SECRET-TICKET-1' }), timeoutMs: 3000 })
          .connect()
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VNCConnectionError);
        expect((error as Error).message).toContain(`HTTP ${status}`);
        expect((error as Error).message).toContain(words);
        expect((error as Error).message).toContain('token=***');
        expect((error as Error).message).not.toContain('SECRET-TICKET-1');
      } finally {
        await server.close();
      }
    });
  }

  test('subprotocols: "binary" by default, none when asked, and headers are sent', async () => {
    const server = await fakeServer((socket) => socket.send(SESSION));
    try {
      await (await new VNCAgentBridge({ connection: connectionTo(server.port), timeoutMs: 3000 }).connect()).disconnect();
      const none = connectionTo(server.port, { subprotocols: [], headers: { Authorization: 'PVEAPIToken=u@pam!t=secret' } });
      await (await new VNCAgentBridge({ connection: none, timeoutMs: 3000 }).connect()).disconnect();
      expect(server.offered).toEqual(['binary', '']);
      expect(server.headers[1].authorization).toBe('PVEAPIToken=u@pam!t=secret');
    } finally {
      await server.close();
    }
  });

  test('the ticket is the VNC password unless a password is given', () => {
    expect(connectionTo(1).credentials.password).toBe('T0KEN');
    expect(connectionTo(1, { password: 'pw' }).credentials.password).toBe('pw');
  });
});

test.describe('URL templates', () => {
  test('fills placeholders, URL-encoding values in the path and query but not the host', () => {
    const url = expandUrlTemplate('wss://${host}:${port}/api2/json/nodes/${node}/qemu/${vmid}/vncwebsocket?port=${vncPort}&vncticket=${ticket}', {
      host: 'pve.example.com',
      port: 8006,
      node: 'pve 1',
      vmid: 100,
      vncPort: 5900,
      ticket: 'PVEVNC:ABC=/+?&',
    });
    expect(url.href).toBe('wss://pve.example.com:8006/api2/json/nodes/pve%201/qemu/100/vncwebsocket?port=5900&vncticket=PVEVNC%3AABC%3D%2F%2B%3F%26');
    expect(url.searchParams.get('vncticket')).toBe('PVEVNC:ABC=/+?&');
    expect(expandUrlTemplate('ws://[${host}]:${port}/', { host: '::1', port: 1 }).href).toBe('ws://[::1]:1/');
    expect(templatePlaceholders('ws://${host}:${port}/${a}/${a}')).toEqual(['host', 'port', 'a']);
  });

  test('an unknown or empty placeholder is a VNCConfigError naming it, never showing values', () => {
    const values = { host: 'h', port: 1, ticket: 'SECRET-T', password: undefined };
    expect(() => expandUrlTemplate('ws://${host}:${port}/?t=${tikcet}', values)).toThrow(/\$\{tikcet\}.*no value/);
    expect(() => expandUrlTemplate('ws://${host}:${port}/?p=${password}', values)).toThrow(/\$\{password\}.*empty/);
    expect(() => expandUrlTemplate('ws://${host}:${port}/?p=${bad-name}', values)).toThrow(VNCConfigError);
    expect(() => expandUrlTemplate('https://${host}/?t=${ticket}', values)).toThrow(/ws:\/\/ or wss:\/\//);
    for (const template of ['ws://${host}:${port}/?t=${tikcet}', 'https://${host}/?t=${ticket}', '']) {
      try {
        expandUrlTemplate(template, values);
      } catch (error) {
        expect((error as Error).message).not.toContain('SECRET-T');
      }
    }
  });

  test('masking hides credentials, query values and secret path segments', () => {
    const url = new URL('wss://user:pw@h:1/token/SECRET/x?vncticket=SECRET&port=5900#frag');
    expect(maskUrl(url, ['SECRET'])).toBe('wss://h:1/token/***/x?vncticket=***&port=***');
  });

  test('WebSocketVNCConnection refuses bad options up front', () => {
    expect(() => connectionTo(0)).toThrow(/port/);
    expect(() => connectionTo(1, { host: '' })).toThrow(/host/);
    expect(() => connectionTo(1, { vars: { ticket: 'x' } })).toThrow(/vars.ticket/);
    expect(() => connectionTo(1, { headers: { 'Bad Header': 'x' } })).toThrow(/header name/);
    expect(() => connectionTo(1, { headers: { Cookie: 'a\r\nb' } })).toThrow(/one line/);
    expect(() => connectionTo(1, { subprotocols: ['bin ary'] })).toThrow(/subprotocol/);
    expect(() => connectionTo(1, { certificatePem: 'not a pem', urlTemplate: 'wss://${host}:${port}/' })).toThrow(/not a PEM certificate/);
  });

  test('the Proxmox helper builds the vncwebsocket URL and prints it masked', () => {
    const connection = proxmoxConnection({ host: 'pve.lan', node: 'pve', vmid: 101, vncPort: 5901, ticket: 'PVEVNC:SECRET' });
    expect(PROXMOX_URL_TEMPLATE).toContain('/vncwebsocket?port=${vncPort}&vncticket=${ticket}');
    expect(connection.remote).toBe('wss://pve.lan:8006/api2/json/nodes/pve/qemu/101/vncwebsocket?port=***&vncticket=***');
    expect(connection.credentials.password).toBe('PVEVNC:SECRET');
  });
});
