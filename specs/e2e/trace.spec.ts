/**
 * The VNC trace as users get it: whole projects run by the real `playwright test` against the
 * local desktop (Xvnc + xterm), with `vncTrace` modes, judged by the files in the output folder,
 * the list reporter's failure output and the trace's contents; then the viewer opened from disk
 * in Debian's Chromium (pixels of the shown images, the click marker, keyboard navigation), and
 * `vnc-agent show-trace`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, expect, test, type Browser } from '@playwright/test';
import { decodePng, encodePng } from '../../src/bridge/png.js';
import { readTrace, type LoadedTrace, type TraceAction } from '../../src/trace/index.js';
import { inlineProject, type InlineRun, type JsonAttachment, type JsonResult } from '../support/inline-project.js';
import { run, startProcess, stopProcess } from '../support/processes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const CHROMIUM = '/usr/bin/chromium';
const SECRET = 'Trace-S3cret!typed';

const CONFIG = `
import { defineConfig } from '@playwright/test';
import { vncProjects } from 'vnc-agent-bridge/test';
export default defineConfig({
  testDir: '.',
  timeout: 60_000,
  retries: 1,
  workers: 1,
  outputDir: './test-results',
  expect: { timeout: 3000 },
  projects: vncProjects({ file: 'vnc.targets.yaml' }),
});
`;

const TARGETS = `
defaults: { typingDelayMs: 5 }
targets:
  desk:
    launch: { preset: local-desktop, geometry: 800x600 }
`;

const FAILING = `
import { test, expect } from 'vnc-agent-bridge/test';
test.use({ vncTrace: 'retain-on-failure' });

test('fails after acting', async ({ vnc }) => {
  await vnc.mouse.move(700, 500);
  await vnc.mouse.click(200, 150);
  await vnc.keyboard.type('echo traced-output\\n');
  await vnc.keyboard.type(process.env.TRACE_SECRET, { secret: true });
  await vnc.keyboard.press('ctrl+u');
  await vnc.mouse.drag({ x: 300, y: 300 }, { x: 420, y: 360 });
  await vnc.screen.waitForStable({ stillMs: 200 });
  expect(1, 'fails on purpose').toBe(2);
});

test('screen mismatch', async ({ vnc }) => {
  await vnc.mouse.move(790, 590);
  await expect(vnc).toHaveScreen('never.png', { region: { x: 0, y: 0, width: 100, height: 50 }, timeout: 300 });
});

test('flaky, passes on retry', async ({ vnc }, testInfo) => {
  await vnc.mouse.click(100, 100);
  expect(testInfo.retry, 'the first attempt fails on purpose').toBe(1);
});
`;

const FIRST_RETRY = `
import { test, expect } from 'vnc-agent-bridge/test';
test.use({ vncTrace: 'on-first-retry' });

test('retried once', async ({ vnc }, testInfo) => {
  await vnc.mouse.click(50 + testInfo.retry, 60);
  expect(testInfo.retry, 'the first attempt fails on purpose').toBe(1);
});

test('passes at once', async ({ vnc }) => {
  await vnc.mouse.click(70, 80);
});
`;

let project: Awaited<ReturnType<typeof inlineProject>>;
let result: InlineRun;
let browser: Browser | undefined;

test.describe.configure({ mode: 'serial', timeout: 240_000 });

test.beforeAll(async () => {
  test.setTimeout(240_000);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npx tsc -p tsconfig.json" first`);
  project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': TARGETS,
    'failing.spec.ts': FAILING,
    'first-retry.spec.ts': FIRST_RETRY,
    'bad-mode.spec.ts': "import { test } from 'vnc-agent-bridge/test';\ntest.use({ vncTrace: 'sometimes' as never });\ntest('bad trace mode', async ({ vnc }) => {\n  await vnc.mouse.move(1, 1);\n});\n",
  });
  // A baseline that never matches (solid red), so the comparison fails with expected, actual and diff.
  const red = { width: 100, height: 50, data: Buffer.alloc(100 * 50 * 4, Buffer.from([255, 0, 0, 255])) };
  await mkdir(join(project.dir, 'failing.spec.ts-snapshots'), { recursive: true });
  await writeFile(join(project.dir, 'failing.spec.ts-snapshots', 'never-desk-linux.png'), encodePng(red));
  result = await project.run(['--reporter=list,json,html'], { TRACE_SECRET: SECRET, FORCE_COLOR: '0', PLAYWRIGHT_HTML_OPEN: 'never', PLAYWRIGHT_HTML_OUTPUT_DIR: join(project.dir, 'html-report') });
});

test.afterAll(async () => {
  await browser?.close();
  await project?.cleanup();
});

function results(title: string): JsonResult[] {
  return result.spec(title).tests[0].results;
}

function attachment(res: JsonResult, name: string): JsonAttachment | undefined {
  return res.attachments.find((a) => a.name === name);
}

async function traceOf(res: JsonResult): Promise<LoadedTrace> {
  const zip = attachment(res, 'vnc-trace');
  if (!zip?.path) throw new Error(`no vnc-trace attachment in ${JSON.stringify(res.attachments)}`);
  return readTrace(await readFile(zip.path));
}

/** Every file under `dir` (recursively), relative to it; none when it does not exist. */
function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }) : [];
}

