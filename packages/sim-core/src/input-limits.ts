/**
 * Limits on input files, set far above what any real input reaches (the largest scenario or
 * matrix file in the repository is under 4 KB, the deepest YAML nesting 4 levels), so that a
 * hostile or broken file gets a clear InputError naming the limit instead of exhausting the
 * stack or the heap. Names that become path components are checked here too.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from './errors.js';

export const inputLimits = {
  /** A scenario, board scenario, matrix or calibration file. */
  yamlBytes: 1024 * 1024,
  /** Collections nested in collections ([...] and {...}, or block indentation levels). */
  yamlDepth: 64,
  /** Columns of indentation before a line's content. */
  yamlIndent: 512,
  /** Names that become file names: out/<name>/. */
  nameLength: 100,
};

/** A name that becomes a path component: starts with a letter or digit, so never `.` or `..`. */
export const namePattern = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${inputLimits.nameLength - 1}}$`);

/**
 * A file's text, read in bounded pieces (so /dev/zero or a 50 MB file stops at the limit), or an
 * InputError naming it and why it could not be read.
 */
export function readBounded(file: string, what: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, file);
  }
  try {
    if (fstatSync(fd).isDirectory()) throw new InputError(`cannot read ${what}: it is a directory`, file);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const b = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total));
      const n = readSync(fd, b, 0, b.length, null);
      if (n === 0) break;
      chunks.push(b.subarray(0, n));
      total += n;
      if (total > maxBytes) throw new InputError(`${what} larger than the limit of ${maxBytes} bytes`, file);
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, file);
  } finally {
    closeSync(fd);
  }
}

/**
 * Nesting and indentation of a YAML text before it is parsed (the parser recurses per level).
 * Flow brackets inside quoted scalars and comments do not count.
 */
export function checkYamlShape(text: string, file: string): void {
  if (text.length > inputLimits.yamlBytes)
    throw new InputError(`YAML text larger than the limit of ${inputLimits.yamlBytes} bytes`, file);
  let depth = 0;
  let line = 1;
  let col = 0;
  let quote: string | null = null;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    col++;
    if (c === '\n') {
      line++;
      col = 0;
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      if (c === ' ') {
        indent++;
        if (indent > inputLimits.yamlIndent)
          throw new InputError(
            `indented more than ${inputLimits.yamlIndent} columns (limit for probelab's input files)`,
            file,
            line,
            col,
          );
        continue;
      }
      lineStart = false;
    }
    if (quote) {
      if (c === '\\' && quote === '"') (i++, col++);
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    if ((c === '"' || c === "'") && /^[\s:\-[{,]?$/.test(prevContent(text, i))) quote = c;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth > inputLimits.yamlDepth)
        throw new InputError(
          `collections nested more than ${inputLimits.yamlDepth} deep (limit for probelab's input files)`,
          file,
          line,
          col,
        );
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
}

/** The last non-blank character before `i` on the same line ('' at the start of the content). */
function prevContent(text: string, i: number): string {
  for (let j = i - 1; j >= 0; j--) {
    const c = text[j]!;
    if (c === '\n') return '';
    if (c !== ' ' && c !== '\t') return c;
  }
  return '';
}
