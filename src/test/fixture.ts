/**
 * The Playwright fixture: each test gets `vnc`, a bridge connected to its project's target (from
 * the YAML targets file), wrapped so that every action is a test step. It connects before the
 * test and disconnects after — on failure and timeout too — saving the last screen on failure
 * and, with `vncTrace`, a trace of the test (vnc-trace.ts).
 */
import { test as base } from '@playwright/test';
import { VNCAgentBridge } from '../bridge/bridge.js';
import { VNCConfigError } from '../errors.js';
import { launchTarget, loadTargets, resolveTarget, type LaunchedTarget, type TargetConfig, type TargetsFile } from '../config/index.js';
import { setCompareDefaults } from './registry.js';
import { instrumentBridge } from './steps.js';
import { FixtureTrace, saveScreenOnFailure, type VncTraceMode } from './vnc-trace.js';

export type { VncTraceMode } from './vnc-trace.js';

export interface VncTestOptions {
  /** The target (project) this test drives: a name from the targets file. */
  vncTarget: string | undefined;
  /** Record a trace of the test (actions, screens before and after, filmstrip) and when to keep it. Default 'off'. */
  vncTrace: VncTraceMode;
}

export interface VncWorkerOptions {
  /** The targets file; default `vnc.targets.yaml` in the working directory, or the embedded local desktop. */
  vncConfig: string | undefined;
}

export interface VncTestFixtures {
  /** A bridge connected to this project's target; each action is a test step. */
  vnc: VNCAgentBridge;
  /** The target this test drives, as configured (no secrets resolved from providers). */
  vncTargetConfig: TargetConfig;
}

interface VncWorkerFixtures {
  _vncTargets: TargetsFile;
  _vncLaunches: (target: TargetConfig) => Promise<LaunchedTarget>;
}

function findTarget(targets: TargetsFile, name: string | undefined): TargetConfig {
  const names = targets.targets.map((target) => target.name);
  if (name === undefined) {
    if (targets.targets.length === 1) return targets.targets[0];
    throw new VNCConfigError(
      `This project sets no vncTarget, and ${targets.file} has ${names.length} targets (${names.join(', ')}). ` +
        'Use projects: vncProjects() in playwright.config.ts, or set use: { vncTarget: "name" }.',
    );
  }
  const found = targets.targets.find((target) => target.name === name);
  if (!found) throw new VNCConfigError(`vncTarget "${name}" is not in ${targets.file}; its targets are: ${names.join(', ')}.`);
  return found;
}

export const test = base.extend<VncTestOptions & VncTestFixtures, VncWorkerOptions & VncWorkerFixtures>({
  vncTarget: [undefined, { option: true }],
  vncTrace: ['off', { option: true }],
  vncConfig: [undefined, { option: true, scope: 'worker' }],

  _vncTargets: [async ({ vncConfig }, use) => use(loadTargets(vncConfig)), { scope: 'worker' }],

  // Targets with `launch:` are started once per worker, on first use, and stopped with the worker.
  _vncLaunches: [
    async ({}, use) => {
      const launched = new Map<string, Promise<LaunchedTarget>>();
      await use((target) => {
        let running = launched.get(target.name);
        if (!running) {
          running = launchTarget(target);
          launched.set(target.name, running);
        }
        return running;
      });
      for (const running of launched.values()) await (await running.catch(() => undefined))?.stop();
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  vncTargetConfig: async ({ vncTarget, _vncTargets }, use) => {
    await use(findTarget(_vncTargets, vncTarget));
  },

  vnc: async ({ vncTargetConfig: target, vncTrace, _vncLaunches }, use, testInfo) => {
    const launched = target.launch ? await _vncLaunches(target) : undefined;
    // Asked afresh for every test and every retry: providers hand out short-lived tickets.
    const options = await resolveTarget(target, { attempt: testInfo.retry, launched });
    const bridge = new VNCAgentBridge(options);
    let trace: FixtureTrace | undefined;
    const instrumented = instrumentBridge(
      bridge,
      (title, body) => test.step(title, trace ? () => trace!.action(title, body) : body, { box: true }),
      async () => undefined,
    );
    setCompareDefaults(instrumented, target.compare);
    await test.step(`connect to ${target.name} (${bridge.remote})`, () => bridge.connect(), { box: true });
    try {
      trace = FixtureTrace.start(bridge, instrumented, vncTrace, testInfo);
      await use(instrumented);
    } finally {
      const failed = testInfo.status !== testInfo.expectedStatus;
      if (failed) await saveScreenOnFailure(bridge, testInfo).catch(() => undefined);
      await trace?.end(testInfo, failed).catch((error: unknown) => {
        testInfo.annotations.push({ type: 'vnc-trace', description: `The trace could not be saved: ${error instanceof Error ? error.message : String(error)}` });
      });
      await bridge.disconnect();
    }
  },
});
