// `probelab shell` driven through node-pty as a person at a terminal would: wait for the prompt,
// read devices_deferred, modprobe the IOMMU driver by hand, look at the IOMMU groups, leave with
// Ctrl-] q; then the printed outcome and its diff against the prediction, shell.log, and no QEMU
// left. Ctrl-C of probelab itself (SIGINT) and closing the terminal (SIGHUP) also stop QEMU.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { describe, expect, it } from 'vitest';
import { bin, root } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'probelab-shell-'));
const scenario = join(root, 'boards', 'qemu-virt', 'virtio-iommu-never-loaded.yaml');
const qemuFor = (out: string): string => {
  try {
    return execFileSync('pgrep', ['-a', '-f', `qemu-system-aarch64.*${out}`], { encoding: 'utf8' });
  } catch {
    return '';
  }
};

const prompt = /probelab:\/# (\x1b\[6n)?$/;

/** A terminal running probelab: everything it printed, and a way to wait for text in it. */
function terminal(out: string) {
  const t = pty.spawn(process.execPath, [bin, 'shell', scenario], {
    name: 'xterm',
    cols: 100,
    rows: 30,
    cwd: root,
    env: { ...process.env, PROBELAB_OUT: out } as Record<string, string>,
  });
  let screen = '';
  t.onData((d) => {
    screen += d;
    // busybox's line editor asks where the cursor is after each prompt; a terminal answers.
    if (d.includes('\x1b[6n')) t.write('\x1b[1;13R');
  });
  const exit = new Promise<number>((r) => t.onExit((e) => r(e.exitCode)));
  const waitFor = async (re: RegExp, from: number, ms: number): Promise<string> => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      const seen = screen.slice(from);
      if (re.test(seen)) return seen;
    }
    throw new Error(`waited ${ms} ms for ${re} in:\n${screen.slice(from).slice(-2000)}`);
  };
  const type = async (line: string, until: RegExp = prompt): Promise<string> => {
    const from = screen.length;
    t.write(`${line}\r`);
    return waitFor(until, from + line.length, 30_000);
  };
  return { t, exit, waitFor, type, screen: () => screen };
}

