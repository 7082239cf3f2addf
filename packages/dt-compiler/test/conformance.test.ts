// A fixed sample of the kernel's own arm64 boards, compiled both ways: every DTB byte-identical.
import { describe, expect, it } from 'vitest';
import { kernelTree, runConformance, sample } from '../src/tools/conformance.js';
import { listKernelDts } from '../src/tools/kernel-dts.js';

describe("conformance with the kernel pipeline (host cpp + the tree's dtc)", () => {
  it('60 boards across vendors: all byte-identical', () => {
    const tree = kernelTree();
    const files = sample(listKernelDts(tree), 60);
    const vendors = new Set(files.map((f) => f.file.split('/dts/')[1]!.split('/')[0]));
    expect(vendors.size).toBeGreaterThanOrEqual(15);
    const r = runConformance(tree, files);
    expect(r.mismatches).toEqual([]);
    expect(r.identical).toBe(60);
  }, 300_000);
});
