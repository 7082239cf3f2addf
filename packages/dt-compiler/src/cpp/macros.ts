/**
 * Macro definitions and expansion (C11 6.10.3): object- and function-like macros, `#`
 * stringizing, `##` pasting, variadic `__VA_ARGS__`, rescanning with hide sets so that a macro
 * never expands inside its own expansion.
 */
import { lex, type Tok } from './lexer.js';

export interface Macro {
  name: string;
  /** null for an object-like macro. */
  params: string[] | null;
  variadic: boolean;
  body: Tok[];
}

export class MacroError extends Error {}

const isWs = (t: Tok | undefined): boolean => !!t && (t.k === 'ws' || t.k === 'nl');

/** A token source that expansions are pushed back onto (for rescanning with what follows). */
class Stream {
  private stack: Array<{ toks: Tok[]; i: number }> = [];
  constructor(toks: Tok[]) {
    this.stack.push({ toks, i: 0 });
  }
  peek(skipWs = false, offset = 0): Tok | undefined {
    let seen = 0;
    for (let s = this.stack.length - 1; s >= 0; s--) {
      const fr = this.stack[s]!;
      for (let i = fr.i; i < fr.toks.length; i++) {
        const t = fr.toks[i]!;
        if (skipWs && isWs(t)) continue;
        if (seen++ === offset) return t;
      }
    }
    return undefined;
  }
  next(): Tok | undefined {
    while (this.stack.length) {
      const fr = this.stack[this.stack.length - 1]!;
      if (fr.i < fr.toks.length) return fr.toks[fr.i++];
      if (this.stack.length === 1) return undefined;
      this.stack.pop();
    }
    return undefined;
  }
  push(toks: Tok[]): void {
    if (toks.length) this.stack.push({ toks, i: 0 });
  }
}

/**
 * Tokens one preprocessing run may produce by macro substitution. Measured over all 1,118 arm64
 * boards of linux-source-6.12: at most 22,414 (apple/t6002-j375d.dts). A macro that multiplies
 * itself per level (an 800-byte "macro bomb") would produce 2^40 and exhaust the heap first.
 */
export const maxExpandedTokens = 500_000;

export class MacroTable {
  readonly macros = new Map<string, Macro>();
  private produced = 0;

  private charge(toks: Tok[]): Tok[] {
    this.produced += toks.length;
    if (this.produced > maxExpandedTokens)
      throw new MacroError(
        `macro expansion produced more than ${maxExpandedTokens.toLocaleString('en')} tokens (a macro that expands exponentially?)`,
      );
    return toks;
  }

  define(m: Macro): void {
    this.macros.set(m.name, m);
  }
  undef(name: string): void {
    this.macros.delete(name);
  }
  has(name: string): boolean {
    return this.macros.has(name);
  }

  /** Parse the text of a `#define` after the directive name. */
  parseDefine(toks: Tok[]): Macro {
    let i = 0;
    while (isWs(toks[i])) i++;
    const nameTok = toks[i];
    if (!nameTok || nameTok.k !== 'id') throw new MacroError('macro names must be identifiers');
    i++;
    let params: string[] | null = null;
    let variadic = false;
    if (toks[i]?.k === 'punct' && toks[i]!.v === '(') {
      params = [];
      i++;
      for (;;) {
        while (isWs(toks[i])) i++;
        const t = toks[i];
        if (!t) throw new MacroError(`missing ')' in the parameter list of macro "${nameTok.v}"`);
        if (t.v === ')') {
          i++;
          break;
        }
        if (t.v === '...') {
          variadic = true;
          params.push('__VA_ARGS__');
          i++;
          continue;
        }
        if (t.k === 'id') {
          params.push(t.v);
          i++;
          if (toks[i]?.v === '...') {
            variadic = true;
            i++;
          }
          continue;
        }
        if (t.v === ',') {
          i++;
          continue;
        }
        throw new MacroError(`"${t.v}" may not appear in the parameter list of macro "${nameTok.v}"`);
      }
    }
    const body = toks.slice(i);
    while (body.length && isWs(body[0])) body.shift();
    while (body.length && isWs(body[body.length - 1])) body.pop();
    return {
      name: nameTok.v,
      params,
      variadic,
      body: body.map((t) => ({ k: t.k === 'nl' ? 'ws' : t.k, v: t.k === 'nl' ? ' ' : t.v })),
    };
  }

