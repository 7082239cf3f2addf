import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..', '..');
export const bin = join(root, 'packages', 'probelab', 'bin', 'probelab.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Run the probelab CLI as a user would; `onStart` may signal it. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  onStart?: (pid: number) => void,
  cwd = root,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    if (onStart) onStart(child.pid!);
    child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid! }));
  });
}
