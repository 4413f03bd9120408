/**
 * The targets file's schema: the located YAML tree → `TargetDefaults` and `TargetConfig`s, every
 * mistake reported with its position. The format is described in the README ("Targets file").
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_TIMEOUT_MS } from '../bridge/bridge.js';
import { DEFAULT_VNC_PORT } from '../bridge/connection.js';
import { DEFAULT_TYPING_DELAY_MS } from '../bridge/keyboard.js';
import { Limits } from '../rfb/constants.js';
import { KEYBOARD_LAYOUT_NAMES } from '../rfb/keyboard-layouts/index.js';
import { parseChord } from '../bridge/key-chord.js';
import type { QualityLevel } from '../rfb/quality.js';
import { PIXEL_ENCODINGS } from '../rfb/encodings/index.js';
import { templatePlaceholders } from '../transport/url-template.js';
import type { YamlMap, YamlNode } from './document.js';
import type { InterpolationContext } from './interpolate.js';
import { readHost, readLaunch, readPort } from './launch-schema.js';
import { matrixTargetName, readMatrix } from './matrix.js';
import { closest, didYouMean, Problems, sortProblems, type ConfigProblem, type SourceLocation } from './problems.js';
import { readSelection } from './selection.js';
import type {
  CertificateConfig,
  CompareSettings,
  LaunchConfig,
  ProviderConfig,
  Quality,
  TargetConfig,
  TargetConnection,
  TargetCredentials,
  TargetDefaults,
  TcpTargetConnection,
  WebSocketTargetConnection,
} from './types.js';
import { entry, Reader } from './values.js';

export const DEFAULT_COMPARE: Readonly<CompareSettings> = { threshold: 0.1, maxDiffPixels: 0, maxDiffPixelRatio: 0 };
export const DEFAULT_DEFAULTS: Readonly<TargetDefaults> = {
  timeoutMs: DEFAULT_TIMEOUT_MS,
  typingDelayMs: DEFAULT_TYPING_DELAY_MS,
  quality: 'lossless',
  compare: DEFAULT_COMPARE,
  shared: false,
};
export const CONNECTION_TYPES = ['tcp', 'websocket'] as const;
export { DEFAULT_COMMAND_LAUNCH_TIMEOUT_MS, DEFAULT_DESKTOP_LAUNCH_TIMEOUT_MS, DEFAULT_GEOMETRY, LAUNCH_PRESETS, LAUNCH_SCOPES } from './launch-schema.js';

const SETTINGS_KEYS = ['timeoutMs', 'typingDelayMs', 'encodings', 'quality', 'compare', 'shared', 'size', 'keyboardLayout', 'pasteChord'];
const ROOT_KEYS = ['defaults', 'targets'];
const TARGET_KEYS = ['connection', 'password', 'username', 'ticket', 'provider', 'launch', 'matrix', 'tags', 'specs', 'grep', ...SETTINGS_KEYS];
const TCP_KEYS = ['type', 'host', 'port', 'certificate', 'verifyTls'];
const WEBSOCKET_KEYS = ['type', 'url', 'host', 'port', 'vars', 'headers', 'subprotocols', 'certificate', 'verifyTls', 'timeoutMs'];
const PROVIDER_KEYS = ['module', 'timeoutMs'];
const COMPARE_KEYS = ['threshold', 'maxDiffPixels', 'maxDiffPixelRatio'];
const CERTIFICATE_KEYS = ['file', 'pem'];
const RESERVED_VARS = ['host', 'port', 'ticket', 'password'];

const IN_CONNECTION = 'It belongs inside `connection:`.';
const IN_LAUNCH = 'It belongs inside `launch:`.';
const ON_TARGET = 'Credentials belong on the target (one level up), not inside `connection:`.';
const ONLY_WEBSOCKET = 'Only a `type: websocket` connection takes it.';
const TARGET_MISPLACED: Record<string, string> = Object.fromEntries([
  ...['type', 'host', 'port', 'url', 'vars', 'headers', 'subprotocols', 'certificate', 'verifyTls'].map((key) => [key, IN_CONNECTION]),
  ...['preset', 'command', 'geometry', 'reuseExisting'].map((key) => [key, IN_LAUNCH]),
]);
const DEFAULTS_MISPLACED: Record<string, string> = Object.fromEntries(
  [...TARGET_KEYS.filter((key) => !SETTINGS_KEYS.includes(key)), 'host', 'port', 'url'].map((key) => [key, `defaults takes only ${SETTINGS_KEYS.join(', ')}: write it under a target.`]),
);
const TCP_MISPLACED: Record<string, string> = {
  ...Object.fromEntries(['password', 'username', 'ticket'].map((key) => [key, ON_TARGET])),
  ...Object.fromEntries(['url', 'vars', 'headers', 'subprotocols', 'timeoutMs'].map((key) => [key, ONLY_WEBSOCKET])),
};
const WEBSOCKET_MISPLACED: Record<string, string> = Object.fromEntries(['password', 'username', 'ticket'].map((key) => [key, ON_TARGET]));

const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export interface SchemaContext {
  file: string;
  /** The YAML file's folder: relative paths start there. */
  dir: string;
  env: NodeJS.ProcessEnv;
  problems: Problems;
  text: string;
  locate(offset: number): SourceLocation;
  /** Keep a target whose only problems are unset environment variables, marked `unresolved`. */
  deferMissingEnv?: boolean;
}

