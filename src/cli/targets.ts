/**
 * The targets file (`vnc.targets.yaml`) from the command line: `vnc-agent targets` lists and
 * validates it, and `--target NAME` picks one target of it. Loading never runs a provider or
 * launches anything; a file that cannot be read or has problems, and an unknown target name, are
 * `CliUsageError`s (exit 2), each problem on its own line as FILE:LINE:COLUMN: message.
 */
import { resolve } from 'node:path';
import { describeTarget, loadTargets, VNCTargetsFileError, type TargetConfig, type TargetsFile } from '../config/index.js';
import { VNCConfigError } from '../errors.js';
import { closest, type TargetsOptions } from './args.js';
import { CliUsageError } from './output.js';

type Env = Readonly<Record<string, string | undefined>>;

const LIST_HINT = 'hint: "vnc-agent targets" lists the targets and checks the file';

/** Where the targets come from, for messages: the file, or the embedded default and why. */
function describeSource(targets: TargetsFile, cwd: string): string {
  return targets.embedded ? `the embedded default (there is no vnc.targets.yaml in ${cwd})` : targets.file;
}

function location(source: { file: string; line: number; column: number }): string {
  return `${source.file}:${source.line}:${source.column}`;
}

/** The problems of a broken targets file, one line each. */
function problemLines(error: VNCTargetsFileError): string[] {
  return error.problems.map((problem) => `${location(problem.location)}: ${problem.message}`);
}

/**
 * Loads the targets file as the test fixture does: `config`, else `vnc.targets.yaml` (or `.yml`)
 * in `cwd`, else the embedded local desktop. `${env:NAME}` comes from `env`.
 */
export function loadTargetsFile(config: string | undefined, env: Env, cwd = process.cwd()): TargetsFile {
  try {
    return loadTargets(config, { cwd, env: env as NodeJS.ProcessEnv });
  } catch (error) {
    if (error instanceof VNCTargetsFileError) {
      const count = error.problems.length === 1 ? '1 problem' : `${error.problems.length} problems`;
      throw new CliUsageError(`${error.file} has ${count}:`, { details: problemLines(error), cause: error });
    }
    if (error instanceof VNCConfigError) {
      throw new CliUsageError(error.message, { hint: config === undefined ? undefined : 'hint: --config names the targets file (a relative path starts in the current folder)', cause: error });
    }
    throw error;
  }
}

/** The target named `name` (a project name: `app[size=1280x800]` for a matrix), or a CliUsageError that lists the names. */
export function findTarget(targets: TargetsFile, name: string, cwd = process.cwd()): TargetConfig {
  const found = targets.targets.find((target) => target.name === name);
  if (found) return found;
  const names = targets.targets.map((target) => target.name);
  const where = describeSource(targets, cwd);
  const expanded = targets.targets.filter((target) => target.baseName === name).map((target) => target.name);
  if (expanded.length > 0) {
    throw new CliUsageError(`target "${name}" has a matrix: pick one of its projects: ${expanded.join(', ')} (in ${where})`, {
      hint: `hint: quote the name for the shell: --target '${expanded[0]}'`,
    });
  }
  const guess = closest(name, names) ?? closest(name, [...new Set(targets.targets.map((target) => target.baseName))]);
  throw new CliUsageError(`unknown target "${name}"${guess ? ` (did you mean ${guess}?)` : ''}: ${where} has ${names.length === 1 ? 'one target' : 'the targets'} ${names.join(', ')}`, {
    hint: LIST_HINT,
  });
}

/** What `describeTarget` says between the name and the location: how the target connects (no secrets). */
function connectionSummary(target: TargetConfig): string {
  const line = describeTarget(target);
  const prefix = `${target.name}: `;
  const suffix = ` (${location(target.source)})`;
  let summary = line.startsWith(prefix) ? line.slice(prefix.length) : line;
  if (summary.endsWith(suffix)) summary = summary.slice(0, -suffix.length);
  return summary;
}

interface TargetSummary {
  name: string;
  /** Matrix parameters and their values, in order; empty without a matrix. */
  matrix: Record<string, string[]>;
  projects: string[];
}

