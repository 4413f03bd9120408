/**
 * Connection errors are written in the library's words (`certificatePem`, `verifySsl`, CLI flags).
 * When the connection came from a targets file, the user wrote YAML: say `certificate:` and
 * `verifyTls:`, and where the target is written.
 */
import { VNCError } from '../errors.js';
import { formatLocation } from './problems.js';
import type { TargetConfig } from './types.js';

const CLI_HINT = / \(CLI: [^)]*\)/g;

const REPLACEMENTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/Trust its certificate with certificatePem/g, 'Trust its certificate with `certificate: { file: server.pem }` in the connection'],
  [/certificatePem is not a PEM certificate/g, '`certificate:` is not a PEM certificate'],
  [/turn verification off with verifySsl: false/g, 'turn verification off with `verifyTls: false` in the connection'],
  [/\bcertificatePem\b/g, '`certificate:`'],
  [/\bverifySsl\b/g, '`verifyTls:`'],
  [/Pass `password` and `username`/g, 'Add `password:` and `username:` to the target (e.g. password: ${env:VNC_PASSWORD})'],
  [/Pass `password`/g, 'Add `password:` to the target (e.g. password: ${env:VNC_PASSWORD}) or a provider'],
];

/** The message in the targets file's terms, ending with the target's name and `file:line:column`. */
export function yamlTermsMessage(message: string, target: TargetConfig): string {
  let text = message.replace(CLI_HINT, '');
  for (const [pattern, replacement] of REPLACEMENTS) text = text.replace(pattern, replacement);
  const where = `target "${target.name}" (${formatLocation(target.source)})`;
  return text.includes(formatLocation(target.source)) ? text : `${text.replace(/\s+$/, '')} [${where}]`;
}

/**
 * Rewrites a VNCError thrown while connecting to a target from a targets file so that it names the
 * YAML keys (same error object, same class and code); anything else passes through unchanged.
 */
export function inYamlTerms<T>(error: T, target: TargetConfig): T {
  if (!(error instanceof VNCError) || target.source.file === '') return error;
  const before = error.message;
  const after = yamlTermsMessage(before, target);
  if (after === before) return error;
  error.message = after;
  if (typeof error.stack === 'string' && error.stack.includes(before)) error.stack = error.stack.replace(before, after);
  return error;
}
