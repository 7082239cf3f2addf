import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileDts, decompileDtb, runDtc } from '@probelab/dtc-wasm';

const src = `/dts-v1/;
/ {
  #address-cells = <1>; #size-cells = <1>;
  compatible = "test,board";
  intc: interrupt-controller@1000 { compatible = "x,intc"; reg = <0x1000 0x100>; interrupt-controller; #interrupt-cells = <1>; };
  dev@2000 { compatible = "x,dev"; reg = <0x2000 0x10>; interrupt-parent = <&intc>; interrupts = <5>; str = "a", "b"; bytes = [01 02]; };
};
`;

describe('dtc.wasm', () => {
  it('compiles to the same DTB as native dtc, and back', () => {
    const r = compileDts(src);
    expect(r.exitCode).toBe(0);
    const native = execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-b', '0'], { input: src });
    expect(Buffer.from(r.dtb!).equals(native)).toBe(true);
    const back = decompileDtb(r.dtb!);
    expect(back.dts).toContain('compatible = "x,dev";');
    expect(back.dts).toContain('interrupts = <0x05>;');
  });

  it('returns dtc errors as data, with file, line and column', () => {
    const r = compileDts('/dts-v1/;\n/ {\n  x = <&nolabel>;\n};\n', { fileName: 'bad.dts' });
    expect(r.exitCode).not.toBe(0);
    expect(r.dtb).toBeNull();
    const e = r.messages.find((m) => m.severity === 'error')!;
    // dtc itself places this check at the node ("bad.dts:2.3-4.3"), as native dtc does
    expect(e).toMatchObject({ file: 'bad.dts', line: 2, column: 3, check: 'phandle_references' });
    expect(e.text).toMatch(/Reference to non-existent node or label "nolabel"/);
    const s = compileDts('/dts-v1/;\n/ { x = ; };\n', { fileName: 's.dts' });
    expect(s.messages[0]).toMatchObject({ severity: 'error', file: 's.dts', line: 2, column: 9, text: 'syntax error' });
  });

  it('runs thousands of compilations in one process without growing', () => {
    // Measured in a node process of its own: RSS and open descriptors are the process's, and
    // under \`npm run test:unit\` (worker threads) the neighbouring test files would move both.
    // After a full collection each time: garbage the collector has not reached yet is not growth.
    const script = `
      import { readdirSync } from 'node:fs';
      import { compileDts } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href)};
      const src = ${JSON.stringify(src)};
      const fds = () => readdirSync('/proc/self/fd').length;
      for (let i = 0; i < 3000; i++) compileDts(src); // warm up to the collector's steady state
      gc();
      const before = process.memoryUsage().rss;
      const fdsBefore = fds();
      let failed = 0;
      for (let i = 0; i < 6000; i++) if (compileDts(src).exitCode !== 0) failed++;
      gc();
      console.log(JSON.stringify({ failed, rss: process.memoryUsage().rss - before, fds: fds() - fdsBefore }));
    `;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    const r = JSON.parse(out) as { failed: number; rss: number; fds: number };
    expect(r.failed).toBe(0);
    expect(r.rss).toBeLessThan(64 * 1024 * 1024);
    expect(r.fds).toBeLessThanOrEqual(2);
  }, 120_000);

  it('stops a flood of error messages after 1 MiB (the compile has failed already), never one of warnings', () => {
    // 999 copies of one property: dtc reports every pair, ~500,000 messages.
    const dup = `/dts-v1/;\n/ {\n${Array.from({ length: 999 }, (_, i) => `  p = <${i}>;\n`).join('')}};\n`;
    const r = compileDts(dup);
    expect(r.dtb).toBeNull();
    expect(r.stderr.length).toBeGreaterThan(1024 * 1024);
    expect(r.stderr.length).toBeLessThan(1024 * 1024 + 4096);
    expect(r.messages[0]).toMatchObject({ severity: 'error', check: 'duplicate_property_names', line: 3 });
    // 8,000 nodes with a unit address and no reg, without -q: 1.8 MB of warnings, and the DTB
    // native dtc makes. (Sibling nodes stay under bison's YYMAXDEPTH of 10,000.)
    const name = 'a-node-whose-name-makes-its-warning-long-enough-to-count'.repeat(2);
    const warn = `/dts-v1/;\n/ {\n${Array.from({ length: 8000 }, (_, i) => `  ${name}@${i + 1} { };\n`).join('')}};\n`;
    const w = runDtc(['-I', 'dts', '-O', 'dtb', '-o', '@WORK@/out.dtb', '@WORK@/in.dts'], {
      inputs: { 'in.dts': warn },
      outputs: ['out.dtb'],
    });
    expect(w.exitCode).toBe(0);
    expect(w.stderr.length).toBeGreaterThan(1.5 * 1024 * 1024);
    expect(w.messages.every((m) => m.severity === 'warning')).toBe(true);
    const native = execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb'], { input: warn, maxBuffer: 1 << 26 });
    expect(Buffer.from(w.outputs.get('out.dtb')!).equals(native)).toBe(true);
  });

  it('reports dtc usage errors', () => {
    const r = runDtc(['-I', 'nonsense', '@WORK@/x'], { inputs: { x: '' } });
    expect(r.exitCode).not.toBe(0);
  });
});
