/**
 * Reading a YAML input file within probelab's limits (input-limits.ts), its syntax errors as
 * file:line:column; what the document must hold is its contract's JSON Schema (schema-check.ts).
 */
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Document } from 'yaml';
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
