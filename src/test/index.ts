/**
 * vnc-agent-bridge/test: the Playwright integration.
 *
 *   import { test, expect } from 'vnc-agent-bridge/test';
 *   test('login', async ({ vnc }) => { await vnc.keyboard.type('user\n'); await expect(vnc).toHaveScreen('login.png'); });
 */
import { expect as baseExpect } from '@playwright/test';
import { vncMatchers } from './matchers.js';

export { test, type VncTestOptions, type VncWorkerOptions, type VncTestFixtures, type VncTraceMode } from './fixture.js';
export { vncProjects, type VncProjectsOptions } from './projects.js';
export type { ToHaveScreenOptions, ToShowImageOptions } from './matchers.js';
export type { LocatorAssertionOptions, ToShowTextOptions } from './locator-matchers.js';
export { DEFAULT_COMPARE, type CompareDefaults } from './registry.js';

export const expect = baseExpect.extend(vncMatchers);
