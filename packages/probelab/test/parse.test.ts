// `probelab parse` on real public boot logs (test/fixtures/boot-logs/, sources in its README):
// each log against an expectation made by hand from reading it, device by device; then the
// record forms (log-lines.ts) one by one on short excerpts of the same logs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logLines } from '../dist/parse/log-lines.js';
import { parseLogFile } from '../dist/parse/command.js';
import { root, runCli } from './cli.js';

const dir = join(root, 'packages/probelab/test/fixtures/boot-logs');

/** id, bus, driver, iommu group, ignored dependency, deferred at the end[, reason][, failures "driver:errno"]. */
type Row = [string, string | null, string | null, number | null, boolean | null, boolean | null, string?, string[]?];
interface Expect {
  kernel: string | null;
  machine: string | null;
  devices: Row[];
}

const logs: Record<string, Expect> = {
  // Rock64 (RK3328), a 4.4 vendor kernel: IOMMU groups in the 4.x form, no driver named for the masters.
  'rock64-4.4.190.log': {
    kernel: '4.4.190-1233-rockchip-ayufan-gd3f1be0ed310',
    machine: null,
    devices: [
      ['ff330000.h265e', null, null, 3, null, null],
      ['ff340000.vepu', null, null, 4, null, null],
      ['ff350000.vpu_service', null, null, 0, null, null],
      ['ff350800.iommu', null, 'rk_iommu', null, null, null],
      ['ff351000.avsd', null, null, 1, null, null],
      ['ff360000.rkvdec', null, null, 2, null, null],
      ['ff360480.iommu', null, 'rk_iommu', null, null, null],
      ['ff370000.vop', null, null, 5, null, null],
      ['ff3a0000.iep', null, null, 6, null, null],
    ],
  },
  // Juno r2, next-20200327: the 5.6-era dev_WARN form, the device named by its bus (amba).
  'juno-r2-next-20200327.log': {
    kernel: null,
    machine: 'ARM Juno development board (r2)',
    devices: [['20010000.etf', 'amba', null, null, true, null]],
  },
  // Rock Pi 4B (RK3399), a 6.x LAVA boot without PM domains: every IOMMU gives up at the timeout.
  'rock-pi-4b-ledge-6.x.log': {
    kernel: null,
    machine: null,
    devices: [
      ['fe300000.ethernet', null, null, null, true, false, undefined, ['rk_gmac-dwmac:-110']],
      ['fe320000.mmc', null, null, null, true, false, undefined, ['dwmmc_rockchip:-110']],
      ['fe330000.mmc', null, null, null, true, false, undefined, ['sdhci-arasan:-110']],
      ['fe800000.usb', 'platform', null, null, null, true, 'platform: wait for supplier /phy@ff7c0000/usb3-port'],
      ['fe900000.usb', 'platform', null, null, null, true, 'platform: wait for supplier /phy@ff800000/usb3-port'],
      ['ff1a0000.serial', null, 'dw-apb-uart', null, null, false],
      ['ff1d0000.spi', 'platform', null, null, null, true, '(reason unknown)'],
      ['ff650800.iommu', null, null, null, true, false, undefined, ['rk_iommu:-110']],
      ['ff660480.iommu', null, null, null, true, false, undefined, ['rk_iommu:-110']],
      ['ff7c0000.phy', null, null, null, true, false, undefined, ['rockchip-typec-phy:-110']],
      ['ff800000.phy', null, null, null, true, false, undefined, ['rockchip-typec-phy:-110']],
      ['ff8f3f00.iommu', null, null, null, true, false, undefined, ['rk_iommu:-110']],
      ['ff903f00.iommu', null, null, null, true, false, undefined, ['rk_iommu:-110']],
      ['ff914000.iommu', null, null, null, true, false, undefined, ['rk_iommu:-110']],
      ['ff924000.iommu', null, null, null, true, false, undefined, ['rk_iommu:-110']],
      ['hdmi-sound', 'platform', null, null, null, true, 'asoc-simple-card: parse error'],
    ],
  },
  // BDY G98 (RK3588), 6.18 serial capture: SMMUv3 and rk_iommu masters grouped before any driver binds.
  'bdy-g98-rk3588-6.18.18.log': {
    kernel: '6.18.18-trim',
    machine: 'BDY G98',
    devices: [
      ['0003:30:00.0', 'pci', 'pcieport', 18, null, null],
      ['0003:31:00.0', 'pci', null, 18, null, null],
      ['fc900000.iommu', null, 'arm-smmu-v3', null, null, null],
      ['fd8d8000.power-management:power-controller', null, 'rockchip-pm-domain', null, null, null],
      ...(
        [
          ['fdab0000.npu', 0],
          ['fdac0000.npu', 1],
          ['fdad0000.npu', 2],
          ['fdb50000.video-codec', 3],
          ['fdb50400.vdpu', 3],
          ['fdb60000.rga', 4],
          ['fdb70000.rga', 5],
          ['fdb90000.jpegd', 14],
          ['fdba0000.jpege-core', 6],
          ['fdba0000.video-codec', 6],
          ['fdba4000.jpege-core', 7],
          ['fdba4000.video-codec', 7],
          ['fdba8000.jpege-core', 8],
          ['fdba8000.video-codec', 8],
          ['fdbac000.jpege-core', 9],
          ['fdbac000.video-codec', 9],
          ['fdbd0000.rkvenc-core', 15],
          ['fdbe0000.rkvenc-core', 16],
          ['fdc38000.video-codec', 10],
          ['fdc38100.rkvdec-core', 10],
          ['fdc40000.video-codec', 11],
          ['fdc48100.rkvdec-core', 17],
          ['fdc70000.av1d', 12],
        ] as Array<[string, number]>
      ).map(([id, g]): Row => [id, 'platform', null, g, null, null]),
      ['fdca0000.iommu', null, 'rk_iommu', null, null, null],
      ['fdd90000.vop', 'platform', null, 13, null, null],
    ],
  },
  // i.MX6SX SDB in KernelCI's LAVA lab, 6.3-next: the kernel's record glued to the shell prompt.
  'imx6sx-sdb-kernelci-6.3.log': {
    kernel: null,
    machine: null,
    devices: [['1800000.gpu', null, null, null, true, null, undefined, ['etnaviv-gpu:-110']]],
  },
  // MSM8939: fw_devlink's reasons in the timeout's dump, a cycle through a remoteproc.
  'msm8939-apcs-cycle-6.x.log': {
    kernel: null,
    machine: null,
    devices: [
      ['b011000.mailbox', 'platform', null, null, null, true, 'platform: supplier b016000.clock not ready'],
      [
        'b016000.clock',
        'platform',
        null,
        null,
        null,
        true,
        'platform: wait for supplier /remoteproc/smd-edge/rpm-requests/clock-controller',
      ],
      ['remoteproc', 'platform', null, null, null, true, 'qcom-rpm-proc: Failed to register smd-edge'],
    ],
  },
  // SC7180 Chromebook: grouped, then the probe failed (the "%s: probe of %s failed" form).
  'sc7180-venus-6.x.log': {
    kernel: null,
    machine: null,
    devices: [['aa00000.video-codec', null, null, 11, null, null, undefined, ['qcom-venus:-110']]],
  },
  // AM62x with initcall_debug: two deferrals, then the dump with no reason recorded.
  'am62x-ti-sysc-6.x.log': {
    kernel: null,
    machine: null,
    devices: [['2b300050.target-module', 'platform', null, null, null, true, '(reason unknown)']],
  },
  // R-Car (5.x): the "assuming no driver" form, then the netdev_printk line of the bound ravb.
  'r-car-ravb-5.x.log': {
    kernel: null,
    machine: null,
    devices: [['e6800000.ethernet', null, 'ravb', null, true, null]],
  },
  // HiSilicon D05 (5.3, ACPI): groups of PCI functions and ACPI platform devices.
  'd05-hisi-5.3.log': {
    kernel: null,
    machine: null,
    devices: [
      ['0002:f8:00.0', 'pci', 'pcieport', 5, null, null],
      ['0004:88:00.0', 'pci', 'pcieport', 6, null, null],
      ['0005:78:00.0', 'pci', 'pcieport', 7, null, null],
      ['000a:10:00.0', 'pci', 'pcieport', 8, null, null],
      ['000a:11:00.0', 'pci', 'mlx5_core', 2, null, null],
      ['000a:11:00.1', 'pci', 'mlx5_core', 3, null, null],
      ['HISI00B2:00', null, 'hns_dsaf', 1, null, null],
      ['HISI0162:01', null, 'hisi_sas_v2_hw', 0, null, null],
      ['PNP0D20:00', null, 'ehci-platform', 4, null, null],
    ],
  },
};

