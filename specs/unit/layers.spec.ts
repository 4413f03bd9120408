/**
 * The source tree is layered; imports only go down:
 *
 *   src/errors.ts                 imports nothing from src
 *   src/transport                 errors
 *   src/rfb                       errors, transport
 *   src/ocr                       errors (reads text from pixels; knows nothing of VNC)
 *   src/bridge                    errors, transport, rfb, ocr (locators live in src/bridge/locators)
 *   src/trace                     errors, transport, rfb, ocr, bridge (recorder + self-contained viewer)
 *   src/config                    errors, transport, rfb, ocr, bridge
 *   src/index.ts (public API)     everything above, proxmox
 *   src/proxmox                   errors, transport, rfb, ocr, bridge, config
 *   src/mcp                       everything above plus index.ts and proxmox (not cli, not test)
 *   src/cli                       everything above plus index.ts, proxmox and mcp (`vnc-agent mcp`)
 *   src/test                      everything above plus index.ts and proxmox, not cli or mcp
 *
 * A layer may always import its own files. This spec reads every .ts file under src/, finds its
 * imports (static, `export … from`, side-effect and dynamic, comments ignored) and reports each
 * violation as "file:line imports X (layer Y may only import …)".
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect, test } from '@playwright/test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = join(ROOT, 'src');
const PACKAGE_NAME = 'vnc-agent-bridge';

type Layer = 'errors' | 'transport' | 'rfb' | 'ocr' | 'bridge' | 'trace' | 'config' | 'index' | 'proxmox' | 'mcp' | 'cli' | 'test';

const BELOW_CONFIG: Layer[] = ['errors', 'transport', 'rfb', 'ocr', 'bridge', 'trace', 'config'];

/** What each layer may import besides itself. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  errors: [],
  transport: ['errors'],
  rfb: ['errors', 'transport'],
  ocr: ['errors'],
  bridge: ['errors', 'transport', 'rfb', 'ocr'],
  trace: ['errors', 'transport', 'rfb', 'ocr', 'bridge'],
  config: ['errors', 'transport', 'rfb', 'ocr', 'bridge'],
  index: [...BELOW_CONFIG, 'proxmox'],
  proxmox: ['errors', 'transport', 'rfb', 'ocr', 'bridge', 'config'],
  mcp: [...BELOW_CONFIG, 'index', 'proxmox'],
  cli: [...BELOW_CONFIG, 'index', 'proxmox', 'mcp'],
  test: [...BELOW_CONFIG, 'index', 'proxmox'],
};

/** The layer of a path relative to src/ (POSIX separators), or undefined for a place with no rule. */
function layerOf(srcPath: string): Layer | undefined {
  if (srcPath === 'errors.ts') return 'errors';
  if (srcPath === 'index.ts') return 'index';
  const top = srcPath.split('/')[0];
  return (Object.keys(ALLOWED) as Layer[]).find((layer) => layer === top && layer !== 'errors' && layer !== 'index');
}

function describeAllowed(layer: Layer): string {
  const allowed = ALLOWED[layer];
  return allowed.length === 0 ? `layer ${layer} may not import anything from src` : `layer ${layer} may only import ${[...allowed, layer].join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Finding imports

/**
 * Blanks out comments (keeping newlines, so offsets and line numbers stay right) and notes where
 * string and template literals are, so an example in a doc comment or a string is not taken for
 * an import.
 */
export function scanSource(source: string): { code: string; strings: Array<[start: number, end: number]> } {
  const out = source.split('');
  const strings: Array<[number, number]> = [];
  let i = 0;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      const start = i;
      i++;
      while (i < source.length && source[i] !== c) {
        if (source[i] === '\\') i++;
        else if (c !== '`' && source[i] === '\n') break;
        i++;
      }
      i++;
      strings.push([start, i]);
    } else {
      i++;
    }
  }
  return { code: out.join(''), strings };
}

export interface FoundImport {
  specifier: string;
  line: number;
}

