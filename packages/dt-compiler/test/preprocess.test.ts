// The TypeScript cpp against GCC's (`cpp -nostdinc -undef -D__DTS__ -x assembler-with-cpp`),
// compared where it matters: the DTB dtc makes of the output.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileDtsFile, preprocess, DtError } from '@probelab/dt-compiler';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cpp-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function gccDtb(dir: string, file: string): Buffer {
  const pre = execFileSync('cpp', [
    '-nostdinc',
    '-I',
    join(dir, 'include'),
    '-undef',
    '-D__DTS__',
    '-x',
    'assembler-with-cpp',
    join(dir, file),
  ]);
  return execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-b', '0', '-i', dir], { input: pre });
}

const ours = (dir: string, file: string): Buffer =>
  Buffer.from(compileDtsFile(join(dir, file), { includeDirs: [join(dir, 'include')] }).dtb);

describe('preprocessing as GCC does it, judged by the DTB', () => {
  it.each([
    [
      'object and function-like macros, nested, with parentheses in arguments',
      `
#define BASE 0x1000
#define OFF(x) (BASE + (x))
#define PAIR(a, b) a b
/dts-v1/;
/ { #address-cells = <1>; #size-cells = <1>; n@1000 { reg = <OFF((2 * 3)) 0x10>; p = <PAIR(1, (2 + 3))>; }; };`,
    ],
    [
      '#if family with defined, arithmetic, ternary, #elif and #else',
      `
#define A 3
#if defined(A) && A * 2 == 6 && (A > 2 ? 1 : 0) && !defined B
#define V 1
#elif 1
#define V 2
#else
#define V 3
#endif
#ifdef B
#error no
#endif
#ifndef C
#define W (1 << 4 | 0x3)
#endif
/dts-v1/;
/ { v = <V W>; };`,
    ],
    [
      '# lines that are not directives, macros inside them, stringizing and pasting',
      `
#define CELLS 2
#define STR(x) #x
#define GLUE(a, b) a##b
#define LBL(n) GLUE(label_, n)
/dts-v1/;
/ { #address-cells = <CELLS>; #size-cells = <1>; s = STR(hello  "w"); y = <&LBL(1)>; pinctrl-0 = <&LBL(1)>; LBL(1): node { x = <1>; }; };`,
    ],
    [
      'multi-line invocations, continuations, comments, char literals',
      `
#define PINMUX(port, pin, fn) ((((port) - 'A') * 16 + (pin)) << 8 | (fn))
#define LONG(a, \\
             b) ((a) + \\
                 (b))
/dts-v1/;
/* a
   block comment */
/ { // a line comment
  pins = <PINMUX('B', 3,
                 7) LONG(1, 2)>; /* trailing */ c = "not // a comment";
};`,
    ],
    [
      'includes: "quoted" relative first, <angled> from -I, include guards',
      `
#include "sub/local.dtsi"
#include <dt-bindings/v.h>
#include <dt-bindings/v.h>
/dts-v1/;
/ { a = <LOCAL VAL>; };`,
    ],
  ])('%s', (_name, text) => {
    const dir = tree({
      'board.dts': text,
      'sub/local.dtsi': '#define LOCAL 7\n',
      'include/dt-bindings/v.h': '#ifndef V_H\n#define V_H\n#define VAL 42\n#endif\n',
    });
    expect(ours(dir, 'board.dts').equals(gccDtb(dir, 'board.dts'))).toBe(true);
  });

  it('emits line markers so that positions map back into each file', () => {
    const dir = tree({ 'a.dts': '#include "b.dtsi"\n/dts-v1/;\n/ { };\n', 'b.dtsi': '\n\n#define X 1\n' });
    const r = preprocess(join(dir, 'a.dts'), { includeDirs: [] });
    expect(r.text).toContain(`# 1 "${join(dir, 'b.dtsi')}" 1`);
    expect(r.text).toContain(`# 2 "${join(dir, 'a.dts')}" 2`);
    expect(r.files).toEqual([join(dir, 'a.dts'), join(dir, 'b.dtsi')]);
  });
});

describe('errors name file:line:column through the include chain', () => {
  const err = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(DtError);
      return String(e);
    }
    throw new Error('no error');
  };
  it('a missing include', () => {
    const dir = tree({ 'a.dts': '/dts-v1/;\n#include "b.dtsi"\n', 'b.dtsi': '\n#include <dt-bindings/missing.h>\n' });
    const s = err(() => compileDtsFile(join(dir, 'a.dts'), { includeDirs: [join(dir, 'include')] }));
    expect(s).toBe(
      `${join(dir, 'b.dtsi')}:2:10: dt-bindings/missing.h: No such file or directory\n  included from ${join(dir, 'a.dts')}:2:10`,
    );
  });
  it('a syntax error in an included file points into that file', () => {
    const dir = tree({ 'a.dts': '/dts-v1/;\n#include "b.dtsi"\n/ { };\n', 'b.dtsi': '/ {\n  x = <1 2;\n};\n' });
    const s = err(() => compileDtsFile(join(dir, 'a.dts'), { includeDirs: [] }));
    expect(s).toMatch(new RegExp(`^${join(dir, 'b.dtsi')}:2:\\d+: syntax error`));
  });
  it('an unknown label', () => {
    const dir = tree({ 'a.dts': '/dts-v1/;\n/ {\n  clocks = <&nowhere 1>;\n};\n' });
    // dtc places this check at the node that holds the property (a.dts:2.3-4.3)
    expect(err(() => compileDtsFile(join(dir, 'a.dts'), { includeDirs: [] }))).toMatch(
      /a\.dts:2:3: phandle_references: .*non-existent node or label "nowhere"/,
    );
  });
  it('#error, an unterminated #if, a bad #if expression', () => {
    const dir = tree({ 'e.dts': '\n#error stop here\n', 'u.dts': '#if 1\n', 'x.dts': '#if 1 +\n#endif\n' });
    expect(err(() => preprocess(join(dir, 'e.dts'), { includeDirs: [] }))).toMatch(/e\.dts:2:1: #error stop here/);
    expect(err(() => preprocess(join(dir, 'u.dts'), { includeDirs: [] }))).toMatch(
      /u\.dts:1:1: unterminated conditional directive/,
    );
    expect(err(() => preprocess(join(dir, 'x.dts'), { includeDirs: [] }))).toMatch(
      /x\.dts:1:\d+: #if expression ends early/,
    );
  });
});