function summarizeTargets(targets: readonly TargetConfig[]): TargetSummary[] {
  const byName = new Map<string, TargetSummary>();
  for (const target of targets) {
    let summary = byName.get(target.baseName);
    if (!summary) {
      summary = { name: target.baseName, matrix: {}, projects: [] };
      byName.set(target.baseName, summary);
    }
    summary.projects.push(target.name);
    for (const [param, value] of Object.entries(target.params)) {
      const values = (summary.matrix[param] ??= []);
      if (!values.includes(value)) values.push(value);
    }
  }
  return [...byName.values()];
}

function projectJson(target: TargetConfig) {
  return {
    name: target.name,
    target: target.baseName,
    params: { ...target.params },
    connection: connectionSummary(target),
    description: describeTarget(target),
    tags: [...target.tags],
    shared: target.shared,
    launch: target.launch !== undefined,
    launchKind: target.launch?.kind ?? null,
    provider: target.provider?.modulePath ?? null,
    source: location(target.source),
  };
}

/** Lays out rows as columns two spaces apart (the last column unpadded). */
function columns(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ').trimEnd());
}

export interface TargetsIO {
  stdout(text: string): void;
  env: Env;
  cwd?: string;
}

/**
 * `vnc-agent targets`: prints the targets and projects of the file and returns 0, or (with --json)
 * prints `{ valid: false, problems }` and returns 2. Without --json a broken file throws the
 * CliUsageError to report.
 */
export function runTargets(options: TargetsOptions, io: TargetsIO): number {
  const cwd = io.cwd ?? process.cwd();
  let targets: TargetsFile;
  try {
    targets = loadTargetsFile(options.config, io.env, cwd);
  } catch (error) {
    const cause = error instanceof CliUsageError ? error.cause : undefined;
    if (!options.json || !(cause instanceof VNCConfigError)) throw error;
    const problems =
      cause instanceof VNCTargetsFileError
        ? cause.problems.map((problem) => ({ ...problem.location, message: problem.message }))
        : [{ message: cause.message }];
    const file = cause instanceof VNCTargetsFileError ? cause.file : options.config === undefined ? undefined : resolve(cwd, options.config);
    io.stdout(`${JSON.stringify({ file, valid: false, problems })}\n`);
    return 2;
  }

  const summaries = summarizeTargets(targets.targets);
  if (options.json) {
    io.stdout(
      `${JSON.stringify({
        file: targets.file,
        embedded: targets.embedded,
        valid: true,
        targets: summaries,
        projects: targets.targets.map(projectJson),
      })}\n`,
    );
    return 0;
  }

  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const lines = [
    `Targets file: ${describeSource(targets, cwd)}: valid; ${count(summaries.length, 'target')}, ${count(targets.targets.length, 'project')}`,
    '',
    ...columns([
      ['PROJECT', 'TARGET', 'LAUNCH', 'SHARED', 'TAGS', 'PARAMS'],
      ...targets.targets.map((target) => [
        target.name,
        target.baseName,
        target.launch ? 'yes' : 'no',
        target.shared ? 'yes' : 'no',
        target.tags.join(',') || '-',
        Object.entries(target.params)
          .map(([param, value]) => `${param}=${value}`)
          .join(',') || '-',
      ]),
    ]).map((line) => `  ${line}`),
  ];
  const matrices = summaries.filter((summary) => Object.keys(summary.matrix).length > 0);
  if (matrices.length > 0) {
    lines.push('', 'Matrices:');
    for (const summary of matrices) {
      const axes = Object.entries(summary.matrix).map(([param, values]) => `${param}: ${values.join(', ')}`);
      lines.push(`  ${summary.name} (${axes.join('; ')}) → ${count(summary.projects.length, 'project')}`);
    }
  }
  lines.push('', 'Connections (no secrets shown):', ...targets.targets.map((target) => `  ${describeTarget(target)}`));
  const config = options.config === undefined ? '' : ` --config ${/^[\w./-]+$/.test(options.config) ? options.config : JSON.stringify(options.config)}`;
  lines.push('', `Connect to one with: vnc-agent --target NAME${config} COMMAND (a target with launch: runs only for that command)`);
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}
