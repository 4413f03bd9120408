/**
 * The wayvnc harness (specs/support/wayvnc.ts): a headless sway with a typing sink, shared by
 * wayvnc — the Wayland desktop with a fixed keyboard layout that keyboard and VeNCrypt tests use.
 */
import { test, expect } from '@playwright/test';
import { decodePng, VNCAgentBridge } from 'vnc-agent-bridge';
import { startWayvnc } from '../support/wayvnc.js';

test.describe('wayvnc harness', () => {
  test.describe.configure({ timeout: 90_000 });

  test('serves the sway output; ASCII typed into the sink arrives; grim sees the same screen size', async () => {
    const server = await startWayvnc();
    try {
      await using vnc = await new VNCAgentBridge({ host: server.host, port: server.port, typingDelayMs: 10 }).connect();
      expect(vnc.info.name).toBe('WayVNC');
      const truth = decodePng(await server.screenshot());
      expect([vnc.screen.width, vnc.screen.height]).toEqual([truth.width, truth.height]);
      await vnc.mouse.move(200, 200);
      await vnc.keyboard.type('hello wayland 123\n');
      expect(await server.waitForTyped('hello wayland 123\n')).toBe('hello wayland 123\n');
    } finally {
      await server.stop();
    }
  });
});
