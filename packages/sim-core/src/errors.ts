/** Input errors said as file:line:column: the field and what was expected; input files read within probelab's limits. */
import { inputLimits, readBounded } from './input-limits.js';
/** Bad input: names the file and where (line:column or field) and what was expected. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'InputError';
  }
  override toString(): string {
    const pos = this.file ? `${this.file}${this.line ? `:${this.line}:${this.column ?? 1}` : ''}: ` : '';
    return `${pos}${this.message}`;
  }
}

/** A file's text (at most `maxBytes`), or an InputError naming it and why it could not be read. */
export function readInputFile(file: string, what: string, maxBytes = inputLimits.yamlBytes): string {
  return readBounded(file, what, maxBytes);
}
