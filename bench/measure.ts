// Runs one tool invocation in its own process group and measures it from outside: wall time, peak RSS of
// the whole group (a pipeline counts every process in it), peak disk allocated under a staging path, and an
// optional byte counter sampled over time. It can kill the group (SIGKILL) when a condition becomes true.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

const PAGE = 4096;
const POLL_MS = 100;

export interface RunSpec {
  /** A bash line (run with pipefail). */
  command: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** A folder or file whose allocated size is the run's staged disk. */
  stagedPath?: string;
  timeoutMs: number;
  /** Bytes moved so far (e.g. a relay's counter), sampled for the throughput series. */
  counter?: (() => number) | undefined;
  /** Checked at every poll: true kills the whole group with SIGKILL (a crash, for the resume scenario). */
  killWhen?: (() => boolean) | undefined;
  /** Given a function that kills the group at once (SIGKILL), for a trigger outside the polling loop. */
  armKill?: ((kill: () => void) => void) | undefined;
}

export interface RunResult {
  wallMs: number;
  exitCode: number | null;
  signal: string | null;
  killed: boolean;
  timedOut: boolean;
  peakRssBytes: number;
  peakStagedBytes: number;
  /** [ms since start, counter value] every poll. */
  series: Array<[number, number]>;
  stdoutTail: string;
  stderrTail: string;
}

/** Sum of resident memory of every process in group `pgid`. */
export function groupRss(pgid: number): number {
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // Fields after the command name (which may hold spaces): state ppid pgrp ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) !== pgid) continue;
      const statm = readFileSync(`/proc/${name}/statm`, 'latin1').split(' ');
      total += Number(statm[1]) * PAGE;
    } catch {
      // the process ended between readdir and read
    }
  }
  return total;
}

/** Disk blocks allocated under `path` (a file or a folder tree), in bytes. */
export function allocatedBytes(path: string): number {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.blocks * 512;
  let total = 0;
  let names: string[] = [];
  try {
    names = readdirSync(path);
  } catch {
    return 0;
  }
  for (const name of names) total += allocatedBytes(join(path, name));
  return total;
}

const TAIL = 256 * 1024;

function keepTail(text: string, add: string): string {
  const joined = text + add;
  return joined.length > TAIL ? joined.slice(joined.length - TAIL) : joined;
}

export function measure(spec: RunSpec): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('bash', ['-o', 'pipefail', '-c', spec.command], {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pgid = child.pid!;
    let stdoutTail = '';
    let stderrTail = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdoutTail = keepTail(stdoutTail, d)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderrTail = keepTail(stderrTail, d)));
    let peakRss = 0;
    let peakStaged = 0;
    let killed = false;
    let timedOut = false;
    const series: Array<[number, number]> = [];
    const killGroup = () => {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const poll = () => {
      peakRss = Math.max(peakRss, groupRss(pgid));
      if (spec.stagedPath) peakStaged = Math.max(peakStaged, allocatedBytes(spec.stagedPath));
      if (spec.counter) series.push([Math.round(performance.now() - started), spec.counter()]);
      if (!killed && spec.killWhen?.()) {
        killed = true;
        killGroup();
      }
    };
    spec.armKill?.(() => {
      if (killed) return;
      killed = true;
      peakRss = Math.max(peakRss, groupRss(pgid));
      killGroup();
    });
    const timer = setInterval(poll, POLL_MS);
    const deadline = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, spec.timeoutMs);
    child.once('error', (err) => {
      clearInterval(timer);
      clearTimeout(deadline);
      reject(err);
    });
    child.once('close', (code, signal) => {
      const wallMs = performance.now() - started;
      clearInterval(timer);
      clearTimeout(deadline);
      // A pipeline's other members may outlive bash for a moment after a kill.
      if (killed || timedOut) killGroup();
      if (spec.counter) series.push([Math.round(wallMs), spec.counter()]);
      resolve({ wallMs, exitCode: code, signal, killed, timedOut, peakRssBytes: peakRss, peakStagedBytes: peakStaged, series, stdoutTail, stderrTail });
    });
  });
}
