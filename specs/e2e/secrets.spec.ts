/**
 * No secret leaks anywhere a run writes. A whole user project (run by the real `playwright test`)
 * whose targets use every kind of secret — a VNC password from ${env:…}, a websockify token as
 * `ticket` in a URL template, `Authorization` and `Cookie` upgrade headers, a provider returning a
 * password, a ticket and a header — with specs that type a secret, set the clipboard, fail on
 * purpose, retry, and trace every step. Then every file the run produced (HTML report with its
 * embedded zip, blob report, JUnit, JSON, test-results attachments incl. PNG text chunks) and its
 * stdout/stderr are searched for each secret in plain, URL-encoded and base64 forms. The same for
 * the `vnc-agent` command line, failing with each secret given by flag or environment.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, deflateSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { encodePng, loadTargets, resolveTarget } from '../../src/index.js';
import { inlineProject } from '../support/inline-project.js';
import { freePort, run, type RunResult } from '../support/processes.js';
import { startWebsockify, type Websockify } from '../support/websockify.js';
import { startXvnc, type XvncServer } from '../support/xvnc.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLAYWRIGHT = join(ROOT, 'node_modules', '.bin', 'playwright');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

/** Every secret the run knows, by the env variable that carries it. VNC passwords are 8 characters (all that counts). */
const SECRETS = {
  SEC_VNC_PW: 'Qz7+Kp/w',
  SEC_WS_TOKEN: 'tok-9f3Kx2LmQ8vRz',
  SEC_BEARER: 'eyJhbGci.Zx81kQwPz7',
  SEC_COOKIE: 'ck-77hGv3TqW0n',
  SEC_PROV_PW: 'Mn4&Lr9!',
  SEC_PROV_TICKET: 'pt-Hx52bQ0wYtc',
  SEC_PROV_HDR: 'ph-Z8yD1uKs7Lq',
  SEC_TYPED: 'typed-S3cr3t!Pw',
  SEC_CLIP: 'clip-Q9dWm2Rx?&=',
  SEC_WRONG_PW: 'Wr0ng#Pw',
  SEC_BAD_TOKEN: 'bad-tok-Yq3Zp8Lk',
} as const;
type SecretName = keyof typeof SECRETS;

// ---------------------------------------------------------------- searching

/** base64 of `value` as it appears inside any longer base64 text, for each of the 3 alignments. */
function base64Forms(value: Buffer): string[] {
  const forms: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), value]).toString('base64');
    const start = pad === 0 ? 0 : 4;
    const end = Math.floor((pad + value.length) / 3) * 4;
    const core = encoded.slice(start, end);
    if (core.length >= 8) forms.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...new Set(forms)];
}

