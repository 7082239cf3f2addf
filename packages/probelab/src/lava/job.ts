/**
 * `probelab lava job SCENARIO --device-type TYPE [--artifacts-url URL] [-o job.yaml]`: a LAVA
 * job definition for the scenario, and its artefacts in a directory ready to serve.
 *
 * Device type `qemu` (a QEMU scenario): the kernel and initramfs `probelab boot` uses, deployed to
 * tmpfs, booted by LAVA's QEMU method with the same machine, devices, command line and icount
 * options (harness prepareBoot and bootCommand; the console on QEMU's stdio, which LAVA reads);
 * the job's `context` carries those options as lava-server's qemu template takes them, and the
 * rendered device dictionary (ci/lava/qemu-device.yaml plus those options) is written beside the
 * job so that `lava-run` runs it on this machine.
 *
 * A real board (any other device type: juno-r2, r8a7795-h3-salvator-x, …; a board scenario): the
 * board's DTB compiled from the scenario's tree, an initramfs of probelab's guest with the
 * scenario's modules taken from the kernel the user built for the board (`--kernel-build DIR`),
 * deployed by TFTP and booted by U-Boot (`booti` with the ramdisk), the kernel command line in
 * `context.extra_kernel_args`. Either way LAVA waits for the end of the capture.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { InputError, loadAnyScenario, type BoardScenario, type Scenario } from '@probelab/sim-core';
import { compileDtsFile } from '@probelab/dt-compiler';
import {
  baseCmdline,
  bootCommand,
  buildInitramfs,
  ensureDir,
  prepareBoot,
  repoRoot,
  sourceProfile,
  staticProfile,
  userKernelBuild,
  writeAtomic,
  writeFile,
} from '@probelab/harness';

export const stateEndPrompt = '@@probelab-state-end';

export interface LavaJobRequest {
  scenarioFile: string;
  deviceType: string;
  artifactsUrl?: string;
  out: string;
  kernelBuild?: string;
}
export interface LavaJob {
  job: string;
  artefacts: string;
  device?: string;
  files: string[];
}

const timeout = (minutes: number) => ({ minutes });

/** QEMU options as LAVA's qemu boot method takes them: everything but the kernel, initrd and -append. */
function splitQemuArgs(args: string[]): { options: string[]; kernelAppend: string } {
  const options: string[] = [];
  let append = '';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-kernel' || a === '-initrd') i++;
    else if (a === '-append') append = args[++i]!;
    else if (a.startsWith('-')) {
      const v = args[i + 1];
      if (v !== undefined && !v.startsWith('-')) {
        options.push(`${a} ${v}`);
        i++;
      } else options.push(a);
    }
  }
  return { options, kernelAppend: append };
}

export async function lavaJob(r: LavaJobRequest): Promise<LavaJob> {
  const any = loadAnyScenario(r.scenarioFile);
  const artefacts = resolve(r.out, 'artefacts');
  ensureDir(artefacts);
  const url = (r.artifactsUrl ?? pathToFileURL(artefacts).href).replace(/\/?$/, '/');
  if (r.deviceType === 'qemu') {
    if (any.kind !== 'qemu')
      throw new InputError(
        "device type qemu runs QEMU scenarios (machine:, as for probelab boot); a board scenario needs its board's device type",
        r.scenarioFile,
      );
    return qemuJob(any.scenario, r, artefacts, url);
  }
  if (any.kind !== 'board')
    throw new InputError(
      `device type ${r.deviceType} is a real board: give a board scenario (board:), or use --device-type qemu for a QEMU scenario`,
      r.scenarioFile,
    );
  return boardJob(any.scenario, r, artefacts, url);
}

