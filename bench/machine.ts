// The machine and tool versions a result was measured with, so a table can be read and reproduced.
import { execSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { versionOf } from './shell';

export interface MachineInfo {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  loadAverageAtStart: number[];
  versions: Record<string, string>;
  commit: string;
}

function git(args: string): string {
  try {
    return execSync(`git ${args}`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): MachineInfo {
  const dirty = git('status --porcelain -- electron') ? ' (engine has uncommitted changes)' : '';
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    loadAverageAtStart: loadavg().map((l) => +l.toFixed(2)),
    versions: {
      node: process.version,
      nginx: versionOf('/usr/sbin/nginx', ['-v']).replace(/^nginx version: /, ''),
      curl: versionOf('curl').split(' ').slice(0, 2).join(' '),
      aria2c: versionOf('aria2c'),
      wget: versionOf('wget').replace(/ built on.*/, ''),
      tar: versionOf('tar'),
      gzip: versionOf('gzip'),
      pigz: versionOf('pigz'),
    },
    commit: git('rev-parse --short HEAD') + dirty,
  };
}
