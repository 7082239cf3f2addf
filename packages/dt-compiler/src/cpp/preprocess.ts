/**
 * The kernel's DTS preprocessing step (scripts/Makefile.dtbs: cmd_dtc), in TypeScript:
 *   cpp -nostdinc -I <include-prefixes> -undef -D__DTS__ -x assembler-with-cpp
 * `#include`, `#define`/`#undef`, the `#if` family with `defined`, and line markers in the
 * output so that dtc's messages point into the right file. As in GCC's assembler-with-cpp mode,
 * a `#` line that is not a directive (`#address-cells = <1>;`) is text, and macros expand in it.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { DtError } from '../errors.js';
import { evaluate, ExprError } from './expr.js';
import { lex, wouldPaste, type Tok } from './lexer.js';
import { MacroError, MacroTable } from './macros.js';
import { cleanSource } from './source.js';

export interface PreprocessOptions {
  /** `-I` directories, searched in order (after the including file's own directory for "..."). */
  includeDirs: string[];
  /** `-D` definitions; `__DTS__`, `__ASSEMBLER__`, `__STDC__`, `__STDC_HOSTED__` are predefined. */
  defines?: Record<string, string>;
  /** Where to read files from (default: the file system). */
  readFile?: (path: string) => string | undefined;
}

export interface PreprocessResult {
  text: string;
  /** Every file read, in the order first opened (the depfile's list). */
  files: string[];
}

interface Frame {
  file: string;
  line: number;
  column?: number;
}

/**
 * Files as the preprocessor sees them (cleaned, split, each line lexed), cached by path and
 * modification time: a kernel build includes the same .dtsi and dt-bindings headers hundreds of
 * times. Tokens are shared and never mutated (expansion copies them).
 */
interface CachedFile {
  mtimeMs: number;
  lines: string[];
  toks: Array<Tok[] | undefined>;
}
const fileCache = new Map<string, CachedFile>();

function cachedFile(path: string, text: string, mtimeMs: number | null): CachedFile {
  const hit = mtimeMs !== null ? fileCache.get(path) : undefined;
  if (hit && hit.mtimeMs === mtimeMs) return hit;
  const lines = cleanSource(text).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const f: CachedFile = { mtimeMs: mtimeMs ?? -1, lines, toks: new Array(lines.length) };
  if (mtimeMs !== null) fileCache.set(path, f);
  return f;
}

