/** `probelab lava job|parse` (job.ts, log.ts); `probelab check SCENARIO --lava LOG` is in commands.ts. */
import { renderOutcome } from '../report.js';
import { lavaJob } from './job.js';
import { readLavaLog } from './log.js';

export function cmdLavaParse(file: string, json: boolean): number {
  const r = readLavaLog(file);
  process.stdout.write(
    json
      ? JSON.stringify(r.outcome, null, 2) + '\n'
      : renderOutcome(`${file}: ${r.lava ? 'LAVA log' : 'console log'}`, r.outcome) + '\n',
  );
  return 0;
}

export async function cmdLavaJob(
  file: string,
  o: { deviceType: string; artifactsUrl?: string; out?: string; kernelBuild?: string },
): Promise<number> {
  if (o.artifactsUrl !== undefined && !/^(https?|file|tftp):\/\/\S+$/.test(o.artifactsUrl)) {
    process.stderr.write(
      `probelab: lava job: --artifacts-url: expected an http(s)://, file:// or tftp:// URL, got ${o.artifactsUrl}\n`,
    );
    return 2;
  }
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
