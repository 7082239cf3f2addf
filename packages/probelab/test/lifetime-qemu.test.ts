// No process outlives probelab (lifetime.ts), run the way the README runs it (`npx probelab`):
// SIGTERM, SIGHUP and the death of npx itself stop the boot and its QEMU, and no result is
// written afterwards; a kernel build's make and its children stop with it; a QEMU that hangs in
// -machine dumpdtb is killed at the wall limit; PROBELAB_WALL_LIMIT is validated; one run per
// output directory; a failed re-run leaves no stale result beside its new log.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, runCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'probelab-life-'));
const scenario = (name: string, capture = 30): string => {
  const f = join(tmp, `${name}.yaml`);
  writeFileSync(
    f,
    `name: ${name}\nkernel: debian-6.12\nmachine:\n  iommu: none\n  devices: [virtio-rng-pci]\nmodules:\n  - { name: virtio-rng, at: 0 }\ncapture: ${capture}\n`,
  );
  return f;
};
const running = (pattern: string): string => {
  try {
    return execFileSync('pgrep', ['-a', '-f', pattern], { encoding: 'utf8' });
  } catch {
    return '';
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (f: () => boolean, ms: number): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (f()) return true;
  return f();
};

describe('process lifetime through npx', () => {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGKILL'] as const) {
    it(`${sig} to \`npx probelab boot\`: probelab and QEMU stop, nothing is written later`, async () => {
      const out = join(tmp, `out-${sig}`);
      const f = scenario(`npx-${sig.toLowerCase()}`);
      const npx = spawn('npx', ['probelab', 'boot', f], {
        cwd: root,
        env: { ...process.env, PROBELAB_OUT: out },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      npx.stderr.on('data', (b) => (stderr += b));
      expect(await until(() => running(`qemu-system-aarch64.*${out}`) !== '', 60_000)).toBe(true);
      npx.kill(sig);
      // npm forwards SIGTERM to its `sh -c` only, and SIGHUP/SIGKILL to nobody: probelab sees
      // its launcher chain break and stops within a second. SIGINT goes to the `sh -c`, which
      // catches it and would wait for the boot: probelab sees its shell woken and stops.
      expect(
        await until(() => running(`qemu-system-aarch64.*${out}`) === '' && running(`probelab boot ${f}`) === '', 5_000),
      ).toBe(true);
      await sleep(1500);
      expect(existsSync(join(out, `npx-${sig.toLowerCase()}`, 'real.json'))).toBe(false);
      expect(existsSync(join(out, `npx-${sig.toLowerCase()}`, '.probelab.lock'))).toBe(false);
      if (sig === 'SIGINT')
        expect(stderr).toMatch(
          /probelab: interrupted \(the shell that started probelab, pid \d+, was signalled: SIGINT through npm\); 1 child process group stopped/,
        );
      if (sig === 'SIGTERM')
        expect(stderr).toMatch(
          /probelab: the process that started probelab \(pid \d+.*\) exited; 1 child process group stopped/,
        );
    }, 120_000);
  }

  it('a run stopped and continued with job control (SIGSTOP, SIGCONT to its group) is not mistaken for an interrupt', async () => {
    const out = join(tmp, 'out-stopcont');
    const f = scenario('npx-stopcont', 12);
    const npx = spawn('npx', ['probelab', 'boot', f], {
      cwd: root,
      env: { ...process.env, PROBELAB_OUT: out },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    npx.stderr.on('data', (b) => (stderr += b));
    const exited = new Promise<number | null>((r) => npx.on('exit', (c) => r(c)));
    expect(await until(() => running(`qemu-system-aarch64.*-kernel.*${out}`) !== '', 60_000)).toBe(true);
    process.kill(-npx.pid!, 'SIGSTOP');
    await sleep(2000);
    process.kill(-npx.pid!, 'SIGCONT');
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/^probelab: /m);
    expect(existsSync(join(out, 'npx-stopcont', 'real.json'))).toBe(true);
  }, 120_000);

  it('a kernel build stopped by SIGTERM takes make and everything make started with it', async () => {
    // A tree that looks like a kernel to `kernel build --source PATH`, whose allnoconfig runs a
    // shell that starts two sleeps: make's grandchildren, as cc1 is under a real build.
    const tree = join(tmp, 'fake-kernel');
    mkdirSync(join(tree, 'drivers', 'base'), { recursive: true });
    writeFileSync(join(tree, 'drivers', 'base', 'dd.c'), '');
    writeFileSync(join(tree, 'Makefile'), 'allnoconfig:\n\tsh -c "sleep 297.5 & sleep 298.5; wait"\n');
    let saw = false;
    const r = await runCli(['kernel', 'build', '--source', tree], { PROBELAB_CACHE: join(tmp, 'cache') }, (pid) => {
      void until(() => running('sleep 298.5') !== '', 60_000).then((ok) => {
        saw = ok;
        process.kill(pid, 'SIGTERM');
      });
    });
    expect(saw).toBe(true);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/interrupted \(SIGTERM\); 1 child process group stopped/);
    expect(await until(() => running('sleep 29[78].5') === '', 3_000)).toBe(true);
  }, 120_000);
});

describe('QEMU time limits', () => {
  it('a QEMU that hangs in -machine dumpdtb is killed at the wall limit and reported', async () => {
    const bin = join(tmp, 'hanging-qemu');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'qemu-system-aarch64'), '#!/bin/sh\nexec sleep 296.5\n');
    chmodSync(join(bin, 'qemu-system-aarch64'), 0o755);
    const t0 = Date.now();
    const r = await runCli(['boot', scenario('dumpdtb-hang')], {
      PATH: `${bin}:${process.env.PATH}`,
      PROBELAB_OUT: join(tmp, 'out-hang'),
      PROBELAB_WALL_LIMIT: '2',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^probelab: QEMU did not dump the machine's DTB within 2 s of wall time: killed/);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(running('sleep 296.5')).toBe('');
  }, 60_000);

  for (const v of ['-1', '3000000', 'abc', '0']) {
    it(`PROBELAB_WALL_LIMIT=${v} is refused before any QEMU runs`, async () => {
      const r = await runCli(['boot', scenario(`wall-${v.replace(/\W/g, '')}`)], {
        PROBELAB_OUT: join(tmp, 'out-wall'),
        PROBELAB_WALL_LIMIT: v,
      });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(
        `probelab: PROBELAB_WALL_LIMIT="${v}": expected a number of seconds of wall time from 1 to 2000000`,
      );
    });
  }
});

describe('one run per output directory', () => {
  it("a second boot of the same scenario is refused with the first one's pid; the first completes alone", async () => {
    const out = join(tmp, 'out-twice');
    const f = scenario('twice', 5);
    const first = runCli(['boot', f], { PROBELAB_OUT: out });
    expect(await until(() => running(`qemu-system-aarch64.*${out}`) !== '', 60_000)).toBe(true);
    const second = await runCli(['boot', f], { PROBELAB_OUT: out });
    const owner = readFileSync(join(out, 'twice', '.probelab.lock'), 'utf8').split('\n')[0];
    expect(second.code).toBe(2);
    expect(second.stderr.trim()).toBe(
      `probelab: ${join(out, 'twice')} is in use by another probelab run (pid ${owner}): wait for it, or set PROBELAB_OUT (or --out) to another directory`,
    );
    const r = await first;
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'twice', 'real.json'), 'utf8')).devices.length).toBeGreaterThan(0);
    expect(existsSync(join(out, 'twice', '.probelab.lock'))).toBe(false);
  }, 120_000);

  it('a matrix run on an --out another live run holds is refused; a lock left by a dead run is taken over', async () => {
    const out = join(tmp, 'out-matrix');
    mkdirSync(out, { recursive: true });
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    writeFileSync(join(out, '.probelab.lock'), `${holder.pid}\nprobelab matrix\n`);
    const r = await runCli(['matrix', 'ci/smoke.yaml', '--out', out]);
    holder.kill();
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `probelab: ${out} is in use by another probelab run (pid ${holder.pid}): wait for it, or give this run another --out`,
    );
    // A dead owner's lock: taken over (the boot then fails on its wall limit, not on the lock).
    const dir = join(tmp, 'out-stale', 'stale');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.probelab.lock'), `${holder.pid}\n`);
    await until(() => holder.exitCode !== null || holder.signalCode !== null, 2000);
    const s = await runCli(['boot', scenario('stale')], {
      PROBELAB_OUT: join(tmp, 'out-stale'),
      PROBELAB_WALL_LIMIT: 'x',
    });
    expect(s.stderr).toMatch(/PROBELAB_WALL_LIMIT="x"/);
    expect(existsSync(join(dir, '.probelab.lock'))).toBe(false);
  }, 60_000);

  it("a failed re-run removes the previous run's results, so none stands beside the new log", async () => {
    const dir = join(tmp, 'out-rerun', 'rerun');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'check.json'), '{"agree":true}\n');
    writeFileSync(join(dir, 'real.json'), '{}\n');
    const r = await runCli(['check', scenario('rerun')], {
      PROBELAB_OUT: join(tmp, 'out-rerun'),
      PROBELAB_WALL_LIMIT: 'abc',
    });
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'check.json'))).toBe(false);
    expect(existsSync(join(dir, 'real.json'))).toBe(false);
  }, 60_000);
});
