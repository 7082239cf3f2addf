/**
 * Preprocessing tokens (C11 6.4.7, as GCC's cpp lexes them in assembler-with-cpp mode), over a
 * text from which comments and line continuations were already removed (source.ts).
 */
export type TokKind = 'id' | 'num' | 'str' | 'chr' | 'ws' | 'nl' | 'punct';

export interface Tok {
  k: TokKind;
  v: string;
  /** Macros that must not expand this token again (the "hide set"). */
  hide?: ReadonlySet<string>;
  /** Came out of a macro expansion (for paste avoidance when printing). */
  fromMacro?: boolean;
  /** 1-based line in the current file (directive diagnostics). */
  line?: number;
  col?: number;
}

const puncts = ['##', '<<=', '>>=', '...', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '->', '++', '--'];

export function lex(text: string, line0 = 1): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let line = line0;
  let lineStart = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const col = i - lineStart + 1;
    if (c === '\n') {
      out.push({ k: 'nl', v: '\n', line, col });
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\f' || c === '\v' || c === '\r') {
      let j = i + 1;
      while (j < n && /[ \t\f\v\r]/.test(text[j]!)) j++;
      out.push({ k: 'ws', v: text.slice(i, j), line, col });
      i = j;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(text[j]!)) j++;
      out.push({ k: 'id', v: text.slice(i, j), line, col });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n) {
        const d = text[j]!;
        if (/[eEpP]/.test(d) && (text[j + 1] === '+' || text[j + 1] === '-')) j += 2;
        else if (/[A-Za-z0-9_.]/.test(d)) j++;
        else break;
      }
      out.push({ k: 'num', v: text.slice(i, j), line, col });
      i = j;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      if (text[j] === '"') {
        out.push({ k: 'str', v: text.slice(i, j + 1), line, col });
        i = j + 1;
        continue;
      }
      // an unterminated quote is a lone punctuator in assembler-with-cpp mode
    }
    if (c === "'") {
      const m = /^'(?:\\.|[^'\\\n])+'/.exec(text.slice(i, i + 16));
      if (m) {
        out.push({ k: 'chr', v: m[0], line, col });
        i += m[0].length;
        continue;
      }
    }
    const p = puncts.find((q) => text.startsWith(q, i));
    const v = p ?? c;
    out.push({ k: 'punct', v, line, col });
    i += v.length;
  }
  return out;
}

/** GCC's cpp_avoid_paste, reduced to what matters for DTS: would printing a then b make one token? */
export function wouldPaste(a: Tok, b: Tok): boolean {
  const word = (t: Tok) => t.k === 'id' || t.k === 'num';
  if (word(a) && word(b)) return true;
  if (a.k === 'num' && b.k === 'punct' && (b.v === '+' || b.v === '-' || b.v === '.' || b.v === '++' || b.v === '--')) return true;
  if (a.k === 'punct' && b.k === 'punct') {
    const s = a.v + b.v[0];
    return ['++', '--', '<<', '>>', '&&', '||', '==', '!=', '<=', '>=', '##', '->', '+=', '-=', '/*', '//'].includes(s);
  }
  if (a.k === 'punct' && a.v === '.' && b.k === 'num') return true;
  return false;
}
