/**
 * The bridge against a real TigerVNC Xvnc: every effect is checked on the X server itself
 * (xdotool, xev, an xterm writing to a file, xclip, xwd), never through the client's own view.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VNCAgentBridge, VNCAuthenticationError, VNCConnectionError, VNCInputError, VNCStateError, VNCTimeoutError, decodePng } from '../../src/index.js';
import {
  clipboardGet,
  clipboardOwn,
  hexToRgb,
  pointerLocation,
  startXterm,
  waitForFile,
  xdotool,
  type DisplayTarget,
} from '../support/desktop.js';
import { expect, test, XVNC_PASSWORD } from '../support/bridge-fixtures.js';
import { expectCaptureMatchesServer } from '../support/compare-screens.js';
import { delay, run, startProcess, stopProcess } from '../support/processes.js';
import { DEFAULT_BACKGROUND, startXvnc } from '../support/xvnc.js';

/** Button events the X server delivered to the root window, as "press 1 @100,100". */
async function watchRootButtons(server: DisplayTarget) {
  const xev = startProcess('xev', ['-root', '-event', 'button'], { env: server.env });
  await delay(300);
  return {
    async events(expectedCount: number): Promise<string[]> {
      const parse = () =>
        [...xev.log().matchAll(/Button(Press|Release) event.*?root:\((\d+),(\d+)\).*?button (\d+)/gs)].map(
          (m) => `${m[1] === 'Press' ? 'press' : 'release'} ${m[4]} @${m[2]},${m[3]}`,
        );
      const deadline = Date.now() + 5000;
      while (parse().length < expectedCount && Date.now() < deadline) await delay(50);
      await delay(100);
      return parse();
    },
    stop: () => stopProcess(xev, 2000),
  };
}

async function sinkDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'vnc-bridge-e2e-'));
}

test.describe('connection', () => {
  test('connects, reports what the server announced, and disconnects cleanly', async ({ xvnc, bridgeFor, vncTransport }) => {
    const vnc = await bridgeFor(xvnc);
    expect(vnc.isConnected).toBe(false);
    await vnc.connect();
    expect(vnc.isConnected).toBe(true);
    expect(vnc.info).toMatchObject({
      width: 1280,
      height: 800,
      protocolVersion: '3.8',
      securityType: 1,
      securityTypeName: 'None (1)',
      remote: vnc.remote,
    });
    expect(vnc.remote).toMatch(vncTransport === 'tcp' ? `127.0.0.1:${xvnc.port}` : /^ws:\/\/127\.0\.0\.1:\d+\/websockify$/);
    expect(vnc.info.name.length).toBeGreaterThan(0);
    await vnc.disconnect();
    expect(vnc.isConnected).toBe(false);
    await vnc.disconnect();
    await expect(vnc.mouse.move(1, 1)).rejects.toThrow(VNCStateError);
  });

  test('await using disconnects at the end of the scope', async ({ xvnc, bridgeFor }) => {
    let outside: VNCAgentBridge;
    {
      await using vnc = await (await bridgeFor(xvnc)).connect();
      outside = vnc;
      expect(vnc.isConnected).toBe(true);
    }
    expect(outside.isConnected).toBe(false);
  });

  test('VNC authentication: the right password connects, a wrong one fails without leaking it', async ({ xvncWithPassword: server, bridgeFor }) => {
    const good = await (await bridgeFor(server, { password: XVNC_PASSWORD })).connect();
    expect(good.info.securityType).toBe(2);
    await good.disconnect();

    const wrong = 'wrongpass-Zq9';
    const error = await (await bridgeFor(server, { password: wrong })).connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VNCAuthenticationError);
    expect((error as Error).name).toBe('VNCAuthenticationError');
    expect((error as Error).message).not.toContain(wrong);
    expect((error as Error).message).toMatch(/password/i);

    const none = await (await bridgeFor(server)).connect().catch((e: unknown) => e);
    expect(none).toBeInstanceOf(VNCAuthenticationError);
    expect((none as Error).message).toContain('no password was given');
  });

  test('server killed mid-session: waits fail with VNCConnectionError, then calls say not connected', async ({ bridgeFor }) => {
    const server = await startXvnc({ geometry: '640x480' });
    try {
      const vnc = await (await bridgeFor(server, { timeoutMs: 5000 })).connect();
      const waiting = vnc.screen.waitForChange().catch((e: unknown) => e);
      const started = Date.now();
      server.kill('SIGKILL');
      const error = await waiting;
      expect(error).toBeInstanceOf(VNCConnectionError);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(vnc.isConnected).toBe(false);
      await expect(vnc.keyboard.type('x')).rejects.toThrow(VNCStateError);
      await vnc.disconnect();
    } finally {
      await server.stop();
    }
  });
});

