import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCpio } from '@probelab/harness';

describe('newc cpio writer', () => {
  it('is read back by GNU cpio with modes, contents and symlinks intact', () => {
    const archive = writeCpio([
      { path: 'bin', type: 'dir' },
      { path: 'bin/busybox', type: 'file', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { path: 'bin/sh', type: 'symlink', target: 'busybox' },
      { path: 'odd', type: 'file', data: Buffer.from('abc') },
    ]);
    expect(archive.subarray(0, 6).toString()).toBe('070701');
    const dir = mkdtempSync(join(tmpdir(), 'cpio-'));
    execFileSync('cpio', ['-id', '--quiet'], { cwd: dir, input: archive });
    expect(readFileSync(join(dir, 'bin/busybox'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(readlinkSync(join(dir, 'bin/sh'))).toBe('busybox');
    expect(readFileSync(join(dir, 'odd'), 'utf8')).toBe('abc');
    const listing = execFileSync('cpio', ['-itv', '--quiet'], { input: archive, encoding: 'utf8' });
    expect(listing).toMatch(/-rwxr-xr-x .* bin\/busybox/);
  });
});
