/**
 * `launch:` for real: a `command:` that starts TigerVNC Xvnc, and the `local-desktop` preset. Each
 * is connected to with `new VNCAgentBridge(await resolveTarget(…))`, shows the #204080 background,
 * and leaves no process behind once stopped. Also: reuseExisting, a command that exits or never
 * serves, and aborting a launch.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, test } from '@playwright/test';

import { launchTarget, parseTargets, resolveTarget, type LaunchedTarget, type TargetConfig } from '../../src/config/index.js';
import { decodePng, VNCAgentBridge, VNCConfigError, VNCTimeoutError } from '../../src/index.js';
import { freePort, run } from '../support/processes.js';
import { readBanner } from '../support/xvnc.js';

const BACKGROUND = [0x20, 0x40, 0x80];

let dir: string;
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vnc-config-launch-'));
});
test.afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function targetsFrom(lines: readonly string[], env: NodeJS.ProcessEnv = {}): TargetConfig[] {
  return parseTargets(`${lines.join('\n')}\n`, { file: join(dir, 'vnc.targets.yaml'), env }).targets;
}

/** Live (non-zombie) processes in process group `pgid`. */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(name));
  }
  return members;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

async function answers(port: number): Promise<boolean> {
  return readBanner(port, '127.0.0.1', 1000).then(
    () => true,
    () => false,
  );
}

/** Connects as the tests would, and returns the colour of pixel (0, 0) of a PNG screenshot. */
async function cornerPixel(target: TargetConfig, launched: LaunchedTarget): Promise<number[]> {
  await using vnc = await new VNCAgentBridge(await resolveTarget(target, { attempt: 0, launched })).connect();
  const png = await vnc.screen.screenshot();
  const frame = decodePng(png);
  return [...frame.data.subarray(0, 3)];
}

/** An Xvnc started by a shell script: it picks its display itself and paints the background. */
function xvncCommandTarget(port: number, options: { reuseExisting?: boolean; name?: string } = {}): TargetConfig {
  const displayFile = join(dir, `display-${port}-${options.name ?? 'a'}`);
  const [target] = targetsFrom([
    'targets:',
    `  ${options.name ?? 'app'}:`,
    `    connection: { type: tcp, host: 127.0.0.1, port: ${port} }`,
    '    launch:',
    '      command: |',
    '        Xvnc -displayfd 5 5>"$DISPLAY_FILE" -rfbport "$RFB_PORT" -localhost -nolisten tcp -SecurityTypes None -geometry 640x480 -depth 24 &',
    '        xvnc=$!',
    '        while [ ! -s "$DISPLAY_FILE" ] && kill -0 $xvnc 2>/dev/null; do sleep 0.05; done',
    "        DISPLAY=:$(cat \"$DISPLAY_FILE\") xsetroot -solid '#204080'",
    '        wait $xvnc',
    `      env: { DISPLAY_FILE: "${displayFile}", RFB_PORT: "${port}" }`,
    `      reuseExisting: ${options.reuseExisting ?? false}`,
    '      timeoutMs: 15000',
  ]);
  return target;
}