test.describe('mouse and scroll', () => {
  test('move puts the X pointer where asked', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    for (const [x, y] of [[300, 200], [0, 0], [1279, 799], [640, 400]]) {
      await vnc.mouse.move(x, y);
      await expect.poll(() => pointerLocation(xvnc)).toEqual({ x, y });
      expect(vnc.mouse.position).toEqual({ x, y });
    }
    await expect(vnc.mouse.move(1280, 10)).rejects.toThrow(/off the 1280x800 screen/);
    await expect(vnc.mouse.move(-1, 10)).rejects.toThrow(VNCInputError);
  });

  test('clicking or scrolling "where the pointer is" needs a position this connection set', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    await expect(vnc.mouse.click()).rejects.toThrow(/has not moved the pointer yet.*Pass x and y/);
    await expect(vnc.scroll.down(1)).rejects.toThrow(VNCInputError);
    await vnc.mouse.move(20, 30);
    await vnc.mouse.click();
    await vnc.disconnect();
    await vnc.connect();
    await expect(vnc.mouse.click()).rejects.toThrow(/has not moved the pointer yet/);
    await expect(vnc.mouse.move(-1, 10)).rejects.toThrow(/off the 1280x800 screen/);
  });

  test('clicks, double clicks, buttons and drags arrive as X button events', async ({ xvnc, bridgeFor }) => {
    const root = await watchRootButtons(xvnc);
    try {
      await using vnc = await (await bridgeFor(xvnc)).connect();
      await vnc.mouse.click(100, 100);
      await vnc.mouse.rightClick(110, 100);
      await vnc.mouse.middleClick(120, 100);
      await vnc.mouse.doubleClick(130, 100);
      await vnc.mouse.drag({ x: 200, y: 200 }, { x: 300, y: 250 }, { steps: 5 });
      await vnc.mouse.down('right');
      await vnc.mouse.up('right');
      expect(await root.events(14)).toEqual([
        'press 1 @100,100',
        'release 1 @100,100',
        'press 3 @110,100',
        'release 3 @110,100',
        'press 2 @120,100',
        'release 2 @120,100',
        'press 1 @130,100',
        'release 1 @130,100',
        'press 1 @130,100',
        'release 1 @130,100',
        'press 1 @200,200',
        'release 1 @300,250',
        'press 3 @300,250',
        'release 3 @300,250',
      ]);
    } finally {
      await root.stop();
    }
  });

  test('drag releases the button even when a step fails', async ({ xvnc, bridgeFor }) => {
    const root = await watchRootButtons(xvnc);
    try {
      await using vnc = await (await bridgeFor(xvnc)).connect();
      const move = vnc.mouse.move.bind(vnc.mouse);
      let moves = 0;
      vnc.mouse.move = async (x: number, y: number) => {
        if (++moves === 3) throw new Error('step failed on purpose');
        return move(x, y);
      };
      await expect(vnc.mouse.drag({ x: 200, y: 200 }, { x: 300, y: 250 }, { steps: 5 })).rejects.toThrow('step failed on purpose');
      expect(vnc.mouse.buttonMask).toBe(0);
      expect(await root.events(2)).toEqual(['press 1 @200,200', 'release 1 @220,210']);
    } finally {
      await root.stop();
    }
  });

  test('scroll presses and releases wheel buttons 4–7 at the given point', async ({ xvnc, bridgeFor }) => {
    const root = await watchRootButtons(xvnc);
    try {
      await using vnc = await (await bridgeFor(xvnc)).connect();
      await vnc.scroll.up(1, { x: 50, y: 60 });
      await vnc.scroll.down(2);
      await vnc.scroll.left(1, { x: 70, y: 80 });
      await vnc.scroll.right(1);
      expect(await root.events(10)).toEqual([
        'press 4 @50,60',
        'release 4 @50,60',
        'press 5 @50,60',
        'release 5 @50,60',
        'press 5 @50,60',
        'release 5 @50,60',
        'press 6 @70,80',
        'release 6 @70,80',
        'press 7 @70,80',
        'release 7 @70,80',
      ]);
    } finally {
      await root.stop();
    }
  });
});