function readerFor(context: SchemaContext, owner: string, params: Readonly<Record<string, string>> = {}): Reader {
  const interpolation: InterpolationContext = { env: context.env, params, owner, problems: context.problems, text: context.text, locate: context.locate };
  return new Reader(interpolation);
}

/** The whole document → defaults and targets (matrices expanded). Problems go to `context.problems`. */
export function readTargetsDocument(root: YamlNode | undefined, context: SchemaContext): { defaults: TargetDefaults; targets: TargetConfig[] } {
  const start: SourceLocation = { file: context.file, line: 1, column: 1 };
  const empty = { defaults: { ...DEFAULT_DEFAULTS }, targets: [] };
  if (root === undefined || (root.kind === 'scalar' && root.value === null)) {
    context.problems.add(start, 'The file is empty: it needs a `targets:` map, e.g.\n      targets:\n        desktop:\n          connection: { type: tcp, host: 127.0.0.1, port: 5901 }');
    return empty;
  }
  const reader = readerFor(context, 'the file');
  const map = reader.map(root, '(top level)', 'a map with `targets:` (and optionally `defaults:`)');
  if (!map) return empty;
  reader.keys(
    map,
    '(top level)',
    [...ROOT_KEYS, ...map.entries.map(({ key }) => key).filter((key) => key.startsWith('x-'))],
    Object.fromEntries(TARGET_KEYS.map((key) => [key, 'Target settings go under `targets: { NAME: { … } }` (shared ones under `defaults:`); keys starting with x- are free for anchors.'])),
  );
  const defaultsEntry = entry(map, 'defaults');
  let defaults: TargetDefaults = { ...DEFAULT_DEFAULTS };
  if (defaultsEntry) {
    const defaultsReader = readerFor(context, 'defaults');
    const defaultsMap = defaultsEntry.value.kind === 'scalar' && defaultsEntry.value.value === null ? undefined : defaultsReader.map(defaultsEntry.value, 'defaults');
    if (defaultsMap) {
      defaultsReader.keys(defaultsMap, 'defaults', SETTINGS_KEYS, DEFAULTS_MISPLACED);
      defaults = readSettings(defaultsMap, 'defaults', defaultsReader, DEFAULT_DEFAULTS);
    }
  }
  const targetsEntry = entry(map, 'targets');
  if (!targetsEntry) {
    context.problems.add(map.at, 'Missing `targets:`: list the desktops to drive by name, e.g. `targets: { desktop: { connection: { type: tcp, host: 127.0.0.1, port: 5901 } } }`.');
    return { defaults, targets: [] };
  }
  const targetsMap = reader.map(targetsEntry.value, 'targets', 'a map of target names to targets');
  if (!targetsMap) return { defaults, targets: [] };
  if (targetsMap.entries.length === 0) {
    context.problems.add(targetsEntry.keyAt, '`targets:` is empty: add at least one target.');
    return { defaults, targets: [] };
  }
  const targets: TargetConfig[] = [];
  for (const { key: baseName, keyAt, value } of targetsMap.entries) {
    if (!TARGET_NAME.test(baseName)) {
      context.problems.add(keyAt, `targets: "${baseName}" is not a valid target name (letters, digits, ".", "_" and "-", starting with a letter or digit).`);
      continue;
    }
    const path = `targets.${baseName}`;
    const targetReader = readerFor(context, `target "${baseName}"`);
    const targetMap = targetReader.map(value, path, 'a map (connection, launch, password, …)');
    if (!targetMap) continue;
    // Deferring unset variables is only for a target that has no other problem.
    const targetBefore = context.problems.count;
    targetReader.keys(targetMap, path, TARGET_KEYS, TARGET_MISPLACED);
    const matrixEntry = entry(targetMap, 'matrix');
    const combinations = matrixEntry ? readMatrix(matrixEntry.value, `${path}.matrix`, targetReader) : [{}];
    if (!combinations) continue;
    for (const params of combinations) {
      const input = { baseName, params, at: keyAt, defaults, context };
      const before = context.problems.count;
      const target = readTarget(targetMap, input);
      if (target) targets.push(target);
      else if (context.deferMissingEnv && onlyMissingEnv(context.problems.list.slice(targetBefore))) targets.push(unresolvedTarget(targetMap, input, context.problems.take(before)));
    }
  }
  const seen = new Set<string>();
  for (const target of targets) {
    if (seen.has(target.name)) context.problems.add(target.source, `targets: two targets are named "${target.name}"; rename one.`);
    seen.add(target.name);
  }
  return { defaults, targets };
}

