/**
 * Debian arm64 packages through apt: download (apt verifies them against the signed archive
 * index), check the .deb's SHA256 against the index once more, unpack with dpkg-deb, cache.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { runChild } from './lifetime.js';
import { HarnessError } from './errors.js';
import { cacheDir } from './paths.js';

export interface UnpackedPackage {
  name: string;
  version: string;
  sha256: string;
  root: string;
}

async function need(cmd: string, pkg: string): Promise<void> {
  const r = await runChild('sh', ['-c', `command -v ${cmd}`], { reject: false });
  if (r.exitCode !== 0)
    throw new HarnessError(`${cmd} not found: install the Debian package ${pkg} (see README, "Set up")`);
}

async function indexEntry(pkg: string): Promise<{ version: string; sha256: string; filename: string }> {
  const r = await runChild('apt-cache', ['show', '--no-all-versions', pkg], { reject: false });
  if (r.exitCode !== 0 || !r.stdout.trim()) {
    throw new HarnessError(
      `apt does not know ${pkg}: run \`dpkg --add-architecture arm64 && apt-get update\` (see README, "Set up")`,
    );
  }
  const field = (f: string): string => new RegExp(`^${f}: (.*)$`, 'm').exec(r.stdout)?.[1]?.trim() ?? '';
  return { version: field('Version'), sha256: field('SHA256'), filename: field('Filename') };
}

/** Download and unpack one package (e.g. `linux-image-6.12.100+deb12-arm64:arm64`), cached. */
export async function provisionPackage(pkg: string): Promise<UnpackedPackage> {
  // Fast path: a package unpacked and verified after apt's lists were last updated is current.
  const name0 = pkg.replace(/:.*$/, '');
  const current = join(cacheDir(), 'debs', `${name0}.current.json`);
  if (existsSync(current) && statSync(current).mtimeMs > aptListsMtime()) {
    const s = JSON.parse(readFileSync(current, 'utf8')) as UnpackedPackage;
    if (existsSync(s.root)) return s;
  }
  await need('apt-get', 'apt');
  await need('dpkg-deb', 'dpkg');
  const idx = await indexEntry(pkg);
  const name = pkg.replace(/:.*$/, '');
  const dir = join(cacheDir(), 'debs', `${name}_${idx.version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`);
  const stamp = join(dir, 'probelab-verified.json');
  if (existsSync(stamp)) {
    const s = JSON.parse(readFileSync(stamp, 'utf8')) as UnpackedPackage;
    if (s.sha256 === idx.sha256) {
      writeFileSync(current, JSON.stringify(s, null, 2));
      return s;
    }
  }
  // Work in a private directory and move it into place at the end, so that two processes
  // provisioning the same package at once (parallel tests) never see each other's half-work.
  mkdirSync(join(cacheDir(), 'debs'), { recursive: true });
  const work = mkdtempSync(join(cacheDir(), 'debs', `.${name}-`));
  try {
    const dl = join(work, 'download');
    mkdirSync(dl);
    const r = await runChild('apt-get', ['download', `${pkg}=${idx.version}`], { cwd: dl, reject: false });
    if (r.exitCode !== 0)
      throw new HarnessError(`apt-get download ${pkg} failed: ${r.stderr.trim().split('\n').pop()}`);
    const deb = readdirSync(dl).find((f) => f.endsWith('.deb'));
    if (!deb) throw new HarnessError(`apt-get download ${pkg} produced no .deb`);
    const sha256 = createHash('sha256')
      .update(readFileSync(join(dl, deb)))
      .digest('hex');
    if (idx.sha256 && sha256 !== idx.sha256)
      throw new HarnessError(`${deb}: SHA256 ${sha256} does not match the archive index (${idx.sha256})`);
    await runChild('dpkg-deb', ['-x', join(dl, deb), join(work, 'root')]);
    rmSync(dl, { recursive: true, force: true });
    const out: UnpackedPackage = { name, version: idx.version, sha256, root: join(dir, 'root') };
    writeFileSync(join(work, 'probelab-verified.json'), JSON.stringify(out, null, 2));
    if (existsSync(dir) && !existsSync(stamp)) rmSync(dir, { recursive: true, force: true }); // a crashed attempt
    try {
      renameSync(work, dir);
    } catch {
      if (!existsSync(stamp)) throw new HarnessError(`cannot move the unpacked ${name} into ${dir}`);
    }
    writeFileSync(current, JSON.stringify(out, null, 2));
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** When apt's package lists last changed (`apt-get update`); 0 if there are none. */
function aptListsMtime(): number {
  const dir = '/var/lib/apt/lists';
  try {
    return Math.max(
      0,
      ...readdirSync(dir)
        .filter((f) => f.endsWith('Packages') || f.endsWith('Packages.lz4') || f.endsWith('InRelease'))
        .map((f) => statSync(join(dir, f)).mtimeMs),
    );
  } catch {
    return 0;
  }
}
