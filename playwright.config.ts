import { defineConfig } from '@playwright/test';
import type { TransportOptions } from './specs/support/bridge-fixtures.js';

// The project's own suite: protocol unit tests, end-to-end tests against real VNC servers the suite
// starts itself, and the example specs that show how users drive a desktop.
export default defineConfig<TransportOptions>({
  testDir: './specs',
  outputDir: './reports/test-results',
  timeout: 60_000,
  fullyParallel: false,
  workers: process.env.CI ? 2 : undefined,
  forbidOnly: !!process.env.CI,
  reporter: [
    ['list'],
    ['html', { outputFolder: 'reports/html', open: 'never' }],
    ['junit', { outputFile: 'reports/junit.xml' }],
  ],
  projects: [
    { name: 'unit', testDir: './specs/unit' },
    { name: 'e2e', testDir: './specs/e2e' },
    // The bridge's behaviour specs again, over a WebSocket (websockify in front of the same Xvnc).
    { name: 'e2e-websocket', testDir: './specs/e2e', testMatch: /bridge\.spec\.ts/, use: { vncTransport: 'websocket' } },
    { name: 'examples', testDir: './specs/examples' },
    // Figures, not tests: only with `npm run bench`.
    ...(process.env.VNC_BENCH ? [{ name: 'bench', testDir: './specs/bench', testMatch: /.*\.bench\.ts/ }] : []),
  ],
});
