/**
 * `#if` expressions (C11 6.10.1): integer constant expressions in intmax_t, after `defined` is
 * resolved and macros are expanded; remaining identifiers are 0.
 */
import type { Tok } from './lexer.js';

export class ExprError extends Error {}

const MASK = (1n << 64n) - 1n;
const toSigned = (v: bigint): bigint => BigInt.asIntN(64, v & MASK);
const maxNesting = 256;

/**
 * `a << n` in intmax_t as gcc's libcpp evaluates it (libcpp/expr.c num_lshift/num_rshift): a
 * negative count shifts the other way, a count of 64 or more gives 0 (left) or the sign (right)
 * instead of a BigInt as large as the count.
 */
function shift(a: bigint, n: bigint): bigint {
  if (n >= 64n) return 0n;
  if (n <= -64n) return a < 0n ? -1n : 0n;
  return n >= 0n ? toSigned(a << n) : toSigned(a >> -n);
}

function parseNumber(v: string): bigint {
  const s = v.replace(/([uUlL]+)$/, '');
  try {
    if (/^0[xX][0-9a-fA-F]+$/.test(s)) return BigInt(s);
    if (/^0[bB][01]+$/.test(s)) return BigInt(s);
    if (/^0[0-7]*$/.test(s)) return s === '0' ? 0n : BigInt('0o' + s.slice(1));
    if (/^[1-9][0-9]*$/.test(s)) return BigInt(s);
  } catch {
    // fall through
  }
  throw new ExprError(`invalid integer constant "${v}" in #if`);
}

function charValue(v: string): bigint {
  const body = v.slice(1, -1);
  const esc: Record<string, number> = {
    n: 10,
    t: 9,
    r: 13,
    '0': 0,
    '\\': 92,
    "'": 39,
    '"': 34,
    a: 7,
    b: 8,
    f: 12,
    v: 11,
  };
  if (body.startsWith('\\')) {
    const k = body.slice(1);
    if (/^x[0-9a-fA-F]+$/.test(k)) return BigInt('0x' + k.slice(1));
    if (/^[0-7]{1,3}$/.test(k)) return BigInt('0o' + k);
    return BigInt(esc[k] ?? k.charCodeAt(0));
  }
  return BigInt(body.charCodeAt(0));
}

export function evaluate(toks: Tok[]): bigint {
  const t = toks.filter((x) => x.k !== 'ws' && x.k !== 'nl');
  let i = 0;
  const peek = (): string | undefined => t[i]?.v;
  const take = (v?: string): Tok => {
    const x = t[i];
    if (!x || (v !== undefined && x.v !== v))
      throw new ExprError(
        x ? `expected "${v}" before "${x.v}" in #if` : `#if expression ends early${v ? ` (expected "${v}")` : ''}`,
      );
    i++;
    return x;
  };
  // Binary operators by precedence, lowest first (C11 6.5.5-6.5.14).
  const binary: string[][] = [
    ['||'],
    ['&&'],
    ['|'],
    ['^'],
    ['&'],
    ['==', '!='],
    ['<', '>', '<=', '>='],
    ['<<', '>>'],
    ['+', '-'],
    ['*', '/', '%'],
  ];
  // Nesting ((((...)))) or !!!!... recurses; gcc's own limit is the stack, ours is stated.
  let depth = 0;
  const nest = <T>(f: () => T): T => {
    if (++depth > maxNesting) throw new ExprError(`#if expression nested more than ${maxNesting} deep`);
    try {
      return f();
    } finally {
      depth--;
    }
  };
  const apply = (op: string, a: bigint, b: bigint): bigint => {
    switch (op) {
      case '||':
        return a !== 0n || b !== 0n ? 1n : 0n;
      case '&&':
        return a !== 0n && b !== 0n ? 1n : 0n;
      case '|':
        return toSigned(a | b);
      case '^':
        return toSigned(a ^ b);
      case '&':
        return toSigned(a & b);
      case '==':
        return a === b ? 1n : 0n;
      case '!=':
        return a !== b ? 1n : 0n;
      case '<':
        return a < b ? 1n : 0n;
      case '>':
        return a > b ? 1n : 0n;
      case '<=':
        return a <= b ? 1n : 0n;
      case '>=':
        return a >= b ? 1n : 0n;
      case '<<':
        return shift(a, b);
      case '>>':
        return shift(a, -b);
      case '+':
        return toSigned(a + b);
      case '-':
        return toSigned(a - b);
      case '*':
        return toSigned(a * b);
      case '/':
        if (b === 0n) throw new ExprError('division by zero in #if');
        return toSigned(a / b);
      case '%':
        if (b === 0n) throw new ExprError('division by zero in #if');
        return toSigned(a % b);
    }
    throw new ExprError(`unknown operator ${op}`);
  };
  const unary = (): bigint => nest(() => unary1());
  const unary1 = (): bigint => {
    const v = peek();
    if (v === '!') {
      i++;
      return unary() === 0n ? 1n : 0n;
    }
    if (v === '~') {
      i++;
      return toSigned(~unary());
    }
    if (v === '-') {
      i++;
      return toSigned(-unary());
    }
    if (v === '+') {
      i++;
      return unary();
    }
    if (v === '(') {
      i++;
      const r = nest(ternary);
      take(')');
      return r;
    }
    const x = take();
    if (x.k === 'num') return parseNumber(x.v);
    if (x.k === 'chr') return charValue(x.v);
    if (x.k === 'id') return 0n;
    throw new ExprError(`token "${x.v}" is not valid in preprocessor expressions`);
  };
  const level = (n: number): bigint => {
    if (n >= binary.length) return unary();
    let a = level(n + 1);
    while (peek() !== undefined && binary[n]!.includes(peek()!)) {
      const op = take().v;
      // short-circuit evaluation still parses the right side
      const b = level(n + 1);
      a = apply(op, a, b);
    }
    return a;
  };
  const ternary = (): bigint => {
    const c = level(0);
    if (peek() === '?') {
      i++;
      const a = nest(ternary);
      take(':');
      const b = nest(ternary);
      return c !== 0n ? a : b;
    }
    return c;
  };
  if (t.length === 0) throw new ExprError('#if with no expression');
  const r = ternary();
  if (i < t.length) throw new ExprError(`missing binary operator before token "${t[i]!.v}"`);
  return r;
}
