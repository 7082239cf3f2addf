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

const isIdStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdChar = (c: number): boolean => isIdStart(c) || isDigit(c);
const isHSpace = (c: number): boolean => c === 32 || c === 9 || c === 12 || c === 11 || c === 13;

export function lex(text: string, line0 = 1): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let line = line0;
  let lineStart = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    const col = i - lineStart + 1;
    if (c === 10) {
      out.push({ k: 'nl', v: '\n', line, col });
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (isHSpace(c)) {
      let j = i + 1;
      while (j < n && isHSpace(text.charCodeAt(j))) j++;
      out.push({ k: 'ws', v: text.slice(i, j), line, col });
      i = j;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(text.charCodeAt(j))) j++;
      out.push({ k: 'id', v: text.slice(i, j), line, col });
      i = j;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        const next = text.charCodeAt(j + 1);
        if ((d === 101 || d === 69 || d === 112 || d === 80) && (next === 43 || next === 45)) j += 2;
        else if (isIdChar(d) || d === 46) j++;
        else break;
      }
      out.push({ k: 'num', v: text.slice(i, j), line, col });
      i = j;
      continue;
    }
    if (c === 34) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) !== 34 && text.charCodeAt(j) !== 10) j += text.charCodeAt(j) === 92 ? 2 : 1;
      if (text.charCodeAt(j) === 34) {
        out.push({ k: 'str', v: text.slice(i, j + 1), line, col });
        i = j + 1;
        continue;
      }
      // an unterminated quote is a lone punctuator in assembler-with-cpp mode
    }
    if (c === 39) {
      const m = /^'(?:\\.|[^'\\\n])+'/.exec(text.slice(i, i + 16));
      if (m) {
        out.push({ k: 'chr', v: m[0], line, col });
        i += m[0].length;
        continue;
      }
    }
    let v = text[i]!;
    for (const q of puncts) {
      if (q.charCodeAt(0) === c && text.startsWith(q, i)) {
        v = q;
        break;
      }
    }
    out.push({ k: 'punct', v, line, col });
    i += v.length;
  }
  return out;
}

/** GCC's cpp_avoid_paste, reduced to what matters for DTS: would printing a then b make one token? */
export function wouldPaste(a: Tok, b: Tok): boolean {
  const word = (t: Tok) => t.k === 'id' || t.k === 'num';
  if (word(a) && word(b)) return true;
  if (a.k === 'num' && b.k === 'punct' && (b.v === '+' || b.v === '-' || b.v === '.' || b.v === '++' || b.v === '--'))
    return true;
  if (a.k === 'punct' && b.k === 'punct') {
    const s = a.v + b.v[0];
    return ['++', '--', '<<', '>>', '&&', '||', '==', '!=', '<=', '>=', '##', '->', '+=', '-=', '/*', '//'].includes(s);
  }
  if (a.k === 'punct' && a.v === '.' && b.k === 'num') return true;
  return false;
}
