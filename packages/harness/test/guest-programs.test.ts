// The guest's programs (harness guest-programs.ts, qemu/guest/probelab-state.c and
// probelab-wait.c): built for arm64 by Debian's cross compiler without a libc, cached by source,
// flags and compiler; a clear error without the compiler. What they do is checked on real boots
// (probelab capture-qemu.test.ts: the capture prints the lines of the shell walk it replaced;
// snapshot-qemu.test.ts: two boots of a schedule start its actions at the same guest time).
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const saved = { PATH: process.env.PATH, PROBELAB_CACHE: process.env.PROBELAB_CACHE };
afterEach(() => {
  process.env.PATH = saved.PATH;
  if (saved.PROBELAB_CACHE === undefined) delete process.env.PROBELAB_CACHE;
  else process.env.PROBELAB_CACHE = saved.PROBELAB_CACHE;
  vi.resetModules();
});

describe.each(['probelab-state', 'probelab-wait'] as const)('guestProgram(%s)', (name) => {
  it('is a static arm64 ELF executable, built once and then read from the cache', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'probelab-capture-cache-'));
    process.env.PROBELAB_CACHE = cache;
    const { guestProgram } = await import('../src/guest-programs.js');
    const a = await guestProgram(name);
    expect([...a.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]); // ELF
    expect(a[4]).toBe(2); // 64-bit
    expect(a.readUInt16LE(16)).toBe(2); // ET_EXEC: not a PIE, nothing for a loader to relocate
    expect(a.readUInt16LE(18)).toBe(183); // EM_AARCH64
    // No program header asks for an interpreter (PT_INTERP, 3): it runs in a busybox initramfs.
    const phoff = Number(a.readBigUInt64LE(32));
    const phnum = a.readUInt16LE(56);
    const types = Array.from({ length: phnum }, (_, i) => a.readUInt32LE(phoff + i * a.readUInt16LE(54)));
    expect(types).not.toContain(3);
    const built = readdirSync(join(cache, 'guest')).filter((f) => f.startsWith(`${name}-`));
    expect(built).toHaveLength(1);
    const inode = statSync(join(cache, 'guest', built[0]!)).ino;
    // A new process (a fresh module) reads the cached file: not rebuilt, so not replaced.
    vi.resetModules();
    const again = await (await import('../src/guest-programs.js')).guestProgram(name);
    expect(again.equals(a)).toBe(true);
    expect(statSync(join(cache, 'guest', built[0]!)).ino).toBe(inode);
  }, 60_000);

  it('says which compiler is missing and where to get it', async () => {
    process.env.PROBELAB_CACHE = mkdtempSync(join(tmpdir(), 'probelab-capture-cache-'));
    process.env.PATH = '/nonexistent';
    const { guestProgram } = await import('../src/guest-programs.js');
    await expect(guestProgram(name)).rejects.toThrow(
      new RegExp(
        `^the guest's ${name} \\(qemu/guest/${name}\\.c\\) is built with aarch64-linux-gnu-gcc, which is not installed \\(apt install gcc-aarch64-linux-gnu\\)$`,
      ),
    );
  });
});
