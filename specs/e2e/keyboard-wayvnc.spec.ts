/**
 * Typing on wayvnc (a headless sway with a fixed xkb layout): text arrives byte for byte in a foot
 * terminal writing to a file, by keysym choice, by scancode (wayvnc takes QEMU Extended Key Events)
 * with dead keys, or pasted — each test says which path made which character arrive.
 */
import { test, expect } from '@playwright/test';
import { VNCAgentBridge, VNCInputError } from '../../src/index.js';
import { startWayvnc, type WayvncServer } from '../support/wayvnc.js';

const TEXT = 'uni é ü € ✓ end\n';

/** A bridge to `server`, the pointer in the typing sink (focus follows the mouse). */
async function connect(server: WayvncServer, options: ConstructorParameters<typeof VNCAgentBridge>[0] = {}): Promise<VNCAgentBridge> {
  const vnc = await new VNCAgentBridge({ host: server.host, port: server.port, timeoutMs: 20_000, ...options }).connect();
  await vnc.mouse.move(200, 200);
  return vnc;
}

for (const layout of ['us', 'de'] as const) {
  test.describe(`wayvnc with the ${layout} layout`, () => {
    test.describe.configure({ mode: 'serial', timeout: 90_000 });
    let server: WayvncServer;

    test.beforeAll(async () => {
      server = await startWayvnc({ layout });
    });
    test.afterAll(async () => {
      await server?.stop();
    });

    test(`type('${TEXT.trim()}') arrives byte for byte: keys where the layout has them, the clipboard for the rest`, async () => {
      // wayvnc reads plain cut text as UTF-8 and foot pastes with ctrl+shift+v.
      const vnc = await connect(server, { keyboardLayout: layout, plainClipboardEncoding: 'utf-8', pasteChord: 'ctrl+shift+v' });
      try {
        expect(vnc.keyboard.sendsScancodes).toBe(true);
        const result = await vnc.keyboard.type(TEXT, { via: 'auto' });
        await server.waitForTyped(TEXT, 10_000).catch(() => undefined);
        expect(server.typed()).toBe(TEXT);
        expect(await server.clipboard()).toBe('✓');
        expect(result.pieces).toEqual(
          layout === 'de'
            ? // é is dead_acute + e, ü and € (AltGr+E) are keys of the German layout; only ✓ is pasted.
              [{ text: 'uni é ü € ', via: 'keys' }, { text: '✓', via: 'clipboard' }, { text: ' end\n', via: 'keys' }]
            : [
                { text: 'uni ', via: 'keys' },
                { text: 'é', via: 'clipboard' },
                { text: ' ', via: 'keys' },
                { text: 'ü', via: 'clipboard' },
                { text: ' ', via: 'keys' },
                { text: '€', via: 'clipboard' },
                { text: ' ', via: 'keys' },
                { text: '✓', via: 'clipboard' },
                { text: ' end\n', via: 'keys' },
              ],
        );
      } finally {
        await vnc.disconnect();
      }
    });

    test('without a way to paste them, the error names the first character no means can type, and nothing is typed', async () => {
      const before = server.typed();
      const vnc = await connect(server, { keyboardLayout: layout });
      try {
        const error = await vnc.keyboard.type(TEXT, { via: 'auto' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VNCInputError);
        // é and ü are Latin-1 and could be pasted; € (on us) and ✓ cannot without UTF-8 cut text.
        expect((error as Error).message).toContain(layout === 'us' ? '"€" (U+20AC) at index 8' : '"✓" (U+2713) at index 10');
        expect((error as Error).message).toContain("plainClipboardEncoding: 'utf-8'");
        await vnc.keyboard.type('sync\n');
        await server.waitForTyped(`${before}sync\n`, 10_000).catch(() => undefined);
        expect(server.typed()).toBe(`${before}sync\n`);
      } finally {
        await vnc.disconnect();
      }
    });
  });
}

test.describe('wayvnc with the de layout: keys only', () => {
  test.describe.configure({ mode: 'serial', timeout: 90_000 });
  let server: WayvncServer;
  test.beforeAll(async () => {
    server = await startWayvnc({ layout: 'de' });
  });
  test.afterAll(async () => {
    await server?.stop();
  });

  test('dead keys by scancode: ^ ` é è ê ô and AltGr symbols arrive', async () => {
    const vnc = await connect(server, { keyboardLayout: 'de' });
    try {
      const text = '^ ` é è ê ô @ € \\ | ~ { } [ ] Zy\n';
      await vnc.keyboard.type(text);
      await server.waitForTyped(text, 10_000).catch(() => undefined);
      expect(server.typed()).toBe(text);
    } finally {
      await vnc.disconnect();
    }
  });

  test('keysym choice alone (no keyboardLayout): ü and € (sent as the legacy keysym EuroSign) arrive', async () => {
    const before = server.typed();
    const vnc = await connect(server);
    try {
      expect(vnc.keyboard.sendsScancodes).toBe(false);
      await vnc.keyboard.type('ü € ok\n');
      await server.waitForTyped(`${before}ü € ok\n`, 10_000).catch(() => undefined);
      expect(server.typed()).toBe(`${before}ü € ok\n`);
    } finally {
      await vnc.disconnect();
    }
  });
});
