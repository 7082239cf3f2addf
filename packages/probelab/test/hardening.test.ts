// Hostile input and hostile file systems (issue: hardening), each case as it was found: one
// clear line (file:line:column or the limit that was hit), exit 2, no stack, no partial file,
// and no input that takes more than a few seconds or gigabytes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResults } from '../dist/matrix/results.js';
import { root, runCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'probelab-hard-'));
const file = (name: string, body: string | Buffer): string => {
  const f = join(tmp, name);
  writeFileSync(f, body);
  return f;
};
const qemuScenario = (name: string, extra = ''): string =>
  `name: ${name}\nkernel: debian-6.12\nmachine:\n  iommu: virtio-iommu\n  devices: [virtio-blk-pci]\nmodules:\n  - { name: virtio_blk, at: 0 }\n${extra}capture: 10\n`;
const oneLine = (s: string) => {
  expect(s.trim().split('\n')).toHaveLength(1);
  expect(s).not.toMatch(/\n\s+at |node:internal|internal error/);
};

describe('scenario and matrix input', () => {
  it('YAML flow collections nested 2,000 deep: the limit, at its line:column (scenario and matrix)', async () => {
    const deep = '['.repeat(2000) + ']'.repeat(2000);
    const s = file('deep.yaml', `name: x\nkernel: debian-6.12\nmachine: ${deep}\n`);
    const r = await runCli(['predict', s]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${s}:3:74: collections nested more than 64 deep (limit for probelab's input files)`,
    );
    const m = file('deep-matrix.yaml', `name: x\nbase: ${deep}\n`);
    const rm = await runCli(['matrix', m]);
    expect(rm.code).toBe(2);
    expect(rm.stderr.trim()).toBe(
      `probelab: ${m}:2:71: collections nested more than 64 deep (limit for probelab's input files)`,
    );
  });

  it('a 50 MB scenario and /dev/zero stop at the size limit', async () => {
    const big = file('big.yaml', Buffer.alloc(50 * 1024 * 1024, 'a'));
    for (const f of [big, '/dev/zero']) {
      const r = await runCli(['predict', f]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(`probelab: ${f}: scenario larger than the limit of 1048576 bytes`);
    }
  });

  it('names `..` and `.` are refused, so results cannot land in the parent of the output directory', async () => {
    const out = join(tmp, 'names', 'out');
    mkdirSync(out, { recursive: true });
    for (const n of ['..', '.', 'x'.repeat(300)]) {
      const f = file('name.yaml', qemuScenario(`'${n}'`));
      const r = await runCli(['boot', f], { PROBELAB_OUT: out });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(
        `probelab: ${f}:1:7: field \`name\`: expected a name of at most 100 letters, digits, dots, dashes or underscores, starting with a letter or digit`,
      );
    }
    expect(readdirSync(join(tmp, 'names'))).toEqual(['out']);
    expect(readdirSync(out)).toEqual([]);
  });

  it('predict refuses what boot refuses: a NUL in cmdline, a module loaded twice (QEMU and board scenarios)', async () => {
    const nul = file('nul.yaml', qemuScenario('nul', 'cmdline: "a\\0b"\n'));
    let r = await runCli(['predict', nul]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${nul}:8:10: field \`cmdline\`: expected printable ASCII and spaces only (character 2 is U+0000)`,
    );
    const twice = file(
      'twice.yaml',
      qemuScenario('twice').replace(
        '  - { name: virtio_blk, at: 0 }\n',
        '  - { name: virtio_blk, at: 0 }\n  - { name: virtio-blk, at: 3 }\n',
      ),
    );
    r = await runCli(['predict', twice]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${twice}:8:13: field \`modules[1].name\`: expected each module once (virtio-blk is listed twice in \`modules\`)`,
    );
    const board = readFileSync(join(root, 'boards', 'juno', 'arm-smmu-module-master-retry.yaml'), 'utf8');
    const bt = join(root, 'boards', 'juno', `.twice-${process.pid}.yaml`);
    writeFileSync(
      bt,
      board.replace(
        '  - { name: arm_smmu, at: 4 }\n',
        '  - { name: arm_smmu, at: 4 }\n  - { name: arm-smmu, at: 5 }\n',
      ),
    );
    try {
      r = await runCli(['predict', bt]);
    } finally {
      execFileSync('rm', ['-f', bt]);
    }
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /field `modules\[1\]\.name`: expected each module once \(arm-smmu is listed twice in `modules`\)/,
    );
  });

  it('predict refuses what boot refuses: a built-in module loaded, a module unloaded that was never loaded', async () => {
    const builtin = file('builtin.yaml', qemuScenario('builtin').replace('virtio_blk, at: 0', 'virtio_pci, at: 0'));
    let r = await runCli(['predict', builtin]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${builtin}: field \`modules\`: virtio_pci is built into debian-6.12; remove it from \`modules\``,
    );
    const unload = file('unload.yaml', qemuScenario('unload', 'unload:\n  - { name: virtio-iommu, at: 5 }\n'));
    r = await runCli(['predict', unload]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${unload}: field \`unload\`: virtio-iommu is not loaded by the scenario (add it to \`modules\`)`,
    );
    // boot refuses it with the same line (the initramfs builder makes the same check)
    expect((await runCli(['boot', unload], { PROBELAB_OUT: join(tmp, 'unload-out') })).stderr.trim()).toBe(
      r.stderr.trim(),
    );
  }, 600_000); // on a fresh machine the first predict on debian-6.12 fetches the kernel package

  it('results.jsonl: a null row or a torn middle row is an error at its line; a torn last line of a baseline is left out and the file never rewritten', async () => {
    const good = JSON.stringify({ id: 'a', status: 'agree', finishedAt: 'x' });
    const nul = file('null.jsonl', `${good}\nnull\n`);
    expect(() => readResults(nul, 'baseline')).toThrow(/expected a cell result/);
    const r = await runCli(['matrix', 'ci/smoke.yaml', '--baseline', nul, '--out', join(tmp, 'm-null')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^probelab: ${nul}:2:1: expected a cell result \\(a JSON object with a string id and a status of agree, differ, error\\), got null$`,
      ),
    );
    const torn = file('torn.jsonl', `${good}\n{"id":"b","sta`);
    const before = readFileSync(torn);
    expect(readResults(torn, 'baseline').map((x) => x.id)).toEqual(['a']);
    expect(readFileSync(torn).equals(before)).toBe(true);
    // Our own results file, resumed: the torn tail is cut, so the next row starts a new line.
    expect(readResults(torn, 'resume').map((x) => x.id)).toEqual(['a']);
    expect(readFileSync(torn, 'utf8')).toBe(`${good}\n`);
    const mid = file('mid.jsonl', `{"id":"b","sta\n${good}\n`);
    expect(() => readResults(mid, 'baseline')).toThrow(/not a JSON row/);
  });

  it('--baseline naming a missing file is an error, not an empty baseline', async () => {
    const r = await runCli([
      'matrix',
      'ci/smoke.yaml',
      '--baseline',
      join(tmp, 'nope.jsonl'),
      '--out',
      join(tmp, 'm-missing'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${join(tmp, 'nope.jsonl')}: cannot read baseline results (a results.jsonl): ENOENT`,
    );
  });
});

describe('device-tree input', () => {
  const dt = (args: string[]) => runCli(['dt', ...args]);

  it('`#if 1 << 99999999999` evaluates as gcc does (0), instead of a BigInt of that size', async () => {
    const f = file('shift.dts', '/dts-v1/;\n#if 1 << 99999999999\n/ { yes; };\n#else\n/ { no; };\n#endif\n');
    const r = await dt(['compile', f, '-o', join(tmp, 'shift.dtb')]);
    expect(r.code).toBe(0);
    const d = await dt(['decompile', join(tmp, 'shift.dtb')]);
    expect(d.stdout).toMatch(/\bno;/);
  });

  it("2,000 nested DTS nodes compile byte-identical to native dtc; 100,000 get dtc's own error", async () => {
    const nest = (n: number) => `/dts-v1/;\n/ {\n${'n {\n'.repeat(n)}${'};\n'.repeat(n)}};\n`;
    const f = file('nest.dts', nest(2000));
    const r = await dt(['compile', f, '-o', join(tmp, 'nest.dtb')]);
    expect(r.code).toBe(0);
    execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', join(tmp, 'nest-native.dtb'), f]);
    expect(readFileSync(join(tmp, 'nest.dtb')).equals(readFileSync(join(tmp, 'nest-native.dtb')))).toBe(true);
    const g = file('nest-deep.dts', nest(100_000));
    const d = await dt(['compile', g, '-o', join(tmp, 'nest-deep.dtb')]);
    expect(d.code).toBe(2);
    oneLine(d.stderr);
    // bison's YYMAXDEPTH, as native dtc reports it
    expect(d.stderr).toMatch(/nest-deep\.dts:\d+:1: memory exhausted$/m);
    expect(existsSync(join(tmp, 'nest-deep.dtb'))).toBe(false);
  }, 60_000);

  it('a dtc message of 200 KB comes through whole (the WASI shim spread it onto the stack)', async () => {
    const label = 'L'.repeat(200_000);
    const f = file('long.dts', `/dts-v1/;\n/ { p = <&${label}>; };\n`);
    const r = await dt(['compile', f, '-o', join(tmp, 'long.dtb')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Reference to non-existent node or label "${label}"`);
    oneLine(r.stderr);
  });

  it('an 805-byte macro bomb stops at the expansion budget', async () => {
    const lines = ['/dts-v1/;', '#define a0 x x x x'];
    for (let i = 1; i < 40; i++) lines.push(`#define a${i} a${i - 1} a${i - 1} a${i - 1} a${i - 1}`);
    lines.push('/ { q = a39; };');
    const f = file('bomb.dts', lines.join('\n') + '\n');
    const r = await dt(['compile', f, '-o', join(tmp, 'bomb.dtb')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${f}:42:1: macro expansion produced more than 500,000 tokens (a macro that expands exponentially?)`,
    );
  });

  it("999 duplicate properties: dtc's first error, as native dtc gives it, without its 500,000 others", async () => {
    const f = file(
      'dup.dts',
      `/dts-v1/;\n/ {\n${Array.from({ length: 999 }, (_, i) => `  p = <${i}>;\n`).join('')}};\n`,
    );
    const r = await dt(['compile', f, '-o', join(tmp, 'dup.dtb')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/duplicate_property_names: \/:p: Duplicate property name/);
  });

  it('a DTB whose header claims a huge strings block, one with 10,000 nested nodes, and /dev/zero', async () => {
    const h = Buffer.alloc(86);
    [0xd00dfeed, 86, 56, 80, 40, 17, 16, 0, 0xfffffff0, 24].forEach((v, i) => h.writeUInt32BE(v, i * 4));
    h.writeUInt32BE(1, 56);
    h.writeUInt32BE(2, 64);
    h.writeUInt32BE(9, 68);
    const huge = file('huge-strings.dtb', h);
    let r = await dt(['deps', huge]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${huge} (byte 12): strings block (offset 80, 4294967280 bytes) runs past totalsize 86`,
    );
    const N = 10_000;
    const words: number[] = [1, 0];
    for (let i = 0; i < N; i++) words.push(1, 0x6e000000);
    for (let i = 0; i <= N; i++) words.push(2);
    words.push(9);
    const st = Buffer.alloc(words.length * 4);
    words.forEach((w, i) => st.writeUInt32BE(w, i * 4));
    const hdr = Buffer.alloc(56);
    [0xd00dfeed, 56 + st.length, 56, 56 + st.length, 40, 17, 16, 0, 0, st.length].forEach((v, i) =>
      hdr.writeUInt32BE(v, i * 4),
    );
    const deep = file('deep.dtb', Buffer.concat([hdr, st]));
    r = await dt(['deps', deep]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^probelab: .*deep\.dtb \(byte \d+\): nodes nested more than 1024 deep \(limit for probelab's DTB reader\)$/,
    );
    // dtc itself recursing over those 10,000 levels runs out of stack: a clean error, not a trap.
    r = await dt(['decompile', deep]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${deep}: dtc stopped: out of stack (input nested too deeply for dtc's 8 MiB stack)`,
    );
    r = await dt(['deps', '/dev/zero']);
    expect(r.stderr.trim()).toBe('probelab: /dev/zero: not a regular file');
  });
});

describe('file systems', () => {
  const mounts: string[] = [];
  const tmpfs = (name: string, opts: string): string => {
    const d = join(tmp, name);
    mkdirSync(d, { recursive: true });
    // Root only (CI and these machines run as root); a real tmpfs, as a full or read-only disk is.
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', d]);
    mounts.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of mounts) execFileSync('umount', [d]);
  });

  it('a full disk: one line with the path and what to do; no temporary file left behind', async () => {
    const full = tmpfs('full', 'size=16k');
    const out = join(full, 'big.dtb');
    const dts = file('big.dts', `/dts-v1/;\n/ { p = [${'00 '.repeat(64 * 1024)}]; };\n`);
    const w = await runCli(['dt', 'compile', dts, '-o', out]);
    expect(w.code).toBe(2);
    expect(w.stderr.trim()).toBe(
      `probelab: cannot write ${out}: no space left on the device; free some space or choose another path`,
    );
    expect(readdirSync(full)).toEqual([]);
  });

  it('a read-only output directory: named as such, not as "ENOENT mkdir"', async () => {
    const ro = tmpfs('ro', 'ro,size=16k');
    const f = file('ro.yaml', qemuScenario('ro'));
    const r = await runCli(['boot', f], { PROBELAB_OUT: join(ro, 'out') });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: cannot create directory ${ro} (for ${join(ro, 'out', 'ro')}): read-only file system; set PROBELAB_OUT to a writable directory`,
    );
  });

  it('HOME="" does not put the download cache in the current directory', async () => {
    const cwd = mkdtempSync(join(tmp, 'cwd-'));
    const f = join(root, 'boards', 'qemu-virt', 'virtio-iommu-late.yaml');
    const r = await runCli(['predict', f], { HOME: '' }, undefined, cwd);
    expect(r.code).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
  });
});
