// `probelab predict`, `explain` and `sweep` on board scenarios (profile read from the kernel
// source), and their errors: bad fields with line:column, bad sweep arguments, no partial files.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const out = mkdtempSync(join(tmpdir(), 'board-cli-'));
const env = { PROBELAB_OUT: out };

describe('board scenarios on the command line', () => {
  it('predict prints the outcome and the hazards with their rules', async () => {
    const r = await runCli(['predict', 'boards/juno/ipmmu-claims-bus-ops.yaml'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/7ffc0000\.usb\s+platform\s+ehci-platform\s+-/);
    expect(r.stdout).toMatch(/foreign-bus-ops .*ipmmu-vmsa's ops/);
    expect(r.stdout).toMatch(/rule: drivers\/iommu\/iommu\.c:bus_set_iommu/);
  }, 300_000);

  it('explain walks one DECON through its timeout on the TM2e', async () => {
    const r = await runCli(
      ['explain', 'boards/exynos5433-tm2e/sysmmu-module-10s-iommus-optional.yaml', '13800000.decon'],
      env,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /13800000\.decon \(platform\): driver exynos5433-decon, iommu group -, ignored dependency true/,
    );
    expect(r.stdout).toMatch(/timeout-fired[\s\S]*ignored-dependency[\s\S]*bound exynos5433-decon/);
  }, 300_000);

  it('sweep: the grid over timeouts and load times, as a table and an SVG', async () => {
    const r = await runCli(
      [
        'sweep',
        'boards/exynos5433-tm2e/sysmmu-module-30s-iommus-optional.yaml',
        '--timeout',
        '-1,0,10,30',
        '--load',
        'exynos-iommu@5,20',
      ],
      env,
    );
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n');
    // -1: never times out; 0: gives up at the late initcall; 10: in time at 5 s, not at 20 s; 30: in time.
    expect(
      rows
        .find((l) => l.startsWith('5 s'))!
        .trim()
        .split(/\s+/)
        .slice(2),
    ).toEqual(['2/0/0', '0/2/0', '2/0/0', '2/0/0']);
    expect(
      rows
        .find((l) => l.startsWith('20 s'))!
        .trim()
        .split(/\s+/)
        .slice(2),
    ).toEqual(['2/0/0', '0/2/0', '0/2/0', '2/0/0']);
    const svg = readFileSync(join(out, 'tm2e-sysmmu-module-30s-iommus-optional', 'sweep.svg'), 'utf8');
    expect(svg.match(/<rect [^>]*fill="#3a9d5d"><title>/g)).toHaveLength(5);
    expect(svg.match(/<rect [^>]*fill="#e8a33d"><title>/g)).toHaveLength(3);
  }, 300_000);

  it('bad input: a field error with line:column, a bad sweep list, and no result file', async () => {
    const bad = join(out, 'bad.yaml');
    writeFileSync(
      bad,
      'name: bad\nboard: arm/juno.dts\nkernel:\n  source: "6.12"\nfaults:\n  - { device: x, result: crash }\ncapture: 10\n',
    );
    const r = await runCli(['predict', bad], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:6:\d+: field `faults\[0\]\.result`: expected defer \(-EPROBE_DEFER\) or error/);
    const s = await runCli(
      ['sweep', 'boards/juno/ipmmu-probe-time-ops.yaml', '--timeout', '1.5', '--load', 'arm_smmu@3'],
      env,
    );
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--timeout: expected whole numbers of seconds/);
    expect(existsSync(join(out, 'juno-ipmmu-probe-time-ops', 'sweep.svg'))).toBe(false);
    const noDev = join(out, 'nodev.yaml');
    writeFileSync(
      noDev,
      'name: nodev\nboard: arm/juno.dts\nkernel:\n  source: "6.12"\nfaults:\n  - { device: 1234.nothing, result: error }\ncapture: 10\n',
    );
    const n = await runCli(['predict', noDev], env);
    expect(n.code).toBe(2);
    expect(n.stderr).toMatch(/field `faults\[0\]\.device`: expected a device of this board; 1234\.nothing is not one/);
    expect(n.stderr).not.toMatch(/\n\s+at /);
  }, 300_000);
});
