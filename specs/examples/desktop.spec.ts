/**
 * Example specs: each runs against every target in vnc.targets.yaml — by default `local`, a
 * TigerVNC desktop with an xterm that the framework starts for the tests.
 */
import { expect, test } from '../../fixtures/vnc.js';

/** The xterm's first lines, where commands and their output appear. */
const TERMINAL_TOP = { x: 40, y: 40, width: 400, height: 60 };

test('a command typed into the terminal shows its output', async ({ vnc }) => {
  await vnc.mouse.click(300, 200); // focus follows the pointer: into the xterm
  await vnc.keyboard.type('clear\n');
  await vnc.keyboard.type('echo "héllo from VNC ✓"\n');
  await vnc.mouse.move(1200, 700); // out of the way, so the screen does not depend on it
  await expect(vnc).toHaveScreen('terminal-hello.png', { region: TERMINAL_TOP });
});

test('a chord edits the command line before it runs', async ({ vnc }) => {
  await vnc.mouse.click(300, 200);
  await vnc.keyboard.type('clear\n');
  await vnc.keyboard.type('echo wrong');
  await vnc.keyboard.press('ctrl+u'); // the terminal erases the line
  await vnc.keyboard.type('echo right\n');
  await vnc.mouse.move(1200, 700);
  await expect(vnc).toHaveScreen('terminal-chord.png', { region: TERMINAL_TOP });
});

test('the clipboard travels both ways', async ({ vnc }) => {
  await vnc.clipboard.setText('Grüße from the agent 😀');
  await expect(vnc).toHaveClipboard('Grüße from the agent 😀');
});