describe('probelab parse on real boot logs', () => {
  for (const [file, want] of Object.entries(logs)) {
    it(`${file}: every device as the log shows it`, () => {
      const o = parseLogFile(join(dir, file));
      expect(o.kernel).toBe(want.kernel);
      expect(o.machine).toBe(want.machine);
      const got = o.devices.map((d): Row => {
        const row: Row = [d.id, d.bus, d.driver, d.iommuGroup, d.ignoredDependency, d.deferred];
        if (d.deferredReason !== undefined || d.probeFailures) row.push(d.deferredReason);
        if (d.probeFailures) row.push(d.probeFailures.map((f) => `${f.driver}:${f.error}`));
        return row;
      });
      expect(got).toEqual(want.devices);
      // Every field the log does not show is null with evidence saying why; every other has the line.
      for (const d of o.devices) {
        for (const k of ['bus', 'driver', 'iommuGroup', 'ignoredDependency', 'deferred'] as const) {
          expect(d.evidence[k].length, `${d.id} ${k}`).toBeGreaterThan(10);
          if (d[k] !== null && k !== 'bus' && !(k === 'deferred' && d[k] === false))
            expect(d.evidence[k], `${d.id} ${k}`).toMatch(/line \d+|bound at/);
        }
      }
    });
  }

  it('the logs span at least four boards and three kernel generations', () => {
    expect(Object.keys(logs).length).toBeGreaterThanOrEqual(8);
    const generations = new Set(Object.keys(logs).map((f) => /-(\d)\.[\dx]/.exec(f)?.[1] ?? /next-2020/.exec(f)?.[0]));
    expect(generations).toEqual(new Set(['4', '5', '6', 'next-2020']));
  });

  it('the CLI prints the table with ? for what the log cannot tell, and --json the evidence', async () => {
    const f = join(dir, 'rock-pi-4b-ledge-6.x.log');
    const t = await runCli(['parse', f]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(
      /^ {2}fe800000\.usb +platform +\? +\? +\? +true +deferred: platform: wait for supplier \/phy@ff7c0000\/usb3-port$/m,
    );
    const j = await runCli(['parse', f, '--json']);
    const o = JSON.parse(j.stdout);
    const gmac = o.devices.find((d: { id: string }) => d.id === 'fe300000.ethernet');
    expect(gmac.evidence.driver).toBe(
      '"rk_gmac-dwmac fe300000.ethernet: probe with driver rk_gmac-dwmac failed with error -110" at line 10: the probe failed',
    );
    expect(gmac.evidence.deferred).toMatch(/^not in the deferred-probe dump at line 29/);
  });

  it('bad input: a missing file, a directory, an unknown flag — one line, exit 2', async () => {
    const r = await runCli(['parse', join(dir, 'no-such.log')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no-such\.log/);
    const d = await runCli(['parse', dir]);
    expect(d.code).toBe(2);
    expect(d.stderr.trim().split('\n')).toHaveLength(1);
    const u = await runCli(['parse', '--lines', join(dir, 'd05-hisi-5.3.log')]);
    expect(u.stderr.trim()).toBe(
      'probelab: parse: unknown option --lines (usage: probelab parse LOG [--require-translation --board BOARD-SCENARIO] [--json])',
    );
  });
});

describe('boot-log record forms (log-lines.ts)', () => {
  const one = (line: string) => logLines(`${line}\n`, 'x').records[0]!;
  it('[time] text, and <level>[time] text (the level is the low three bits)', () => {
    expect(one('[    1.290781] platform fdab0000.npu: Adding to iommu group 0')).toEqual({
      line: 1,
      t: 1.290781,
      level: null,
      text: 'platform fdab0000.npu: Adding to iommu group 0',
    });
    expect(one('<4>[   42.185516] etnaviv-gpu: probe of 1800000.gpu failed with error -110')).toMatchObject({
      t: 42.185516,
      level: 4,
    });
    expect(one('<12>[   42.185516] x')).toMatchObject({ level: 4 });
  });
  it('KernelCI text timestamps, and a record glued after a shell prompt', () => {
    expect(
      one(
        '    2023-04-27T14:18:04.141123  / # /lava-1209979/bin<4>[   42.177792] etnaviv-gpu 1800000.gpu: deferred probe timeout, ignoring dependency',
      ),
    ).toMatchObject({
      t: 42.177792,
      level: 4,
      text: 'etnaviv-gpu 1800000.gpu: deferred probe timeout, ignoring dependency',
    });
  });
  it('mail quoting at any depth, and lines without timestamps', () => {
    expect(
      one(
        '> > [   13.296257] platform b011000.mailbox: deferred probe pending: platform: supplier b016000.clock not ready',
      ),
    ).toMatchObject({ t: 13.296257 });
    expect(one('> rk_iommu ff650800.iommu: deferred probe timeout, ignoring dependency')).toEqual({
      line: 1,
      t: null,
      level: null,
      text: 'rk_iommu ff650800.iommu: deferred probe timeout, ignoring dependency',
    });
  });
  it('CONFIG_PRINTK_CALLER ids and dmesg -T wall times', () => {
    expect(one('[    0.000000][    T0] Booting Linux on physical CPU 0x0')).toMatchObject({
      t: 0,
      text: 'Booting Linux on physical CPU 0x0',
    });
    expect(
      one('[Fri Mar 27 10:15:01 2020] amba 20010000.etf: deferred probe timeout, ignoring dependency'),
    ).toMatchObject({ t: null, text: 'amba 20010000.etf: deferred probe timeout, ignoring dependency' });
  });
  it("LAVA's output.yaml: the target's lines only", () => {
    const yaml = [
      '- {"dt": "2023-04-27T14:18:04.141123", "lvl": "info", "msg": "lava-test-shell: Wait for prompt"}',
      '- {"dt": "2023-04-27T14:18:04.141382", "lvl": "target", "msg": "<4>[   42.185516] etnaviv-gpu: probe of 1800000.gpu failed with error -110"}',
    ].join('\n');
    const l = logLines(yaml, 'output.yaml');
    expect(l.format).toBe('lava');
    expect(l.records).toEqual([
      { line: 1, t: 42.185516, level: 4, text: 'etnaviv-gpu: probe of 1800000.gpu failed with error -110' },
    ]);
  });
  it('a 4.x group line and a 6.x group line read the same', () => {
    const raw = readFileSync(join(dir, 'rock64-4.4.190.log'), 'utf8');
    expect(raw).toContain('[    1.520726] iommu: Adding device ff350000.vpu_service to group 0');
    const o = parseLogFile(join(dir, 'rock64-4.4.190.log'));
    expect(o.events.find((e) => e.device === 'ff350000.vpu_service')).toMatchObject({
      kind: 'iommu-group',
      value: 0,
      t: 1.520726,
    });
  });
});

describe('probelab check SCENARIO --log LOG: a prediction against a real log, on what the log shows', () => {
  const board = join(root, 'packages/probelab/test/fixtures/boards/rock-pi-4b-no-pm-domains.yaml');
  it('compares each field the log tells and nothing else; a failed probe counts as "no driver"', async () => {
    const { compareWithLog } = await import('../dist/parse/log-compare.js');
    const log = parseLogFile(join(dir, 'rock-pi-4b-ledge-6.x.log'));
    const dev = (
      id: string,
      o: Partial<{ driver: string | null; iommuGroup: number | null; ignoredDependency: boolean; deferred: boolean }>,
    ) => ({ id, bus: 'platform', driver: null, iommuGroup: null, ignoredDependency: false, deferred: false, ...o });
    const c = compareWithLog(
      {
        devices: [
          dev('fe300000.ethernet', { driver: 'rk_gmac-dwmac', ignoredDependency: true }),
          dev('fe800000.usb', { deferred: true }),
          dev('ff1d0000.spi', { driver: 'rockchip-spi' }),
          dev('ff1a0000.serial', { driver: 'dw-apb-uart', iommuGroup: 3 }),
        ],
        events: [],
      },
      log,
    );
    // ethernet: driver (none after -110) differs, ignored agrees, deferred agrees; usb: deferred
    // agrees; spi: deferred differs (its driver the log does not show); serial: driver, deferred.
    expect(
      c.mismatches.map(
        (m: { device: string; field: string; predicted: string; log: string }) =>
          `${m.device} ${m.field} ${m.predicted}/${m.log}`,
      ),
    ).toEqual([
      'fe300000.ethernet driver rk_gmac-dwmac/none (rk_gmac-dwmac failed -110)',
      'ff1d0000.spi deferred false/true',
    ]);
    expect(c.compared).toBe(7);
    expect(c.notPredicted).toHaveLength(12);
  });

  it('the CLI on the Rock Pi 4B board scenario: the fields the log shows, each difference with its line', async () => {
    const r = await runCli(['check', board, '--log', join(dir, 'rock-pi-4b-ledge-6.x.log'), '--json']);
    expect([0, 1]).toContain(r.code);
    const o = JSON.parse(r.stdout);
    expect(o.compared).toBeGreaterThan(20);
    expect(o.agree).toBe(r.code === 0);
    for (const m of o.mismatches) expect(m.evidence).toMatch(/at line \d+/);
    // The log shows no IOMMU group: no group is compared.
    expect(o.mismatches.filter((m: { field: string }) => m.field === 'iommuGroup')).toEqual([]);
  }, 180_000);

  it('a log of another board: one line, exit 2', async () => {
    const r = await runCli(['check', board, '--log', join(dir, 'r-car-ravb-5.x.log')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${join(dir, 'r-car-ravb-5.x.log')}: none of the 1 devices the log shows is in rock-pi-4b-no-pm-domains's prediction with a field the log tells: is it a log of this board?`,
    );
  }, 180_000);
});

describe('the DMA-protection policy on a real log (check --log --require-translation)', () => {
  it('masters the log shows in a group pass; bound without one, or deferred, fail with their lines', async () => {
    const { logTranslationFailures } = await import('../dist/parse/log-compare.js');
    const rk3588 = parseLogFile(join(dir, 'bdy-g98-rk3588-6.18.18.log'));
    expect(logTranslationFailures(['fdab0000.npu', 'fdd90000.vop', '0003:31:00.0', 'no-such.master'], rk3588)).toEqual(
      [],
    );
    const rcar = parseLogFile(join(dir, 'r-car-ravb-5.x.log'));
    const f = logTranslationFailures(['e6800000.ethernet'], rcar);
    expect(f.map((x: { device: string; state: string }) => [x.device, x.state])).toEqual([
      ['e6800000.ethernet', 'bypassed'],
    ]);
    expect(f[0].rule).toMatch(
      /no "Adding to iommu group" line .* after "ravb e6800000.ethernet: ignoring dependency for device, assuming no driver" at line 1/,
    );
    const pi = parseLogFile(join(dir, 'rock-pi-4b-ledge-6.x.log'));
    expect(
      logTranslationFailures(['fe800000.usb', 'fe300000.ethernet'], pi).map((x: { device: string; state: string }) => [
        x.device,
        x.state,
      ]),
    ).toEqual([['fe800000.usb', 'deferred']]);
  });

  it('the R-Car log against the Salvator-XS board: ravb bound bypassed in the log, translated in the prediction: exit 1', async () => {
    const r = await runCli([
      'check',
      join(root, 'boards/rcar-salvator-xs/ipmmu-builtin.yaml'),
      '--log',
      join(dir, 'r-car-ravb-5.x.log'),
      '--require-translation',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const o = JSON.parse(r.stdout);
    expect(o.requireTranslation.failed).toBe(true);
    expect(o.requireTranslation.real.map((x: { device: string; state: string }) => [x.device, x.state])).toEqual([
      ['e6800000.ethernet', 'bypassed'],
    ]);
    expect(o.requireTranslation.predicted.filter((x: { device: string }) => x.device === 'e6800000.ethernet')).toEqual(
      [],
    );
  }, 180_000);

  it("parse --require-translation --board: the log alone judged against the board's masters", async () => {
    const fail = await runCli([
      'parse',
      join(dir, 'r-car-ravb-5.x.log'),
      '--require-translation',
      '--board',
      join(root, 'boards/rcar-salvator-xs/ipmmu-builtin.yaml'),
    ]);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(
      /^DMA protection \(--require-translation\): FAILED, IOMMU masters not translated\n {2}e6800000\.ethernet +bypassed +bound/m,
    );
    const pass = await runCli([
      'parse',
      join(dir, 'rock-pi-4b-ledge-6.x.log'),
      '--require-translation',
      '--board',
      join(root, 'packages/probelab/test/fixtures/boards/rock-pi-4b-no-pm-domains.yaml'),
    ]);
    expect(pass.code).toBe(0);
    expect(pass.stdout).toMatch(
      /^DMA protection \(--require-translation\): the log shows \d+ of the board's \d+ IOMMU master\(s\), none bound untranslated or deferred$/m,
    );
    const alone = await runCli(['parse', join(dir, 'r-car-ravb-5.x.log'), '--require-translation']);
    expect(alone.code).toBe(2);
    expect(alone.stderr.trim()).toBe(
      "probelab: parse: --require-translation and --board go together: the board's tree says which devices are IOMMU masters (usage: probelab parse LOG [--require-translation --board BOARD-SCENARIO] [--json])",
    );
  }, 180_000);
});