describe('probelab shell', () => {
  it('a person at the prompt: devices_deferred, modprobe virtio-iommu, the groups, Ctrl-] q; outcome and diff printed', async () => {
    const out = join(tmp, 'out');
    const term = terminal(out);
    const banner = await term.waitFor(prompt, 0, 120_000);
    expect(banner).toMatch(/The guest runs in REAL TIME here \(no icount time warp\)/);
    const deferred = await term.type('cat /sys/kernel/debug/devices_deferred');
    expect(deferred).toMatch(/0000:00:02\.0/);
    expect(deferred).toMatch(/0000:00:03\.0/);
    await term.type('modprobe virtio-iommu');
    // The masters waiting for the IOMMU probe again from the deferred-probe workqueue after the
    // load returns (dd.c:driver_deferred_probe_trigger), one after the other: a person looks
    // again until the second group is there (at most 10 s), then lists them.
    const groups = await term.type(
      'for i in $(seq 100); do [ -e /sys/kernel/iommu_groups/1 ] && break; sleep 0.1; done; ls /sys/kernel/iommu_groups',
    );
    expect(groups).toMatch(/\b0\s+1\b/);
    // Ctrl-C reaches the guest's foreground process, not probelab or QEMU.
    term.t.write('sleep 100\r');
    await new Promise((r) => setTimeout(r, 1000));
    const before = term.screen().length;
    term.t.write('\x03');
    const afterC = await term.waitFor(prompt, before, 30_000);
    expect(afterC).toMatch(/\^C/);
    expect(await term.type('echo still-here')).toMatch(/still-here/);
    expect(qemuFor(out)).not.toBe('');
    const from = term.screen().length;
    term.t.write('\x1d');
    term.t.write('q');
    const code = await term.exit;
    const tail = term.screen().slice(from);
    expect(tail).toMatch(
      /virtio-iommu-never-loaded: real, at \d+\.\d+ s of guest time \(typed: modprobe virtio-iommu at \d+\.\d+ s\)/,
    );
    expect(tail).toMatch(/0000:00:02\.0\s+pci\s+virtio-pci\s+0\s+false\s+false/);
    expect(tail).toMatch(/the prediction for the same schedule plus what was typed\r?\nAGREE/);
    expect(code).toBe(0);
    const dir = join(out, 'virtio-iommu-never-loaded');
    const log = readFileSync(join(dir, 'shell.log'), 'utf8');
    expect(log).toContain('cat /sys/kernel/debug/devices_deferred');
    expect(log).toContain('@@probelab-state-end');
    const result = JSON.parse(readFileSync(join(dir, 'shell.json'), 'utf8'));
    expect(result.typed).toEqual([{ kind: 'load', name: 'virtio-iommu', at: expect.any(Number) }]);
    expect(result.diff.agree).toBe(true);
    expect(existsSync(join(dir, '.probelab.lock'))).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(qemuFor(out)).toBe('');
  }, 240_000);

  for (const [sig, what] of [
    ['SIGINT', 'Ctrl-C of probelab itself'],
    ['SIGHUP', 'the terminal closing'],
  ] as const) {
    it(`${what} (${sig}) stops QEMU with probelab`, async () => {
      const out = join(tmp, `out-${sig}`);
      const term = terminal(out);
      await term.waitFor(prompt, 0, 120_000);
      expect(qemuFor(out)).not.toBe('');
      process.kill(term.t.pid, sig);
      expect(await term.exit).toBe(2);
      expect(term.screen()).toMatch(new RegExp(`probelab: interrupted \\(${sig}\\); 1 child process group stopped`));
      for (let i = 0; i < 30 && qemuFor(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(qemuFor(out)).toBe('');
    }, 240_000);
  }
});

describe('what was typed, read back from the guest log', async () => {
  const { typedActions, scenarioAsRun } = await import('../dist/shell.js');
  const log = [
    { t: 3.1, text: 'probelab: typed modprobe virtio-iommu' },
    { t: 3.1, text: 'probelab: module load begin virtio-iommu' },
    { t: 3.2, text: 'probelab: module load end virtio-iommu rc=0' },
    { t: 5.0, text: 'probelab: typed modprobe virtio-iomu' },
    { t: 5.0, text: 'probelab: module load begin virtio-iomu' },
    { t: 5.0, text: 'probelab: module load end virtio-iomu rc=1' },
    { t: 7.5, text: 'probelab: typed rmmod virtio_iommu' },
    { t: 7.5, text: 'probelab: module unload begin virtio_iommu' },
    { t: 7.6, text: 'probelab: module unload end virtio_iommu rc=1' },
  ];
  it('a failed load (a typo) is left out; a refused unload is kept', () => {
    expect(typedActions(log)).toEqual([
      { kind: 'load', name: 'virtio-iommu', at: 3.1 },
      { kind: 'unload', name: 'virtio_iommu', at: 7.5 },
    ]);
  });
  it('the scenario as it ran: its schedule plus what was typed, captured after the last action', () => {
    const s = {
      name: 'x',
      kernel: 'debian-6.12' as const,
      machine: { iommu: 'virtio-iommu' as const, devices: [] },
      cmdline: '',
      modules: [{ name: 'virtio_blk', at: 0 }],
      capture: 30,
      file: 'x.yaml',
    };
    const r = scenarioAsRun(s, [...typedActions(log), { kind: 'load', name: 'virtio-blk', at: 9 }], 8);
    expect(r.modules).toEqual([
      { name: 'virtio_blk', at: 0 },
      { name: 'virtio-iommu', at: 3.1 },
    ]);
    expect(r.unload).toEqual([{ name: 'virtio_iommu', at: 7.5 }]);
    expect(r.capture).toBe(8);
  });
});