/** The settings a target shares with `defaults:`, each falling back to `base`. */
function readSettings(map: YamlMap, path: string, reader: Reader, base: Readonly<TargetDefaults>): TargetDefaults {
  const settings: TargetDefaults = { ...base, compare: { ...base.compare } };
  const timeout = entry(map, 'timeoutMs');
  if (timeout) settings.timeoutMs = reader.integer(timeout.value, `${path}.timeoutMs`, 1, 3_600_000) ?? base.timeoutMs;
  const typing = entry(map, 'typingDelayMs');
  if (typing) settings.typingDelayMs = reader.integer(typing.value, `${path}.typingDelayMs`, 0, 10_000) ?? base.typingDelayMs;
  const layout = entry(map, 'keyboardLayout');
  if (layout) {
    const name = reader.string(layout.value, `${path}.keyboardLayout`, { nonEmpty: true });
    if (name !== undefined) {
      const known: readonly string[] = KEYBOARD_LAYOUT_NAMES;
      if (known.includes(name.trim().toLowerCase())) settings.keyboardLayout = name.trim().toLowerCase();
      else reader.problem(layout.value.at, `${path}.keyboardLayout: unknown keyboard layout "${name}".${didYouMean(name, known)} Known: ${known.join(', ')}.`);
    }
  }
  const paste = entry(map, 'pasteChord');
  if (paste) {
    const chord = reader.string(paste.value, `${path}.pasteChord`, { nonEmpty: true });
    if (chord !== undefined) {
      try {
        parseChord(chord);
        settings.pasteChord = chord;
      } catch (error) {
        reader.problem(paste.value.at, `${path}.pasteChord: ${(error as Error).message}`);
      }
    }
  }
  const encodings = entry(map, 'encodings');
  if (encodings) {
    const known = PIXEL_ENCODINGS.map(({ name }) => name);
    const names = reader.stringList(encodings.value, `${path}.encodings`, (name) =>
      known.includes(name.trim().toLowerCase()) ? undefined : `unknown encoding "${name}".${didYouMean(name, known)} This client decodes ${known.join(', ')}.`,
    );
    if (names) settings.encodings = names.map((name) => name.trim().toLowerCase());
  }
  const quality = entry(map, 'quality');
  if (quality) settings.quality = readQuality(quality.value, `${path}.quality`, reader) ?? base.quality;
  const compare = entry(map, 'compare');
  if (compare) {
    const compareMap = reader.map(compare.value, `${path}.compare`, 'a map { threshold, maxDiffPixels, maxDiffPixelRatio }');
    if (compareMap) {
      reader.keys(compareMap, `${path}.compare`, COMPARE_KEYS);
      const threshold = entry(compareMap, 'threshold');
      if (threshold) settings.compare.threshold = reader.number(threshold.value, `${path}.compare.threshold`, 0, 1) ?? base.compare.threshold;
      const pixels = entry(compareMap, 'maxDiffPixels');
      if (pixels) settings.compare.maxDiffPixels = reader.integer(pixels.value, `${path}.compare.maxDiffPixels`, 0, Number.MAX_SAFE_INTEGER, 'a whole number ≥ 0') ?? base.compare.maxDiffPixels;
      const ratio = entry(compareMap, 'maxDiffPixelRatio');
      if (ratio) settings.compare.maxDiffPixelRatio = reader.number(ratio.value, `${path}.compare.maxDiffPixelRatio`, 0, 1) ?? base.compare.maxDiffPixelRatio;
    }
  }
  const shared = entry(map, 'shared');
  if (shared) settings.shared = reader.boolean(shared.value, `${path}.shared`) ?? base.shared;
  const size = entry(map, 'size');
  if (size) {
    const parsed = readSize(size.value, `${path}.size`, reader);
    if (parsed) settings.size = parsed;
  }
  return settings;
}

