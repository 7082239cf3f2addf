/**
 * Typed reading of a YAML document with errors that name the file, line:column, the field and
 * what was expected.
 */
import {
  LineCounter,
  parseDocument,
  isMap,
  isScalar,
  isSeq,
  type Document,
  type Node as YamlNode,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { InputError } from './errors.js';
import { checkYamlShape } from './input-limits.js';

/**
 * A mapping key as a field name. Only scalars name fields: a collection used as a key (`? [..]`,
 * nested `? ? ?`) is never stringified — yaml's stringify of nested complex keys grows
 * exponentially with their depth — but named as such.
 */
export function fieldName(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return isMap(key) || isSeq(key) ? '(a collection used as a key)' : String(key);
}

/**
 * Parse a YAML input file within probelab's limits: its first error as file:line:column, and a
 * stack the parser exhausts anyway (nesting the shape check did not see) as an InputError.
 */
export function parseYaml(text: string, file: string, lc: LineCounter): Document.Parsed {
  checkYamlShape(text, file);
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  } catch (e) {
    if (e instanceof RangeError) throw new InputError('nested too deeply for a probelab input file', file);
    throw e;
  }
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const p = lc.linePos(e.pos[0]);
    throw new InputError(`not valid YAML: ${e.message.split('\n')[0]}`, file, p.line, p.col);
  }
  return doc;
}

export class YamlInput {
  private lc = new LineCounter();
  readonly root: YAMLMap;

  constructor(
    text: string,
    readonly file: string,
    expected: string,
  ) {
    const doc = parseYaml(text, file, this.lc);
    if (!isMap(doc.contents)) this.fail('(top level)', expected, doc.contents);
    this.root = doc.contents as YAMLMap;
  }

  fail(field: string, expected: string, node?: YamlNode | null): never {
    const r = node?.range;
    const p = r ? this.lc.linePos(r[0]) : undefined;
    throw new InputError(`field \`${field}\`: expected ${expected}`, this.file, p?.line, p?.col);
  }

  /** Refuse keys not in `known`. */
  only(map: YAMLMap, path: string, known: string[]): void {
    for (const item of map.items) {
      const k = fieldName(item.key);
      if (!known.includes(k))
        this.fail(path ? `${path}.${k}` : k, `one of ${known.join(', ')} (unknown field)`, item.key as YamlNode);
    }
  }

  node(map: YAMLMap, key: string): YamlNode | undefined {
    return map.get(key, true) as YamlNode | undefined;
  }

  private value(map: YAMLMap, key: string): unknown {
    const n = this.node(map, key);
    return n && 'value' in n ? (n as { value: unknown }).value : undefined;
  }

  string(map: YAMLMap, key: string, path: string, expected: string, test: (s: string) => boolean = () => true): string {
    const v = this.value(map, key);
    if (typeof v !== 'string' || !test(v)) this.fail(path, expected, this.node(map, key) ?? map);
    return v;
  }

  optionalString(
    map: YAMLMap,
    key: string,
    path: string,
    expected: string,
    test?: (s: string) => boolean,
  ): string | undefined {
    return this.node(map, key) === undefined ? undefined : this.string(map, key, path, expected, test);
  }

  number(map: YAMLMap, key: string, path: string, expected: string, test: (n: number) => boolean = () => true): number {
    const v = this.value(map, key);
    if (typeof v !== 'number' || !Number.isFinite(v) || !test(v)) this.fail(path, expected, this.node(map, key) ?? map);
    return v;
  }

  optionalNumber(
    map: YAMLMap,
    key: string,
    path: string,
    expected: string,
    test?: (n: number) => boolean,
  ): number | undefined {
    return this.node(map, key) === undefined ? undefined : this.number(map, key, path, expected, test);
  }

  map(map: YAMLMap, key: string, path: string, expected: string): YAMLMap {
    const n = this.node(map, key);
    if (!isMap(n)) this.fail(path, expected, n ?? map);
    return n as YAMLMap;
  }

  /** Items of a sequence (absent = empty), each with its path. */
  list(map: YAMLMap, key: string, path: string, expected: string): Array<{ node: YamlNode; path: string }> {
    const n = this.node(map, key);
    if (n === undefined) return [];
    if (!isSeq(n)) this.fail(path, expected, n);
    return (n as YAMLSeq).items.map((it, i) => ({ node: it as YamlNode, path: `${path}[${i}]` }));
  }

  asMap(item: { node: YamlNode; path: string }, expected: string): YAMLMap {
    if (!isMap(item.node)) this.fail(item.path, expected, item.node);
    return item.node as YAMLMap;
  }

  scalar(item: { node: YamlNode; path: string }, expected: string, test: (v: unknown) => boolean): unknown {
    const v = 'value' in item.node ? (item.node as { value: unknown }).value : undefined;
    if (!test(v)) this.fail(item.path, expected, item.node);
    return v;
  }

  /** A mapping of name -> number (timing tables). */
  numberTable(map: YAMLMap, key: string, path: string): Record<string, number> {
    const n = this.node(map, key);
    if (n === undefined) return {};
    if (!isMap(n)) this.fail(path, 'a mapping of name: seconds', n);
    const out: Record<string, number> = {};
    for (const item of (n as YAMLMap).items) {
      const k = fieldName(item.key);
      const v = (item.value as { value?: unknown } | null)?.value;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        this.fail(`${path}.${k}`, 'a number of seconds >= 0', (item.value as YamlNode) ?? (item.key as YamlNode));
      out[k] = v;
    }
    return out;
  }
}
