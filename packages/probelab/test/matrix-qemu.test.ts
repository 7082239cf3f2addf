// `probelab matrix` on ci/smoke.yaml with real boots: interrupted and resumed, results,
// JUnit, the HTML report rendered by headless Chromium, a baseline that changed, a torn line.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, root, runCli } from './cli.js';

const out = mkdtempSync(join(tmpdir(), 'matrix-qemu-'));
const dir = join(out, 'smoke');
const qemuRunning = (): string => {
  try {
    return execFileSync('pgrep', ['-f', `qemu-system-aarch64.*${out}`])
      .toString()
      .trim();
  } catch {
    return '';
  }
};
const lines = (f: string): Array<Record<string, unknown>> =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('probelab matrix', () => {
  it('Ctrl-C after the first cell: exit 2, no QEMU left, the finished cell kept', async () => {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [bin, 'matrix', 'ci/smoke.yaml', '--out', dir, '--jobs', '1'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (b) => {
        err += b;
        if (/\[1\/4\]/.test(err)) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c));
    });
    expect(code).toBe(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(qemuRunning()).toBe('');
    expect(lines(join(dir, 'results.jsonl')).length).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('resumes: the finished cells are not re-run; all four agree; results, JUnit and report written', async () => {
    const before = lines(join(dir, 'results.jsonl')).length;
    const firstLog = join(dir, 'cells', 'virtio-iommu-6.12_t0_load2', 'console.log');
    const mtime = statSync(firstLog).mtimeMs;
    const r = await runCli(['matrix', 'ci/smoke.yaml', '--out', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`4/4 done \\(${before} from before\\)`));
    expect(statSync(firstLog).mtimeMs).toBe(mtime);
    const rs = lines(join(dir, 'results.jsonl'));
    expect(rs).toHaveLength(4);
    expect(rs.map((x) => x.status)).toEqual(['agree', 'agree', 'agree', 'agree']);
    // The grid this matrix must show: timeout 0 bypasses both masters; timeout 5 with the IOMMU at 2 s translates them.
    const masters = (id: string) =>
      (rs.find((x) => x.id === id)!.masters as { real: { counts: Record<string, number> } }).real.counts;
    expect(masters('virtio-iommu-6.12_t0_load2')).toMatchObject({ translated: 0, bypassed: 2 });
    expect(masters('virtio-iommu-6.12_t5_load2')).toMatchObject({ translated: 2, bypassed: 0 });
    expect(masters('virtio-iommu-6.12_t5_load8')).toMatchObject({ translated: 0, bypassed: 2 });
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(4);
    expect(junit).toMatch(/<testsuites name="smoke" tests="4" failures="0" errors="0"/);
  }, 300_000);

  it("the report renders in headless Chromium: the grid, a cell's timeline and its console log", () => {
    const html = join(dir, 'report.html');
    const dom = execFileSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--virtual-time-budget=3000',
        '--dump-dom',
        `file://${html}#virtio-iommu-6.12_t5_load2`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    ).toString();
    expect(dom.match(/<button class="cell c-(translated|bypassed)[^"]*"/g)).toHaveLength(4);
    expect(dom).toMatch(/<button class="cell c-translated selected" data-cell="virtio-iommu-6.12_t5_load2"/);
    expect(dom).toMatch(/<div id="detail"><h3>virtio-iommu-6.12_t5_load2<\/h3>/);
    expect(dom).toMatch(/<svg [^>]*class="timeline"/);
    expect(dom).toMatch(/<button class="log" data-log="log-virtio-iommu-6.12_t5_load2">/);
    const shot = join(out, 'report.png');
    execFileSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        '--window-size=1200,1400',
        `--screenshot=${shot}`,
        `file://${html}`,
      ],
      { stdio: 'ignore' },
    );
    expect(statSync(shot).size).toBeGreaterThan(20_000);
  }, 120_000);

  it('a baseline whose real outcome differs: exit 1, the cell named CHANGED, a JUnit failure', async () => {
    const rs = lines(join(dir, 'results.jsonl'));
    const changed = rs.map((x) => {
      if (x.id !== 'virtio-iommu-6.12_t5_load2') return x;
      const real = x.real as { devices: Array<{ id: string; iommuGroup: number | null }> };
      return {
        ...x,
        real: { ...real, devices: real.devices.map((d) => (d.id === '0000:00:02.0' ? { ...d, iommuGroup: null } : d)) },
      };
    });
    const baseline = join(out, 'baseline.jsonl');
    writeFileSync(baseline, changed.map((x) => JSON.stringify(x)).join('\n') + '\n');
    const r = await runCli(['matrix', 'ci/smoke.yaml', '--out', dir, '--baseline', baseline]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/CHANGED virtio-iommu-6.12_t5_load2/);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toMatch(
      /failures="1"[\s\S]*<failure message="real outcome changed from the baseline">/,
    );
  }, 120_000);

  it('calibrate on the finished cells: a calibration file with its parameters and residuals', async () => {
    const cal = mkdtempSync(join(tmpdir(), 'calibration-'));
    const r = await runCli(['calibrate', 'ci/smoke.yaml', '--out', dir], { PROBELAB_CALIBRATION: cal });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/debian-6\.12: wrote .*debian-6\.12\.json/);
    const c = JSON.parse(readFileSync(join(cal, 'debian-6.12.json'), 'utf8')) as {
      parameters: Array<{ name: string; n: number; residualAfter: number }>;
      eventKinds: Array<{ kind: string; maxAbsAfter: number }>;
    };
    expect(c.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['builtinShift', 'lateInitcall', 'moduleLoadLatency.virtio_iommu']),
    );
    expect(c.parameters.find((p) => p.name === 'lateInitcall')!.n).toBe(4);
    expect(c.eventKinds.find((k) => k.kind === 'timeout-fired')!.maxAbsAfter).toBeLessThan(0.05);
  }, 120_000);

  it('a torn last line (killed mid-write) is dropped, not fatal; bad arguments are refused', async () => {
    appendFileSync(join(dir, 'results.jsonl'), '{"id":"virtio-iommu-6.12_t0_lo');
    const r = await runCli(['matrix', 'ci/smoke.yaml', '--out', dir]);
    expect(r.code).toBe(0);
    expect(lines(join(dir, 'results.jsonl'))).toHaveLength(4);
    const bad = await runCli(['matrix', 'ci/smoke.yaml', '--jobs', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--jobs: expected a whole number >= 1/);
    expect(existsSync(join(root, 'out', 'matrix', 'smoke', 'report.html.tmp'))).toBe(false);
  }, 120_000);
});