const IMPORT_PATTERNS: RegExp[] = [
  // import x from '…', import { a, type B } from '…', import * as ns from '…', import type …, export … from '…'
  /\b(?:import|export)\s+(?:type\s+)?(?:(?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?)|[\w$]+)\s*from\s*(['"])([^'"\n]+)\1/g,
  // import '…' (side effects only)
  /\bimport\s*(['"])([^'"\n]+)\1/g,
  // import('…')
  /\bimport\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/g,
  // require('…'), should anything use createRequire
  /\brequire\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
];

export function findImports(source: string): FoundImport[] {
  const { code, strings } = scanSource(source);
  const inString = (at: number) => strings.some(([start, end]) => at > start && at < end - 1);
  const found = new Map<number, FoundImport>();
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      // The keyword itself inside a string literal is text, not an import.
      if (inString(match.index)) continue;
      const at = match.index + match[0].lastIndexOf(match[2]);
      found.set(at, { specifier: match[2], line: code.slice(0, at).split('\n').length });
    }
  }
  return [...found.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
}

// ---------------------------------------------------------------------------------------------
// Checking a tree of files

/** Files by path relative to src/ (POSIX separators). */
export type SourceTree = Map<string, string>;

function readTree(dir: string): SourceTree {
  const tree: SourceTree = new Map();
  const walk = (at: string) => {
    for (const entry of readdirSync(at)) {
      const full = join(at, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.ts')) tree.set(relative(dir, full).split(sep).join('/'), readFileSync(full, 'utf8'));
    }
  };
  walk(dir);
  return tree;
}

/** Where an import specifier lands, relative to src/; undefined for node builtins and other packages. */
function target(from: string, specifier: string, tree: SourceTree): { path: string; exists: boolean } | undefined {
  if (specifier === PACKAGE_NAME || specifier.startsWith(`${PACKAGE_NAME}/`)) return { path: 'index.ts', exists: true };
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const joined = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [joined.replace(/\.js$/, '.ts'), joined, `${joined}.ts`, `${joined}/index.ts`];
  const hit = candidates.find((candidate) => tree.has(candidate));
  return { path: hit ?? joined, exists: hit !== undefined };
}

export interface CheckResult {
  violations: string[];
  unresolved: string[];
  /** Every edge found inside src, "from -> to". */
  edges: string[];
}

export function checkLayers(tree: SourceTree): CheckResult {
  const violations: string[] = [];
  const unresolved: string[] = [];
  const edges: string[] = [];
  for (const [file, source] of [...tree.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const where = `src/${file}`;
    const layer = layerOf(file);
    for (const { specifier, line } of findImports(source)) {
      const hit = target(file, specifier, tree);
      if (!hit) continue;
      if (!hit.exists) unresolved.push(`${where}:${line} imports ${specifier}, which is not a file under src/`);
      if (hit.path.startsWith('../')) {
        violations.push(`${where}:${line} imports ${specifier} (outside src/: the library may not depend on specs, scripts or fixtures)`);
        continue;
      }
      edges.push(`${file} -> ${hit.path}`);
      const targetLayer = layerOf(hit.path);
      if (layer === undefined) {
        violations.push(`${where}:${line} imports ${specifier} (src/${file.split('/')[0]} is not a known layer; add it to the rules in layers.spec.ts)`);
        continue;
      }
      if (targetLayer === layer) continue;
      if (targetLayer === undefined || !ALLOWED[layer].includes(targetLayer)) {
        violations.push(`${where}:${line} imports ${specifier} (${describeAllowed(layer)}; ${hit.path} is in ${targetLayer ?? 'no known layer'})`);
      }
    }
    if (layer === undefined && findImports(source).length === 0) {
      violations.push(`${where}:1 (src/${file.split('/')[0]} is not a known layer; add it to the rules in layers.spec.ts)`);
    }
  }
  return { violations, unresolved, edges };
}

// ---------------------------------------------------------------------------------------------
// The checker on made-up trees, so a broken scanner cannot pass the real check silently

test.describe('the layer checker itself', () => {
  test('finds every import form, with the line of its specifier', () => {
    const source = [
      "import net from 'node:net';", // 1
      "import { VNCError, type VNCErrorCode } from '../errors.js';", // 2
      'import {', // 3
      '  A,', // 4
      '  B,', // 5
      "} from './multi.js';", // 6
      "import type { T } from './types.js';", // 7
      "import * as ns from './ns.js';", // 8
      "import Default, { named } from './both.js';", // 9
      "export * from './reexport.js';", // 10
      "export { x as y } from './named-export.js';", // 11
      "export type { Z } from './type-export.js';", // 12
      "import './side-effect.js';", // 13
      "const lazy = await import('./dynamic.js');", // 14
      "// import { commented } from './line-comment.js';", // 15
      "/* import x from './block-comment.js'; */", // 16
      '/**', // 17
      " * import { example } from 'vnc-agent-bridge';", // 18
      ' */', // 19
      "const text = 'import a from \"./in-a-string-is-not-an-import\"';", // 20
      "export const value = 1; export function f() { return 'from'; }", // 21
      "export * as space from './star-as.js';", // 22
    ].join('\n');
    expect(findImports(source)).toEqual([
      { specifier: 'node:net', line: 1 },
      { specifier: '../errors.js', line: 2 },
      { specifier: './multi.js', line: 6 },
      { specifier: './types.js', line: 7 },
      { specifier: './ns.js', line: 8 },
      { specifier: './both.js', line: 9 },
      { specifier: './reexport.js', line: 10 },
      { specifier: './named-export.js', line: 11 },
      { specifier: './type-export.js', line: 12 },
      { specifier: './side-effect.js', line: 13 },
      { specifier: './dynamic.js', line: 14 },
      { specifier: './star-as.js', line: 22 },
    ]);
  });

  test('reports violations as "file:line imports X (layer Y may only import …)"', () => {
    const tree: SourceTree = new Map([
      ['errors.ts', "import { x } from './rfb/a.js';\n"],
      ['transport/t.ts', "import { VNCError } from '../errors.js';\nimport { RFBClient } from '../rfb/client.js';\n"],
      ['rfb/client.ts', "import type { Transport } from '../transport/t.js';\nimport { Bridge } from '../bridge/b.js';\n"],
      ['rfb/a.ts', "import { y } from './client.js';\n"],
      ['bridge/b.ts', "import { RFBClient } from '../rfb/client.js';\n\nimport { load } from '../config/c.js';\n"],
      ['config/c.ts', "import { Bridge } from '../bridge/b.js';\nimport { run } from '../cli/main.js';\n"],
      ['cli/main.ts', "import { Bridge } from '../index.js';\nimport { helper } from '../test/h.js';\nimport { p } from '../proxmox/p.js';\n"],
      ['test/h.ts', "import { main } from '../cli/main.js';\nimport { Bridge } from 'vnc-agent-bridge';\n"],
      ['proxmox/p.ts', "import { load } from '../config/c.js';\nimport { main } from '../cli/main.js';\n"],
      ['index.ts', "export * from './bridge/b.js';\nexport * from './cli/main.js';\n"],
      ['web/w.ts', "import { Bridge } from '../bridge/b.js';\n"],
      ['ocr/engine.ts', "import { Frame } from '../rfb/client.js';\n"],
      ['mcp/server.ts', "import { Bridge } from '../index.js';\nimport { parse } from '../cli/main.js';\n"],
      ['rfb/escape.ts', "import { fixture } from '../../specs/support/rfb-bytes.js';\n"],
      ['rfb/missing.ts', "import { gone } from './gone.js';\n"],
    ]);
    const { violations, unresolved } = checkLayers(tree);
    expect(violations).toEqual([
      'src/bridge/b.ts:3 imports ../config/c.js (layer bridge may only import errors, transport, rfb, ocr, bridge; config/c.ts is in config)',
      'src/cli/main.ts:2 imports ../test/h.js (layer cli may only import errors, transport, rfb, ocr, bridge, trace, config, index, proxmox, mcp, cli; test/h.ts is in test)',
      'src/config/c.ts:2 imports ../cli/main.js (layer config may only import errors, transport, rfb, ocr, bridge, config; cli/main.ts is in cli)',
      'src/errors.ts:1 imports ./rfb/a.js (layer errors may not import anything from src; rfb/a.ts is in rfb)',
      'src/index.ts:2 imports ./cli/main.js (layer index may only import errors, transport, rfb, ocr, bridge, trace, config, proxmox, index; cli/main.ts is in cli)',
      'src/mcp/server.ts:2 imports ../cli/main.js (layer mcp may only import errors, transport, rfb, ocr, bridge, trace, config, index, proxmox, mcp; cli/main.ts is in cli)',
      'src/ocr/engine.ts:1 imports ../rfb/client.js (layer ocr may only import errors, ocr; rfb/client.ts is in rfb)',
      'src/proxmox/p.ts:2 imports ../cli/main.js (layer proxmox may only import errors, transport, rfb, ocr, bridge, config, proxmox; cli/main.ts is in cli)',
      'src/rfb/client.ts:2 imports ../bridge/b.js (layer rfb may only import errors, transport, rfb; bridge/b.ts is in bridge)',
      'src/rfb/escape.ts:1 imports ../../specs/support/rfb-bytes.js (outside src/: the library may not depend on specs, scripts or fixtures)',
      'src/test/h.ts:1 imports ../cli/main.js (layer test may only import errors, transport, rfb, ocr, bridge, trace, config, index, proxmox, test; cli/main.ts is in cli)',
      'src/transport/t.ts:2 imports ../rfb/client.js (layer transport may only import errors, transport; rfb/client.ts is in rfb)',
      'src/web/w.ts:1 imports ../bridge/b.js (src/web is not a known layer; add it to the rules in layers.spec.ts)',
    ]);
    expect(unresolved).toEqual([
      'src/rfb/escape.ts:1 imports ../../specs/support/rfb-bytes.js, which is not a file under src/',
      'src/rfb/missing.ts:1 imports ./gone.js, which is not a file under src/',
    ]);
  });

  test('a clean made-up tree passes', () => {
    const tree: SourceTree = new Map([
      ['errors.ts', "import { inspect } from 'node:util';\n"],
      ['transport/t.ts', "import { VNCError } from '../errors.js';\n"],
      ['rfb/client.ts', "import type { Transport } from '../transport/t.js';\nimport { VNCError } from '../errors.js';\n"],
      ['bridge/b.ts', "import { RFBClient } from '../rfb/client.js';\n"],
      ['index.ts', "export * from './bridge/b.js';\n"],
      ['cli/main.ts', "import { Bridge } from '../index.js';\nimport { b } from '../bridge/b.js';\n"],
    ]);
    expect(checkLayers(tree)).toEqual({
      violations: [],
      unresolved: [],
      edges: ['bridge/b.ts -> rfb/client.ts', 'cli/main.ts -> index.ts', 'cli/main.ts -> bridge/b.ts', 'index.ts -> bridge/b.ts', 'rfb/client.ts -> transport/t.ts', 'rfb/client.ts -> errors.ts', 'transport/t.ts -> errors.ts'],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The real tree

test.describe('src/', () => {
  const tree = readTree(SRC);

  test('every import goes down the layers', () => {
    const { violations } = checkLayers(tree);
    expect(violations, violations.join('\n')).toEqual([]);
  });

  test('every relative import names a file that exists under src/', () => {
    const { unresolved } = checkLayers(tree);
    expect(unresolved, unresolved.join('\n')).toEqual([]);
  });

  test('src/errors.ts imports nothing from src', () => {
    const imports = findImports(tree.get('errors.ts') ?? '').filter(({ specifier }) => specifier.startsWith('.') || specifier.startsWith(PACKAGE_NAME));
    expect(imports).toEqual([]);
  });

  test('the scan sees the tree (guards against a checker that finds nothing)', () => {
    expect(existsSync(join(SRC, 'errors.ts'))).toBe(true);
    expect(tree.size).toBeGreaterThanOrEqual(20);
    const { edges } = checkLayers(tree);
    expect(edges).toContain('rfb/client.ts -> transport/transport.ts');
    expect(edges).toContain('rfb/client.ts -> errors.ts');
    expect(edges).toContain('bridge/bridge.ts -> rfb/client.ts');
    expect(edges.length).toBeGreaterThanOrEqual(50);
  });
});