/** The test's output folder (testInfo.outputDir): Playwright keeps attachments in its attachments/. */
function testFolder(res: JsonResult): string {
  const any = res.attachments.find((a) => a.path?.includes(`${join(project.dir, 'test-results')}/`));
  if (!any?.path) throw new Error(`no attachment in the output folder: ${JSON.stringify(res.attachments)}`);
  return join(project.dir, 'test-results', relative(join(project.dir, 'test-results'), any.path).split('/')[0]);
}

test('retain-on-failure: a failing test leaves vnc-trace.zip, its viewer and screen-on-failure.png in its output folder, named by the list reporter', async () => {
  expect(result.code, result.output).toBe(1);
  for (const res of results('fails after acting')) {
    expect(res.status).toBe('failed');
    const names = ['vnc-trace', 'vnc-trace.html', 'screen-on-failure.png'];
    // The screen under its own name too, like Playwright's test-failed-1.png.
    expect(filesIn(testFolder(res))).toContain('screen-on-failure.png');
    for (const name of names) {
      const found = attachment(res, name);
      expect(found?.path, `${name} attached by path`).toBeTruthy();
      expect(existsSync(found!.path!), found!.path).toBe(true);
      // In the test's own output folder, like Playwright's screenshot and trace.
      expect(dirname(found!.path!)).toContain(join(project.dir, 'test-results'));
      expect(result.output, 'the list reporter names it').toContain(relative(project.dir, found!.path!));
    }
    const screen = decodePng(await readFile(attachment(res, 'screen-on-failure.png')!.path!));
    expect([screen.width, screen.height]).toEqual([800, 600]);
  }
});

test('the trace holds each action with timing, screens before and after, points, masked keys, and the test error', async () => {
  const { trace, frames } = await traceOf(results('fails after acting')[0]);
  expect(trace.format).toBe('vnc-agent-trace');
  expect(trace.status).toBe('failed');
  expect(trace.error).toContain('fails on purpose');
  expect(trace.title).toContain('fails after acting');
  expect(trace.screen).toEqual({ width: 800, height: 600 });
  const titles = trace.actions.map((a) => a.title);
  expect(titles).toEqual([
    'mouse.move(700, 500)',
    'mouse.click(200, 150)',
    'keyboard.type("echo traced-output\\n")',
    'keyboard.type(***)',
    'keyboard.press("ctrl+u")',
    'mouse.drag({"x":300,"y":300}, {"x":420,"y":360})',
    'screen.waitForStable({"stillMs":200})',
  ]);
  const byTitle = (prefix: string): TraceAction => trace.actions.find((a) => a.title.startsWith(prefix))!;
  const click = byTitle('mouse.click');
  expect(click.details).toEqual([expect.objectContaining({ point: { x: 200, y: 150 }, label: 'click left' })]);
  expect(click.pointerBefore).toEqual({ x: 700, y: 500 });
  expect(click.pointerAfter).toEqual({ x: 200, y: 150 });
  expect(byTitle('mouse.drag').details).toEqual([expect.objectContaining({ drag: { from: { x: 300, y: 300 }, to: { x: 420, y: 360 } } })]);
  expect(byTitle('keyboard.type(***)').keys).toBe('***');
  expect(byTitle('keyboard.type("echo').keys).toBe('"echo traced-output\\n"');
  expect(byTitle('screen.waitForStable').kind).toBe('wait');
  for (const action of trace.actions) {
    expect(action.duration).toBeGreaterThanOrEqual(0);
    for (const id of [action.before, action.after]) {
      expect(id, action.title).toBeTruthy();
      const png = frames.get(id!);
      expect(png, `frame ${id} of ${action.title}`).toBeTruthy();
      const frame = decodePng(png!);
      expect([frame.width, frame.height]).toEqual([800, 600]);
    }
  }
  // Typing changed the screen (the xterm echoed): the filmstrip saw more than one screen, each once.
  expect(trace.filmstrip.length).toBeGreaterThan(1);
  expect(new Set(trace.filmstrip.map((f) => f.frame)).size).toBe(trace.filmstrip.length);
  for (let i = 1; i < trace.filmstrip.length; i++) expect(trace.filmstrip[i].at).toBeGreaterThanOrEqual(trace.filmstrip[i - 1].at);
  expect(byTitle('keyboard.type("echo').before).not.toBe(trace.actions.at(-1)!.after);
  // No secret in the data (the full search in every form is in secrets.spec.ts).
  const zip = await readFile(attachment(results('fails after acting')[0], 'vnc-trace')!.path!);
  expect(zip.includes(SECRET)).toBe(false);
});

