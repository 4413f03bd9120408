/**
 * The scancode path on TigerVNC: Xvnc confirms QEMU Extended Key Events, so with `keyboardLayout`
 * the keys go out as scancodes and the X server's own layout (set with setxkbmap) makes the
 * characters. Truth: an xterm writing what it reads to a file.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { VNCAgentBridge } from '../../src/index.js';
import { startXterm, waitForFile } from '../support/desktop.js';
import { runChecked } from '../support/processes.js';
import { startXvnc, type XvncServer } from '../support/xvnc.js';

let xvnc: XvncServer;
test.beforeAll(async () => {
  xvnc = await startXvnc();
});
test.afterAll(async () => {
  await xvnc?.stop();
});

for (const layout of ['us', 'de'] as const) {
  test(`X layout ${layout}, keyboardLayout ${layout}: text typed by scancode arrives byte for byte`, async () => {
    await runChecked('setxkbmap', ['-layout', layout], { env: xvnc.env, timeoutMs: 10_000 });
    const sink = join(await mkdtemp(join(tmpdir(), 'vnc-agent-kb-')), 'typed.txt');
    const xterm = await startXterm(xvnc, { sinkFile: sink });
    try {
      await using vnc = await new VNCAgentBridge({ host: xvnc.host, port: xvnc.port, keyboardLayout: layout, typingDelayMs: 5 }).connect();
      expect(vnc.session().extendedKeyEvents).toBe(true);
      expect(vnc.keyboard.sendsScancodes).toBe(true);
      await vnc.mouse.move(xterm.geometry.x + 50, xterm.geometry.y + 50);
      const text = layout === 'de' ? 'Grüße @€ zy {[]}\\|~ ÄÖÜ 1!"§\n' : 'Hello, World! zy ~!@#$%^&*()_+{}|:"<>? `-=[]\\;\',./\n';
      await vnc.keyboard.type(text);
      expect(await waitForFile(sink, (content) => content === text, 10_000)).toBe(text);
    } finally {
      await xterm.stop();
    }
  });
}
