/**
 * probelab's input contracts as JSON Schemas (schemas/*.schema.json at the repository root: the
 * QEMU scenario, the board scenario, the matrix file, the calibration file, the outcome), which
 * editors that speak yaml-language-server use to check files as people type, and which the
 * readers check with ajv. An error is said as probelab says every input error: file:line:column,
 * the field, and what was expected (the failing subschema's `errorMessage`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { LineCounter, isMap, isSeq, visit, type Document, type Node as YamlNode, type YAMLMap } from 'yaml';
import { InputError } from './errors.js';
import { fieldName, parseYaml } from './yaml-input.js';

export type SchemaName = 'qemu-scenario' | 'board-scenario' | 'board-timing' | 'matrix' | 'calibration' | 'outcome';
export const schemaNames: SchemaName[] = [
  'qemu-scenario',
  'board-scenario',
  'board-timing',
  'matrix',
  'calibration',
  'outcome',
];

export function schemaPath(name: SchemaName): URL {
  return new URL(`../../../schemas/${name}.schema.json`, import.meta.url);
}

// The schemas are checked against JSON Schema's meta-schema by the tests (test/schemas.test.ts),
// not on every run: that check is half of the compile time a CLI run pays.
// ajv itself is loaded with the first contract checked (it is CommonJS: a synchronous require),
// not by every command that imports the package: its modules are 40 ms of a CLI start.
let ajvInstance: Ajv | undefined;
function ajv(): Ajv {
  if (!ajvInstance) {
    const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajvInstance = new AjvClass({ allErrors: true, strict: true, verbose: true, validateSchema: false });
    // Annotations of ours: what to print after "expected", and the unknown-field wording.
    ajvInstance.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
    ajvInstance.addKeyword({ keyword: 'x-unknownField', schemaType: 'string' });
  }
  return ajvInstance;
}
const compiled = new Map<SchemaName, { validate: ValidateFunction; root: Schema }>();
/** The contracts a contract refers to by $id, registered before it is compiled. */
const refersTo: Partial<Record<SchemaName, SchemaName[]>> = { 'board-scenario': ['board-timing'] };

/** One contract compiled on first use (a CLI run reads one or two: compiling all costs more than reading). */
function load(name: SchemaName): { validate: ValidateFunction; root: Schema } {
  let v = compiled.get(name);
  if (!v) {
    for (const dep of refersTo[name] ?? []) {
      const d = JSON.parse(readFileSync(schemaPath(dep), 'utf8')) as { $id: string };
      if (!ajv().getSchema(d.$id)) ajv().addSchema(d);
    }
    const root = JSON.parse(readFileSync(schemaPath(name), 'utf8')) as Schema & { $id: string };
    v = { validate: ajv().getSchema(root.$id) ?? ajv().compile(root as object), root };
    compiled.set(name, v);
  }
  return v;
}

export function schemaValidator(name: SchemaName): ValidateFunction {
  return load(name).validate;
}

type Schema = {
  errorMessage?: string;
  'x-unknownField'?: string;
  properties?: Record<string, Schema>;
  $ref?: string;
  definitions?: Record<string, Schema>;
};

/** `/modules/1/name` -> `modules[1].name`. */
function fieldOf(segments: string[]): string {
  let out = '';
  for (const s of segments) out += /^\d+$/.test(s) ? `[${s}]` : out ? `.${s}` : s;
  return out || '(top level)';
}

const segmentsOf = (instancePath: string): string[] =>
  instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

/**
 * A document's keys must be scalars before it is turned into data: a collection used as a key
 * is named, never stringified (yaml's stringify of nested complex keys grows exponentially).
 */
function complexKey(node: unknown, path: string[]): { node: YamlNode; field: string } | null {
  if (isMap(node)) {
    for (const item of (node as YAMLMap).items) {
      const k = item.key as YamlNode;
      if (isMap(k) || isSeq(k)) return { node: k, field: fieldOf([...path, fieldName(k)]) };
      const inner = complexKey(item.value, [...path, fieldName(k)]);
      if (inner) return inner;
    }
  } else if (isSeq(node)) {
    for (const [i, it] of node.items.entries()) {
      const inner = complexKey(it, [...path, String(i)]);
      if (inner) return inner;
    }
  }
  return null;
}

/**
 * Check a parsed YAML document against a contract; its data (doc.toJS()) when it holds, else an
 * InputError for the error that comes first in the file.
 */
