/**
 * Bundles the built command line (dist/cli/main.js and what it imports) into a few files, written
 * over dist/cli/main.js with its lazily loaded parts in dist/cli/chunks/. One file parses and
 * compiles much faster than ninety small modules: `vnc-agent` starts sooner. The npm packages the
 * library depends on stay outside the bundle (loaded from node_modules, and only when used).
 * Run by `npm run build` after tsc.
 */
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

await build({
  absWorkingDir: new URL('.', root).pathname,
  entryPoints: ['dist/cli/main.js'],
  outdir: 'dist/cli',
  allowOverwrite: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})],
  // Not minified: it measured no faster to load, and stack traces (`--debug`) keep their names.
  sourcemap: true,
  logLevel: 'warning',
});
