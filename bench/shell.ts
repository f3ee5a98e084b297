// Small process helpers: run a shell line to completion, or read a tool's version line.
import { spawn, spawnSync } from 'node:child_process';

/** Runs `line` with bash (pipefail), inheriting stderr; rejects with the exit status. */
export function sh(line: string, options: { cwd?: string } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', line], { stdio: ['ignore', 'ignore', 'inherit'], cwd: options.cwd });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`"${line}" exited with ${code ?? signal}`))));
  });
}

/** The first line a tool prints for its version, or "not installed". */
export function versionOf(command: string, args: string[] = ['--version'], pick = (out: string) => out.split('\n')[0]!.trim()): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error) return 'not installed';
  return pick(`${r.stdout ?? ''}${r.stderr ?? ''}`);
}

export function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