/** The forms searched for: plain, URL-encoded (two styles), JSON-escaped, base64 (any alignment, std and url-safe). */
function formsOf(secret: string): { form: string; needle: string }[] {
  const forms = [
    { form: 'plain', needle: secret },
    { form: 'url', needle: encodeURIComponent(secret) },
    { form: 'url-form', needle: new URLSearchParams({ x: secret }).toString().slice(2) },
    { form: 'json', needle: JSON.stringify(secret).slice(1, -1) },
    { form: 'html', needle: secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;') },
    ...base64Forms(Buffer.from(secret, 'latin1')).map((needle) => ({ form: 'base64', needle })),
  ];
  const seen = new Set<string>();
  return forms.filter(({ needle }) => !seen.has(needle) && (seen.add(needle), true));
}

/** Entries of a zip archive (stored or deflated), read from its central directory. */
function unzip(data: Buffer): { name: string; body: Buffer }[] {
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 65_557); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = data.readUInt16LE(eocd + 10);
  let at = data.readUInt32LE(eocd + 16);
  const entries: { name: string; body: Buffer }[] = [];
  for (let n = 0; n < count; n++) {
    if (data.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = data.readUInt16LE(at + 10);
    const compressedSize = data.readUInt32LE(at + 20);
    const nameLength = data.readUInt16LE(at + 28);
    const extraLength = data.readUInt16LE(at + 30);
    const commentLength = data.readUInt16LE(at + 32);
    const localOffset = data.readUInt32LE(at + 42);
    const name = data.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const localStart = localOffset + 30 + data.readUInt16LE(localOffset + 26) + data.readUInt16LE(localOffset + 28);
    const raw = data.subarray(localStart, localStart + compressedSize);
    const body = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : Buffer.from(`<unsupported zip method ${method}>`);
    entries.push({ name, body });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** tEXt / zTXt / iTXt contents of a PNG or APNG (compressed ones inflated). */
function pngTextChunks(data: Buffer): Buffer[] {
  const texts: Buffer[] = [];
  let at = 8;
  while (at + 8 <= data.length) {
    const length = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    const body = data.subarray(at + 8, at + 8 + length);
    if (type === 'tEXt') texts.push(body);
    if (type === 'zTXt') {
      const nul = body.indexOf(0);
      texts.push(body.subarray(0, nul), inflateSync(body.subarray(nul + 2)));
    }
    if (type === 'iTXt') {
      const nul = body.indexOf(0);
      const compressed = body[nul + 1] === 1;
      let rest = body.subarray(nul + 3);
      rest = rest.subarray(rest.indexOf(0) + 1); // language
      rest = rest.subarray(rest.indexOf(0) + 1); // translated keyword
      texts.push(body.subarray(0, nul), compressed ? inflateSync(rest) : rest);
    }
    at += 12 + length;
  }
  return texts;
}

/**
 * A file and everything inside it, each as (label, bytes): zips (blob reports, the HTML report's
 * embedded data) are opened, base64 runs in text are decoded and looked into, PNG text chunks read.
 */
function views(label: string, data: Buffer, depth = 0): { label: string; data: Buffer }[] {
  const found = [{ label, data }];
  if (depth > 4) return found;
  if (data.length > 22 && data.readUInt32LE(0) === 0x04034b50) {
    for (const entry of unzip(data)) found.push(...views(`${label}!${entry.name}`, entry.body, depth + 1));
  }
  if (data.length > 8 && data.readUInt32BE(0) === 0x89504e47) {
    for (const [index, text] of pngTextChunks(data).entries()) found.push({ label: `${label}#text${index}`, data: text });
  }
  if (data.length > 1 && data[0] === 0x1f && data[1] === 0x8b) {
    found.push(...views(`${label}!gunzip`, gunzipSync(data), depth + 1));
  }
  const text = data.toString('latin1');
  if (!text.startsWith('\x89PNG')) {
    for (const match of text.matchAll(/[A-Za-z0-9+/]{200,}={0,2}/g)) {
      const decoded = Buffer.from(match[0], 'base64');
      if (decoded.length > 22 && (decoded.readUInt32LE(0) === 0x04034b50 || decoded.readUInt32BE(0) === 0x89504e47)) {
        found.push(...views(`${label}@base64[${match.index}]`, decoded, depth + 1));
      }
    }
  }
  return found;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

interface Leak {
  where: string;
  secret: SecretName;
  form: string;
  count: number;
}

/** Every occurrence of every secret, in every form, in these (label, bytes) items. */
function searchLeaks(items: { label: string; data: Buffer }[], names: readonly SecretName[] = Object.keys(SECRETS) as SecretName[]): Leak[] {
  const leaks: Leak[] = [];
  for (const item of items) {
    const haystacks = [item.data.toString('latin1'), item.data.toString('utf8')];
    for (const secret of names) {
      for (const { form, needle } of formsOf(SECRETS[secret])) {
        const count = Math.max(...haystacks.map((hay) => hay.split(needle).length - 1));
        if (count > 0) leaks.push({ where: item.label, secret, form, count });
      }
    }
  }
  return leaks;
}

// ---------------------------------------------------------------- servers

let desk: XvncServer;
let vault: XvncServer;
let proxy: Websockify;

test.describe.configure({ mode: 'serial', timeout: 300_000 });

test.beforeAll(async () => {
  test.setTimeout(60_000);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  [desk, vault] = await Promise.all([
    startXvnc({ password: SECRETS.SEC_VNC_PW, geometry: '640x480' }),
    startXvnc({ password: SECRETS.SEC_PROV_PW, geometry: '640x480' }),
  ]);
  proxy = await startWebsockify({
    tokens: {
      [SECRETS.SEC_WS_TOKEN]: { host: '127.0.0.1', port: desk.port },
      [SECRETS.SEC_PROV_TICKET]: { host: '127.0.0.1', port: vault.port },
    },
  });
});

test.afterAll(async () => {
  await proxy?.stop();
  await Promise.all([desk?.stop(), vault?.stop()]);
});

test('the self-check of the search: it finds secrets plainly, URL-encoded, base64-encoded, inside zips, base64 zips and PNG text', () => {
  const secret = SECRETS.SEC_CLIP;
  expect(searchLeaks([{ label: 'x', data: Buffer.from(`a${encodeURIComponent(secret)}b`) }], ['SEC_CLIP'])).toHaveLength(1);
  for (const prefix of ['', 'a', 'ab']) {
    const b64 = Buffer.from(`${prefix}"password":"${SECRETS.SEC_VNC_PW}","x":1`).toString('base64');
    expect(searchLeaks([{ label: 'x', data: Buffer.from(b64) }], ['SEC_VNC_PW']).length).toBeGreaterThan(0);
  }
  // A PNG with a zTXt chunk holding the secret.
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, body, Buffer.alloc(4)]);
  };
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0'), deflateSync(Buffer.from(secret))])), chunk('IEND', Buffer.alloc(0))]);
  expect(searchLeaks(views('png', png), ['SEC_CLIP']).map((leak) => leak.where)).toContain('png#text1');
  // A zip (deflated entry) holding that PNG, embedded base64 in HTML as Playwright's report does.
  const entry = deflateRawSync(png);
  const name = Buffer.from('data/a.png');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(entry.length, 18);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(entry.length, 20);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE(0, 42);
  const cdOffset = 30 + name.length + entry.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + name.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  const zip = Buffer.concat([local, name, entry, central, name, end]);
  const html = Buffer.from(`<script>window.playwrightReportBase64 = "data:application/zip;base64,${zip.toString('base64')}";</script>`);
  expect(searchLeaks(views('index.html', html), ['SEC_CLIP']).length).toBeGreaterThan(0);
});

// ---------------------------------------------------------------- the user project

const CONFIG = `
import { defineConfig } from '@playwright/test';
import { vncProjects } from 'vnc-agent-bridge/test';
export default defineConfig({
  testDir: '.',
  timeout: 60_000,
  retries: 1,
  workers: 2,
  expect: { timeout: 1000 },
  outputDir: './test-results',
  reporter: [
    ['list'],
    ['html', { outputFolder: 'html-report', open: 'never' }],
    ['junit', { outputFile: 'junit.xml' }],
    ['json', { outputFile: 'report.json' }],
    ['blob', { outputDir: 'blob-report' }],
  ],
  use: { vncTrace: 'on' },
  projects: vncProjects({ file: 'vnc.targets.yaml' }),
});
`;

function targetsYaml(): string {
  return `
defaults: { timeoutMs: 8000, typingDelayMs: 5 }
targets:
  desk:
    connection: { type: tcp, host: 127.0.0.1, port: ${desk.port} }
    password: \${env:SEC_VNC_PW}
  kiosk:
    connection:
      type: websocket
      url: "ws://\${host}:\${port}/websockify?token=\${ticket}&x=1"
      host: 127.0.0.1
      port: ${proxy.port}
      headers:
        Authorization: "Bearer \${env:SEC_BEARER}"
        Cookie: "sid=\${env:SEC_COOKIE}; theme=dark"
    ticket: \${env:SEC_WS_TOKEN}
    password: \${env:SEC_VNC_PW}
  vault:
    connection: { type: websocket, url: "ws://\${host}:\${port}/?token=\${ticket}", host: 127.0.0.1, port: ${proxy.port} }
    provider: ./secret-provider.mjs
  wrongpw:
    connection: { type: tcp, host: 127.0.0.1, port: ${desk.port} }
    password: \${env:SEC_WRONG_PW}
  badtoken:
    connection:
      type: websocket
      url: "ws://\${host}:\${port}/websockify?token=\${ticket}"
      host: 127.0.0.1
      port: ${proxy.port}
      headers: { Authorization: "Bearer \${env:SEC_BEARER}" }
    ticket: \${env:SEC_BAD_TOKEN}
  leaky:
    connection: { type: tcp, host: 127.0.0.1, port: ${desk.port} }
    password: \${env:SEC_WRONG_PW}
    provider: ./throwing-provider.mjs
`;
}

/** Returns the provider's secrets. */
const PROVIDER = `
export default async function provider({ attempt }) {
  return {
    password: process.env.SEC_PROV_PW,
    ticket: process.env.SEC_PROV_TICKET,
    headers: { 'X-Api-Key': process.env.SEC_PROV_HDR, Authorization: 'Bearer ' + process.env.SEC_PROV_HDR },
  };
}
`;

/** A provider that fails quoting the target's own (known) password: the message must come out masked. */
const THROWING_PROVIDER = `
export default async function provider() {
  throw new Error('the vault refused password ' + process.env.SEC_WRONG_PW);
}
`;

const SPEC = `
import { test, expect } from 'vnc-agent-bridge/test';

test('secret typing, clipboard, then a failure on purpose', async ({ vnc }, testInfo) => {
  console.log('remote:', vnc.remote);
  console.log('info:', JSON.stringify(vnc.info));
  await vnc.mouse.move(20, 20);
  await vnc.keyboard.type(process.env.SEC_TYPED, { secret: true });
  await vnc.clipboard.setText(process.env.SEC_CLIP);
  await vnc.keyboard.press('enter');
  await vnc.screen.waitForStable({ stillMs: 100 });
  expect(testInfo.retry, 'fails on purpose, both attempts').toBe(99);
});

test('a screen comparison that fails (diff images attached)', async ({ vnc }) => {
  await vnc.keyboard.type(process.env.SEC_TYPED, { secret: true });
  await expect(vnc).toHaveScreen('never-there.png', { timeout: 500 });
});
`;

/** Environment of the user run: the secrets, nothing from the outer run that could hold one. */
function secretEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '', FORCE_COLOR: '0', ...SECRETS };
  delete env.PLAYWRIGHT_JSON_OUTPUT_NAME;
  delete env.VNC_PASSWORD;
  delete env.VNC_TICKET;
  return env;
}