test.describe('launch: command', () => {
  test('starts the server, serves a bridge (background #204080), and stop() ends the whole process group', async () => {
    const port = await freePort();
    const target = xvncCommandTarget(port);
    const launched = await launchTarget(target);
    try {
      expect(launched).toMatchObject({ host: '127.0.0.1', port, reused: false });
      expect(launched.pids).toHaveLength(1);
      // sh and the Xvnc it started share the group.
      expect(groupMembers(launched.pids[0]).length).toBeGreaterThanOrEqual(2);
      // The banner comes before the script's xsetroot: poll until the background is painted.
      await expect.poll(() => cornerPixel(target, launched), { timeout: 10_000 }).toEqual(BACKGROUND);
    } finally {
      await launched.stop();
    }
    expect(groupMembers(launched.pids[0])).toEqual([]);
    expect(await answers(port)).toBe(false);
    await launched.stop(); // idempotent
  });

  test('reuseExisting: true uses a server that already answers (and leaves it running); false refuses', async () => {
    const port = await freePort();
    const first = await launchTarget(xvncCommandTarget(port, { name: 'first' }));
    try {
      const reused = await launchTarget(xvncCommandTarget(port, { name: 'second', reuseExisting: true }));
      expect(reused).toMatchObject({ host: '127.0.0.1', port, reused: true, pids: [] });
      await reused.stop();
      expect(await answers(port)).toBe(true);
      const target = xvncCommandTarget(port, { name: 'second', reuseExisting: true });
      await expect.poll(() => cornerPixel(target, reused), { timeout: 10_000 }).toEqual(BACKGROUND);

      const refused = await rejection(launchTarget(xvncCommandTarget(port, { name: 'third' })));
      expect(refused).toBeInstanceOf(VNCConfigError);
      expect(refused.message).toMatch(
        new RegExp(`vnc\\.targets\\.yaml:5:7: target "third": a VNC server already answers on 127\\.0\\.0\\.1:${port}\\. Stop it, or set \`reuseExisting: true\` in \`launch:\` to use it\\.$`),
      );
    } finally {
      await first.stop();
    }
    expect(groupMembers(first.pids[0])).toEqual([]);
  });

  test('a command that exits first: VNCConfigError with its exit code and last output', async () => {
    const port = await freePort();
    const [target] = targetsFrom(['targets:', '  app:', `    launch: { command: "echo starting; echo no display >&2; exit 3", port: ${port} }`]);
    const error = await rejection(launchTarget(target));
    expect(error).toBeInstanceOf(VNCConfigError);
    expect(error.message).toBe(
      `${join(dir, 'vnc.targets.yaml')}:3:13: target "app": the launch command exited (code 3) before serving VNC on 127.0.0.1:${port}. Its last output:\n    starting\n    no display`,
    );
  });

  test('a command that never serves: VNCTimeoutError after timeoutMs, with its output, and nothing left running', async () => {
    const port = await freePort();
    const marker = `sleep 29.${port}`;
    const [target] = targetsFrom(
      ['targets:', '  app:', `    launch: { command: "echo token is $SECRET_TOKEN; ${marker} & ${marker}", port: ${port}, timeoutMs: 700, env: { SECRET_TOKEN: "\${env:MY_TOKEN}" } }`],
      { MY_TOKEN: 'hunter2-token' },
    );
    const started = Date.now();
    const error = await rejection(launchTarget(target));
    expect(Date.now() - started).toBeLessThan(8000);
    expect(error).toBeInstanceOf(VNCTimeoutError);
    expect((error as VNCTimeoutError).timeoutMs).toBe(700);
    expect(error.message).toMatch(new RegExp(`:3:13: target "app": the launch command did not serve VNC on 127\\.0\\.0\\.1:${port} within 700 ms \\(.*\\)\\. Check its port, or raise \`launch\\.timeoutMs\`\\. Its last output:\\n    token is \\*\\*\\*$`));
    expect(error.message).not.toContain('hunter2');
    const sleepers = await run('pgrep', ['-f', marker]);
    expect(sleepers.stdout.trim()).toBe('');
  });

  test('an aborted launch stops what it started and rejects with the reason', async () => {
    const port = await freePort();
    const marker = `sleep 31.${port}`;
    const [target] = targetsFrom(['targets:', '  app:', `    launch: { command: "${marker}", port: ${port} }`]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop now')), 300);
    const error = await rejection(launchTarget(target, { signal: controller.signal }));
    expect(error.message).toBe('stop now');
    const left = await run('pgrep', ['-f', marker]);
    expect(left.stdout.trim()).toBe('');
  });
});

test.describe('launch: preset local-desktop', () => {
  test('Xvnc + xterm on a free display: background #204080, the xterm shown, everything stopped after', async () => {
    const [target] = targetsFrom(['targets:', '  local:', '    launch: { preset: local-desktop, geometry: 1024x768 }']);
    const launched = await launchTarget(target);
    let xtermShown = false;
    try {
      expect(launched).toMatchObject({ host: '127.0.0.1', reused: false });
      expect(launched.display).toEqual(expect.any(Number));
      expect(launched.env?.DISPLAY).toBe(`:${launched.display}`);
      expect(launched.pids).toHaveLength(2);
      expect(await cornerPixel(target, launched)).toEqual(BACKGROUND);

      await using vnc = await new VNCAgentBridge(await resolveTarget(target, { launched })).connect();
      expect(vnc.info).toMatchObject({ width: 1024, height: 768, securityTypeName: expect.stringContaining('None') });
      // The xterm's window covers (40, 40) onwards: not the background there.
      const inside = vnc.screen.capture({ region: { x: 60, y: 60, width: 1, height: 1 } });
      xtermShown = [...inside.data.subarray(0, 3)].join() !== BACKGROUND.join();
      const info = await run('xwininfo', ['-name', 'vnc-agent-desktop'], { env: launched.env });
      expect(info.stdout).toContain('Map State: IsViewable');
      await vnc.disconnect();
    } finally {
      await launched.stop();
    }
    expect(xtermShown).toBe(true);
    for (const pid of launched.pids) expect(groupMembers(pid)).toEqual([]);
    expect(await answers(launched.port)).toBe(false);
  });
});
