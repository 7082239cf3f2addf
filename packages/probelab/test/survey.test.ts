// `probelab survey` (src/survey/): boards of the 6.12 tree simulated as they boot, on worker
// threads; a patch's changes per board; resuming; the report in headless Chromium; JUnit; bad input.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globRegExp } from '../dist/survey/board-glob.js';
import { root, runCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'probelab-survey-'));
const rows = (dir: string) =>
  readFileSync(join(dir, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const config = join(root, 'boards/survey/iommu-modules.config');
const t30 = join(root, 'qemu/patches/deferred-probe-timeout-30.patch');

describe('probelab survey', () => {
  it('GLOB: * within a directory, ** across, ? one character', () => {
    expect(globRegExp('rockchip/*').test('rockchip/rk3399-rock-pi-4b.dts')).toBe(true);
    expect(globRegExp('*').test('rockchip/rk3399-rock-pi-4b.dts')).toBe(false);
    expect(globRegExp('**/rk3399-*.dts').test('rockchip/rk3399-rock-pi-4b.dts')).toBe(true);
    expect(globRegExp('qcom/sc7180-trogdor-?-*.dts').test('qcom/sc7180-trogdor-pompom-r2-lte.dts')).toBe(false);
    expect(globRegExp('arm/juno-r?.dts').test('arm/juno-r1.dts')).toBe(true);
  });

  const out = join(tmp, 'juno');
  it('Juno boards with arm-smmu as a module, baseline against the 30 s timeout: the USB masters the 10 s timeout left bypassed are translated', async () => {
    const r = await runCli([
      'survey',
      '--boards',
      'arm/juno*.dts',
      '--config',
      config,
      '--patch',
      t30,
      '--out',
      out,
      '--json',
    ]);
    expect(r.code).toBe(1); // the patch changed boards
    const o = JSON.parse(r.stdout);
    expect(o.boards).toBe(6);
    const juno = rows(out).filter((x) => x.board === 'arm/juno-r1-scmi.dts');
    expect(juno.map((x) => x.tree).sort()).toEqual(['baseline', 'patched']);
    const state = (tree: string, id: string) =>
      juno.find((x) => x.tree === tree).result.masters.find((m: { id: string }) => m.id === id)?.state;
    // Coldplug loads arm_smmu at 13 s, after the 10 s timeout gave up on the SMMUs: bypassed; the
    // 30 s timeout is still waiting then: translated.
    expect([state('baseline', '7ffb0000.usb'), state('patched', '7ffb0000.usb')]).toEqual(['bypassed', 'translated']);
    expect(juno.find((x) => x.tree === 'baseline').result.modules).toContain('arm_smmu');
    const change = o.changes.find((c: { board: string }) => c.board === 'arm/juno-r1-scmi.dts');
    expect(change.devices).toContainEqual({ id: '7ffb0000.usb', before: 'bypassed', after: 'translated' });
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(6);
    expect(junit).toMatch(
      /<testcase classname="survey.arm" name="arm\/juno-r1-scmi.dts">\n {6}<failure message="the patch changes this board's outcome">/,
    );
  }, 300_000);

  it('resumes: a second run reads every board from results.jsonl; a torn last row (a run killed mid-write) is cut off', async () => {
    const before = rows(out).length;
    const again = await runCli([
      'survey',
      '--boards',
      'arm/juno*.dts',
      '--config',
      config,
      '--patch',
      t30,
      '--out',
      out,
    ]);
    expect(again.stderr).toMatch(/survey baseline: 6 boards \(6 already in/);
    expect(rows(out)).toHaveLength(before);
    appendFileSync(join(out, 'results.jsonl'), '{"tree":"baseline","key":"x","bo');
    const torn = await runCli([
      'survey',
      '--boards',
      'arm/juno*.dts',
      '--config',
      config,
      '--patch',
      t30,
      '--out',
      out,
    ]);
    expect(torn.code).toBe(1);
    expect(rows(out)).toHaveLength(before);
  }, 300_000);

  it('the report renders in headless Chromium: the overview per vendor, a board opened from its #b- link', () => {
    const html = join(out, 'report.html');
    const dom = execFileSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--virtual-time-budget=3000',
        '--dump-dom',
        `file://${html}#b-arm/juno-r1-scmi.dts`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    ).toString();
    expect(dom).toMatch(/<table id="overview">/);
    expect(dom).toMatch(/<tr><td><a href="#v-arm">arm<\/a><\/td><td class="n">6<\/td>/);
    expect(dom).toMatch(/<details class="board has-change" id="b-arm\/juno-r1-scmi.dts" open="">/);
    expect(dom).toMatch(/changed by the patch: [^<]*7ffb0000\.usb bypassed → translated/);
  }, 120_000);

  it('bad input: one line, exit 2, nothing run', async () => {
    const cases: Array<[string[], string]> = [
      [
        ['--boards', 'nosuchvendor/*'],
        "probelab: survey: --boards nosuchvendor/* matches none of the tree's arm64 boards (e.g. 'rockchip/*', 'qcom/sc7180-*.dts')",
      ],
      [
        ['--userspace', 'udev@13'],
        'probelab: survey: --userspace: expected coldplug@SECONDS (0 to 3600), e.g. coldplug@13',
      ],
      [['--jobs', '0'], 'probelab: survey: --jobs: expected a whole number from 1 to 64'],
      [['--patch', join(tmp, 'none.patch')], `probelab: survey: --patch ${join(tmp, 'none.patch')}: no such file`],
      [['--frobnicate'], 'probelab: survey: unknown option --frobnicate'],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(['survey', ...args, '--out', join(tmp, 'bad')]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr.trim().startsWith(msg), `${args.join(' ')}: ${r.stderr}`).toBe(true);
    }
  }, 300_000);

  it('--require-translation: boards whose masters end untranslated are JUnit failures, exit 1', async () => {
    const o2 = join(tmp, 'policy');
    const r = await runCli([
      'survey',
      '--boards',
      'arm/juno*.dts',
      '--config',
      config,
      '--require-translation',
      '--out',
      o2,
      '--json',
    ]);
    expect(r.code).toBe(1);
    const o = JSON.parse(r.stdout);
    expect(o.untranslatedBoards.map((b: { board: string }) => b.board)).toContain('arm/juno-r1-scmi.dts');
    const junit = readFileSync(join(o2, 'junit.xml'), 'utf8');
    expect(junit).toMatch(
      /<testcase classname="survey.arm" name="arm\/juno-r1-scmi.dts">\n {6}<failure message="IOMMU masters not translated \(--require-translation\)">[^<]*7ffb0000\.usb bypassed: drivers\/base\/dd\.c:driver_deferred_probe_check_state/,
    );
  }, 300_000);
});
