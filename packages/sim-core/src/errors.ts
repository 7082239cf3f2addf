import { readFileSync } from 'node:fs';
/** Bad input: names the file and where (line:column or field) and what was expected. */
export class InputError extends Error {
  constructor(message: string, readonly file?: string, readonly line?: number, readonly column?: number) {
    super(message);
    this.name = 'InputError';
  }
  override toString(): string {
    const pos = this.file ? `${this.file}${this.line ? `:${this.line}:${this.column ?? 1}` : ''}: ` : '';
    return `${pos}${this.message}`;
  }
}

/** A file's text, or an InputError naming it and why it could not be read. */
export function readInputFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, file);
  }
}