export function checkSchema(name: SchemaName, doc: Document.Parsed, lc: LineCounter, file: string): unknown {
  const pos = (node: YamlNode | null | undefined): { line?: number; column?: number; offset: number } => {
    const r = node?.range;
    if (!r) return { offset: 0 };
    const p = lc.linePos(r[0]);
    return { line: p.line, column: p.col, offset: r[0] };
  };
  const bad = complexKey(doc.contents, []);
  if (bad) {
    const p = pos(bad.node);
    throw new InputError(`field \`${bad.field}\`: expected a field name (unknown field)`, file, p.line, p.column);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (e) {
    // An alias to an anchor set later or never (yaml's parser lets it through to toJS), or one
    // that expands too far: said at the alias.
    let alias: YamlNode | null = null;
    visit(doc, {
      Alias(_, n) {
        if (!n.resolve(doc)) {
          alias = n as unknown as YamlNode;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    const p = pos(alias);
    throw new InputError(`not valid YAML: ${(e as Error).message.split('\n')[0]}`, file, p.line, p.column);
  }
  const { validate, root } = load(name);
  if (validate(data)) return data;
  // Of alternatives (anyOf), the branch that went deeper says what is wrong, when one did.
  const errors = validate.errors ?? [];
  const kept = errors.filter(
    (e) =>
      !/\/anyOf\b/.test(e.schemaPath + (e.keyword === 'anyOf' ? '/anyOf' : '')) ||
      !errors.some((o) => o.instancePath.startsWith(`${e.instancePath}/`)),
  );
  const said = kept.map((e) => describe(e, doc, root));
  said.sort((a, b) => pos(a.node).offset - pos(b.node).offset || a.order - b.order);
  const first = said[0]!;
  const p = pos(first.node);
  throw new InputError(`field \`${first.field}\`: expected ${first.expected}`, file, p.line, p.column);
}

/** One ajv error as (field, expected, the YAML node it is about). */
function describe(
  e: ErrorObject,
  doc: Document.Parsed,
  root: Schema,
): { field: string; expected: string; node: YamlNode | null; order: number } {
  const segs = segmentsOf(e.instancePath);
  const at = (s: string[]): YamlNode | null =>
    s.length
      ? ((doc.getIn(
          s.map((x) => (/^\d+$/.test(x) ? Number(x) : x)),
          true,
        ) as YamlNode | undefined) ?? null)
      : (doc.contents as YamlNode | null);
  const parent = (e.parentSchema ?? {}) as Schema;
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    const map = at(segs);
    const keyNode = isMap(map) ? ((map.items.find((i) => fieldName(i.key) === key)?.key as YamlNode) ?? map) : map;
    return {
      field: fieldOf([...segs, key]),
      expected: parent['x-unknownField'] ?? `one of ${Object.keys(parent.properties ?? {}).join(', ')} (unknown field)`,
      node: keyNode,
      order: 0,
    };
  }
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    let sub = parent.properties?.[missing];
    // A property given by reference: '#/definitions/<name>'.
    if (sub?.$ref?.startsWith('#/definitions/')) sub = root.definitions?.[sub.$ref.slice('#/definitions/'.length)];
    return {
      field: fieldOf([...segs, missing]),
      expected: sub?.errorMessage ?? 'a value (required)',
      node: at(segs),
      order: 1,
    };
  }
  return {
    field: fieldOf(segs),
    expected: parent.errorMessage ?? e.message ?? 'a valid value',
    node: at(segs),
    // Where alternatives all failed, the alternatives' own message says it best.
    order: e.keyword === 'anyOf' ? 2 : 3,
  };
}

/** A contract file's text (YAML or JSON) checked against its schema; its data. */
export function readContract(name: SchemaName, text: string, file: string): unknown {
  const lc = new LineCounter();
  return checkSchema(name, parseYaml(text, file, lc), lc, file);
}

/**
 * A contract file's YAML document, before and after its schema: the data, a node by path, and an
 * error at a node said as every input error is (what the readers check beyond the schema).
 */
export class ContractFile {
  private readonly lc = new LineCounter();
  readonly doc: Document.Parsed;

  constructor(
    text: string,
    readonly file: string,
  ) {
    this.doc = parseYaml(text, file, this.lc);
  }

  check<T>(name: SchemaName): T {
    return checkSchema(name, this.doc, this.lc, this.file) as T;
  }

  /** The node at a path, or the document's top when there is none. */
  node = (...path: Array<string | number>): YamlNode | null =>
    (this.doc.getIn(path, true) as YamlNode | undefined) ?? (this.doc.contents as YamlNode | null);

  fail = (field: string, expected: string, at: YamlNode | null): never => {
    const r = at?.range;
    const p = r ? this.lc.linePos(r[0]) : undefined;
    throw new InputError(`field \`${field}\`: expected ${expected}`, this.file, p?.line, p?.col);
  };
}