async function qemuJob(s: Scenario, r: LavaJobRequest, artefacts: string, url: string): Promise<LavaJob> {
  const prep = await prepareBoot(artefacts, s);
  copyFileSync(prep.kernel.image, join(artefacts, 'Image'));
  const cmd = bootCommand(prep.machine, s, {
    kernelImage: 'Image',
    initrd: 'initramfs.cpio.gz',
    cmdline: prep.cmdline,
    console: 'terminal',
    timeWarp: true,
  });
  const { options, kernelAppend } = splitQemuArgs(cmd.args);
  // -M, -cpu and -m are the template's own (context machine, cpu, memory); the rest is extra.
  const value = (flag: string): string => options.find((o) => o.startsWith(`${flag} `))!.slice(flag.length + 1);
  const context = {
    arch: 'arm64',
    machine: value('-M'),
    cpu: value('-cpu'),
    memory: Number(value('-m')),
    extra_options: options.filter((o) => !/^-(M|cpu|m) /.test(o)),
  };
  const rendered = [`-M ${context.machine}`, `-cpu ${context.cpu}`, `-m ${context.memory}`, ...context.extra_options];
  const job = {
    device_type: 'qemu',
    job_name: `probelab ${s.name} (${prep.kernel.release}, virt/${s.machine.iommu})`,
    timeouts: { job: timeout(15), action: timeout(10), connection: timeout(2) },
    priority: 'medium',
    visibility: 'public',
    // lava-server's qemu template builds the QEMU command from these; they are the options of
    // `probelab boot` for this scenario (see the rendered device.yaml for the result).
    context,
    actions: [
      {
        deploy: {
          to: 'tmpfs',
          timeout: timeout(5),
          images: {
            kernel: {
              image_arg: `-kernel {kernel} -append '${kernelAppend.replace(/'/g, `'"'"'`)}'`,
              url: `${url}Image`,
            },
            initrd: { image_arg: '-initrd {initrd}', url: `${url}initramfs.cpio.gz` },
            // A lab board: the merged tree prepareBoot kept as machine.dtb, given to QEMU as boot does.
            ...(prep.dtb ? { dtb: { image_arg: '-dtb {dtb}', url: `${url}machine.dtb` } } : {}),
          },
        },
      },
      {
        boot: {
          method: 'qemu',
          media: 'tmpfs',
          timeout: timeout(Math.ceil((120 + 2 * s.capture) / 60)),
          prompts: [stateEndPrompt],
        },
      },
    ],
  };
  const base = readFileSync(join(repoRoot(), 'ci', 'lava', 'qemu-device.yaml'), 'utf8');
  const device = base.replace(
    /^          options: \[\]$/m,
    `          options:\n${rendered.map((o) => `            - ${JSON.stringify(o)}`).join('\n')}`,
  );
  const jobFile = resolve(r.out, 'job.yaml');
  const deviceFile = resolve(r.out, 'device.yaml');
  writeAtomic(jobFile, stringify(job, { lineWidth: 0 }));
  writeAtomic(deviceFile, device);
  return { job: jobFile, artefacts, device: deviceFile, files: ['Image', 'initramfs.cpio.gz'] };
}

async function boardJob(s: BoardScenario, r: LavaJobRequest, artefacts: string, url: string): Promise<LavaJob> {
  if (!r.kernelBuild)
    throw new InputError(
      `a real board boots the kernel built for it: give --kernel-build DIR (Image, config and lib/modules/<release>/ of a build with ${s.kernel.config ?? 'the defconfig'})`,
      r.scenarioFile,
    );
  const series = s.kernel.source === '6.1' ? '6.1' : '6.12';
  const kernel = userKernelBuild(r.kernelBuild, series);
  const profile = await sourceProfile({
    source: s.kernel.source,
    ...(s.kernel.config ? { fragment: s.kernel.config } : {}),
    patches: s.kernel.patches,
  });
  const dts = join(profile.tree, 'arch', 'arm64', 'boot', 'dts', s.board);
  const dtbName = `${basename(s.board, '.dts')}.dtb`;
  writeFile(join(artefacts, dtbName), compileDtsFile(dts, { kernelTree: profile.tree }).dtb);
  copyFileSync(kernel.image, join(artefacts, 'Image'));
  // The guest of a QEMU boot (init, schedule, capture), with the board's modules.
  const asGuest: Scenario = {
    name: s.name,
    kernel: kernel.def.id,
    machine: { iommu: 'none', devices: [] },
    cmdline: s.cmdline,
    modules: s.modules,
    ...(s.unload.length ? { unload: s.unload } : {}),
    capture: s.capture,
    file: s.file,
  };
  writeFile(join(artefacts, 'initramfs.cpio.gz'), await buildInitramfs(asGuest, kernel, staticProfile(kernel)));
  const job = {
    device_type: r.deviceType,
    job_name: `probelab ${s.name} (${kernel.release}, ${s.board})`,
    timeouts: { job: timeout(20), action: timeout(10), connection: timeout(2) },
    priority: 'medium',
    visibility: 'public',
    context: { extra_kernel_args: `${baseCmdline} ${s.cmdline}`.trim() },
    actions: [
      {
        deploy: {
          to: 'tftp',
          timeout: timeout(5),
          kernel: { url: `${url}Image`, type: 'image' },
          ramdisk: { url: `${url}initramfs.cpio.gz`, compression: 'gz' },
          dtb: { url: `${url}${dtbName}` },
        },
      },
      {
        boot: {
          method: 'u-boot',
          commands: 'ramdisk',
          timeout: timeout(Math.ceil((180 + 2 * s.capture) / 60)),
          prompts: [stateEndPrompt],
        },
      },
    ],
  };
  const jobFile = resolve(r.out, 'job.yaml');
  writeAtomic(jobFile, stringify(job, { lineWidth: 0 }));
  return { job: jobFile, artefacts, files: ['Image', 'initramfs.cpio.gz', dtbName] };
}