function fsRead(p: string): { text: string; mtimeMs: number } | undefined {
  try {
    const st = statSync(p);
    if (!st.isFile()) return undefined;
    const hit = fileCache.get(p);
    if (hit && hit.mtimeMs === st.mtimeMs) return { text: '', mtimeMs: st.mtimeMs };
    return { text: readFileSync(p, 'utf8'), mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}

const MAX_DEPTH = 200;

export function preprocess(file: string, opts: PreprocessOptions): PreprocessResult {
  const read = (p: string): { text: string; mtimeMs: number | null } | undefined => {
    if (opts.readFile) {
      const t = opts.readFile(p);
      return t === undefined ? undefined : { text: t, mtimeMs: null };
    }
    return fsRead(p);
  };
  const macros = new MacroTable();
  const predefined: Record<string, string> = {
    __STDC_HOSTED__: '1',
    __DTS__: '1',
    __STDC__: '1',
    __ASSEMBLER__: '1',
    ...opts.defines,
  };
  for (const [k, v] of Object.entries(predefined)) macros.define(macros.parseDefine(lex(`${k} ${v}`)));
  const files: string[] = [];
  const out: string[] = [];

  const fail = (msg: string, chain: Frame[], line: number, column = 1): never => {
    const here = chain[chain.length - 1]!;
    const via = chain
      .slice(0, -1)
      .reverse()
      .map((f) => `\n  included from ${f.file}:${f.line}:${f.column ?? 1}`)
      .join('');
    throw new DtError(`${msg}${via}`, { file: here.file, line, column });
  };

  const processFile = (path: string, chain: Frame[], src: { text: string; mtimeMs: number | null }): void => {
    files.push(path);
    const cached = cachedFile(path, src.text, src.mtimeMs);
    const lines = cached.lines;
    out.push(`# 1 "${path}"${chain.length > 1 ? ' 1' : ''}\n`);
    const conds: Array<{ active: boolean; taken: boolean; sawElse: boolean; line: number }> = [];
    const active = (): boolean => conds.every((c) => c.active);
    let block: Tok[] = [];
    let blockLines = 0;
    const onError = (msg: string, at: Tok): void => fail(msg, chain, at.line ?? 0, at.col);
    const flush = (): void => {
      if (!block.length) return;
      let expanded: Tok[];
      try {
        expanded = macros.expand(block, onError);
      } catch (e) {
        if (e instanceof MacroError) fail(e.message, chain, block[0]!.line ?? 0);
        if (e instanceof RangeError) fail('macro invocations nested too deeply', chain, block[0]!.line ?? 0);
        throw e;
      }
      let s = '';
      let prev: Tok | null = null;
      let nl = 0;
      for (const t of expanded) {
        if (t.k === 'nl') nl++;
        if (prev && (t.fromMacro || prev.fromMacro) && wouldPaste(prev, t)) s += ' ';
        s += t.v;
        prev = t.k === 'ws' || t.k === 'nl' ? null : t;
      }
      if (nl < blockLines) s += '\n'.repeat(blockLines - nl);
      out.push(s);
      block = [];
      blockLines = 0;
    };

    for (let idx = 0; idx < lines.length; idx++) {
      const lineNo = idx + 1;
      const line = lines[idx]!;
      const m = /^[ \t]*#[ \t]*([A-Za-z_]\w*)?/.exec(line);
      const name = m?.[1];
      const directives = [
        'include',
        'define',
        'undef',
        'if',
        'ifdef',
        'ifndef',
        'elif',
        'else',
        'endif',
        'error',
        'warning',
        'pragma',
        'line',
        'include_next',
      ];
      const isNumberMarker = /^[ \t]*#[ \t]*\d/.test(line);
      const isDirective =
        m !== null &&
        (name === undefined ? !isNumberMarker && /^[ \t]*#[ \t]*$/.test(line) : directives.includes(name));
      if (!isDirective) {
        if (active()) {
          let toks = cached.toks[idx];
          if (!toks) toks = cached.toks[idx] = lex(line + '\n', lineNo);
          for (const t of toks) block.push(t);
          blockLines++;
        } else out.push('\n');
        continue;
      }
      flush();
      const rest = lex(line.slice(m![0].length), lineNo).map((t) => ({ ...t, col: (t.col ?? 1) + m![0].length }));
      const restNoWs = rest.filter((t) => t.k !== 'ws');
      const cond = (): boolean => {
        // `defined X` and `defined ( X )` first, then expansion, then evaluation.
        const toks: Tok[] = [];
        for (let i = 0; i < rest.length; i++) {
          const t = rest[i]!;
          if (t.k === 'id' && t.v === 'defined') {
            let j = i + 1;
            while (rest[j]?.k === 'ws') j++;
            const paren = rest[j]?.v === '(';
            if (paren) {
              j++;
              while (rest[j]?.k === 'ws') j++;
            }
            const id = rest[j];
            if (!id || id.k !== 'id') fail('operator "defined" requires an identifier', chain, lineNo, t.col);
            if (paren) {
              j++;
              while (rest[j]?.k === 'ws') j++;
              if (rest[j]?.v !== ')') fail('missing \')\' after "defined"', chain, lineNo, t.col);
            }
            toks.push({ k: 'num', v: macros.has(id!.v) ? '1' : '0' });
            i = j;
            continue;
          }
          toks.push(t);
        }
        try {
          return evaluate(macros.expand(toks, onError)) !== 0n;
        } catch (e) {
          if (e instanceof ExprError || e instanceof MacroError) fail(e.message, chain, lineNo, restNoWs[0]?.col ?? 1);
          if (e instanceof RangeError)
            fail('#if expression or macro invocations nested too deeply', chain, lineNo, restNoWs[0]?.col ?? 1);
          throw e;
        }
      };
      const col = (m![0].indexOf('#') ?? 0) + 1;
      switch (name) {
        case 'if':
        case 'ifdef':
        case 'ifndef': {
          if (!active()) {
            conds.push({ active: false, taken: true, sawElse: false, line: lineNo });
            break;
          }
          let v: boolean;
          if (name === 'if') v = cond();
          else {
            const id = restNoWs[0];
            if (!id || id.k !== 'id') fail(`no macro name given in #${name} directive`, chain, lineNo, col);
            v = macros.has(id!.v) === (name === 'ifdef');
          }
          conds.push({ active: v, taken: v, sawElse: false, line: lineNo });
          break;
        }
        case 'elif': {
          const c = conds[conds.length - 1];
          if (!c) fail('#elif without #if', chain, lineNo, col);
          if (c!.sawElse) fail('#elif after #else', chain, lineNo, col);
          const outer = conds.slice(0, -1).every((x) => x.active);
          if (!outer || c!.taken) c!.active = false;
          else {
            c!.active = cond();
            c!.taken = c!.active;
          }
          break;
        }
        case 'else': {
          const c = conds[conds.length - 1];
          if (!c) fail('#else without #if', chain, lineNo, col);
          if (c!.sawElse) fail('#else after #else', chain, lineNo, col);
          c!.sawElse = true;
          c!.active = !c!.taken;
          c!.taken = true;
          break;
        }
        case 'endif':
          if (!conds.pop()) fail('#endif without #if', chain, lineNo, col);
          break;
        default:
          if (!active()) break;
          if (name === 'define') {
            try {
              macros.define(macros.parseDefine(rest));
            } catch (e) {
              if (e instanceof MacroError) fail(e.message, chain, lineNo, restNoWs[0]?.col ?? col);
              throw e;
            }
          } else if (name === 'undef') {
            const id = restNoWs[0];
            if (!id || id.k !== 'id') fail('no macro name given in #undef directive', chain, lineNo, col);
            macros.undef(id!.v);
          } else if (name === 'include' || name === 'include_next') {
            let spec = line.slice(m![0].length).trim();
            if (!/^["<]/.test(spec))
              spec = macros
                .expand(rest, onError)
                .map((t) => t.v)
                .join('')
                .trim();
            const q = /^"([^"]+)"/.exec(spec) ?? /^<([^>]+)>/.exec(spec);
            if (!q) fail('#include expects "FILENAME" or <FILENAME>', chain, lineNo, col);
            const target = q![1]!;
            // cpp searches no directory for an absolute name (libcpp/files.c: an absolute path is opened as given).
            const dirs = isAbsolute(target)
              ? ['/']
              : spec.startsWith('"')
                ? [dirname(path), ...opts.includeDirs]
                : opts.includeDirs;
            let found: string | undefined;
            let content: { text: string; mtimeMs: number | null } | undefined;
            for (const d of dirs) {
              const cand = join(d, target);
              content = read(cand);
              if (content !== undefined) {
                found = cand;
                break;
              }
            }
            if (!found) fail(`${target}: No such file or directory`, chain, lineNo, restNoWs[0]?.col ?? col);
            if (chain.length >= MAX_DEPTH)
              fail(`#include nested depth ${MAX_DEPTH} exceeds maximum`, chain, lineNo, col);
            chain[chain.length - 1]!.line = lineNo;
            chain[chain.length - 1]!.column = restNoWs[0]?.col ?? col;
            processFile(found!, [...chain, { file: found!, line: 1 }], content!);
            out.push(`# ${lineNo + 1} "${path}" 2\n`);
            continue;
          } else if (name === 'error') {
            fail(`#error ${line.slice(m![0].length).trim()}`, chain, lineNo, col);
          }
        // #warning, #pragma, #line and the null directive produce no output here.
      }
      out.push('\n');
    }
    flush();
    if (conds.length) fail('unterminated conditional directive', chain, conds[conds.length - 1]!.line, 1);
  };

  const top = read(file);
  if (top === undefined) throw new DtError('No such file or directory', { file });
  processFile(file, [{ file, line: 1 }], top);
  return { text: out.join(''), files };
}
