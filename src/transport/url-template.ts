/**
 * WebSocket URL templates: `wss://${host}:${port}/websockify?token=${ticket}`. Placeholders are
 * `${name}`; a value is URL-encoded where it lands in a path or query, and taken as it is in the
 * host part. URLs are printed masked: no credentials, no query values, no secret in the path.
 */
import { VNCConfigError } from '../errors.js';
import { closest } from './suggest.js';

export type TemplateValues = Readonly<Record<string, string | number | undefined>>;

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names of the placeholders in a template, in order of first appearance. */
export function templatePlaceholders(template: string): string[] {
  const names = [...template.matchAll(PLACEHOLDER)].map((match) => match[1]);
  return [...new Set(names)];
}

/**
 * Fills a URL template. Throws VNCConfigError naming the placeholder for an unknown name, a
 * missing or empty value, or a result that is not a ws:// or wss:// URL. Values never appear in
 * the messages.
 */
export function expandUrlTemplate(template: string, values: TemplateValues): URL {
  if (typeof template !== 'string' || template.trim() === '') {
    throw new VNCConfigError('The WebSocket URL template is empty: give one like "wss://${host}:${port}/websockify".');
  }
  const authorityEnd = authorityEndIndex(template);
  const filled = template.replace(PLACEHOLDER, (_match, name: string, offset: number) => {
    if (!NAME.test(name)) {
      throw new VNCConfigError(`The URL template has an invalid placeholder "\${${name}}": names are letters, digits and _ (e.g. \${vmid}).`);
    }
    if (!(name in values)) {
      const names = Object.keys(values).sort();
      const guess = closest(name, names);
      const known = names.map((known) => `\${${known}}`).join(', ');
      const fix = guess === undefined ? `add "${name}" to vars` : `did you mean \${${guess}}? (or add "${name}" to vars)`;
      throw new VNCConfigError(`The URL template uses \${${name}}, which has no value: ${fix}. Known placeholders: ${known}.`);
    }
    const value = values[name];
    if (value === undefined || String(value) === '') {
      throw new VNCConfigError(`The URL template uses \${${name}}, but its value is empty. Give a value for "${name}".`);
    }
    return offset < authorityEnd ? String(value) : encodeURIComponent(String(value));
  });
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    throw new VNCConfigError(`The URL template does not give a valid URL once filled (template: ${maskTemplate(template)}).`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new VNCConfigError(`The WebSocket URL must start with ws:// or wss://, not ${url.protocol}// (template: ${maskTemplate(template)}).`);
  }
  return url;
}

/** Where the host part of a template ends: placeholders before it are not URL-encoded. */
function authorityEndIndex(template: string): number {
  const schemeEnd = template.indexOf('://');
  if (schemeEnd < 0) return 0;
  const rest = template.slice(schemeEnd + 3);
  const end = rest.search(/[/?#]/);
  return schemeEnd + 3 + (end < 0 ? rest.length : end);
}

/** A template as it may be printed: only the part before the query. */
function maskTemplate(template: string): string {
  return template.split('?')[0];
}

/**
 * A URL as it may be printed: no user or password, every query value replaced by `***`, and any
 * path segment equal to one of `secrets` replaced by `***`.
 */
export function maskUrl(url: URL, secrets: readonly (string | undefined)[] = []): string {
  const masked = new URL(url.href);
  masked.username = '';
  masked.password = '';
  const hidden = new Set(secrets.filter((secret): secret is string => !!secret).flatMap((secret) => [secret, encodeURIComponent(secret)]));
  masked.pathname = masked.pathname
    .split('/')
    .map((segment) => (hidden.has(segment) ? '***' : segment))
    .join('/');
  const query = [...masked.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=***`).join('&');
  masked.search = '';
  masked.hash = '';
  return `${masked.href}${query ? `?${query}` : ''}`;
}
