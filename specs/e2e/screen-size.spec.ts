/**
 * `vnc.screen.setSize` against real servers: TigerVNC Xvnc resizes its X screen (checked with
 * xdpyinfo) and refuses when started with -AcceptSetDesktopSize=0; QEMU 7.2 announces
 * ExtendedDesktopSize but with -vga std calls every layout invalid, and with virtio-vga passes the
 * request to the guest (which must have a display driver that resizes).
 */
import { expect, test } from '@playwright/test';

import { VNCAgentBridge } from '../../src/bridge/bridge.js';
import { parseTargets, resolveTarget } from '../../src/config/index.js';
import { VNCInputError, VNCTimeoutError } from '../../src/errors.js';
import { run } from '../support/processes.js';
import { startQemu } from '../support/qemu.js';
import { startX11vnc } from '../support/x11vnc.js';
import { startXvnc, type XvncServer } from '../support/xvnc.js';

test.setTimeout(60_000);

async function xScreenSize(server: XvncServer): Promise<string> {
  const result = await run('xdpyinfo', [], { env: server.env, timeoutMs: 5000 });
  return /dimensions:\s+(\d+x\d+) pixels/.exec(result.stdout)?.[1] ?? `no dimensions in: ${result.stdout.slice(0, 200)}`;
}

function connect(port: number): Promise<VNCAgentBridge> {
  return new VNCAgentBridge({ host: '127.0.0.1', port, timeoutMs: 15_000 }).connect();
}

test('Xvnc: setSize resizes the X screen, the framebuffer follows, and back again', async () => {
  const server = await startXvnc({ geometry: '800x600' });
  try {
    const vnc = await connect(server.port);
    try {
      expect(vnc.info.canResize).toBe(true);
      await vnc.screen.setSize(1024, 768);
      expect([vnc.screen.width, vnc.screen.height]).toEqual([1024, 768]);
      expect(await xScreenSize(server)).toBe('1024x768');
      // The new area is painted: the root colour (#204080) in the bottom-right corner.
      await vnc.screen.waitForStable({ stillMs: 300, timeoutMs: 10_000 });
      expect([...vnc.screen.capture({ region: { x: 1023, y: 767, width: 1, height: 1 } }).data.subarray(0, 3)]).toEqual([0x20, 0x40, 0x80]);
      await vnc.screen.setSize(640, 480);
      expect(await xScreenSize(server)).toBe('640x480');
      expect([vnc.info.width, vnc.info.height]).toEqual([640, 480]);
      // The same size again resolves at once.
      await vnc.screen.setSize(640, 480);
    } finally {
      await vnc.disconnect();
    }
  } finally {
    await server.stop();
  }
});

test('a YAML target with `size: 1280x800` connects at that size (Xvnc started at 800x600)', async () => {
  const server = await startXvnc({ geometry: '800x600' });
  try {
    const file = parseTargets(['targets:', '  sized:', `    connection: { type: tcp, host: 127.0.0.1, port: ${server.port} }`, '    size: 1280x800'].join('\n'), { file: '/virtual/vnc.targets.yaml' });
    const vnc = await new VNCAgentBridge(await resolveTarget(file.targets[0])).connect();
    try {
      expect([vnc.screen.width, vnc.screen.height]).toEqual([1280, 800]);
      expect(await xScreenSize(server)).toBe('1280x800');
    } finally {
      await vnc.disconnect();
    }
  } finally {
    await server.stop();
  }
});

test('Xvnc -AcceptSetDesktopSize=0: rejected with the server\'s reason, the screen unchanged', async () => {
  const server = await startXvnc({ geometry: '800x600', extraArgs: ['-AcceptSetDesktopSize=0'] });
  try {
    const vnc = await connect(server.port);
    try {
      const error = await vnc.screen.setSize(1024, 768).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(VNCInputError);
      expect((error as Error).message).toContain('refused to resize the desktop to 1024x768: resizing is prohibited');
      expect([vnc.screen.width, vnc.screen.height]).toEqual([800, 600]);
      expect(await xScreenSize(server)).toBe('800x600');
    } finally {
      await vnc.disconnect();
    }
    // With `size` on connect, the refusal fails connect() and says what was asked for.
    const sized = new VNCAgentBridge({ host: '127.0.0.1', port: server.port, timeoutMs: 15_000, size: { width: 1024, height: 768 } });
    const error = await sized.connect().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VNCInputError);
    expect((error as Error).message).toContain('but could not set the desktop size 1024x768 asked for (size)');
    expect((error as Error).message).toContain('resizing is prohibited');
    expect(sized.isConnected).toBe(false);
  } finally {
    await server.stop();
  }
});

