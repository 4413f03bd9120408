/**
 * The public types, checked by the compiler: `npm test` type-checks the specs before running them,
 * so each `@ts-expect-error` below fails the suite if the mistake it marks becomes accepted. The
 * same mistakes made past the compiler (plain JavaScript) fail at run time with a clear error.
 */
import { expect, test } from '@playwright/test';
import { VNCAgentBridge, VNCConfigError, VNCError, WebSocketVNCConnection, type Frame, type ServerInfo } from '../../src/index.js';
import type { Page } from '@playwright/test';
import { expect as vncExpect, type VncTestOptions } from '../../src/test/index.js';
import type { ScreenLocator } from '../../src/index.js';

/** Never called: only compiled. */
function mistakesTheCompilerRefuses(bridge: VNCAgentBridge): void {
  // @ts-expect-error quality is 'lossless' or a level 0..9, not a word
  void new VNCAgentBridge({ host: 'h', quality: 'high' });
  // @ts-expect-error a port is a number
  void new VNCAgentBridge({ host: 'h', port: '5901' });
  // @ts-expect-error the mouse has left, middle and right buttons
  void bridge.mouse.click(1, 2, { button: 'back' });
  // @ts-expect-error a WebSocket connection needs its URL template
  void new WebSocketVNCConnection({ host: 'h', port: 1 });
  // @ts-expect-error vncTrace is 'off', 'on' or 'retain-on-failure'
  const trace: VncTestOptions['vncTrace'] = 'always';
  void trace;
  // @ts-expect-error getByText takes a string or a RegExp
  void bridge.getByText(42);
  // @ts-expect-error a locator's waitFor state is 'visible' or 'hidden'
  void bridge.getByText('Save').waitFor({ state: 'attached' });
  // @ts-expect-error clicks take { button, clickCount, position }, not a count
  void bridge.getByImage('ok.png').click({ count: 2 });
}

/** Never called: the locator API and its matchers as the README shows them. */
async function locatorsAsDocumented(vnc: VNCAgentBridge, page: Page): Promise<void> {
  const save: ScreenLocator = vnc.getByText('Save', { exact: true, region: { x: 0, y: 0, width: 100, height: 100 } });
  const box: { x: number; y: number; width: number; height: number } | null = await save.first().within({ x: 0, y: 0, width: 10, height: 10 }).boundingBox();
  void box;
  await vnc.getByImage(Buffer.alloc(0), { similarity: 0.9 }).nth(-1).click({ button: 'right', clickCount: 2, position: { x: 1, y: 2 }, timeout: 5 });
  await vnc.getByText(/name/i).fill('x', { secret: true });
  await vncExpect(save).toBeVisible({ timeout: 1 });
  await vncExpect(save).not.toBeHidden();
  await vncExpect(save).toHaveCount(2);
  await vncExpect(vnc).toShowText(/saved/, { region: { x: 0, y: 0, width: 1, height: 1 } });
  await vncExpect(page.locator('p')).toHaveCount(1, { timeout: 1 });
  await vncExpect(page.getByRole('button')).toBeVisible({ visible: true });
}

test('what the README shows type-checks; mistakes made past the compiler fail clearly at run time', () => {
  const bridge = new VNCAgentBridge({ host: '127.0.0.1', port: 5901, password: 'x', timeoutMs: 1000, quality: 'lossless', encodings: ['tight', 'raw'] });
  expect(typeof mistakesTheCompilerRefuses).toBe('function');
  expect(typeof locatorsAsDocumented).toBe('function');
  const info: keyof ServerInfo = 'securityTypeName';
  const frame: Frame = { width: 1, height: 1, data: Buffer.alloc(4) };
  expect([info, frame.width, bridge.isConnected, new VNCError('EINPUT', 'x').name]).toEqual(['securityTypeName', 1, false, 'VNCError']);
  expect(() => new VNCAgentBridge({ host: 'h', quality: 'high' as never })).toThrow(VNCConfigError);
  expect(() => new VNCAgentBridge({ host: 'h', port: '5901' as never })).toThrow(/Invalid port "5901"/);
  expect(() => new VNCAgentBridge({ host: 'h', encodings: ['tite'] })).toThrow(/Unknown encoding "tite"/);
});
