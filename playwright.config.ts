import { defineConfig } from '@playwright/test';
import { vncProjects } from 'vnc-agent-bridge/test';
import type { TransportOptions } from './specs/support/bridge-fixtures.js';

// The example specs run once per target in vnc.targets.yaml (the local desktop by default); the
// project's own suite adds protocol unit tests and end-to-end tests against real VNC servers.
export default defineConfig<TransportOptions>({
  testDir: './specs',
  outputDir: './reports/test-results',
  timeout: 60_000,
  expect: { timeout: 10_000 },
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
    ...vncProjects({ file: 'vnc.targets.yaml', project: { testDir: './specs/examples', retries: process.env.CI ? 1 : 0 } }),
    // Figures, not tests: only with `npm run bench`.
    ...(process.env.VNC_BENCH ? [{ name: 'bench', testDir: './specs/bench', testMatch: /.*\.bench\.ts/ }] : []),
  ],
});