test('retain-on-failure drops the trace of a passing retry; on-first-retry records only the retry', async () => {
  const flaky = results('flaky, passes on retry');
  expect(flaky.map((r) => r.status)).toEqual(['failed', 'passed']);
  expect(attachment(flaky[0], 'vnc-trace')).toBeTruthy();
  expect(attachment(flaky[1], 'vnc-trace')).toBeUndefined();
  expect(attachment(flaky[1], 'screen-on-failure.png')).toBeUndefined();
  const folder = testFolder(flaky[0]);
  expect(filesIn(folder).filter((name) => name.includes('vnc-trace')).length).toBe(2);
  expect(filesIn(`${folder}-retry1`).filter((name) => name.includes('vnc-trace'))).toEqual([]);

  const retried = results('retried once');
  expect(retried.map((r) => r.status)).toEqual(['failed', 'passed']);
  expect(attachment(retried[0], 'vnc-trace')).toBeUndefined();
  expect(attachment(retried[0], 'screen-on-failure.png')).toBeTruthy();
  const { trace } = await traceOf(retried[1]);
  expect(trace.status).toBe('passed');
  expect(trace.actions.map((a) => a.title)).toEqual(['mouse.click(51, 60)']);

  const steady = results('passes at once');
  expect(steady.map((r) => r.status)).toEqual(['passed']);
  expect(steady[0].attachments.map((a) => a.name)).toEqual([]);
});

test('a failed toHaveScreen is in the trace with its expected, actual and diff images, and the viewer shows them', async () => {
  const res = results('screen mismatch')[0];
  const { trace, frames } = await traceOf(res);
  const matcher = trace.actions.find((a) => a.kind === 'expect')!;
  expect(matcher.title).toBe('expect.toHaveScreen("never.png")');
  expect(matcher.error).toMatch(/did not match .*never-desk-linux\.png/);
  expect(matcher.expectation?.pass).toBe(false);
  const expected = decodePng(frames.get(matcher.expectation!.expected!)!);
  expect([expected.width, expected.height, ...expected.data.subarray(0, 4)]).toEqual([100, 50, 255, 0, 0, 255]);
  const actual = decodePng(frames.get(matcher.expectation!.actual!)!);
  expect([actual.width, actual.height]).toEqual([100, 50]);
  expect(frames.get(matcher.expectation!.diff!)).toBeTruthy();

  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'] });
  const page = await browser.newPage();
  await page.goto(pathToFileURL(attachment(res, 'vnc-trace.html')!.path!).href);
  // The viewer opens on the failed matcher, with the three images.
  await expect(page.locator('#actions li.selected .title')).toHaveText('expect.toHaveScreen("never.png")');
  await expect(page.locator('#actions li.selected')).toHaveClass(/failed/);
  await expect(page.locator('#error')).toContainText('did not match');
  for (const which of ['expected', 'actual', 'diff'] as const) {
    await expect(page.locator(`#${which} img`)).toHaveAttribute('data-frame', matcher.expectation![which]!);
  }
  await page.close();
});

test('an unknown vncTrace mode fails the test with the modes to choose from (and disconnects)', async () => {
  const [first] = results('bad trace mode');
  expect(first.status).toBe('failed');
  expect(first.errors.map((e) => e.message).join('\n')).toContain(
    `vncTrace "sometimes" is not a trace mode: use one of 'off', 'on', 'retain-on-failure', 'on-first-retry', 'on-all-retries', 'retain-on-first-failure'`,
  );
});

