/**
 * Locators in the test framework as users run it (a whole project in a temporary folder, run by the
 * real `playwright test`): a locator action is ONE step titled with the locator and the action (the
 * pointer moves inside it are not steps of their own); the matchers wait like web-first assertions
 * and say what was seen; and a web page's Locator in the same project keeps Playwright's own
 * toBeVisible/toBeHidden/toHaveCount (Debian's chromium).
 */
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { inlineProject, stepTitles, type JsonStep } from '../support/inline-project.js';
import { blocks, writePicture } from '../support/pictures.js';

const CONFIG = `
import { defineConfig } from '@playwright/test';
import { vncProjects } from 'vnc-agent-bridge/test';
export default defineConfig({
  testDir: '.',
  timeout: 90_000,
  // The first OCR reading loads the engine: seconds on a busy machine.
  expect: { timeout: 20_000 },
  use: {
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    },
  },
  projects: vncProjects({ file: 'vnc.targets.yaml' }),
});
`;

const TARGETS = `
targets:
  desk:
    launch: { preset: local-desktop, geometry: 800x600 }
`;

const SCREEN_SPEC = `
import { test, expect } from 'vnc-agent-bridge/test';
const PICTURE = process.env.PICTURE;

test('image locator', async ({ vnc }) => {
  await vnc.mouse.move(300, 200);
  await vnc.keyboard.type('display -borderwidth 0 -geometry +680+480 ' + PICTURE + ' &\\n');
  const picture = vnc.getByImage(PICTURE);
  await expect(picture).toBeVisible();
  await expect(picture).toHaveCount(1);
  await expect(picture).not.toHaveCount(2);
  await picture.hover();
  await vnc.mouse.move(300, 200);
  await vnc.keyboard.type('kill %1\\n');
  await expect(picture).toBeHidden();
  await expect(picture).not.toBeVisible();
  await expect(picture).toHaveCount(0);
});

test('text locator', async ({ vnc }) => {
  await vnc.mouse.move(300, 200);
  await vnc.keyboard.type("clear; printf '%s %s\\\\n' Inline works\\n");
  await expect(vnc).toShowText('Inline works');
  await expect(vnc.getByText('Inline works')).toHaveCount(1);
  await vnc.getByText('Inline works').hover();
  await expect(vnc).not.toShowText('Nowhere to be seen', { timeout: 500 });
});

test('image locator failure', async ({ vnc }) => {
  await expect(vnc.getByImage(PICTURE)).toBeVisible({ timeout: 800 });
});
`;

const WEB_SPEC = `
import { test, expect } from 'vnc-agent-bridge/test';

test('web locators', async ({ page }) => {
  await page.setContent('<button>Go</button><p>one</p><p>two</p><p hidden>three</p>');
  await expect(page.getByRole('button', { name: 'Go' })).toBeVisible();
  await expect(page.locator('p')).toHaveCount(3);
  await expect(page.locator('p[hidden]')).toBeHidden();
  await expect(page.locator('#missing')).not.toBeVisible();
  await expect(page.locator('p[hidden]')).not.toBeVisible();
});

test('web locator failure', async ({ page }) => {
  await page.setContent('<p>one</p>');
  await expect(page.locator('p')).toHaveCount(3, { timeout: 500 });
});
`;

function findStep(steps: JsonStep[], predicate: (step: JsonStep) => boolean): JsonStep | undefined {
  for (const step of steps) {
    if (predicate(step)) return step;
    const inner = findStep(step.steps ?? [], predicate);
    if (inner) return inner;
  }
  return undefined;
}

test.describe.configure({ timeout: 240_000 });

test('locator steps, screen matchers, and web matchers side by side', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': TARGETS,
    'screen.spec.ts': SCREEN_SPEC,
    'web.spec.ts': WEB_SPEC,
  });
  try {
    const picture = await writePicture(join(project.dir, 'picture.png'), blocks(48, 32, 3));
    const run = await project.run(['--workers=1'], { PICTURE: picture });
    const errorsOf = (title: string) => run.spec(title).tests[0].results[0].errors.map((error) => (error.message ?? '').replace(/\u001b\[[0-9;]*m/g, '')).join('\n');

    // The screen locator: its matchers pass, and hover is one step with nothing nested.
    expect(run.spec('image locator').tests[0].status, `${run.output}\n${errorsOf('image locator')}`).toBe('expected');
    const steps = run.spec('image locator').tests[0].results[0].steps;
    const hover = findStep(steps, (step) => step.title === `getByImage(${JSON.stringify(picture)}).hover()`);
    expect(hover, stepTitles(steps).join('\n')).toBeDefined();
    expect(stepTitles(hover!.steps ?? []).filter((title) => /^(mouse|keyboard|screen)\./.test(title))).toEqual([]);
    expect(stepTitles(steps).filter((title) => title.startsWith('getByImage('))).toEqual([`getByImage(${JSON.stringify(picture)}).hover()`]);

    // Text: the OCR path through the built package; one step for the action.
    expect(run.spec('text locator').tests[0].status, errorsOf('text locator')).toBe('expected');
    const textSteps = stepTitles(run.spec('text locator').tests[0].results[0].steps);
    expect(textSteps).toContain('getByText("Inline works").hover()');
    expect(textSteps.filter((title) => title.startsWith('mouse.'))).toEqual(['mouse.move(300, 200)']);

    // A failed screen assertion says what was looked for and the closest place seen.
    expect(run.spec('image locator failure').tests[0].status).toBe('unexpected');
    expect(errorsOf('image locator failure')).toMatch(/waited 800 ms for getByImage\(".*picture\.png"\), but it is not on the screen; the closest place was \(\d+, \d+, 48×32\) with similarity 0\.\d{3}/);

    // Web locators in the same project: Playwright's own matchers, passing and failing as before.
    expect(run.spec('web locators').tests[0].status, errorsOf('web locators')).toBe('expected');
    expect(run.spec('web locator failure').tests[0].status).toBe('unexpected');
    expect(errorsOf('web locator failure')).toMatch(/expect\(locator\)\.toHaveCount\(expected\) failed[\s\S]*Locator: +locator\('p'\)[\s\S]*Expected: 3[\s\S]*Received: 1/);
  } finally {
    await project.cleanup();
  }
});
