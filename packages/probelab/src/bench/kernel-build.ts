/**
 * Benchmark: a cold kernel build (empty ccache, fresh cache directory) and the rebuild after a
 * one-file patch (qemu/patches/deferred-probe-timeout-30.patch touches drivers/base/dd.c) with
 * the ccache the cold build filled, measured in the same run; prints both and their ratio.
 * Takes minutes: run it as `npm run bench:kernel`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKernel, repoRoot } from '@probelab/harness';

async function main(): Promise<void> {
  const cache = mkdtempSync(join(tmpdir(), 'probelab-bench-kernel-'));
  process.env.PROBELAB_CACHE = cache;
  process.env.CCACHE_DIR = join(cache, 'ccache'); // cold: nothing cached from earlier builds
  try {
    const cold = await buildKernel({ source: '6.12' });
    const one = await buildKernel({
      source: '6.12',
      patches: [join(repoRoot(), 'qemu', 'patches', 'deferred-probe-timeout-30.patch')],
    });
    console.log(
      `cold build (allnoconfig + virt-minimal, -j${cpus().length})`.padEnd(44),
      `${cold.buildSeconds.toFixed(1)} s`,
    );
    console.log('rebuild after a one-file patch (ccache)'.padEnd(44), `${one.buildSeconds.toFixed(1)} s`);
    console.log('ratio cold / rebuild'.padEnd(44), (cold.buildSeconds / one.buildSeconds).toFixed(1));
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(2);
});
