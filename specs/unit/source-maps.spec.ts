/**
 * The published package's source maps resolve: every `.js.map` that `npm pack` ships either
 * carries its sources (`sourcesContent`) or points at a file that ships too, so stack traces and
 * debuggers in a user's project show our TypeScript, not a missing file. Needs a built dist/.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { expect, test } from '@playwright/test';

const ROOT = resolve(import.meta.dirname, '..', '..');

test('every shipped source map resolves to shipped or inlined sources', () => {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as [{ files: { path: string }[] }];
  const shipped = new Set(pack.files.map((file) => normalize(file.path)));
  const maps = [...shipped].filter((path) => path.endsWith('.js.map'));
  expect(maps.length, 'source maps in the package (build dist/ first)').toBeGreaterThan(10);
  const unresolved: string[] = [];
  for (const mapPath of maps) {
    const map = JSON.parse(readFileSync(join(ROOT, mapPath), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[]; sourceRoot?: string };
    map.sources.forEach((source, index) => {
      const inlined = typeof map.sourcesContent?.[index] === 'string';
      const target = normalize(join(dirname(mapPath), map.sourceRoot ?? '', source));
      if (!inlined && !shipped.has(target)) unresolved.push(`${mapPath} → ${source}`);
    });
  }
  expect(unresolved).toEqual([]);
});