test('a failing, retried, traced run with every kind of secret leaves none in any file, report or output', async () => {
  const project = await inlineProject({
    'playwright.config.ts': CONFIG,
    'vnc.targets.yaml': targetsYaml(),
    'secret-provider.mjs': PROVIDER,
    'throwing-provider.mjs': THROWING_PROVIDER,
    'secrets.spec.ts': SPEC,
  });
  // Baselines that never match (solid red), so the comparison fails on every attempt with a diff.
  const red = { width: 640, height: 480, data: Buffer.alloc(640 * 480 * 4, Buffer.from([255, 0, 0, 255])) };
  for (const target of ['desk', 'kiosk', 'vault']) {
    mkdirSync(join(project.dir, 'secrets.spec.ts-snapshots'), { recursive: true });
    writeFileSync(join(project.dir, 'secrets.spec.ts-snapshots', `never-there-${target}-linux.png`), encodePng(red));
  }
  try {
    const result = await run(PLAYWRIGHT, ['test'], { cwd: project.dir, env: secretEnv(), timeoutMs: 240_000 });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(1);

    // The run did what it should: every test failed twice (retry), the reachable targets connected
    // and traced, the unreachable ones failed to connect.
    const report = JSON.parse(readFileSync(join(project.dir, 'report.json'), 'utf8')) as { stats: { unexpected: number; expected: number } };
    expect(report.stats.unexpected, output).toBe(12);
    expect(report.stats.expected).toBe(0);
    expect(output).toContain('fails on purpose');
    const reportText = readFileSync(join(project.dir, 'report.json'), 'utf8');
    expect(reportText).toContain('keyboard.type(***)');
    expect(reportText).toContain('clipboard.setText(***)');
    expect(reportText).toContain('vnc-trace');
    expect(reportText).toContain('screen-on-failure.png');
    expect(reportText).toContain('never-there-diff.png');
    expect(reportText).toMatch(/EAUTH|[Aa]uthentication/);
    expect(reportText).toContain('the vault refused password');
    // The targets with right credentials connected, typed and traced; the others failed to connect.
    const tests: { projectName: string; results: { attachments: { name: string }[]; errors: { message?: string }[] }[] }[] = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (typeof record.projectName === 'string' && Array.isArray(record.results)) tests.push(record as never);
        else Object.values(record).forEach(collect);
      }
    };
    collect(JSON.parse(reportText));
    for (const target of ['desk', 'kiosk', 'vault']) {
      const results = tests.filter((t) => t.projectName === target).flatMap((t) => t.results);
      expect(results, target).toHaveLength(4);
      for (const result of results) expect(result.attachments.map((a) => a.name), target).toEqual(expect.arrayContaining(['vnc-trace', 'vnc-trace.html']));
    }
    for (const target of ['wrongpw', 'badtoken', 'leaky']) {
      const results = tests.filter((t) => t.projectName === target).flatMap((t) => t.results);
      expect(results, target).toHaveLength(4);
      for (const result of results) expect(result.attachments.map((a) => a.name), target).not.toContain('vnc-trace');
    }
    // Printed URLs are masked.
    expect(output).toContain('token=***');
    expect(output).not.toMatch(/token=(?!\*\*\*)[^&\s"')]+/);
    expect(reportText).not.toMatch(/token=(?!\*\*\*)[^&\s"')\\]+/);

    // Every file the run produced, opened all the way down, plus its output.
    const files = filesUnder(project.dir).filter((path) => !/\.(ts|mjs|yaml)$/.test(path) || /test-results|html-report|blob-report/.test(path));
    const items = files.flatMap((path) => views(relative(project.dir, path), readFileSync(path)));
    items.push({ label: 'stdout', data: Buffer.from(result.stdout) }, { label: 'stderr', data: Buffer.from(result.stderr) });
    const labels = items.map((item) => item.label);
    // The search looked into what matters (so a zero below means something).
    expect(labels.some((label) => /^html-report[/\\]index\.html@base64.*!report\.json$/.test(label)), labels.join('\n')).toBe(true);
    expect(labels.some((label) => /^blob-report[/\\].*\.zip!.*\.jsonl$/.test(label)), labels.join('\n')).toBe(true);
    expect(labels.some((label) => /^html-report[/\\]data[/\\].*\.png$/.test(label))).toBe(true);
    // The VNC traces were opened: each trace zip's trace.json and frames, and the zip embedded in each viewer page.
    const traceJsons = items.filter((item) => /vnc-trace[^/\\]*\.zip!trace\.json$/.test(item.label));
    expect(traceJsons.length, labels.join('\n')).toBeGreaterThanOrEqual(12);
    expect(labels.some((label) => /vnc-trace[^/\\]*\.zip!frames\/[0-9a-f]{40}\.png$/.test(label)), labels.join('\n')).toBe(true);
    expect(labels.some((label) => /vnc-trace[^/\\]*\.html@base64\[\d+\]!trace\.json$/.test(label)), labels.join('\n')).toBe(true);
    const traceText = traceJsons.map((item) => item.data.toString('utf8')).join('\n');
    expect(traceText).toContain('keyboard.type(***)');
    expect(traceText).toContain('clipboard.setText(***)');
    expect(labels.some((label) => label === 'junit.xml')).toBe(true);
    const htmlData = items.filter((item) => /index\.html@base64.*!/.test(item.label)).map((item) => item.data.toString('utf8')).join('\n');
    expect(htmlData).toContain('keyboard.type(***)');

    const leaks = searchLeaks(items);
    console.log(`searched ${files.length} files → ${items.length} views (${items.reduce((sum, item) => sum + item.data.length, 0)} bytes) for ${Object.keys(SECRETS).length} secrets × ~10 forms: ${leaks.length} hits`);
    test.info().annotations.push({ type: 'searched', description: `${files.length} files, ${items.length} views, ${Object.keys(SECRETS).length} secrets` });
    expect(leaks, JSON.stringify(leaks, null, 1)).toEqual([]);
  } finally {
    await project.cleanup();
  }
});

// A provider's error often quotes a request URL, where secrets appear URL-encoded
// (`fetch https://vault/…?password=Wr0ng%23Pw failed`): those forms are masked too.
test('a provider error quoting a known secret URL-encoded comes out masked too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnc-secrets-provider-'));
  try {
    writeFileSync(
      join(dir, 'vnc.targets.yaml'),
      `targets:\n  leaky:\n    connection: { type: tcp, host: 127.0.0.1, port: ${desk.port} }\n    password: \${env:SEC_WRONG_PW}\n    provider: ./p.mjs\n`,
    );
    writeFileSync(join(dir, 'p.mjs'), "export default async () => { throw new Error('GET https://vault.example/v1/x?password=' + encodeURIComponent(process.env.SEC_WRONG_PW) + ' failed: 403'); };\n");
    process.env.SEC_WRONG_PW = SECRETS.SEC_WRONG_PW;
    const { targets } = loadTargets(join(dir, 'vnc.targets.yaml'));
    const message = await resolveTarget(targets[0], { attempt: 0 }).then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    expect(message).toContain('403');
    expect(searchLeaks([{ label: 'provider error', data: Buffer.from(message) }], ['SEC_WRONG_PW']), message).toEqual([]);
  } finally {
    delete process.env.SEC_WRONG_PW;
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- the command line

function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', ...extra };
  for (const name of ['VNC_PASSWORD', 'VNC_TICKET']) if (!(name in extra)) delete env[name];
  return env;
}

test('vnc-agent failing with each secret (flags and environment, with and without --debug) prints none of them', async () => {
  const closed = await freePort();
  const ws = (path: string) => `ws://\${host}:\${port}${path}`;
  const cases: { name: string; args: string[]; env?: NodeJS.ProcessEnv }[] = [
    { name: 'wrong --password', args: ['--port', String(desk.port), '--password', SECRETS.SEC_WRONG_PW, 'info'] },
    { name: 'wrong VNC_PASSWORD', args: ['--port', String(desk.port), 'info'], env: { VNC_PASSWORD: SECRETS.SEC_WRONG_PW } },
    { name: 'right password, refused port', args: ['--port', String(closed), '--password', SECRETS.SEC_VNC_PW, 'info'] },
    { name: 'bad --ticket with headers', args: ['--url', ws('/websockify?token=${ticket}'), '--host', '127.0.0.1', '--port', String(proxy.port), '--ticket', SECRETS.SEC_BAD_TOKEN, '--header', `Authorization: Bearer ${SECRETS.SEC_BEARER}`, '--header', `Cookie: sid=${SECRETS.SEC_COOKIE}`, 'info'] },
    { name: 'a token written into --url itself', args: ['--url', `ws://127.0.0.1:${proxy.port}/websockify?token=${SECRETS.SEC_BAD_TOKEN}`, 'info'] },
    { name: 'bad VNC_TICKET', args: ['--url', ws('/?token=${ticket}'), '--host', '127.0.0.1', '--port', String(proxy.port), 'info'], env: { VNC_TICKET: SECRETS.SEC_BAD_TOKEN } },
    { name: 'good ticket, wrong password', args: ['--url', ws('/?token=${ticket}'), '--host', '127.0.0.1', '--port', String(proxy.port), '--ticket', SECRETS.SEC_WS_TOKEN, '--password', SECRETS.SEC_WRONG_PW, 'info'] },
    { name: 'good ticket as the password (wrong server password)', args: ['--url', ws('/?token=${ticket}'), '--host', '127.0.0.1', '--port', String(proxy.port), 'info'], env: { VNC_TICKET: SECRETS.SEC_PROV_TICKET, VNC_PASSWORD: SECRETS.SEC_WRONG_PW } },
    { name: 'ticket to a refused port', args: ['--url', ws('/?token=${ticket}&pw=${password}'), '--host', '127.0.0.1', '--port', String(closed), '--ticket', SECRETS.SEC_WS_TOKEN, '--password', SECRETS.SEC_VNC_PW, '--header', `Cookie: sid=${SECRETS.SEC_COOKIE}`, 'info'] },
    { name: 'a bad header name next to a secret header', args: ['--url', ws('/?token=${ticket}'), '--port', String(proxy.port), '--ticket', SECRETS.SEC_WS_TOKEN, '--header', `X Bad: ${SECRETS.SEC_PROV_HDR}`, 'info'] },
  ];
  const failures: string[] = [];
  let masked = 0;
  for (const debug of [false, true]) {
    for (const c of cases) {
      const args = [...(debug ? ['--debug'] : []), '--timeout', '5', ...c.args];
      const result: RunResult = await run(process.execPath, [CLI, ...args], { cwd: ROOT, env: cliEnv(c.env), timeoutMs: 30_000 });
      const label = `${c.name}${debug ? ' --debug' : ''}`;
      if (result.code === 0) failures.push(`${label}: exit 0 (expected a failure)`);
      if (!result.stderr.trim()) failures.push(`${label}: nothing on stderr`);
      if (/token=\*\*\*/.test(result.stderr)) masked++;
      const leaks = searchLeaks([
        { label: `${label} stdout`, data: Buffer.from(result.stdout) },
        { label: `${label} stderr`, data: Buffer.from(result.stderr) },
      ]);
      for (const leak of leaks) failures.push(`${leak.where}: ${leak.secret} (${leak.form}) ×${leak.count}\n${result.stderr}`);
    }
  }
  expect(failures, failures.join('\n\n')).toEqual([]);
  expect(masked, 'some errors show the URL, masked').toBeGreaterThan(0);
});