/** FNV-1a over RGB of RGBA pixels: the same function runs in the page. */
function rgbHash(data: Uint8Array | Buffer): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    if ((i & 3) === 3) continue;
    hash = Math.imul(hash ^ data[i], 0x01000193) >>> 0;
  }
  return hash;
}

test('the viewer, opened from disk in Chromium, lists the actions and shows the recorded screens with the click marked', async () => {
  const res = results('fails after acting')[0];
  const { trace, frames } = await traceOf(res);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Opened the way the HTML report serves it: Playwright's report keeps its own copy under data/.
  const viewer = await readFile(attachment(res, 'vnc-trace.html')!.path!);
  const dataDir = join(project.dir, 'html-report', 'data');
  const copy = filesIn(dataDir).find((name) => name.endsWith('.html') && viewer.equals(readFileSync(join(dataDir, name))));
  expect(copy, `the report's data/ holds the viewer: ${filesIn(dataDir).join(', ')}`).toBeTruthy();
  await page.goto(pathToFileURL(join(dataDir, copy!)).href);
  await expect(page.locator('body[data-ready="true"]')).toHaveCount(1);

  // The action list, in order; the failed test's error is shown.
  await expect(page.locator('#actions li .title')).toHaveText(trace.actions.map((a) => a.title));
  await expect(page.locator('#test-error')).toContainText('fails on purpose');

  // Select the click: before and after are the recorded frames, pixel for pixel.
  const clickIndex = trace.actions.findIndex((a) => a.title === 'mouse.click(200, 150)');
  await page.locator('#actions li').nth(clickIndex).click();
  await expect(page.locator('#action-title')).toHaveText('mouse.click(200, 150)');
  const click = trace.actions[clickIndex];
  for (const [which, id] of [['before', click.before!], ['after', click.after!]] as const) {
    const shown = await page.locator(`#${which} img`).evaluate(async (node) => {
      // The specs compile without the DOM library: the few browser types used here.
      const img = node as unknown as { naturalWidth: number; naturalHeight: number; dataset: Record<string, string>; decode(): Promise<void> };
      const document = (globalThis as unknown as { document: { createElement(tag: 'canvas'): Canvas } }).document;
      interface Canvas {
        width: number;
        height: number;
        getContext(kind: '2d'): { drawImage(image: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
      }
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d')!;
      context.drawImage(img, 0, 0);
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let hash = 0x811c9dc5;
      for (let i = 0; i < data.length; i++) {
        if ((i & 3) === 3) continue;
        hash = Math.imul(hash ^ data[i], 0x01000193) >>> 0;
      }
      return { width: canvas.width, height: canvas.height, hash, frame: img.dataset.frame };
    });
    const recorded = decodePng(frames.get(id)!);
    expect(shown, which).toEqual({ width: recorded.width, height: recorded.height, hash: rgbHash(recorded.data), frame: id });
  }

  // The marker sits on the click point: its centre, mapped back to screen pixels, is (200, 150).
  for (const which of ['before', 'after']) {
    const marker = page.locator(`#${which} circle.marker`);
    await expect(marker).toHaveCount(1);
    const [box, img] = [await marker.boundingBox(), await page.locator(`#${which} img`).boundingBox()];
    const scale = 800 / img!.width;
    expect(Math.abs((box!.x + box!.width / 2 - img!.x) * scale - 200.5), `${which} x`).toBeLessThanOrEqual(1.5);
    expect(Math.abs((box!.y + box!.height / 2 - img!.y) * scale - 150.5), `${which} y`).toBeLessThanOrEqual(1.5);
  }

  // Keyboard: down selects the next action, up goes back; right/left step through the filmstrip.
  await page.keyboard.press('ArrowDown');
  await expect(page.locator('#actions li.selected .title')).toHaveText(trace.actions[clickIndex + 1].title);
  await page.keyboard.press('ArrowUp');
  await expect(page.locator('#actions li.selected .title')).toHaveText('mouse.click(200, 150)');
  await page.locator('#scrub').fill('0');
  await expect(page.locator('#filmstrip-frame img')).toHaveAttribute('data-frame', trace.filmstrip[0].frame);
  await page.keyboard.press('ArrowRight');
  await expect(page.locator('#filmstrip-frame img')).toHaveAttribute('data-frame', trace.filmstrip[1].frame);
  await expect(page.locator('#strip img.current')).toHaveAttribute('data-index', '1');
  await page.keyboard.press('ArrowLeft');
  await expect(page.locator('#filmstrip-frame img')).toHaveAttribute('data-frame', trace.filmstrip[0].frame);

  // The drag is drawn from its start to its end.
  await page.locator('#actions li', { hasText: 'mouse.drag' }).click();
  await expect(page.locator('#before line.drag')).toHaveAttribute('x2', '420');

  // Nothing was fetched but the page itself and its own blob: images.
  expect(requests.filter((url) => !url.startsWith('file:') && !url.startsWith('blob:') && !url.startsWith('data:'))).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
});

test('vnc-agent show-trace writes the viewer and opens it in $BROWSER, or prints where it is; --serve serves it on 127.0.0.1', async () => {
  const zipPath = attachment(results('fails after acting')[0], 'vnc-trace')!.path!;
  const out = join(project.dir, 'viewer.html');
  const browserLog = join(project.dir, 'browser-args.txt');
  const fakeBrowser = join(project.dir, 'fake-browser.sh');
  await writeFile(fakeBrowser, `#!/bin/sh\nprintf '%s\\n' "$@" > '${browserLog}'\n`);
  await chmod(fakeBrowser, 0o755);
  const env = { ...process.env, BROWSER: fakeBrowser };

  const opened = await run(process.execPath, [CLI, 'show-trace', zipPath, '--out', out], { env, timeoutMs: 30_000 });
  expect(opened.code, opened.stderr).toBe(0);
  expect(opened.stdout).toContain(`Wrote the trace viewer to ${out}`);
  await expect.poll(async () => (existsSync(browserLog) ? readFile(browserLog, 'utf8') : ''), { timeout: 5000 }).toBe(`${pathToFileURL(out).href}\n`);
  expect(await readFile(out, 'utf8')).toContain('id="vnc-trace-data"');

  // The viewer page the fixture wrote is taken as it is.
  const fromPage = join(project.dir, 'from-page.html');
  const htmlPath = attachment(results('fails after acting')[0], 'vnc-trace.html')!.path!;
  const again = await run(process.execPath, [CLI, 'show-trace', htmlPath, '--out', fromPage, '--no-open'], { env, timeoutMs: 30_000 });
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toContain(`Open ${pathToFileURL(fromPage).href}`);
  expect((await readFile(fromPage)).equals(await readFile(htmlPath))).toBe(true);

  // No browser at all: the path to open is printed.
  const noBrowser = { ...process.env, PATH: '/nonexistent', BROWSER: '' };
  const printed = await run(process.execPath, [CLI, 'show-trace', zipPath, '--out', out], { env: noBrowser, timeoutMs: 30_000 });
  expect(printed.code, printed.stderr).toBe(0);
  expect(printed.stdout).toContain(`No browser to start: open ${pathToFileURL(out).href}`);

  // Not a trace: a clear error, exit 1; no file: usage, exit 2.
  const wrong = await run(process.execPath, [CLI, 'show-trace', join(project.dir, 'vnc.targets.yaml')], { env: noBrowser, timeoutMs: 30_000 });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toContain('not a VNC trace');
  const usage = await run(process.execPath, [CLI, 'show-trace'], { env: noBrowser, timeoutMs: 30_000 });
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('Which trace?');

  // --serve: on 127.0.0.1 only, the viewer at /, until interrupted.
  const server = startProcess(process.execPath, [CLI, 'show-trace', zipPath, '--serve', '--no-open'], { env: noBrowser });
  try {
    await expect.poll(() => /http:\/\/127\.0\.0\.1:\d+\//.test(server.log()), { timeout: 10_000 }).toBe(true);
    const url = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(server.log())![0];
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('id="vnc-trace-data"');
    expect((await fetch(`${url}elsewhere`)).status).toBe(404);
    const listening = await run('ss', ['-Hltn', `sport = :${new URL(url).port}`], { timeoutMs: 5000 });
    expect(listening.stdout.trim().split('\n').map((line) => line.split(/\s+/)[3])).toEqual([`127.0.0.1:${new URL(url).port}`]);
    server.child.kill('SIGINT');
    expect((await server.exited).code).toBe(0);
  } finally {
    await stopProcess(server);
  }
});