test.describe('keyboard', () => {
  test('types ASCII, shifted symbols and Unicode into an xterm byte for byte', async ({ xvnc, bridgeFor }) => {
    const sink = join(await sinkDir(), 'typed.txt');
    const xterm = await startXterm(xvnc, { sinkFile: sink });
    try {
      await using vnc = await (await bridgeFor(xvnc, { typingDelayMs: 5 })).connect();
      await vnc.mouse.move(xterm.geometry.x + 50, xterm.geometry.y + 50);
      const text = 'Hello, World! 1234567890 ~!@#$%^&*()_+{}|:"<>? `-=[]\\;\',./\nhéllo wörld — € 😀 漢字 Ωμέγα\n';
      await vnc.keyboard.type(text);
      expect(await waitForFile(sink, (c) => c === text)).toBe(text);
    } finally {
      await xterm.stop();
    }
  });

  /** Lines of printable ASCII (capitals and symbols need Shift), `length` characters in all, ending in a newline. */
  function fastText(length: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_';
    let text = '';
    for (let i = 0; text.length < length; i++) {
      text += alphabet[(i * 7) % alphabet.length];
      if (i % 80 === 79) text += '\n';
    }
    return `${text.slice(0, length - 1)}\n`;
  }

  test('10,000 characters at full speed arrive complete and in order', async ({ xvnc, bridgeFor }) => {
    const sink = join(await sinkDir(), 'fast.txt');
    const xterm = await startXterm(xvnc, { sinkFile: sink });
    try {
      await using vnc = await (await bridgeFor(xvnc)).connect();
      await vnc.mouse.move(xterm.geometry.x + 50, xterm.geometry.y + 50);
      const text = fastText(10_000);
      await vnc.keyboard.type(text, { delayMs: 0 });
      expect(await waitForFile(sink, (c) => c.length >= text.length, 30_000)).toBe(text);
    } finally {
      await xterm.stop();
    }
  });

  test('disconnect() right after typing still delivers every key', async ({ xvnc, bridgeFor }) => {
    const sink = join(await sinkDir(), 'flush.txt');
    const xterm = await startXterm(xvnc, { sinkFile: sink });
    try {
      const vnc = await (await bridgeFor(xvnc)).connect();
      await vnc.mouse.move(xterm.geometry.x + 50, xterm.geometry.y + 50);
      const text = fastText(3000);
      const typing = vnc.keyboard.type(text, { delayMs: 0 });
      await vnc.disconnect();
      await typing;
      expect(await waitForFile(sink, (c) => c.length >= text.length, 30_000)).toBe(text);
    } finally {
      await xterm.stop();
    }
  });

  test('chords and single keys: BackSpace, ctrl+u, held shift', async ({ xvnc, bridgeFor }) => {
    const sink = join(await sinkDir(), 'keys.txt');
    const xterm = await startXterm(xvnc, { sinkFile: sink });
    try {
      await using vnc = await (await bridgeFor(xvnc, { typingDelayMs: 5 })).connect();
      await vnc.mouse.move(xterm.geometry.x + 50, xterm.geometry.y + 50);
      await vnc.keyboard.type('abc');
      await vnc.keyboard.press('BackSpace');
      await vnc.keyboard.press('enter');
      await vnc.keyboard.type('discard me');
      await vnc.keyboard.press('ctrl+u');
      await vnc.keyboard.type('and me');
      await vnc.keyboard.hold('ctrl', () => vnc.keyboard.press('u'));
      await vnc.keyboard.type('gone too');
      await vnc.keyboard.down('control');
      await vnc.keyboard.press('u');
      await vnc.keyboard.up('control');
      await vnc.keyboard.type('kept\n');
      expect(await waitForFile(sink, (c) => c.split('\n').length >= 3)).toBe('ab\nkept\n');
    } finally {
      await xterm.stop();
    }
  });

  test('unknown key names and untypeable characters fail before anything is sent', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    await expect(vnc.keyboard.press('ctrl+entr')).rejects.toThrow(/Unknown key "entr".*Did you mean "enter"/);
    await expect(vnc.keyboard.type('bell\u0007')).rejects.toThrow(/U\+0007/);
  });
});

test.describe('clipboard', () => {
  test('setText makes the X clipboard hold the text, Unicode included', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    expect(vnc.info.extendedClipboard).toBe(true);
    const text = 'from the client: Grüße 😀 漢字\nsecond line';
    await vnc.clipboard.setText(text);
    await expect.poll(() => clipboardGet(xvnc)).toBe(text);
  });

  test('getText returns what a program on the desktop copied', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    const text = `copied on the desktop ${Date.now()}: naïve café ✓`;
    const owner = await clipboardOwn(xvnc, text);
    try {
      await expect.poll(() => vnc.clipboard.getText({ timeoutMs: 2000 }), { timeout: 10_000 }).toBe(text);
    } finally {
      await owner.stop();
    }
  });

  test('getText with nothing announced times out with VNCTimeoutError', async ({ bridgeFor }) => {
    const server = await startXvnc({ geometry: '320x240' });
    try {
      await using vnc = await (await bridgeFor(server)).connect();
      await expect(vnc.clipboard.getText({ timeoutMs: 300 })).rejects.toThrow(VNCTimeoutError);
    } finally {
      await server.stop();
    }
  });
});