/** `size: 1280x800` → { width, height }, each 1..16384. */
function readSize(node: YamlNode, path: string, reader: Reader): { width: number; height: number } | undefined {
  const match = node.kind === 'scalar' && typeof node.value === 'string' ? /^\s*(\d{1,5})\s*x\s*(\d{1,5})\s*$/i.exec(node.value) : null;
  const width = match ? Number(match[1]) : 0;
  const height = match ? Number(match[2]) : 0;
  if (!match || width < 1 || height < 1 || width > Limits.maxFramebufferSide || height > Limits.maxFramebufferSide) {
    reader.problem(node.at, `${path}: expected WIDTHxHEIGHT in pixels, each from 1 to ${Limits.maxFramebufferSide}, e.g. 1280x800.`);
    return undefined;
  }
  return { width, height };
}

function readQuality(node: YamlNode, path: string, reader: Reader): Quality | undefined {
  if (node.kind === 'scalar' && node.value === 'lossless') return 'lossless';
  if (node.kind === 'scalar' && typeof node.value === 'number') return reader.integer(node, path, 0, 9, 'lossless or a whole number from 0 to 9') as QualityLevel | undefined;
  reader.problem(node.at, `${path}: expected lossless or a whole number from 0 to 9.`);
  return undefined;
}

interface TargetInput {
  baseName: string;
  params: Record<string, string>;
  /** Where the target's name is written. */
  at: SourceLocation;
  defaults: TargetDefaults;
  context: SchemaContext;
}