test('Xvnc: bad sizes are refused before anything is sent', async () => {
  const server = await startXvnc({ geometry: '800x600' });
  try {
    const vnc = await connect(server.port);
    try {
      for (const [w, h] of [[0, 600], [800.5, 600], [20000, 600], [-1, 1]]) {
        const error = await vnc.screen.setSize(w, h).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(VNCInputError);
        expect((error as Error).message).toContain('whole numbers from 1 to 16384');
      }
    } finally {
      await vnc.disconnect();
    }
  } finally {
    await server.stop();
  }
});

test('QEMU -vga std: announces ExtendedDesktopSize but calls any new layout invalid', async () => {
  const qemu = await startQemu({ websocket: false });
  try {
    const vnc = await connect(qemu.vncPort);
    try {
      await expect.poll(() => vnc.screen.width, { timeout: 20_000 }).toBe(720);
      expect(vnc.info.canResize).toBe(true);
      const error = await vnc.screen.setSize(1024, 768, { timeoutMs: 5000 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(VNCInputError);
      expect((error as Error).message).toContain('refused to resize the desktop to 1024x768: the server calls the screen layout invalid');
      expect([vnc.screen.width, vnc.screen.height]).toEqual([720, 400]);
    } finally {
      await vnc.disconnect();
    }
  } finally {
    await qemu.stop();
  }
});

test('QEMU virtio-vga: forwards the request to the guest; a guest without a display driver (SeaBIOS) never resizes → timeout saying so', async () => {
  const qemu = await startQemu({ websocket: false, extraArgs: ['-vga', 'none', '-device', 'virtio-vga'] });
  try {
    const vnc = await connect(qemu.vncPort);
    try {
      await vnc.screen.waitForStable({ stillMs: 1000, timeoutMs: 20_000 }).catch(() => undefined);
      const before = [vnc.screen.width, vnc.screen.height];
      const error = await vnc.screen.setSize(1024, 768, { timeoutMs: 3000 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(VNCTimeoutError);
      expect((error as Error).message).toContain('passed the request on to the guest, which did not resize');
      expect([vnc.screen.width, vnc.screen.height]).toEqual(before);
    } finally {
      await vnc.disconnect();
    }
  } finally {
    await qemu.stop();
  }
});

test('Xvnc: vnc.info.name follows a rename (vncconfig -set desktop=…, DesktopName pseudo-encoding)', async () => {
  const server = await startXvnc({ geometry: '640x480', extraArgs: ['-desktop', 'before rename'] });
  try {
    const vnc = await connect(server.port);
    try {
      expect(vnc.info.name).toBe('before rename');
      const renamed = new Promise<string>((resolve) => vnc.session().once('name', resolve));
      await run('vncconfig', ['-display', `:${server.display}`, '-set', 'desktop=after rename ✓'], { env: server.env, timeoutMs: 5000 });
      expect(await renamed).toBe('after rename ✓');
      expect(vnc.info.name).toBe('after rename ✓');
    } finally {
      await vnc.disconnect();
    }
  } finally {
    await server.stop();
  }
});

test('x11vnc 0.9.16 (libvncserver 0.9.14): announces ExtendedDesktopSize, answers "prohibited"', async () => {
  const server = await startX11vnc({ geometry: '800x600' });
  try {
    const vnc = await connect(server.port);
    try {
      expect(vnc.info.canResize).toBe(true);
      const error = await vnc.screen.setSize(1024, 768, { timeoutMs: 3000 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(VNCInputError);
      expect((error as Error).message).toContain('resizing is prohibited by the server');
      expect([vnc.screen.width, vnc.screen.height]).toEqual([800, 600]);
    } finally {
      await vnc.disconnect();
    }
  } finally {
    await server.stop();
  }
});
