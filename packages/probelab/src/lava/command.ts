/** `probelab lava job|parse` (job.ts, log.ts); `probelab check SCENARIO --lava LOG` is in commands.ts. */
import { renderOutcome } from '../report.js';
import { lavaJob } from './job.js';
import { readLavaLog } from './log.js';

export async function cmdLava(args: string[], json: boolean): Promise<number> {
  const [sub, ...rest] = args;
  const fail = (m: string): number => {
    process.stderr.write(`probelab: lava ${sub ?? ''}: ${m}\n`);
    return 2;
  };
  if (sub === 'parse') {
    if (rest.length !== 1 || rest[0]!.startsWith('-')) return fail('usage: probelab lava parse LOG [--json]');
    const r = readLavaLog(rest[0]!);
    process.stdout.write(
      json
        ? JSON.stringify(r.outcome, null, 2) + '\n'
        : renderOutcome(`${rest[0]}: ${r.lava ? 'LAVA log' : 'console log'}`, r.outcome) + '\n',
    );
    return 0;
  }
  if (sub === 'job') {
    let file: string | undefined;
    const o: { deviceType?: string; artifactsUrl?: string; out?: string; kernelBuild?: string } = {};
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      const v = (): string | undefined => rest[++i];
      if (a === '--device-type') o.deviceType = v();
      else if (a === '--artifacts-url') o.artifactsUrl = v();
      else if (a === '-o') o.out = v();
      else if (a === '--kernel-build') o.kernelBuild = v();
      else if (a.startsWith('-')) return fail(`unknown option ${a}`);
      else if (!file) file = a;
      else return fail(`unexpected argument ${a}`);
    }
    if (!file || !o.deviceType)
      return fail(
        'usage: probelab lava job SCENARIO --device-type TYPE [--artifacts-url URL] [-o DIR] [--kernel-build DIR]',
      );
    if (o.artifactsUrl !== undefined && !/^(https?|file|tftp):\/\/\S+$/.test(o.artifactsUrl))
      return fail(`--artifacts-url: expected an http(s)://, file:// or tftp:// URL, got ${o.artifactsUrl}`);
    const j = await lavaJob({
      scenarioFile: file,
      deviceType: o.deviceType,
      out: o.out ?? 'out/lava',
      ...(o.artifactsUrl ? { artifactsUrl: o.artifactsUrl } : {}),
      ...(o.kernelBuild ? { kernelBuild: o.kernelBuild } : {}),
    });
    process.stdout.write(
      `job:       ${j.job}\nartefacts: ${j.artefacts} (${j.files.join(', ')}: serve them at --artifacts-url)\n${j.device ? `device:    ${j.device} (lava-run --device ${j.device} ${j.job})\n` : ''}`,
    );
    return 0;
  }
  return fail('expected `lava job` or `lava parse`');
}
