/**
 * YAML text → a small tree of located nodes: every map key and value knows its line and column.
 * Anchors and aliases are followed (a node reached through an alias keeps the position where it is
 * written), merge keys (`<<: *base`, `<<: [*a, *b]`) are applied the YAML 1.1 way (keys written
 * in the map win, earlier merge sources win over later ones), and alias bombs are refused.
 */
import { createRequire } from 'node:module';
import type { Alias, Document, Node as YamlAstNode } from 'yaml';
import type { Problems, SourceLocation } from './problems.js';

type YamlPackage = typeof import('yaml');
let yamlPackage: YamlPackage | undefined;

/** The yaml package, loaded on the first parse: a program that never reads a targets file never loads it. */
function yaml(): YamlPackage {
  return (yamlPackage ??= createRequire(import.meta.url)('yaml') as YamlPackage);
}

export type ScalarValue = string | number | boolean | null;

export interface YamlScalar {
  kind: 'scalar';
  value: ScalarValue;
  /** The scalar as written (for a number: its digits, so 0123 stays 0123 where text is wanted). */
  source?: string;
  at: SourceLocation;
  /** Offsets of the scalar's source text, to place a column inside it. */
  range: readonly [start: number, end: number];
}

export interface YamlMapEntry {
  key: string;
  keyAt: SourceLocation;
  value: YamlNode;
}

export interface YamlMap {
  kind: 'map';
  /** In the order written; merged keys after the map's own. Unique keys. */
  entries: YamlMapEntry[];
  at: SourceLocation;
}

export interface YamlSeq {
  kind: 'seq';
  items: YamlNode[];
  at: SourceLocation;
}

export type YamlNode = YamlScalar | YamlMap | YamlSeq;

export interface ParsedYaml {
  /** The document's root, or undefined for an empty document (or one too broken to read). */
  root: YamlNode | undefined;
  /** Where a 0-based offset lies. */
  locate(offset: number): SourceLocation;
  /** The source text. */
  text: string;
}

/** Aliases a document may use before it counts as an alias bomb (yaml's `maxAliasCount`). */
export const MAX_ALIAS_COUNT = 100;
/** Nodes a document may expand to, aliases followed: a second bound beside `MAX_ALIAS_COUNT`. */
export const MAX_NODES = 100_000;

const MERGE_KEY = '<<';

class NodeBudgetExceeded extends Error {}

/**
 * Parses `text` (named `file` in messages). Syntax errors, alias bombs, unresolved aliases and bad
 * merges are added to `problems`; whatever could be read is returned.
 */
export function parseYaml(text: string, file: string, problems: Problems): ParsedYaml {
  const lineCounter = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: true });
  const locate = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const result: ParsedYaml = { root: undefined, locate, text };
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const message = error.code === 'MULTIPLE_DOCS' ? 'A targets file holds one YAML document: remove this `---` and what follows, or merge it into the first.' : error.message.trim();
      problems.add(locate(error.pos[0]), `YAML syntax error: ${message}`);
    }
    return result;
  }
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof ReferenceError && /excessive alias count/i.test(error.message)) {
      problems.add(locate(0), `Too many aliases: the document expands aliases more than ${MAX_ALIAS_COUNT} times (an alias bomb?). Write the values out, or use fewer nested aliases.`);
      return result;
    }
    // Other failures (an unknown anchor, a merge of a non-map) are reported with their position below.
  }
  if (doc.contents === null) return result;
  const converter = new Converter(doc, locate, problems);
  try {
    result.root = converter.node(doc.contents);
  } catch (error) {
    if (!(error instanceof NodeBudgetExceeded)) throw error;
    problems.add(locate(0), `The document expands to more than ${MAX_NODES} values once aliases are followed (an alias bomb?).`);
  }
  return result;
}

class Converter {
  private nodes = 0;

  constructor(
    private readonly doc: Document,
    private readonly locate: (offset: number) => SourceLocation,
    private readonly problems: Problems,
  ) {}

  private at(node: { range?: readonly [number, number, number] | null }): SourceLocation {
    return this.locate(node.range?.[0] ?? 0);
  }

  /** Follows an alias to its anchored node (reporting one that is not defined before it). */
  private deref(node: YamlAstNode): Exclude<YamlAstNode, Alias> | undefined {
    if (!yaml().isAlias(node)) return node;
    const target = node.resolve(this.doc);
    if (target === undefined) {
      this.problems.add(this.at(node), `Unknown alias *${node.source}: define the anchor &${node.source} before using it.`);
    }
    return target;
  }

  node(ast: YamlAstNode): YamlNode | undefined {
    if (++this.nodes > MAX_NODES) throw new NodeBudgetExceeded();
    const node = this.deref(ast);
    if (node === undefined) return undefined;
    if (yaml().isScalar(node)) {
      const range = node.range ?? [0, 0, 0];
      const scalar: YamlScalar = { kind: 'scalar', value: scalarValue(node.value), at: this.at(node), range: [range[0], range[1]] };
      if (typeof node.source === 'string') scalar.source = node.source;
      return scalar;
    }
    if (yaml().isSeq(node)) {
      const items: YamlNode[] = [];
      for (const item of node.items) {
        const converted = yaml().isPair(item) || item === null ? undefined : this.node(item as YamlAstNode);
        if (converted) items.push(converted);
      }
      return { kind: 'seq', items, at: this.at(node) };
    }
    if (yaml().isMap(node)) {
      const own: YamlMapEntry[] = [];
      const merged: YamlMapEntry[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as YamlAstNode | null;
        const at = keyNode && typeof keyNode === 'object' ? this.at(keyNode) : this.at(node);
        if (yaml().isScalar(keyNode) && isMergeKey(keyNode.value)) {
          if (pair.value !== null) this.merge(pair.value as YamlAstNode, merged);
          continue;
        }
        const key = yaml().isScalar(keyNode) ? keyNode.value : undefined;
        if (key === undefined || key === null || typeof key === 'object') {
          this.problems.add(at, 'Map keys must be plain names (text), not lists, maps or empty values.');
          continue;
        }
        const empty: YamlScalar = { kind: 'scalar', value: null, at, range: [0, 0] };
        const value = pair.value === null ? empty : (this.node(pair.value as YamlAstNode) ?? empty);
        own.push({ key: String(key), keyAt: at, value });
      }
      const entries = [...own];
      for (const entry of merged) if (!entries.some((existing) => existing.key === entry.key)) entries.push(entry);
      return { kind: 'map', entries, at: this.at(node) };
    }
    return undefined;
  }

  /** `<<: *base` or `<<: [*a, *b]`: appends the source maps' entries (earlier sources first). */
  private merge(value: YamlAstNode, into: YamlMapEntry[]): void {
    const source = this.deref(value);
    if (source === undefined) return;
    const sources = yaml().isSeq(source) ? source.items.filter((item): item is YamlAstNode => item !== null && !yaml().isPair(item)) : [source];
    for (const item of sources) {
      const converted = this.node(item);
      if (converted === undefined) continue;
      if (converted.kind !== 'map') {
        this.problems.add(converted.at, 'A merge key (<<) takes a map or an alias of one (or a list of them), e.g. `<<: *base`.');
        continue;
      }
      for (const entry of converted.entries) if (!into.some((existing) => existing.key === entry.key)) into.push(entry);
    }
  }
}

function isMergeKey(value: unknown): boolean {
  return value === MERGE_KEY || (typeof value === 'symbol' && value.description === MERGE_KEY);
}

function scalarValue(value: unknown): ScalarValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return String(value);
}