  /** Fully macro-expand a token list. */
  expand(toks: Tok[], onError?: (msg: string, at: Tok) => void): Tok[] {
    const out: Tok[] = [];
    const s = new Stream(toks);
    for (let t = s.next(); t; t = s.next()) {
      if (t.k !== 'id') {
        out.push(t);
        continue;
      }
      const m = this.macros.get(t.v);
      if (!m || t.hide?.has(t.v)) {
        out.push(t);
        continue;
      }
      if (m.params === null) {
        const hs = new Set(t.hide ?? []);
        hs.add(m.name);
        s.push(this.charge(this.substitute(m, null, hs)));
        continue;
      }
      const open = s.peek(true);
      if (!open || open.v !== '(') {
        out.push(t);
        continue;
      }
      while (isWs(s.peek())) s.next();
      s.next(); // '('
      const args: Tok[][] = [[]];
      let depth = 0;
      let closed = false;
      for (let a = s.next(); a; a = s.next()) {
        if (a.v === '(' && a.k === 'punct') depth++;
        else if (a.v === ')' && a.k === 'punct') {
          if (depth === 0) {
            closed = true;
            break;
          }
          depth--;
        } else if (a.v === ',' && a.k === 'punct' && depth === 0 && !(m.variadic && args.length === m.params.length)) {
          args.push([]);
          continue;
        }
        args[args.length - 1]!.push(a);
      }
      if (!closed) {
        onError?.(`unterminated argument list invoking macro "${m.name}"`, t);
        out.push(t);
        continue;
      }
      const trimmed = args.map(trim);
      if (m.params.length === 0 && trimmed.length === 1 && trimmed[0]!.length === 0) trimmed.length = 0;
      if (m.variadic && trimmed.length === m.params.length - 1) trimmed.push([]);
      if (trimmed.length !== m.params.length) {
        onError?.(`macro "${m.name}" passed ${trimmed.length} arguments, but takes ${m.params.length}`, t);
        out.push(t);
        continue;
      }
      const hs = new Set(t.hide ?? []);
      hs.add(m.name);
      s.push(this.charge(this.substitute(m, trimmed, hs, onError)));
    }
    return out;
  }

  private substitute(
    m: Macro,
    args: Tok[][] | null,
    hide: ReadonlySet<string>,
    onError?: (msg: string, at: Tok) => void,
  ): Tok[] {
    const body = m.body;
    const param = (t: Tok | undefined): number => (t && t.k === 'id' && m.params ? m.params.indexOf(t.v) : -1);
    const expandedArgs = new Map<number, Tok[]>();
    const expandedArg = (i: number): Tok[] => {
      if (!expandedArgs.has(i))
        expandedArgs.set(
          i,
          this.expand(
            args![i]!.map((t) => ({ ...t })),
            onError,
          ),
        );
      return expandedArgs.get(i)!;
    };
    const nextNonWs = (i: number): number => {
      let j = i + 1;
      while (j < body.length && isWs(body[j])) j++;
      return j;
    };
    const prevNonWs = (i: number): number => {
      let j = i - 1;
      while (j >= 0 && isWs(body[j])) j--;
      return j;
    };
    const out: Tok[] = [];
    for (let i = 0; i < body.length; i++) {
      const t = body[i]!;
      if (args && t.k === 'punct' && t.v === '#' && param(body[nextNonWs(i)]) >= 0) {
        const j = nextNonWs(i);
        out.push({ k: 'str', v: stringify(args[param(body[j])]!) });
        i = j;
        continue;
      }
      const p = args ? param(t) : -1;
      if (p >= 0) {
        const pasted = body[nextNonWs(i)]?.v === '##' || body[prevNonWs(i)]?.v === '##';
        const toks = (pasted ? args![p]! : expandedArg(p)).map((x) => ({ ...x, fromArg: true }) as Tok);
        if (pasted && toks.length === 0) out.push({ k: 'ws', v: '', placemarker: true } as Tok);
        else out.push(...toks);
        continue;
      }
      out.push({ ...t });
    }
    // ## : paste the tokens on each side (after parameter substitution).
    for (let i = 0; i < out.length; i++) {
      if (out[i]!.k !== 'punct' || out[i]!.v !== '##' || (out[i] as Tok & { fromArg?: boolean }).fromArg) continue;
      let l = i - 1;
      while (l >= 0 && out[l]!.k === 'ws' && !(out[l] as { placemarker?: boolean }).placemarker) l--;
      let r = i + 1;
      while (r < out.length && out[r]!.k === 'ws' && !(out[r] as { placemarker?: boolean }).placemarker) r++;
      const left = l >= 0 ? out[l]! : null;
      const right = r < out.length ? out[r]! : null;
      const text =
        (left && !(left as { placemarker?: boolean }).placemarker ? left.v : '') +
        (right && !(right as { placemarker?: boolean }).placemarker ? right.v : '');
      const re = text ? lex(text).filter((x) => x.k !== 'ws') : [];
      const start = l >= 0 ? l : i;
      const end = r < out.length ? r : i;
      out.splice(start, end - start + 1, ...re);
      i = start + re.length - 1;
    }
    return out
      .filter((t) => !(t as { placemarker?: boolean }).placemarker)
      .map((t) => ({ ...t, hide: union(t.hide, hide), fromMacro: true }));
  }
}

function union(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): ReadonlySet<string> {
  if (!a || a.size === 0) return b;
  const s = new Set(a);
  for (const x of b) s.add(x);
  return s;
}

function trim(toks: Tok[]): Tok[] {
  let a = 0;
  let b = toks.length;
  while (a < b && isWs(toks[a])) a++;
  while (b > a && isWs(toks[b - 1])) b--;
  return toks.slice(a, b);
}

/** C11 6.10.3.2: spell the argument, whitespace runs as one space, escape " and \ in literals. */
export function stringify(toks: Tok[]): string {
  let s = '';
  let space = false;
  for (const t of trim(toks)) {
    if (isWs(t)) {
      space = true;
      continue;
    }
    if (space && s) s += ' ';
    space = false;
    s += t.k === 'str' || t.k === 'chr' ? t.v.replace(/[\\"]/g, (c) => `\\${c}`) : t.v;
  }
  return `"${s}"`;
}
