// Board scenario files: fields, defaults, timing inline or from a calibration file, and errors
// that name the file, line:column and field.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultBoardTiming, parseBoardScenario } from '@probelab/sim-core';

const dir = mkdtempSync(join(tmpdir(), 'board-scenario-'));
const file = join(dir, 's.yaml');
const err = (text: string): string => {
  try {
    parseBoardScenario(text, file);
  } catch (e) {
    return String(e);
  }
  return 'no error';
};
const head = 'name: s\nboard: arm/juno.dts\nkernel:\n  source: "6.12"\n';

describe('board scenarios', () => {
  it('defaults, relative paths resolved against the scenario, faults and unloads', () => {
    const s = parseBoardScenario(
      `${head}  config: x.config\n  patches: [p.patch]\n  busOpsAtInit: [ipmmu-vmsa]\nmodules: [{ name: arm_smmu, at: 4 }]\nunload: [{ name: arm_smmu, at: 9 }]\nfaults: [{ device: 7ffc0000.usb, result: defer }]\ncapture: 20\n`,
      file,
    );
    expect(s.kernel).toEqual({
      source: '6.12',
      config: join(dir, 'x.config'),
      patches: [join(dir, 'p.patch')],
      iommuSetup: 'driver-bind',
      busOpsAtInit: ['ipmmu-vmsa'],
    });
    expect(s.faults).toEqual([{ device: '7ffc0000.usb', result: 'defer', times: 1 }]);
    expect(s.unload).toEqual([{ name: 'arm_smmu', at: 9 }]);
    expect(s.timing).toEqual(defaultBoardTiming);
  });

  it('timing from a calibration file, its errors pointing into that file', () => {
    writeFileSync(join(dir, 'phone.yaml'), 'initStart: 6.5\nmoduleLoadLatency:\n  exynos_iommu: 0.08\n');
    const s = parseBoardScenario(`${head}timing: phone.yaml\ncapture: 20\n`, file);
    expect(s.timing).toMatchObject({
      initStart: 6.5,
      moduleLoadLatency: { exynos_iommu: 0.08 },
      initcallStep: defaultBoardTiming.initcallStep,
    });
    writeFileSync(join(dir, 'bad.yaml'), 'initStart: 6.5\nmoduleLoadLatency:\n  exynos_iommu: soon\n');
    expect(err(`${head}timing: bad.yaml\ncapture: 20\n`)).toMatch(
      /bad\.yaml:3:\d+: field `moduleLoadLatency\.exynos_iommu`: expected a number of seconds >= 0/,
    );
    expect(err(`${head}timing: none.yaml\ncapture: 20\n`)).toMatch(
      /s\.yaml:5:\d+: field `timing`: expected a timing mapping or a readable calibration file \(.*none\.yaml: ENOENT\)/,
    );
  });

  it('bad fields: line:column, the field and what was expected', () => {
    expect(err(`${head}  iommuSetup: early\ncapture: 20\n`)).toMatch(
      /s\.yaml:5:\d+: field `kernel\.iommuSetup`: expected driver-bind or device-add/,
    );
    expect(err(`${head}modules: [{ name: arm_smmu, at: 30 }]\ncapture: 20\n`)).toMatch(
      /field `modules\[0\]\.at`: expected a number of seconds >= 0 and before capture \(20 s\)/,
    );
    expect(err(`${head}faults: [{ device: x, result: defer, times: 0 }]\ncapture: 20\n`)).toMatch(
      /field `faults\[0\]\.times`: expected a whole number of probes >= 1/,
    );
    expect(err('name: s\nboard: juno.dtb\nkernel: { source: "6.12" }\ncapture: 1\n')).toMatch(
      /s\.yaml:2:\d+: field `board`: expected a \.dts path/,
    );
    expect(err(`${head}capture: 20\nspeed: 2\n`)).toMatch(
      /s\.yaml:6:1: field `speed`: expected one of name, board, kernel/,
    );
  });
});
