// Bad input, a missing QEMU, a kernel that panics or hangs, and Ctrl-C: one clear line, exit 2,
// the console log kept, no QEMU left behind, no partial result file.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'probelab-err-'));
const scenarioFile = (name: string, body: string): string => {
  const f = join(tmp, `${name}.yaml`);
  writeFileSync(f, body);
  return f;
};
const base = (name: string, cmdline: string, capture = 10) => `name: ${name}
kernel: debian-6.12
machine:
  iommu: none
  devices: [virtio-rng-pci]
cmdline: "${cmdline}"
modules:
  - { name: virtio-rng, at: 0 }
capture: ${capture}
`;
const qemuRunning = (): string => {
  try {
    return execFileSync('pgrep', ['-a', '-f', `qemu-system-aarch64.*${tmp}`], { encoding: 'utf8' });
  } catch {
    return '';
  }
};
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .*\(|node:internal/);

describe('errors', () => {
  it('a bad scenario: file:line:column, the field, what was expected; exit 2', async () => {
    const f = scenarioFile('bad', base('bad', '').replace('iommu: none', 'iommu: intel-vtd'));
    const r = await runCli(['predict', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`${f}:4:10: field \`machine.iommu\`: expected one of none \\| smmuv3 \\| virtio-iommu`),
    );
    noStack(r.stderr);
  });

  it('a module the kernel does not have', async () => {
    const f = scenarioFile('nomod', base('nomod', '').replace('virtio-rng, at: 0', 'no_such_mod, at: 0'));
    const r = await runCli(['predict', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no_such_mod is not a module of debian-6.12/);
  });

  it('a missing scenario file and an unknown command', async () => {
    expect((await runCli(['check', join(tmp, 'nope.yaml')])).stderr).toMatch(
      /nope\.yaml: cannot read scenario: ENOENT/,
    );
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command frobnicate/);
  });

  it('no QEMU on PATH: says which package to install', async () => {
    const f = scenarioFile('noqemu', base('noqemu', ''));
    const r = await runCli(['boot', f], { PATH: '/nonexistent:/usr/sbin:/sbin', PROBELAB_OUT: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/qemu-system-aarch64 not found: install the Debian package qemu-system-arm/);
  });

  it('a kernel that panics: exit 2, the panic named, the console log kept', async () => {
    const f = scenarioFile('panic', base('panic', 'rdinit=/does-not-exist'));
    const r = await runCli(['check', f], { PROBELAB_OUT: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the guest kernel panicked: VFS: Unable to mount root fs/);
    // The boot-snapshot prefix never reached the init: said, then the cold boot reports the panic.
    expect(r.stderr).toMatch(
      /panic: no boot snapshot \(QEMU exited before the guest printed @@probelab-ready\): booting cold/,
    );
    expect(existsSync(join(tmp, 'panic', 'console.log'))).toBe(true);
    expect(existsSync(join(tmp, 'panic', 'check.json'))).toBe(false);
    noStack(r.stderr);
  }, 120_000);

  it('a guest that hangs: killed at the wall-time limit, reported, nothing left running', async () => {
    const f = scenarioFile('hang', base('hang', 'rdinit=/bin/cat', 30));
    const r = await runCli(['boot', f], { PROBELAB_OUT: tmp, PROBELAB_WALL_LIMIT: '6' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /QEMU did not power off within 6 s of wall time: killed; console log kept in .*hang\/console\.log/,
    );
    expect(existsSync(join(tmp, 'hang', 'real.json'))).toBe(false);
    expect(qemuRunning()).toBe('');
  }, 120_000);

  it('Ctrl-C during a boot: QEMU is stopped with probelab', async () => {
    const f = scenarioFile('sigint', base('sigint', 'rdinit=/bin/cat', 30));
    let sawQemu = '';
    const r = await runCli(['boot', f], { PROBELAB_OUT: tmp }, (pid) => {
      const poll = setInterval(() => {
        sawQemu = qemuRunning();
        if (sawQemu) {
          clearInterval(poll);
          process.kill(pid, 'SIGINT');
        }
      }, 200);
    });
    expect(sawQemu).not.toBe('');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/interrupted \(SIGINT\)/);
    await new Promise((res) => setTimeout(res, 500));
    expect(qemuRunning()).toBe('');
  }, 120_000);
});
