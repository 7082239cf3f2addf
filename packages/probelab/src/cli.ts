/**
 * probelab's command line: the command table (cli-table.ts has the parser and the usage
 * generator). Exit status: 0 success/agreement, 1 disagreement, 2 bad input or infrastructure
 * failure. Errors are one clear message, never a stack trace.
 */
import { InputError } from '@probelab/sim-core';
import { DtError } from '@probelab/dt-compiler';
import { HarnessError, installLifetime } from '@probelab/harness';
import { findCommand, parseCommand, renderUsage, UsageError, type CommandSpec } from './cli-table.js';
import { logCommands } from './cli-log-commands.js';
import { runCommands } from './cli-run-commands.js';
import { scenarioCommands } from './cli-scenario-commands.js';
import { toolCommands } from './cli-tool-commands.js';

export const commands: CommandSpec[] = [...scenarioCommands, ...runCommands, ...logCommands, ...toolCommands];

const head = 'probelab: how a kernel orders device probing when IOMMU drivers are modules';
const tail = `Real boots restore a boot snapshot when the scenario's actions all come after the point where
the guest's init is ready (cached under ~/.cache/probelab/snapshots, keyed by everything before
it); --cold (boot, check, matrix, calibrate, validate) boots from the firmware every time.
Predictions never build a kernel: a source kernel not built yet is read from its source, its
Kconfig and its committed profile. Results and console logs go to ./out/<scenario>/
(PROBELAB_OUT), downloads and builds to ~/.cache/probelab (PROBELAB_CACHE).`;

export const usage = renderUsage(commands, head, tail);

export async function main(argv: string[]): Promise<number> {
  installLifetime();
  try {
    const [cmd] = argv;
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(usage);
      return cmd ? 0 : 2;
    }
    const c = findCommand(commands, argv);
    if (!c) {
      const known = commands.some((x) => x.words[0] === cmd);
      return fail(
        known
          ? `${cmd}: expected one of ${commands
              .filter((x) => x.words[0] === cmd)
              .map((x) => `\`${x.words.join(' ')}\``)
              .join(', ')}`
          : `unknown command ${cmd} (probelab --help lists the commands)`,
      );
    }
    const p = parseCommand(c, argv.slice(c.words.length));
    // --cold: boot from the firmware every time, not from a boot snapshot (harness snapshot.ts).
    if (p.values.cold) process.env.PROBELAB_SNAPSHOT = '0';
    return await c.run(p);
  } catch (e) {
    if (e instanceof UsageError) return fail(e.message);
    if (e instanceof InputError || e instanceof DtError || e instanceof HarnessError)
      return fail(e.toString().replace(/^(\w*Error: )/, ''));
    return fail(`internal error: ${(e as Error)?.message ?? String(e)}`);
  }
}

function fail(msg: string): number {
  process.stderr.write(`probelab: ${msg}\n`);
  return 2;
}
