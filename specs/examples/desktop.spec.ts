/**
 * Example specs: drive a real local desktop (TigerVNC Xvnc with an xterm, started for these
 * tests) through the public package, as a user's spec would.
 */
import { VNCAgentBridge } from 'vnc-agent-bridge';
import { readFile } from 'node:fs/promises';
import { startXterm } from '../support/desktop.js';
import { expect, test } from '../support/fixtures.js';

test('run a command in a terminal and read the screen', async ({ xvnc }, testInfo) => {
  const out = testInfo.outputPath('hello.txt');
  const terminal = await startXterm(xvnc, { command: ['sh'] });
  try {
    await using vnc = await new VNCAgentBridge({ host: xvnc.host, port: xvnc.port }).connect();
    const { x, y, width, height } = terminal.geometry;
    await vnc.mouse.click(x + width / 2, y + height / 2); // focus follows the pointer

    await test.step('type a command', async () => {
      const region = { x, y, width, height };
      await vnc.screen.waitForChange(() => vnc.keyboard.type(`echo "héllo from VNC ✓" > ${out}\n`), { region });
      await vnc.screen.waitForStable({ region, stillMs: 300 });
      await testInfo.attach('terminal.png', { body: await vnc.screen.screenshot({ region }), contentType: 'image/png' });
    });

    await expect.poll(() => readFile(out, 'utf8').catch(() => '')).toBe('héllo from VNC ✓\n');
  } finally {
    await terminal.stop();
  }
});

test('chords edit the command line before it runs', async ({ xvnc }, testInfo) => {
  const out = testInfo.outputPath('chord.txt');
  const terminal = await startXterm(xvnc, { command: ['sh'] });
  try {
    await using vnc = await new VNCAgentBridge({ host: xvnc.host, port: xvnc.port, typingDelayMs: 10 }).connect();
    await vnc.mouse.move(terminal.geometry.x + 40, terminal.geometry.y + 40);
    await vnc.keyboard.type('echo wrong');
    await vnc.keyboard.press('ctrl+u'); // the terminal erases the line
    await vnc.keyboard.type(`echo right > ${out}`);
    await vnc.keyboard.press('enter');
    await expect.poll(() => readFile(out, 'utf8').catch(() => '')).toBe('right\n');
  } finally {
    await terminal.stop();
  }
});

test('the clipboard travels both ways', async ({ xvnc }) => {
  await using vnc = await new VNCAgentBridge({ host: xvnc.host, port: xvnc.port }).connect();
  await vnc.clipboard.setText('Grüße from the agent 😀');
  // The clipboard is now this text, on the desktop and as the bridge knows it.
  expect(await vnc.clipboard.getText()).toBe('Grüße from the agent 😀');
});
