/**
 * Kbuild, read rather than run: which object a source file ends up in, whether that object is
 * built in (y), a module (m) or not built (n) under a .config, and the link order of built-in
 * objects (the order of `obj-*` lists, depth first from drivers/ then sound/, as the top
 * Makefile's `drivers-y := drivers/ sound/` and scripts/Makefile.build link them; initcalls of
 * one level run in link order).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Tristate = 'y' | 'm' | 'n';

export interface ObjectPlace {
  state: Tristate;
  /** The module the file is linked into (the obj-* object's name, '-' -> '_'), built-in or not. */
  module: string;
  /** Position in link order (lower links first). */
  order: number;
  /** The CONFIG_ symbols that decide `state` (for messages). */
  symbols: string[];
}

const rank: Record<Tristate, number> = { n: 0, m: 1, y: 2 };
const min = (a: Tristate, b: Tristate): Tristate => (rank[a] <= rank[b] ? a : b);

/** A .config as a map CONFIG_X -> value ('y', 'm', a string or number); unset symbols are absent. */
export function readConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

interface Assignment {
  target: string;
  cond: string;
  words: string[];
}

/** Assignments of a Kbuild Makefile (continuations joined, comments dropped), in file order. */
export function parseKbuildMakefile(text: string): Assignment[] {
  const out: Assignment[] = [];
  const joined = text.replace(/\\\r?\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/#.*$/, '');
    const m = /^\s*([A-Za-z0-9_.-]+)-(y|m|objs|\$\([^=]*\))\s*(?:\+=|:=|=)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ target: m[1]!, cond: m[2]!, words: m[3]!.split(/\s+/).filter((w) => w && !w.startsWith('$')) });
  }
  return out;
}

function condState(cond: string, config: Map<string, string>): { state: Tristate; symbols: string[] } {
  if (cond === 'y' || cond === 'objs') return { state: 'y', symbols: [] };
  if (cond === 'm') return { state: 'm', symbols: [] };
  const syms = [...cond.matchAll(/CONFIG_\w+/g)].map((x) => x[0]);
  if (syms.length !== 1) return { state: 'n', symbols: syms };
  const v = config.get(syms[0]!);
  const val: Tristate = v === 'y' ? 'y' : v === 'm' ? 'm' : 'n';
  // obj-$(subst m,y,$(CONFIG_X)): built in whenever X is set.
  if (/^\$\(subst m,y,/.test(cond)) return { state: val === 'n' ? 'n' : 'y', symbols: syms };
  if (/^\$\(CONFIG_\w+\)$/.test(cond)) return { state: val, symbols: syms };
  return { state: 'n', symbols: syms };
}

/** Every source file Kbuild reaches from drivers/ and sound/, with its state, module and order. */
export function kbuildIndex(tree: string, config: Map<string, string>): Map<string, ObjectPlace> {
  const out = new Map<string, ObjectPlace>();
  let order = 0;
  const walk = (dir: string, dirState: Tristate, dirSyms: string[]): void => {
    const mk = ['Kbuild', 'Makefile'].map((f) => join(tree, dir, f)).find((f) => existsSync(f));
    if (!mk) return;
    const asg = parseKbuildMakefile(readFileSync(mk, 'utf8'));
    const parts = new Map<string, Array<{ word: string; state: Tristate; symbols: string[] }>>();
    for (const a of asg) {
      if (a.target === 'obj' || a.target === 'subdir' || a.target === 'lib' || a.target === 'always') continue;
      const c = condState(a.cond, config);
      const list = parts.get(a.target) ?? [];
      for (const w of a.words) list.push({ word: w, ...c });
      parts.set(a.target, list);
    }
    for (const a of asg) {
      if (a.target !== 'obj') continue;
      const c = condState(a.cond, config);
      const state = min(dirState, c.state);
      const symbols = [...dirSyms, ...c.symbols];
      for (const w of a.words) {
        if (w.endsWith('/')) {
          walk(join(dir, w), state, symbols);
          continue;
        }
        if (!w.endsWith('.o')) continue;
        const base = w.slice(0, -2);
        const module = base.split('/').pop()!.replace(/-/g, '_');
        const comps = parts.get(base);
        const place = (file: string, st: Tristate, syms: string[]): void => {
          const prev = out.get(file);
          if (!prev || rank[st] > rank[prev.state]) out.set(file, { state: st, module, order: order++, symbols: syms });
        };
        if (comps?.length) {
          for (const p of comps)
            if (p.word.endsWith('.o'))
              place(join(dir, p.word.slice(0, -2) + '.c'), min(state, p.state), [...symbols, ...p.symbols]);
        } else {
          place(join(dir, base + '.c'), state, symbols);
        }
      }
    }
  };
  walk('drivers', 'y', []);
  walk('sound', 'y', []);
  return out;
}
