/**
 * `probelab shell SCENARIO [--module NAME]...`: the scenario booted as `boot` boots it (the same
 * kernel, machine, board check, command line and initramfs: harness prepareBoot and bootCommand),
 * its schedule run by the guest's init, then the guest's busybox shell on this terminal through
 * node-pty: a real pty for QEMU's console (line editing and job control in the guest through
 * cttyhack, Ctrl-C passed to the guest's foreground process, the window size passed on at start
 * and on every resize), Ctrl-] then q to leave. No icount here: the guest runs in real time, so
 * idle time does not leap ahead while a person types.
 *
 * The whole session goes to out/<scenario>/shell.log. On leaving, probelab types
 * `probelab-state` and `poweroff -f` into the guest, reads the last capture of the log into the
 * outcome, and diffs it against the prediction for the same schedule plus the modprobe/rmmod the
 * person typed (the guest's wrappers log them; their guest times come from the ring buffer).
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { diffOutcomes, loadScenario, moduleKey, type Outcome, type Scenario } from '@probelab/sim-core';
import {
  HarnessError,
  bootCommand,
  loadMachine,
  outDir,
  outcomeFromConsole,
  parseConsole,
  prepareBoot,
  shellLine,
  startRun,
  trackChild,
  withDeathSignal,
  writeAtomic,
  writeFile,
} from '@probelab/harness';
import { predictScenario } from './commands.js';
import { renderDiff, renderOutcome } from './report.js';

const ESCAPE = 0x1d; // Ctrl-]

export interface TypedAction {
  kind: 'load' | 'unload';
  name: string;
  at: number;
}

/**
 * The loads and unloads typed at the prompt, from the guest wrappers' kernel-log lines ("typed",
 * then the load/unload markers with busybox modprobe's status). A load that failed (no such
 * module, a typo) loaded nothing and is left out; an unload is kept even when refused, which is
 * an outcome the simulator models (module-unload-refused).
 */
export function typedActions(dmesg: Array<{ t: number; text: string }>): TypedAction[] {
  const out: TypedAction[] = [];
  dmesg.forEach((l, i) => {
    const m = /^probelab: typed (modprobe|rmmod) (\S+)$/.exec(l.text);
    if (!m) return;
    const kind = m[1] === 'modprobe' ? 'load' : 'unload';
    const end = dmesg.slice(i + 1).find((x) => x.text.startsWith(`probelab: module ${kind} end ${m[2]} `));
    if (kind === 'load' && !/ rc=0$/.test(end?.text ?? '')) return;
    out.push({ kind, name: m[2]!, at: l.t });
  });
  return out;
}

/**
 * The scenario as it ran: its own schedule plus what was typed (a module loaded again, or one
 * the schedule already loads, changes nothing and is left out), captured when the state was read.
 */
export function scenarioAsRun(s: Scenario, typed: TypedAction[], capturedAt: number): Scenario {
  const modules = [...s.modules];
  const unload = [...(s.unload ?? [])];
  for (const a of typed) {
    const list = a.kind === 'load' ? modules : unload;
    if (!list.some((m) => moduleKey(m.name) === moduleKey(a.name))) list.push({ name: a.name, at: a.at });
  }
  const capture = Math.max(capturedAt, ...modules.map((m) => m.at + 0.001), ...unload.map((m) => m.at + 0.001));
  return { ...s, modules, ...(unload.length ? { unload } : {}), capture };
}

export async function cmdShell(file: string, extraModules: string[]): Promise<number> {
  const s = loadScenario(file);
  const dir = join(outDir(), s.name);
  const release = startRun(dir, ['real.json', 'check.json', 'shell.json']);
  try {
    return await runShell(s, dir, extraModules);
  } finally {
    release();
  }
}