/** One target (one matrix combination) → a TargetConfig, or undefined after problems. */
function readTarget(map: YamlMap, { baseName, params, at, defaults, context }: TargetInput): TargetConfig | undefined {
  const path = `targets.${baseName}`;
  const reader = readerFor(context, `target "${baseName}"`, params);
  const before = context.problems.count;
  const settings = readSettings(map, path, reader, defaults);

  const credentials: TargetCredentials = {};
  for (const key of ['password', 'username', 'ticket'] as const) {
    const found = entry(map, key);
    if (found) credentials[key] = reader.string(found.value, `${path}.${key}`, { secret: true });
  }
  const tagsEntry = entry(map, 'tags');
  const tags = tagsEntry ? reader.stringList(tagsEntry.value, `${path}.tags`, (tag) => (/^\S+$/.test(tag) ? undefined : 'a tag is one word, without spaces.')) : [];

  const providerEntry = entry(map, 'provider');
  const provider = providerEntry ? readProvider(providerEntry.value, `${path}.provider`, providerEntry.keyAt, reader, context, settings.timeoutMs) : undefined;

  const connectionEntry = entry(map, 'connection');
  const writtenCredentials = new Set(['password', 'username', 'ticket'].filter((key) => entry(map, key) !== undefined));
  const connection = connectionEntry ? readConnection(connectionEntry.value, `${path}.connection`, reader, context, { writtenCredentials, hasProvider: providerEntry !== undefined }) : undefined;

  const launchEntry = entry(map, 'launch');
  const launch = launchEntry ? readLaunch(launchEntry.value, `${path}.launch`, reader, context, connection, connectionEntry !== undefined) : undefined;

  if (!connectionEntry && !launchEntry) {
    reader.problem(at, `${path}: the target has neither \`connection:\` nor \`launch:\`. Add \`connection: { type: tcp, host: 127.0.0.1, port: 5901 }\` (or websocket), or \`launch: { preset: local-desktop }\`.`);
  }
  if (launch?.kind === 'local-desktop' && connectionEntry) {
    reader.problem(connectionEntry.keyAt, `${path}.connection: \`launch: { preset: local-desktop }\` provides the connection itself; remove \`connection:\` (or launch with \`command:\`).`);
  }
  const selection = readSelection(map, path, reader);
  if (context.problems.count > before || (launchEntry && !launch) || (connectionEntry && !connection) || !tags || !selection) return undefined;
  const reachedAt = connection ?? (launch?.kind === 'command' ? commandConnection(launch) : undefined);
  return {
    name: matrixTargetName(baseName, params),
    baseName,
    params: { ...params },
    ...(reachedAt ? { connection: reachedAt } : {}),
    credentials: dropUndefined(credentials),
    ...(provider ? { provider } : {}),
    ...(launch ? { launch } : {}),
    timeoutMs: settings.timeoutMs,
    typingDelayMs: settings.typingDelayMs,
    ...(settings.keyboardLayout ? { keyboardLayout: settings.keyboardLayout } : {}),
    ...(settings.pasteChord ? { pasteChord: settings.pasteChord } : {}),
    ...(settings.encodings ? { encodings: settings.encodings } : {}),
    quality: settings.quality,
    compare: settings.compare,
    ...(settings.size ? { size: { ...settings.size } } : {}),
    tags,
    shared: settings.shared,
    ...selection,
    source: at,
  };
}

function onlyMissingEnv(problems: readonly ConfigProblem[]): boolean {
  return problems.length > 0 && problems.every((problem) => problem.variable !== undefined);
}

/**
 * A target that needs environment variables that are not set: what a project needs (name, tags,
 * selection, settings) without connection or credentials, and the problems, for when it is used.
 */
function unresolvedTarget(map: YamlMap, { baseName, params, at, defaults, context }: TargetInput, unresolved: ConfigProblem[]): TargetConfig {
  const path = `targets.${baseName}`;
  // Read again with problems going nowhere: only the parts that do not need the missing values count.
  const reader = readerFor({ ...context, problems: new Problems(context.file) }, `target "${baseName}"`, params);
  const settings = readSettings(map, path, reader, defaults);
  const tagsEntry = entry(map, 'tags');
  return {
    name: matrixTargetName(baseName, params),
    baseName,
    params: { ...params },
    credentials: {},
    timeoutMs: settings.timeoutMs,
    typingDelayMs: settings.typingDelayMs,
    ...(settings.encodings ? { encodings: settings.encodings } : {}),
    quality: settings.quality,
    compare: settings.compare,
    tags: (tagsEntry ? reader.stringList(tagsEntry.value, `${path}.tags`) : undefined) ?? [],
    shared: settings.shared,
    ...readSelection(map, path, reader),
    unresolved: sortProblems(unresolved),
    source: at,
  };
}

