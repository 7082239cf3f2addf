#!/usr/bin/env zx
// The nightly pipeline as one script, the same for the GitHub workflow (ci/nightly-workflow.yml),
// a GitLab pipeline and a developer at their desk:
//
//   npx zx ci/nightly.mjs --local                 the smoke matrix end to end, here
//   npx zx ci/nightly.mjs [--matrix FILE]         the whole matrix on this machine
//   npx zx ci/nightly.mjs --shard K/N             one shard (a CI job matrix runs K = 1..N)
//   npx zx ci/nightly.mjs --merge [DIR...]        merge the shards (default out/nightly/shards/*)
//
// Steps: fetch the previous night's results (--previous DIR, or through `gh` when GH_TOKEN is
// set), calibrate the simulator on this machine (not with --local unless --calibrate: it
// rewrites qemu/calibration/), run the matrix or the shard, merge, compare with the previous
// night (probelab's --baseline: exit 1 on a cell that differs or changed), write the summary
// (out/nightly/summary.md, and $GITHUB_STEP_SUMMARY when set).
import { existsSync, readdirSync, readFileSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

$.verbose = true;
const root = resolve(import.meta.dirname, '..');
cd(root);
// zx passes the script itself among the arguments: leave it out.
const self = resolve(import.meta.filename);
const args = minimist(process.argv.slice(2).filter((a) => resolve(a) !== self), { boolean: ['local', 'calibrate', 'merge'], string: ['matrix', 'shard', 'previous', 'out'] });
const local = args.local;
const matrix = args.matrix ?? (local ? 'ci/smoke.yaml' : 'ci/nightly.yaml');
const out = resolve(args.out ?? (local ? 'out/nightly-local' : 'out/nightly'));
const probelab = ['node', join(root, 'packages/probelab/bin/probelab.js')];
mkdirSync(out, { recursive: true });

/** The previous night's results.jsonl, or null (first night, or none to be had). */
async function previousResults() {
  if (args.previous) {
    const f = existsSync(join(args.previous, 'results.jsonl')) ? join(args.previous, 'results.jsonl') : args.previous;
    if (!existsSync(f)) throw new Error(`--previous: ${f} not found`);
    return resolve(f);
  }
  if (local || !process.env.GH_TOKEN) return null;
  const dir = join(out, 'previous');
  const id = (await $({ nothrow: true })`gh run list --workflow nightly.yml --status success --limit 1 --json databaseId -q .[0].databaseId`).stdout.trim();
  if (!id) return null;
  await $({ nothrow: true })`gh run download ${id} -n nightly-results -D ${dir}`;
  return existsSync(join(dir, 'results.jsonl')) ? join(dir, 'results.jsonl') : null;
}

async function calibrate() {
  if (local && !args.calibrate) return echo('nightly: calibration skipped (--local; --calibrate to run it)');
  await $`${probelab} calibrate ci/calibration.yaml --out ${join(out, 'calibration')}`;
}

function summary(resultsFile, status) {
  const rows = readFileSync(resultsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const count = (s) => rows.filter((r) => r.status === s).length;
  const lines = [
    `# probelab nightly: ${matrix}`,
    '',
    `${rows.length} cells: ${count('agree')} agree, ${count('differ')} differ, ${count('error')} failed; exit ${status}.`,
    '',
    ...rows.filter((r) => r.status !== 'agree').map((r) => `- ${r.status.toUpperCase()} \`${r.id}\`${r.error ? `: ${r.error}` : ''}`),
  ];
  const text = lines.join('\n') + '\n';
  writeFileSync(join(out, 'summary.md'), text);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, text);
  echo(text);
}

if (args.shard) {
  // One shard: calibrate on this runner, run its cells; the merge job compares.
  await calibrate();
  const [k] = args.shard.split('/');
  await $`${probelab} matrix ${matrix} --shard ${args.shard} --out ${join(out, 'shards', `shard-${k}`)}`;
} else {
  const previous = await previousResults();
  const baseline = previous ? ['--baseline', previous] : [];
  let status;
  if (args.merge) {
    const dirs = args._.length ? args._ : readdirSync(join(out, 'shards')).map((d) => join(out, 'shards', d));
    status = (await $({ nothrow: true })`${probelab} matrix merge ${dirs} --out ${out} ${baseline}`).exitCode;
  } else {
    await calibrate();
    status = (await $({ nothrow: true })`${probelab} matrix ${matrix} --out ${out} ${baseline}`).exitCode;
  }
  if (status === 2 && !existsSync(join(out, 'results.jsonl'))) process.exit(2);
  summary(join(out, 'results.jsonl'), status);
  process.exit(status);
}