async function runShell(s: Scenario, dir: string, extraModules: string[]): Promise<number> {
  const out = process.stdout;
  const cols = out.columns || 80;
  const rows = out.rows || 24;
  const iommuModule = loadMachine().iommu[s.machine.iommu]?.module;
  const prep = await prepareBoot(dir, s, {
    shell: { modules: extraModules, optional: iommuModule ? [iommuModule] : [], rows, cols },
    log: (l) => process.stderr.write(`${l}\n`),
  });
  // The console at loglevel 4: kernel messages below warning stay in the ring buffer (the
  // capture reads them from there) instead of landing in the middle of what the person types.
  const cmd = bootCommand(prep.machine, s, {
    kernelImage: prep.kernel.image,
    initrd: prep.initrd,
    cmdline: `${prep.cmdline} loglevel=4`,
    console: 'terminal',
    timeWarp: false,
    ...(prep.dtb ? { dtb: prep.dtb } : {}),
  });
  writeFile(join(dir, 'qemu-command.txt'), shellLine(cmd) + '\n');
  const logFile = join(dir, 'shell.log');
  writeFile(logFile, '');
  const log = createWriteStream(logFile, { flags: 'a' });
  const loads = s.modules.map((m) => `${m.name}@${m.at}s`).join(', ') || 'none';
  process.stderr.write(
    `probelab shell: ${s.name} (${prep.kernel.release}, virt/${s.machine.iommu}); schedule: ${loads}${s.unload?.length ? `; rmmod ${s.unload.map((m) => `${m.name}@${m.at}s`).join(', ')}` : ''}\n` +
      'The guest runs in REAL TIME here (no icount time warp): idle time passes as on a wall clock.\n' +
      'At the prompt: modprobe NAME, rmmod NAME, probelab-state, cat /sys/kernel/debug/devices_deferred.\n' +
      `Ctrl-] then q leaves (the state is read and diffed against the prediction). Log: ${logFile}\n\n`,
  );

  const [file, argv] = withDeathSignal(cmd.binary, cmd.args);
  const term = pty.spawn(file, argv, {
    name: process.env.TERM || 'xterm',
    cols,
    rows,
    cwd: dir,
    env: process.env as Record<string, string>,
  });
  const untrack = trackChild({ pid: term.pid, kill: (sig) => (term.kill(sig), true) });
  let leaving = false;
  const exited = new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
  term.onData((d) => {
    log.write(d);
    out.write(d);
  });

  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  // However probelab ends (a signal, the launcher gone: lifetime.ts exits), the terminal is
  // given back in the mode it was found in.
  const restore = (): void => {
    if (raw && stdin.isTTY) stdin.setRawMode(false);
  };
  if (raw) {
    stdin.setRawMode(true);
    process.on('exit', restore);
  }
  let escaped = false;
  const leave = (): void => {
    if (leaving) return;
    leaving = true;
    process.stderr.write('\r\n[probelab: reading the state and powering off]\r\n');
    term.write('\x03');
    setTimeout(() => term.write('probelab-state; poweroff -f\r'), 300);
    setTimeout(() => term.kill('SIGKILL'), 60_000).unref();
  };
  const onInput = (b: Buffer): void => {
    if (leaving) return;
    for (let i = 0; i < b.length; i++) {
      if (escaped) {
        escaped = false;
        if (b[i] === 0x71 /* q */) return leave();
        if (b[i] !== ESCAPE) term.write(Buffer.from([ESCAPE]).toString('latin1'));
      } else if (b[i] === ESCAPE) {
        if (i > 0) term.write(b.subarray(0, i).toString('utf8'));
        b = b.subarray(i + 1);
        i = -1;
        escaped = true;
        continue;
      }
    }
    if (!escaped && b.length) term.write(b.toString('utf8'));
  };
  stdin.on('data', onInput);
  stdin.resume();
  const onResize = (): void => term.resize(out.columns || cols, out.rows || rows);
  out.on('resize', onResize);

  await exited;
  untrack();
  stdin.off('data', onInput);
  out.off('resize', onResize);
  restore();
  process.off('exit', restore);
  stdin.pause();
  await new Promise<void>((r) => log.end(r));

  const text = readFileSync(logFile, 'utf8');
  const at = text.lastIndexOf('@@probelab-state-begin');
  if (at < 0)
    throw new HarnessError(
      `the session ended without a capture (no probelab-state output); session log kept in ${logFile}`,
      logFile,
    );
  const parsed = parseConsole(text.slice(at));
  if (!parsed.complete)
    throw new HarnessError(
      `the last capture of the session is cut off (phase: ${parsed.phase}); session log kept in ${logFile}`,
      logFile,
    );
  const typed = typedActions(parsed.dmesg);
  const capturedAt =
    [...parsed.dmesg].reverse().find((l) => l.text === 'probelab: state')?.t ??
    parsed.dmesg[parsed.dmesg.length - 1]?.t ??
    s.capture;
  const asRun = scenarioAsRun(s, typed, capturedAt);
  const real: Outcome = outcomeFromConsole(
    parsed,
    asRun.modules.map((m) => m.name),
  );
  const predicted = await predictScenario(asRun);
  const d = diffOutcomes(predicted, real);
  writeAtomic(
    join(dir, 'shell.json'),
    JSON.stringify(
      {
        scenario: s.name,
        typed,
        capturedAt,
        asRun: { ...asRun, file: undefined },
        real,
        predicted,
        diff: d,
        shellLog: logFile,
      },
      null,
      2,
    ) + '\n',
  );
  const typedText = typed.length
    ? typed.map((a) => `${a.kind === 'load' ? 'modprobe' : 'rmmod'} ${a.name} at ${a.at.toFixed(3)} s`).join(', ')
    : 'nothing';
  out.write(
    `\n${renderOutcome(`${s.name}: real, at ${capturedAt.toFixed(3)} s of guest time (typed: ${typedText})`, real)}\n`,
  );
  out.write(
    `${s.name}: the prediction for the same schedule plus what was typed\n${renderDiff(d)}\nsession log: ${logFile}\n`,
  );
  return d.agree ? 0 : 1;
}
