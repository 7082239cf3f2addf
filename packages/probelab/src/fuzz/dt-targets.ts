/**
 * The fuzzed device-tree readers: the DTS preprocessor (dt-compiler cpp/), the DTS compiler
 * (dtc.wasm through compile.ts), and the DTB reader (fdt.ts) with the supplier graph read from
 * its tree (deps.ts), each with a corpus of the kernel's own small boards.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import {
  dtbToDts,
  compileDtsFile,
  includeDirsFor,
  preprocess,
  readDtb,
  supplierGraph,
  listKernelDts,
  provisionKernelTree,
} from '@probelab/dt-compiler';
import { repoRoot } from '@probelab/harness';
import type { FuzzTarget } from './targets.js';

/** Small kernel boards (few includes, fast to preprocess), the same list in every run. */
function smallBoards(n: number): string[] {
  const tree = provisionKernelTree();
  return listKernelDts(tree)
    .map((d) => d.file)
    .filter((f) => /\/(arm|apple|qcom|renesas|exynos)\//.test(f))
    .map((f) => ({ f, size: readFileSync(f).length }))
    .filter((x) => x.size < 6000)
    .sort((a, b) => a.f.localeCompare(b.f))
    .slice(0, n)
    .map((x) => x.f);
}

export function dtTargets(): FuzzTarget[] {
  const root = repoRoot();
  const tree = (): string => provisionKernelTree();
  const scratch = join(root, 'out', 'fuzz', `scratch-${process.pid}-${threadId}`);
  const includes = new Map<string, string | undefined>();
  const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
  return [
    {
      name: 'dts-preprocess',
      corpus: () => smallBoards(40).map((f) => readFileSync(f)),
      dict: [
        '#include ',
        '#include "',
        '#include <dt-bindings/gpio/gpio.h>\n',
        '#define ',
        '#define A(x) x x\n',
        '#undef ',
        '#if ',
        '#ifdef ',
        '#elif ',
        '#else\n',
        '#endif\n',
        '#line ',
        '#error x\n',
        '/include/ ',
        '(',
        ')',
        '<<',
        '>>',
        '?',
        ':',
        '##',
        '#x',
        '__VA_ARGS__',
        '\\\n',
        '/*',
        '*/',
        '//',
        "'a'",
        '"',
      ],
      maxBytes: 128 * 1024,
      run: (b) => {
        const main = '/fuzz/main.dts';
        const inc = includeDirsFor({ kernelTree: tree() });
        const read = (p: string): string | undefined => {
          if (!includes.has(p)) {
            try {
              includes.set(p, readFileSync(p, 'utf8'));
            } catch {
              includes.set(p, undefined);
            }
          }
          return includes.get(p);
        };
        preprocess(main, {
          includeDirs: [join(tree(), 'arch', 'arm64', 'boot', 'dts', 'arm'), ...inc],
          readFile: (p) => (p === main ? text(b) : read(p)),
        });
      },
    },
    {
      name: 'dts-compile',
      corpus: () =>
        smallBoards(12).map((f) =>
          Buffer.from(preprocess(f, { includeDirs: [dirname(f), ...includeDirsFor({ kernelTree: tree() })] }).text),
        ),
      dict: [
        '/dts-v1/;',
        '/ {',
        '};',
        '{',
        '}',
        '<',
        '>',
        '[',
        ']',
        '&',
        '&{/',
        'label: ',
        '/delete-node/ ',
        '/delete-property/ ',
        '/memreserve/ ',
        '/bits/ 64 ',
        '/incbin/("x")',
        '/plugin/;',
        '/omit-if-no-ref/ ',
        'phandle = <1>;',
        '#address-cells = <3>;',
        '"\\x00"',
        '(1 << 40)',
        '(-1 / 0)',
      ],
      maxBytes: 128 * 1024,
      run: (b) => {
        mkdirSync(scratch, { recursive: true });
        const f = join(scratch, 'fuzz.dts');
        writeFileSync(f, b);
        compileDtsFile(f, { includeDirs: [], flags: [] });
      },
    },
    {
      name: 'dtb',
      // QEMU's own trees (dumpdtb pads them to 1 MiB: recompiled unpadded) and small boards.
      corpus: () => {
        const dir = join(root, 'boards', 'qemu-virt', 'dtb');
        mkdirSync(scratch, { recursive: true });
        const qemu = readdirSync(dir)
          .filter((x) => x.endsWith('.dtb'))
          .sort()
          .map((x) => {
            const f = join(scratch, `${x}.dts`);
            writeFileSync(f, dtbToDts(readFileSync(join(dir, x)), x));
            return compileDtsFile(f, { includeDirs: [], flags: [] }).dtb;
          });
        return [...qemu, ...smallBoards(6).map((f) => compileDtsFile(f, { kernelTree: tree() }).dtb)];
      },
      dict: [
        '\xd0\x0d\xfe\xed',
        '\0\0\0\x01',
        '\0\0\0\x02',
        '\0\0\0\x03',
        '\0\0\0\x09',
        '\xff\xff\xff\xff',
        '\x7f\xff\xff\xff',
        'iommus\0',
        'phandle\0',
        'clocks\0',
        'compatible\0',
      ],
      maxBytes: 512 * 1024,
      run: (b) => {
        const t = readDtb(b, 'fuzz.dtb');
        supplierGraph(t, '6.12');
      },
    },
  ];
}
