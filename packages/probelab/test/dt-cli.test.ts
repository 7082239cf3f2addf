// `probelab dt` on the kernel's own Exynos5433 TM2e board (seed 000), and the simulator reading
// that board through dt-compiler.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compatible,
  compileDtsFile,
  listKernelDts,
  provisionKernelTree,
  readDtb,
  readTreeFile,
} from '@probelab/dt-compiler';
import { buildBoard } from '@probelab/sim-core';
import { runCli } from './cli.js';

const tree = provisionKernelTree();
const tm2e = join(tree, 'arch/arm64/boot/dts/exynos/exynos5433-tm2e.dts');
const tmp = mkdtempSync(join(tmpdir(), 'dt-cli-'));

describe('probelab dt', () => {
  it('compile writes the DTB the kernel build would, decompile reads it back', async () => {
    const out = join(tmp, 'tm2e.dtb');
    const r = await runCli(['dt', 'compile', tm2e, '-o', out]);
    expect(r.code).toBe(0);
    const t = readDtb(new Uint8Array(readFileSync(out)));
    expect(compatible(t.root)).toEqual(['samsung,tm2e', 'samsung,exynos5433']);
    const d = await runCli(['dt', 'decompile', out]);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/compatible = "samsung,tm2e", "samsung,exynos5433";/);
  }, 60_000);

  it('deps lists the SYSMMU links of the display controller, marked optional', async () => {
    const r = await runCli(['dt', 'deps', tm2e, '--format', 'json']);
    expect(r.code).toBe(0);
    const links = JSON.parse(r.stdout) as Array<{
      consumer: string;
      supplier: string;
      property: string;
      optional: boolean;
    }>;
    const decon = links.filter((l) => l.consumer === '/soc@0/decon@13800000' && l.property === 'iommus');
    expect(decon.map((l) => l.supplier)).toEqual(['/soc@0/sysmmu@13a00000', '/soc@0/sysmmu@13a10000']);
    expect(decon.every((l) => l.optional)).toBe(true);
    expect(links.some((l) => l.property === 'clocks' && !l.optional)).toBe(true);
    const dot = await runCli(['dt', 'deps', tm2e, '--format', 'dot']);
    expect(dot.stdout).toMatch(/^digraph fw_devlink \{/);
    expect(dot.stdout).toMatch(
      /"\/soc@0\/decon@13800000" -> "\/soc@0\/sysmmu@13a00000" \[label="iommus \(optional\)", style=dashed\]/,
    );
  }, 60_000);

  it('bad input: a clear message with file:line:column, exit 2, no output file', async () => {
    const bad = join(tmp, 'bad.dts');
    writeFileSync(bad, '/dts-v1/;\n#include "nope.dtsi"\n/ { };\n');
    const r = await runCli(['dt', 'compile', bad, '-o', join(tmp, 'bad.dtb')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`probelab: ${bad}:2:10: nope.dtsi: No such file or directory\n`);
    expect(existsSync(join(tmp, 'bad.dtb'))).toBe(false);
    const f = await runCli(['dt', 'deps', tm2e, '--format', 'svg']);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/--format: expected text, json or dot/);
  }, 60_000);
});

describe('the flags the kernel build gives each board', () => {
  it('a base DTB that an overlay applies onto gets -@, so its labels are in /__symbols__', () => {
    const base = listKernelDts(tree).find((d) => d.flags.includes('-@'))!;
    const t = readDtb(compileDtsFile(base.file, { kernelTree: tree }).dtb);
    expect(t.byPath('/__symbols__')).toBeDefined();
    const plain = listKernelDts(tree).find((d) => d.flags.length === 0)!;
    expect(readDtb(compileDtsFile(plain.file, { kernelTree: tree }).dtb).byPath('/__symbols__')).toBeUndefined();
  }, 60_000);
});

describe('the simulator reads kernel boards through dt-compiler', () => {
  it('TM2e: of_platform_populate devices, with the masters and their SYSMMUs', () => {
    const t = readTreeFile(tm2e);
    const board = buildBoard(t, [], new Set(['arm,gic-400', 'fixed-clock']));
    const ids = board.platform.map((p) => p.id);
    expect(ids).toContain('13800000.decon');
    expect(ids.filter((i) => i.endsWith('.sysmmu')).length).toBeGreaterThanOrEqual(10);
    expect(board.platform.find((p) => p.id === '13800000.decon')!.node.properties.has('iommus')).toBe(true);
  }, 60_000);
});

describe('probelab explain', () => {
  it('on a qemu-virt scenario: the chain for a master that gave up on its IOMMU', async () => {
    const r = await runCli(['explain', 'boards/qemu-virt/virtio-iommu-late.yaml', '0000:00:02.0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/its DMA goes through \/pcie@10000000\/virtio_iommu@1,0/);
    expect(r.stdout).toMatch(
      /timeout-fired[\s\S]*ignored-dependency virtio-pci[\s\S]*bound virtio_iommu[\s\S]*bound-before-iommu/,
    );
    const bad = await runCli(['explain', 'boards/qemu-virt/virtio-iommu-late.yaml', 'nope']);
    expect(bad.code).toBe(2);
  }, 120_000);
});
