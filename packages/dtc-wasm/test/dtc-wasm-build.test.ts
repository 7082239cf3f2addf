// The committed dtc.wasm is reproducible: scripts/build-wasm.sh rebuilds it from Debian's
// linux-source-6.12 with the wasi toolchain and compares. A build, so `npm run test:unit` leaves
// it to `npm test` (as it leaves the kernel builds).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('dtc.wasm build', () => {
  it('the committed dtc.wasm is what scripts/build-wasm.sh builds from linux-source-6.12', () => {
    const out = execFileSync('bash', [join(import.meta.dirname, '..', 'scripts', 'build-wasm.sh'), '--check'], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/dtc\.wasm reproduced/);
  }, 300_000);
});
