/**
 * Locators: find things on the remote screen by their text (OCR) and act on them. Each action waits
 * until its target is shown and still — no sleeps, no coordinates.
 */
import { expect, test } from '../../fixtures/vnc.js';

/** The terminal (reading a part of the screen is faster than reading all of it). */
const TERMINAL = { x: 40, y: 40, width: 640, height: 420 };
/** Where the dialog below opens: below the terminal, so its words are not confused with the command line's. */
const DIALOG_AREA = { x: 400, y: 480, width: 600, height: 250 };

test('a command that takes a moment: wait for its output by text', async ({ vnc }) => {
  await vnc.mouse.click(300, 200); // focus follows the pointer: into the xterm
  await vnc.keyboard.type('clear\n');
  // printf builds the words, so the command line itself does not show "Build finished".
  await vnc.keyboard.type("sleep 1; printf '%s %s\\n' Build finished\n");
  await expect(vnc.getByText('Build finished', { region: TERMINAL })).toBeVisible();
  await expect(vnc).toShowText('Build finished', { region: TERMINAL });
});

test('click a dialog button by its label; the dialog goes away', async ({ vnc }) => {
  await vnc.mouse.click(300, 200);
  await vnc.keyboard.type('clear\n');
  await vnc.keyboard.type("xmessage -geometry +450+500 -buttons Postpone,Install -print 'Update ready' &\n");
  // The locator waits for the dialog to appear and settle, then clicks the button's middle.
  await vnc.getByText('Install').within(DIALOG_AREA).click();
  await expect(vnc.getByText('Update ready').within(DIALOG_AREA)).toBeHidden();
});
