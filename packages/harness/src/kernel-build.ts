/**
 * `probelab kernel build`: an arm64 kernel for QEMU virt from Debian's linux-source-6.12 or
 * linux-source-6.1 (or a kernel tree of the user's), cross-compiled with gcc-aarch64-linux-gnu
 * from allnoconfig plus a fragment (qemu/configs/virt-minimal.config), every fragment line
 * checked after Kconfig had its say. Patches are applied in order on a hard-linked copy of the
 * tree; artefacts are cached by a hash of source, fragment and patches; ccache makes rebuilds
 * after a small patch fast (every build's tree and objects sit at the same relative paths).
 */
import { createHash } from 'node:crypto';
import {
  createWriteStream,
  realpathSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { runChild, startChild } from './lifetime.js';
import { checkFragment } from './config-fragment.js';
import { addLabDrivers, labSourceHash } from './lab-tree.js';
import { applyPatches, pristineTree } from './source-tree.js';
import { HarnessError } from './errors.js';
import { waitForLock } from './out-lock.js';
import { cacheDir, repoRoot } from './paths.js';

export interface BuildRequest {
  /** '6.12' or '6.1' (Debian's linux-source-X) or a path to a kernel tree. */
  source: string;
  /** Config fragment; default qemu/configs/virt-minimal.config. */
  fragment?: string;
  /** Patches, applied in order with `patch -p1`. */
  patches?: string[];
}

export interface BuiltKernel {
  hash: string;
  dir: string;
  image: string;
  systemMap: string;
  configFile: string;
  modulesRoot: string;
  release: string;
  /** The tree the build used (patched copy if patches were given). */
  tree: string;
  buildSeconds: number;
  fromCache: boolean;
}

const CROSS = 'aarch64-linux-gnu-';

async function need(cmd: string, pkg: string): Promise<void> {
  const r = await runChild('sh', ['-c', `command -v ${cmd}`], { reject: false });
  if (r.exitCode !== 0)
    throw new HarnessError(`${cmd} not found: install the Debian package ${pkg} (see README, "Set up")`);
}

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** What names a build: its cache directory, keyed by source, fragment, patches and lab drivers. */
export interface BuildKey {
  hash: string;
  dir: string;
  pristine: string;
  fragment: string;
  patches: string[];
}

/** The key of the build a request makes, without building (the tree is unpacked if need be). */
export async function buildKey(req: BuildRequest): Promise<BuildKey> {
  const fragment = resolve(req.fragment ?? join(repoRoot(), 'qemu', 'configs', 'virt-minimal.config'));
  if (!existsSync(fragment)) throw new HarnessError(`${fragment}: config fragment not found`);
  const patches = (req.patches ?? []).map((p) => resolve(p));
  for (const p of patches) if (!existsSync(p)) throw new HarnessError(`${p}: patch not found`);
  const { tree: pristine, id } = await pristineTree(req.source);
  const hash = sha(
    JSON.stringify({
      id,
      fragment: readFileSync(fragment, 'utf8'),
      patches: patches.map((p) => sha(readFileSync(p))),
      lab: labSourceHash(),
    }),
  ).slice(0, 16);
  return { hash, dir: join(cacheDir(), 'kernels', hash), pristine, fragment, patches };
}

/** The build of a key if it is in the cache, else null (nothing is built). */
export function builtKernel(key: BuildKey): BuiltKernel | null {
  const done = join(key.dir, 'artefacts.json');
  return existsSync(done) ? { ...(JSON.parse(readFileSync(done, 'utf8')) as BuiltKernel), fromCache: true } : null;
}

export async function buildKernel(req: BuildRequest, log: (line: string) => void = () => {}): Promise<BuiltKernel> {
  await need(`${CROSS}gcc`, 'gcc-aarch64-linux-gnu');
  await need('make', 'make');
  await need('patch', 'patch');
  const key = await buildKey(req);
  const cached = builtKernel(key);
  if (cached) return cached;
  // One build per hash at a time: tests, matrix workers and users that ask for the same kernel
  // at once wait for the first one's build instead of building over it.
  const release = await waitForLock(key.dir, log);
  try {
    return (
      builtKernel(key) ??
      (await buildInto(
        key.dir,
        join(key.dir, 'artefacts.json'),
        key.hash,
        key.pristine,
        key.fragment,
        key.patches,
        log,
      ))
    );
  } finally {
    release();
  }
}

async function buildInto(
  dir: string,
  done: string,
  hash: string,
  pristine: string,
  fragment: string,
  patches: string[],
  log: (line: string) => void,
): Promise<BuiltKernel> {
  mkdirSync(dir, { recursive: true });
  // Every build gets its own tree at <dir>/tree (hard links to the pristine one, patched files
  // replaced) beside <dir>/build, and ccache's base is <dir>: paths in compile commands are then
  // the same for every build, so a patched build hits the cache for every file it did not touch.
  const tree = join(dir, 'tree');
  rmSync(tree, { recursive: true, force: true });
  log(
    `linking ${basename(pristine)} into the build's tree${patches.length ? ` and applying ${patches.length} patch(es)` : ''}`,
  );
  // The real directory, never a symlink to it: `cp -a` would copy the link, and the patches and
  // lab drivers would then go into the pristine tree every other build and profile reads.
  await runChild('cp', ['-al', realpathSync(pristine), tree]);
  addLabDrivers(tree);
  await applyPatches(tree, patches);
  const obj = join(dir, 'build');
  mkdirSync(obj, { recursive: true });
  const env = {
    ARCH: 'arm64',
    CROSS_COMPILE: CROSS,
    KBUILD_BUILD_TIMESTAMP: '2026-01-01',
    KBUILD_BUILD_USER: 'probelab',
    KBUILD_BUILD_HOST: 'probelab',
    CCACHE_BASEDIR: dir,
    CCACHE_NOHASHDIR: '1',
  };
  const haveCcache = (await runChild('sh', ['-c', 'command -v ccache'], { reject: false })).exitCode === 0;
  const make = ['-C', tree, `O=${obj}`, ...(haveCcache ? [`CC=ccache ${CROSS}gcc`] : [])];
  const logFile = join(dir, 'build.log');
  const logStream = createWriteStream(logFile);
  const started = process.hrtime.bigint();
  const run = async (args: string[], extraEnv: Record<string, string> = {}): Promise<void> => {
    const { child } = await startChild('make', [...make, ...args], {
      env: { ...env, ...extraEnv },
      reject: false,
      all: true,
      buffer: false,
    });
    let steps = 0;
    let last = Date.now();
    child.all?.on('data', (b: Buffer) => {
      logStream.write(b);
      for (const line of b.toString().split('\n')) {
        if (/^\s{2}[A-Z]{2,}/.test(line)) {
          steps++;
          if (Date.now() - last > 2000) {
            last = Date.now();
            log(
              `building: ${steps} steps, ${Math.round(Number(process.hrtime.bigint() - started) / 1e9)} s — ${line.trim()}`,
            );
          }
        }
      }
    });
    const r = await child;
    if (r.exitCode !== 0) {
      await new Promise<void>((res) => logStream.end(res));
      const text = readFileSync(logFile, 'utf8');
      const first =
        text.split('\n').find((l) => /\berror:|Error \d|\*\*\* /.test(l)) ?? `make exited with status ${r.exitCode}`;
      throw new HarnessError(`kernel build failed: ${first.trim()}; build log kept in ${logFile}`);
    }
  };
  log(`configuring: allnoconfig + ${basename(fragment)}`);
  await run(['allnoconfig'], { KCONFIG_ALLCONFIG: fragment });
  try {
    checkFragment(readFileSync(join(obj, '.config'), 'utf8'), fragment);
  } catch (e) {
    logStream.end();
    throw e;
  }
  await run([`-j${cpus().length}`, 'Image', 'modules']);
  const staging = join(dir, 'install');
  rmSync(staging, { recursive: true, force: true });
  await run(['modules_install', `INSTALL_MOD_PATH=${staging}`]);
  await new Promise<void>((res) => logStream.end(res));
  const release = (await runChild('make', [...make, '-s', 'kernelrelease'], { env })).stdout.trim();
  const art = join(dir, 'artefacts');
  rmSync(art, { recursive: true, force: true });
  mkdirSync(join(art, 'inputs'), { recursive: true });
  cpSync(join(obj, 'arch', 'arm64', 'boot', 'Image'), join(art, 'Image'));
  cpSync(join(obj, 'System.map'), join(art, 'System.map'));
  cpSync(join(obj, '.config'), join(art, 'config'));
  cpSync(fragment, join(art, 'inputs', basename(fragment)));
  patches.forEach((p, i) => cpSync(p, join(art, 'inputs', `${String(i + 1).padStart(2, '0')}-${basename(p)}`)));
  mkdirSync(join(art, 'lib'), { recursive: true });
  renameSync(join(staging, 'lib', 'modules'), join(art, 'lib', 'modules'));
  if (!existsSync(join(art, 'lib', 'modules', release, 'modules.dep'))) {
    const r = await runChild('depmod', ['-b', art, release], { reject: false });
    if (r.exitCode !== 0) throw new HarnessError(`depmod failed for ${release}: ${r.stderr || 'is kmod installed?'}`);
  }
  const out: BuiltKernel = {
    hash,
    dir,
    image: join(art, 'Image'),
    systemMap: join(art, 'System.map'),
    configFile: join(art, 'config'),
    modulesRoot: join(art, 'lib', 'modules'),
    release,
    tree,
    buildSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    fromCache: false,
  };
  writeFileSync(done, JSON.stringify(out, null, 2));
  return out;
}

/** Files under the built modules tree, for tests and reports. */
export function listModules(k: BuiltKernel): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.ko')) out.push(p);
    }
  };
  walk(join(k.modulesRoot, k.release));
  return out;
}
