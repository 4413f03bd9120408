/**
 * What `launch: { scope: test }` costs per test on the default local desktop (Xvnc + xterm),
 * against `scope: worker` (a test only connects and disconnects) and, as the reference for
 * "a fresh context per test", a fresh Chromium browser context + page per test (Debian's chromium).
 * Prints medians; asserts nothing about time. Run: VNC_BENCH=1 npx playwright test --project=bench specs/bench/launch-scope.bench.ts
 */
import { chromium } from '@playwright/test';
import { test } from '@playwright/test';
import { launchTarget, parseTargets, resolveTarget } from '../../src/config/index.js';
import { VNCAgentBridge } from '../../src/index.js';

const RUNS = 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timeIt(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

function row(name: string, value: string, note = ''): string {
  return `| ${name.padEnd(58)} | ${value.padStart(10)} | ${note.padEnd(34)} |`;
}

test.describe.configure({ timeout: 300_000 });

test('per-test start cost of the local desktop: scope worker vs scope test, and a fresh browser context', async () => {
  const [target] = parseTargets('targets:\n  local:\n    launch: { preset: local-desktop, geometry: 1280x800 }\n', { file: '/bench/vnc.targets.yaml', dir: '/tmp' }).targets;
  const connectOnce = async (launched: Awaited<ReturnType<typeof launchTarget>>) => {
    const bridge = new VNCAgentBridge(await resolveTarget(target, { launched }));
    await bridge.connect();
    await bridge.disconnect();
  };

  // scope: worker — the desktop is already running; a test connects and disconnects.
  const shared = await launchTarget(target);
  const workerScope: number[] = [];
  try {
    await connectOnce(shared);
    for (let i = 0; i < RUNS; i++) workerScope.push(await timeIt(() => connectOnce(shared)));
  } finally {
    await shared.stop();
  }

  // scope: test — every test launches, connects, disconnects and stops its own desktop.
  const testScope: number[] = [];
  const launchOnly: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    testScope.push(
      await timeIt(async () => {
        const started = performance.now();
        const launched = await launchTarget(target);
        launchOnly.push(performance.now() - started);
        try {
          await connectOnce(launched);
        } finally {
          await launched.stop();
        }
      }),
    );
  }

  // Reference: Playwright's isolation unit, a new browser context and page per test.
  const contexts: number[] = [];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'] });
  try {
    for (let i = 0; i < RUNS + 1; i++) {
      const time = await timeIt(async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.setContent('<p>hello</p>');
        await context.close();
      });
      if (i > 0) contexts.push(time);
    }
  } finally {
    await browser.close();
  }

  const lines = [
    row('per test (median of 7)', 'time'),
    `|${'-'.repeat(60)}|${'-'.repeat(12)}|${'-'.repeat(36)}|`,
    row('scope: worker — connect + first frame + disconnect', `${median(workerScope).toFixed(0)} ms`, 'desktop shared by the worker'),
    row('scope: test — launch + connect + disconnect + stop', `${median(testScope).toFixed(0)} ms`, 'a fresh desktop per test'),
    row('  of which launch (Xvnc + xsetroot + xterm ready)', `${median(launchOnly).toFixed(0)} ms`),
    row('reference: Chromium newContext + newPage + close', `${median(contexts).toFixed(0)} ms`, "Playwright's per-test isolation"),
  ];
  console.log(`\nLocal desktop 1280x800, ${RUNS} runs each\n${lines.join('\n')}\n`);
});
