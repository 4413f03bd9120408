/**
 * The Linux guest harness (specs/support/linux-guest.ts): a real kernel booting under QEMU whose
 * console input lands in a serial file — the VM-console target for keyboard and framework tests.
 */
import { test, expect } from '@playwright/test';
import { VNCAgentBridge } from 'vnc-agent-bridge';
import { startLinuxGuest, type LinuxGuest } from '../support/linux-guest.js';

test.describe('linux guest', () => {
  test.describe.configure({ mode: 'serial', timeout: 180_000 });
  let guest: LinuxGuest;

  test.beforeAll(async () => {
    guest = await startLinuxGuest({ keymap: 'us', password: 'guestpw' });
  });
  test.afterAll(async () => {
    await guest?.stop();
  });

  test('boots, loads its keymap and runs what is typed on the VGA console', async () => {
    expect(guest.serial()).toContain('GUEST-READY kmap=us');
    await using vnc = await new VNCAgentBridge({ host: '127.0.0.1', port: guest.qemu.vncPort, password: 'guestpw', typingDelayMs: 20 }).connect();
    // The VGA text console: 720x400 once the kernel's console took over.
    expect(vnc.screen.width).toBeGreaterThan(0);
    await vnc.keyboard.type('echo hello-$((6*7))\n');
    await guest.waitForOutput('hello-42');
  });

  test('Ctrl+C interrupts the command running on the console, and a new shell takes over', async () => {
    await using vnc = await new VNCAgentBridge({ host: '127.0.0.1', port: guest.qemu.vncPort, password: 'guestpw', typingDelayMs: 20 }).connect();
    await vnc.keyboard.type('sleep 100; echo slept\n');
    // Give the shell time to start sleep; the interrupt must reach it, not the line editor.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await vnc.keyboard.press('ctrl+c');
    const output = await guest.waitForOutput(/GUEST-SHELL-EXIT 130/);
    expect(output).not.toContain('slept');
    await vnc.keyboard.type('echo after-interrupt\n');
    await guest.waitForOutput('after-interrupt');
  });
});