/** A `command:` launch without `connection:` is reached over TCP where it serves. */
function commandConnection(launch: Extract<LaunchConfig, { kind: 'command' }>): TcpTargetConnection {
  return { type: 'tcp', host: launch.host, port: launch.port, verifyTls: true, source: launch.source };
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

function readProvider(node: YamlNode, path: string, keyAt: SourceLocation, reader: Reader, context: SchemaContext, defaultTimeoutMs: number): ProviderConfig | undefined {
  let moduleNode: YamlNode | undefined = node;
  let timeoutMs = defaultTimeoutMs;
  if (node.kind === 'map') {
    reader.keys(node, path, PROVIDER_KEYS);
    moduleNode = entry(node, 'module')?.value;
    if (!moduleNode) {
      reader.problem(node.at, `${path}: missing required key "module" (the provider module's path, relative to this file).`);
      return undefined;
    }
    const timeout = entry(node, 'timeoutMs');
    if (timeout) timeoutMs = reader.integer(timeout.value, `${path}.timeoutMs`, 1, 600_000) ?? timeoutMs;
  }
  const modulePath = reader.string(moduleNode, path, { nonEmpty: true });
  if (modulePath === undefined) return undefined;
  const module = resolve(context.dir, modulePath);
  if (!isFile(module)) {
    const guess = ['.ts', '.js', '.mjs'].map((extension) => `${modulePath}${extension}`).find((candidate) => isFile(resolve(context.dir, candidate)));
    reader.problem(
      moduleNode.at,
      `${path}: provider module "${modulePath}" not found (looked for ${module}).${guess ? ` Did you mean "${guess}"?` : ' The path is relative to the targets file.'}`,
    );
    return undefined;
  }
  return { module, modulePath, timeoutMs, source: keyAt };
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readCertificate(node: YamlNode, path: string, reader: Reader, context: SchemaContext): CertificateConfig | undefined {
  const map = reader.map(node, path, '{ file: PATH } or { pem: "-----BEGIN CERTIFICATE-----…" }');
  if (!map) return undefined;
  reader.keys(map, path, CERTIFICATE_KEYS);
  const file = entry(map, 'file');
  const pem = entry(map, 'pem');
  if ((file && pem) || (!file && !pem)) {
    reader.problem(map.at, `${path}: give exactly one of \`file:\` (a PEM file, relative to this file) or \`pem:\` (the PEM text).`);
    return undefined;
  }
  if (pem) {
    const text = reader.string(pem.value, `${path}.pem`, { nonEmpty: true });
    if (text === undefined) return undefined;
    if (!PEM_CERTIFICATE.test(text)) {
      reader.problem(pem.value.at, `${path}.pem: not a PEM certificate (expected "-----BEGIN CERTIFICATE-----" … "-----END CERTIFICATE-----").`);
      return undefined;
    }
    return { pem: text };
  }
  const relative = reader.string(file!.value, `${path}.file`, { nonEmpty: true });
  if (relative === undefined) return undefined;
  const absolute = resolve(context.dir, relative);
  if (!isFile(absolute)) {
    reader.problem(file!.value.at, `${path}.file: certificate file "${relative}" not found (looked for ${absolute}; the path is relative to the targets file).`);
    return undefined;
  }
  const text = readFileSync(absolute, 'utf8');
  if (!PEM_CERTIFICATE.test(text)) {
    reader.problem(file!.value.at, `${path}.file: "${relative}" is not a PEM certificate (expected "-----BEGIN CERTIFICATE-----" … "-----END CERTIFICATE-----").`);
    return undefined;
  }
  return { pem: text, file: absolute };
}

interface ConnectionInput {
  /** Credentials written on the target (a value that failed to read counts: it has its own problem). */
  writtenCredentials: ReadonlySet<string>;
  hasProvider: boolean;
}

function readConnection(node: YamlNode, path: string, reader: Reader, context: SchemaContext, input: ConnectionInput): TargetConnection | undefined {
  const map = reader.map(node, path, 'a map, e.g. { type: tcp, host: 127.0.0.1, port: 5901 }');
  if (!map) return undefined;
  const typeEntry = entry(map, 'type');
  let type: string = entry(map, 'url') ? 'websocket' : 'tcp';
  if (typeEntry) {
    const written = reader.string(typeEntry.value, `${path}.type`);
    if (written === undefined) return undefined;
    if (!(CONNECTION_TYPES as readonly string[]).includes(written)) {
      reader.problem(typeEntry.value.at, `${path}.type: unknown connection type "${written}".${didYouMean(written, CONNECTION_TYPES)} Use tcp or websocket.`);
      return undefined;
    }
    type = written;
  }
  const before = context.problems.count;
  const certificateEntry = entry(map, 'certificate');
  const certificate = certificateEntry ? readCertificate(certificateEntry.value, `${path}.certificate`, reader, context) : undefined;
  const verifyEntry = entry(map, 'verifyTls');
  const verifyTls = (verifyEntry ? reader.boolean(verifyEntry.value, `${path}.verifyTls`) : undefined) ?? true;
  const hostEntry = entry(map, 'host');
  const host = hostEntry ? readHost(hostEntry.value, `${path}.host`, reader) : undefined;
  const portEntry = entry(map, 'port');
  const port = portEntry ? readPort(portEntry.value, `${path}.port`, reader) : undefined;
  const source = map.at;

  if (type === 'tcp') {
    reader.keys(map, path, TCP_KEYS, TCP_MISPLACED);
    if (!hostEntry) reader.problem(map.at, `${path}: missing required key "host" (the VNC server's host name or address).`);
    if (context.problems.count > before || host === undefined) return undefined;
    return { type: 'tcp', host, port: port ?? DEFAULT_VNC_PORT, ...(certificate ? { certificate } : {}), verifyTls, source };
  }

  reader.keys(map, path, WEBSOCKET_KEYS, WEBSOCKET_MISPLACED);
  const urlEntry = entry(map, 'url');
  if (!urlEntry) {
    reader.problem(map.at, `${path}: missing required key "url" (a template such as "wss://\${host}:\${port}/websockify?token=\${ticket}").`);
    return undefined;
  }
  const url = reader.string(urlEntry.value, `${path}.url`, { nonEmpty: true });
  const varsEntry = entry(map, 'vars');
  const varsMap = varsEntry ? reader.map(varsEntry.value, `${path}.vars`, 'a map of placeholder names to values') : undefined;
  const vars = varsMap ? readVars(varsMap, `${path}.vars`, reader) : {};
  const headersEntry = entry(map, 'headers');
  const headers = headersEntry ? readHeaders(headersEntry.value, `${path}.headers`, reader) : {};
  const subprotocolsEntry = entry(map, 'subprotocols');
  const subprotocols = subprotocolsEntry
    ? reader.stringList(subprotocolsEntry.value, `${path}.subprotocols`, (protocol) => (HEADER_NAME.test(protocol) ? undefined : 'a subprotocol is a token such as "binary".'))
    : undefined;
  const timeoutEntry = entry(map, 'timeoutMs');
  const timeoutMs = timeoutEntry ? reader.integer(timeoutEntry.value, `${path}.timeoutMs`, 1, 3_600_000) : undefined;
  if (url !== undefined) {
    // Written values count even when they failed to read: they have their own problem.
    const written = [...(hostEntry ? ['host'] : []), ...(portEntry ? ['port'] : []), ...input.writtenCredentials, ...(varsMap?.entries.map(({ key }) => key) ?? [])];
    checkUrlTemplate(url, urlEntry.value, `${path}.url`, reader, { written, vars: Object.keys(vars), hasProvider: input.hasProvider });
  }
  if (context.problems.count > before || url === undefined) return undefined;
  const urlAsWritten = urlEntry.value.kind === 'scalar' ? String(urlEntry.value.value) : url;
  const connection: WebSocketTargetConnection = { type: 'websocket', url, urlAsWritten, vars, headers, verifyTls, source };
  if (host !== undefined) connection.host = host;
  if (port !== undefined) connection.port = port;
  if (subprotocols) connection.subprotocols = subprotocols;
  if (certificate) connection.certificate = certificate;
  if (timeoutMs !== undefined) connection.timeoutMs = timeoutMs;
  return connection;
}

/** `vars:` — URL template values: numbers stay numbers, text gets `${env:…}` filled in. */
function readVars(map: YamlMap, path: string, reader: Reader): Record<string, string | number> {
  const vars: Record<string, string | number> = {};
  for (const { key, keyAt, value } of map.entries) {
    if (!VAR_NAME.test(key)) {
      reader.problem(keyAt, `${path}: "${key}" is not a valid placeholder name (letters, digits and _).`);
    } else if (RESERVED_VARS.includes(key)) {
      reader.problem(keyAt, `${path}.${key}: "${key}" is not a var: write \`${key}:\` ${key === 'host' || key === 'port' ? 'in the connection' : 'on the target'}.`);
    } else if (value.kind === 'scalar' && typeof value.value === 'number') {
      vars[key] = value.value;
    } else {
      const text = reader.string(value, `${path}.${key}`, { nonEmpty: true });
      if (text !== undefined) vars[key] = text;
    }
  }
  return vars;
}

/** `headers:` — upgrade request headers: valid names, one-line values (never shown). */
function readHeaders(node: YamlNode, path: string, reader: Reader): Record<string, string> {
  const headers = reader.stringMap(node, path, { secret: true }) ?? {};
  if (node.kind !== 'map') return headers;
  for (const { key, keyAt, value } of node.entries) {
    if (!HEADER_NAME.test(key)) reader.problem(keyAt, `${path}: "${key}" is not a valid HTTP header name.`);
    else if (/[\r\n]/.test(headers[key] ?? '')) reader.problem(value.at, `${path}.${key}: the value must be one line.`);
  }
  return headers;
}

/**
 * The host and port a URL template names itself, where they are written literally (not as a
 * placeholder); the port defaults to the scheme's (443 for wss, 80 for ws).
 */
export function literalAuthority(url: string): { host?: string; port?: number } {
  const match = /^(wss?):\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/i.exec(url);
  if (!match) return {};
  const [, scheme, host, port] = match;
  const result: { host?: string; port?: number } = {};
  if (host !== '' && !host.includes('${')) result.host = host.replace(/^\[|\]$/g, '');
  if (port === undefined || port === '') result.port = scheme.toLowerCase() === 'wss' ? 443 : 80;
  else if (/^\d+$/.test(port)) result.port = Number(port);
  return result;
}

interface TemplateInput {
  /** Placeholder names given a value: host, port, ticket, password, and vars. */
  written: readonly string[];
  /** The vars' names, for suggestions. */
  vars: readonly string[];
  hasProvider: boolean;
}

/** Checks the template's scheme and, without a provider (which may add values), that every placeholder has a value. */
function checkUrlTemplate(url: string, node: YamlNode, path: string, reader: Reader, input: TemplateInput): void {
  if (!/^wss?:\/\//i.test(url)) {
    reader.problem(node.at, `${path}: a WebSocket URL starts with ws:// or wss://.`);
    return;
  }
  const placeholders = templatePlaceholders(url);
  for (const name of placeholders.filter((placeholder) => !VAR_NAME.test(placeholder))) {
    reader.problem(node.at, `${path}: "\${${name}}" is not a valid placeholder (names are letters, digits and _).`);
  }
  if (input.hasProvider) return;
  for (const name of placeholders.filter((placeholder) => VAR_NAME.test(placeholder))) {
    if (input.written.includes(name)) continue;
    const fix =
      name === 'host' || name === 'port'
        ? `add \`${name}:\` to the connection`
        : name === 'ticket' || name === 'password'
          ? `add \`${name}:\` to the target (e.g. ${name}: \${env:VNC_${name.toUpperCase()}}) or a provider`
          : placeholderFix(name, input.vars);
    reader.problem(node.at, `${path}: the URL uses \${${name}}, which has no value: ${fix}.`);
  }
}

/** For an unknown placeholder: the closest known one (`${tiket}` → `${ticket}`), or where to give it a value. */
function placeholderFix(name: string, vars: readonly string[]): string {
  const guess = closest(name, [...RESERVED_VARS, ...vars]);
  return guess === undefined ? `add it to \`vars:\`` : `did you mean \${${guess}}? Otherwise add it to \`vars:\``;
}