test.describe('screen', () => {
  test('a capture equals the X server’s own pixels, also after windows move (CopyRect)', async ({ xvnc, bridgeFor }) => {
    const xterm = await startXterm(xvnc, { command: ['sh', '-c', 'ls -la /usr/bin | head -40; sleep 60'] });
    const eyes = startProcess('xclock', ['-geometry', '200x200+700+300'], { env: xvnc.env });
    try {
      await using vnc = await (await bridgeFor(xvnc)).connect();
      await expectCaptureMatchesServer(vnc, xvnc);
      await vnc.screen.waitForChange(() => xdotool(xvnc, ['windowmove', String(xterm.windowId), '300', '260']));
      await expectCaptureMatchesServer(vnc, xvnc);
    } finally {
      await stopProcess(eyes, 2000);
      await xterm.stop();
    }
  });

  test('screenshot writes a PNG of the screen or a region; regions are checked', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    const path = join(await sinkDir(), 'nested', 'shot.png');
    const png = await vnc.screen.screenshot({ path });
    expect((await readFile(path)).equals(png)).toBe(true);
    const whole = decodePng(png);
    expect([whole.width, whole.height]).toEqual([1280, 800]);
    expect([...whole.data.subarray(0, 3)]).toEqual(hexToRgb(DEFAULT_BACKGROUND));

    const region = { x: 5, y: 6, width: 30, height: 20 };
    const part = decodePng(await vnc.screen.screenshot({ region }));
    expect(part.data.equals(vnc.screen.capture({ region }).data)).toBe(true);
    expect([part.width, part.height]).toEqual([30, 20]);
    expect(() => vnc.screen.capture({ region: { x: 1270, y: 0, width: 20, height: 10 } })).toThrow(/not inside the 1280x800 screen/);
  });

  test('waitForChange sees a change an action causes; waitForStable waits for stillness; both time out', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    const region = { x: 0, y: 0, width: 100, height: 100 };
    const before = vnc.screen.capture({ region });
    const after = await vnc.screen.waitForChange(() => run('xsetroot', ['-solid', '#aa3311'], { env: xvnc.env }), { region });
    expect(after.data.equals(before.data)).toBe(false);
    expect([...after.data.subarray(0, 3)]).toEqual([0xaa, 0x33, 0x11]);
    await run('xsetroot', ['-solid', DEFAULT_BACKGROUND], { env: xvnc.env });
    await vnc.screen.waitForStable({ stillMs: 200, timeoutMs: 5000 });
    await expect(vnc.screen.waitForChange(undefined, { region, timeoutMs: 300 })).rejects.toThrow(VNCTimeoutError);
  });

  test('a desktop resize (RandR) resizes the framebuffer and the capture matches again', async ({ bridgeFor }) => {
    const server = await startXvnc({ geometry: '1024x768' });
    try {
      await using vnc = await (await bridgeFor(server)).connect();
      const resized = new Promise<[number, number]>((resolve) => vnc.session().once('resize', (w, h) => resolve([w, h])));
      await run('xrandr', ['--fb', '800x600'], { env: server.env, timeoutMs: 5000 });
      expect(await resized).toEqual([800, 600]);
      expect(vnc.screen.width).toBe(800);
      await expectCaptureMatchesServer(vnc, server);
    } finally {
      await server.stop();
    }
  });
});

test.describe('refresh', () => {
  test('screen.refresh() repaints every pixel: a wiped local copy equals the server\'s pixels again', async ({ xvnc, bridgeFor }) => {
    await using vnc = await (await bridgeFor(xvnc)).connect();
    await vnc.mouse.move(vnc.screen.width - 1, vnc.screen.height - 1);
    await vnc.screen.waitForStable({ stillMs: 300 });
    vnc.session().framebuffer.data.fill(0);
    await vnc.screen.refresh({ timeoutMs: 5000 });
    // The screen is still: nothing but the refresh can have repainted what was wiped.
    await expectCaptureMatchesServer(vnc, xvnc);
  });
});
