/**
 * Typing into a real VM console: a tiny Linux guest under QEMU whose console keymap is `us`
 * (console-data) or German as a Debian VM set up for `de` has it (console-setup's ckbcomp from the
 * xkb layout: dead ^ ` ´, € on AltGr+E), loaded with busybox loadkmap. QEMU announces Extended Key
 * Events, so with a matching `keyboardLayout` the bridge sends scancodes and the guest's own keymap
 * makes the characters, as with a physical keyboard. Truth: what the guest's `cat` wrote to its
 * serial port. Typing keeps the default pace (about 30 keys/s): QEMU's PS/2 keyboard queue is short
 * and a guest under TCG drains it slowly, so a burst loses keys — as it would for any VNC client.
 */
import { test, expect } from '@playwright/test';
import { VNCAgentBridge, VNCInputError } from '../../src/index.js';
import { startLinuxGuest, type LinuxGuest } from '../support/linux-guest.js';

const PRINTABLE_ASCII = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

/** Waits (bounded) until the bridge has been told the guest's lock state matches `capsLock`. */
async function waitForCapsLock(vnc: VNCAgentBridge, capsLock: boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let nudgeAt = Date.now() + 1000;
  while (!(vnc.keyboard.locks.known && vnc.keyboard.locks.capsLock === capsLock)) {
    if (Date.now() > until) throw new Error(`Caps Lock did not become ${capsLock} within ${timeoutMs} ms (locks: ${JSON.stringify(vnc.keyboard.locks)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (Date.now() > nudgeAt) {
      await vnc.keyboard.press('shift');
      nudgeAt = Date.now() + 1000;
    }
  }
}

/** The guest's serial output, with the serial line's CR LF turned back into the LF that was typed. */
function output(guest: LinuxGuest): string {
  return guest.output().replace(/\r\n/g, '\n');
}

/**
 * Resolves once `text` is in the output (bounded); returns the output either way for the assertion
 * to show. The idle guest under TCG may sit on finished work until its next interrupt, so a lone
 * Shift press (which types nothing) nudges it every second.
 */
async function waitForText(guest: LinuxGuest, text: string, vnc: VNCAgentBridge, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let nudgeAt = Date.now() + 1000;
  while (!output(guest).includes(text) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (Date.now() > nudgeAt) {
      await vnc.keyboard.press('shift');
      nudgeAt = Date.now() + 1000;
    }
  }
  return output(guest);
}

/**
 * Waits until the console sink passes typed lines on: types a marker line until it shows up on the
 * serial port (bounded). Keys typed in the first moments after boot can get lost in the guest.
 */
async function syncSink(vnc: VNCAgentBridge, guest: LinuxGuest, timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (let attempt = 1; Date.now() < until; attempt++) {
    const marker = `SYNC-${attempt}`;
    await vnc.keyboard.type(`${marker}\n`);
    if ((await waitForText(guest, `${marker}\n`, vnc, 3000)).includes(`${marker}\n`)) return `${marker}\n`;
  }
  throw new Error(`the guest's console sink passed nothing on within ${timeoutMs} ms; serial: ${JSON.stringify(guest.serial().slice(-300))}`);
}

/** What the sink wrote after `marker`. */
function outputAfter(guest: LinuxGuest, marker: string): string {
  const text = output(guest);
  return text.slice(text.lastIndexOf(marker) + marker.length);
}

for (const { keymap, layout } of [
  { keymap: 'us', layout: 'us' },
  { keymap: 'xkb-de', layout: 'de' },
]) {
  test.describe(`QEMU guest, console keymap ${keymap}, keyboardLayout ${layout}`, () => {
    test.describe.configure({ mode: 'serial', timeout: 180_000 });
    let guest: LinuxGuest;
    let vnc: VNCAgentBridge;

    test.beforeAll(async () => {
      // Booting under TCG on a busy machine can take longer than the default hook timeout.
      test.setTimeout(180_000);
      guest = await startLinuxGuest({ keymap, mode: 'sink', timeoutMs: 150_000 });
      vnc = await new VNCAgentBridge({ host: '127.0.0.1', port: guest.qemu.vncPort, keyboardLayout: layout, timeoutMs: 20_000 }).connect();
    });

    test.afterAll(async () => {
      await vnc?.disconnect();
      await guest?.stop();
    });

    test('QEMU confirms Extended Key Events, so keys go out as scancodes', () => {
      expect(vnc.session().extendedKeyEvents).toBe(true);
      expect(vnc.keyboard.sendsScancodes).toBe(true);
    });

    test('every printable ASCII character and äöüß€@ arrive byte for byte', async () => {
      const marker = await syncSink(vnc, guest);
      // Lines shorter than the console's 80 columns: the guest's console is slow to pass on longer ones.
      // On de, ^ and ` are dead keys (typed as dead key + space) and é is dead acute + e.
      const lines = [PRINTABLE_ASCII.slice(0, 48), PRINTABLE_ASCII.slice(48), ...(keymap === 'us' ? [] : ['äöüß€@ ÄÖÜ é è ê'])];
      const expected = lines.map((line) => `${line}\n`).join('');
      await vnc.keyboard.type(expected);
      await waitForText(guest, expected, vnc);
      expect(outputAfter(guest, marker), `serial: ${JSON.stringify(guest.serial())}`).toBe(expected);
    });

    if (keymap === 'us') {
      test('a character the layout lacks is a VNCInputError naming it, and nothing is typed', async () => {
        const before = guest.serial();
        const error = await vnc.keyboard.type('ä').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VNCInputError);
        expect((error as Error).message).toContain('"ä" (U+00E4)');
        expect(guest.serial()).toBe(before);
      });
    }
  });
}

test.describe('QEMU guest: Caps Lock', () => {
  test.describe.configure({ mode: 'serial', timeout: 180_000 });
  let guest: LinuxGuest;
  let vnc: VNCAgentBridge;

  test.beforeAll(async () => {
    // Booting under TCG on a busy machine can take longer than the default hook timeout.
    test.setTimeout(180_000);
    // console-data's `us`: its Caps Lock key is the kernel's Caps_Lock, which lights the LED QEMU
    // reports. (Debian's console-setup keymaps make it CtrlL_Lock, which lights no LED: no client can know then.)
    guest = await startLinuxGuest({ keymap: 'us', mode: 'sink', timeoutMs: 150_000 });
    vnc = await new VNCAgentBridge({ host: '127.0.0.1', port: guest.qemu.vncPort, keyboardLayout: 'us', timeoutMs: 20_000 }).connect();
  });

  test.afterAll(async () => {
    await vnc?.disconnect();
    await guest?.stop();
  });

  test('with Caps Lock on (known from the LED state) text still arrives in the right case', async () => {
    await syncSink(vnc, guest);
    await vnc.keyboard.press('capslock');
    await waitForCapsLock(vnc, true);
    expect(vnc.keyboard.locks).toMatchObject({ known: true, capsLock: true });
    const marker = await syncSink(vnc, guest);
    const line = 'Hello World aBcD Zy 123 !@#';
    await vnc.keyboard.type(`${line}\n`);
    await waitForText(guest, `${line}\n`, vnc);
    expect(outputAfter(guest, marker)).toBe(`${line}\n`);
    await vnc.keyboard.press('capslock');
    await waitForCapsLock(vnc, false);
  });
});

test.describe('QEMU guest: chords', () => {
  test.describe.configure({ mode: 'serial', timeout: 180_000 });
  let guest: LinuxGuest;
  let vnc: VNCAgentBridge;

  test.beforeAll(async () => {
    // Booting under TCG on a busy machine can take longer than the default hook timeout.
    test.setTimeout(180_000);
    guest = await startLinuxGuest({ keymap: 'xkb-de', timeoutMs: 150_000 });
    vnc = await new VNCAgentBridge({ host: '127.0.0.1', port: guest.qemu.vncPort, keyboardLayout: 'de', timeoutMs: 20_000 }).connect();
  });

  test.afterAll(async () => {
    await vnc?.disconnect();
    await guest?.stop();
  });

  test('ctrl+c reaches the guest as keys: it interrupts a running sleep', async () => {
    const exits = (guest.output().match(/GUEST-SHELL-EXIT/g) ?? []).length;
    await vnc.keyboard.type('echo SLEEPING; sleep 600; echo NOT-INTERRUPTED\n');
    expect(await waitForText(guest, 'SLEEPING\n', vnc)).toContain('SLEEPING\n');
    await vnc.keyboard.press('ctrl+c');
    const text = await guest.waitForOutput(new RegExp(`(GUEST-SHELL-EXIT \\d+[^]*){${exits + 1}}`), 20_000);
    expect(text).not.toContain('NOT-INTERRUPTED');
  });
});
