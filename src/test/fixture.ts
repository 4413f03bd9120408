/**
 * The Playwright fixture: each test gets `vnc`, a bridge connected to its project's target (from
 * the YAML targets file), wrapped so that every action is a test step. It connects before the
 * test and disconnects after — on failure and timeout too — saving the last screen on failure
 * and, with `vncTrace`, a trace of the test (vnc-trace.ts).
 */
import { test as base, type Location, type TestInfo } from '@playwright/test';
import { VNCAgentBridge } from '../bridge/bridge.js';
import { VNCConfigError } from '../errors.js';
import { assertResolved, inYamlTerms, launchTarget, loadTargets, resolveTarget, type LaunchedTarget, type TargetConfig, type TargetsFile } from '../config/index.js';
import { setCompareDefaults } from './registry.js';
import { instrumentBridge, pointErrorAt } from './steps.js';
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

interface VncInternalTestFixtures {
  _vncLaunched: LaunchedTarget | undefined;
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

/** Where fixture steps point: the test itself, not this package. */
function testLocation(testInfo: TestInfo): Location {
  return { file: testInfo.file, line: testInfo.line, column: testInfo.column };
}

/** A fixture step's error points at the test (a snippet of the test in reports), not into this package. */
function pointedAtTest(error: unknown, testInfo: TestInfo): unknown {
  pointErrorAt(error, testLocation(testInfo));
  return error;
}

export const test = base.extend<VncTestOptions & VncTestFixtures & VncInternalTestFixtures, VncWorkerOptions & VncWorkerFixtures>({
  vncTarget: [undefined, { option: true, box: 'self' }],
  vncTrace: ['off', { option: true, box: 'self' }],
  vncConfig: [undefined, { option: true, scope: 'worker', box: 'self' }],

  // Unset `${env:…}` of other targets do not matter here: only this project's target must resolve.
  _vncTargets: [async ({ vncConfig }, use) => use(loadTargets(vncConfig, { missingEnv: 'defer' })), { scope: 'worker', box: 'self' }],

  // Targets with `launch:` (scope worker) are started once per worker, on first use, and stopped with the worker.
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
    { scope: 'worker', timeout: 60_000, box: 'self' },
  ],

  // Fixtures are boxed ('self'): no fixture step points into this package; their own steps point at the test.
  vncTargetConfig: [async ({ vncTarget, _vncTargets }, use) => {
    const target = findTarget(_vncTargets, vncTarget);
    try {
      assertResolved(target);
    } catch (error) {
      // The mistake is in the YAML (file:line:column in the message), not in the code: no stack.
      (error as Error).stack = `${(error as Error).name}: ${(error as Error).message}`;
      throw error;
    }
    await use(target);
  }, { box: 'self' }],

  // The running launch this test connects to: the worker's, or (`scope: test`) one of its own, stopped after the test.
  _vncLaunched: [async ({ vncTargetConfig: target, _vncLaunches }, use, testInfo) => {
    if (target.launch?.scope !== 'test') return use(target.launch ? await _vncLaunches(target) : undefined);
    const launched = await test.step(`launch ${target.name}`, () => launchTarget(target).catch((error: unknown) => Promise.reject(pointedAtTest(error, testInfo))), {
      location: testLocation(testInfo),
    });
    try {
      await use(launched);
    } finally {
      await launched.stop();
    }
  }, { box: 'self' }],

  vnc: [async ({ vncTargetConfig: target, vncTrace, _vncLaunched: launched }, use, testInfo) => {
    // Asked afresh for every test and every retry: providers hand out short-lived tickets.
    const options = await resolveTarget(target, { attempt: testInfo.retry, launched });
    const bridge = new VNCAgentBridge(options);
    let trace: FixtureTrace | undefined;
    const instrumented = instrumentBridge(
      bridge,
      // With the caller's location the step's error already points there (steps.ts); `box` would drop that stack.
      (title, body, location) =>
        test.step(title, trace ? () => trace!.action(title, body) : body, location ? { location } : { box: true, location: testLocation(testInfo) }),
      async () => undefined,
    );
    setCompareDefaults(instrumented, target.compare);
    await test.step(
      `connect to ${target.name} (${bridge.remote})`,
      () => bridge.connect().catch((error: unknown) => Promise.reject(pointedAtTest(inYamlTerms(error, target), testInfo))),
      { location: testLocation(testInfo) },
    );
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
  }, { box: 'self' }],
});
