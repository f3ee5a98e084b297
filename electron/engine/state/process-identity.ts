// Who holds a lock, told apart from whoever has the same pid now. On Linux /proc says more than
// kill(pid, 0): a killed process stays a zombie until its parent (or a late init) reaps it, and a pid is
// reused by an unrelated program after that; both answer kill(pid, 0). A process is identified by its pid,
// its start time (field 22 of /proc/<pid>/stat, in clock ticks since boot) and the boot it belongs to.
// Without /proc (macOS, Windows) only kill(pid, 0) is left.
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot; null where /proc is not available. */
  startTime: number | null;
  /** /proc/sys/kernel/random/boot_id; null where it is not available. */
  bootId: string | null;
}

interface ProcStat {
  state: string;
  startTime: number;
}

/** State and start time from /proc/<pid>/stat, 'gone' when there is no such process, null without /proc. */
function readProcStat(pid: number): ProcStat | 'gone' | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return hasProc() ? 'gone' : null;
    return null;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and ')': split after the last one.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const startTime = Number(fields[19]);
  if (!fields[0] || !Number.isFinite(startTime)) return null;
  return { state: fields[0], startTime };
}

let procAvailable: boolean | null = null;
function hasProc(): boolean {
  if (procAvailable === null) {
    try {
      readFileSync('/proc/self/stat');
      procAvailable = true;
    } catch {
      procAvailable = false;
    }
  }
  return procAvailable;
}

let bootId: string | null | undefined;
function currentBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

/** This process, as a lock records it. */
export function selfIdentity(): ProcessIdentity {
  const stat = readProcStat(process.pid);
  return { pid: process.pid, startTime: stat && stat !== 'gone' ? stat.startTime : null, bootId: currentBootId() };
}

export type Liveness = 'alive' | 'dead';

/**
 * Whether the process a lock names still runs. A zombie is dead (it only waits to be reaped); a pid whose
 * start time or boot differs from the one recorded belongs to another program now, so the holder is dead.
 */
export function liveness(holder: Partial<ProcessIdentity> & { pid: number }): Liveness {
  if (holder.bootId && currentBootId() && holder.bootId !== currentBootId()) return 'dead';
  const stat = readProcStat(holder.pid);
  if (stat === 'gone') return 'dead';
  if (stat) {
    if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return 'dead';
    if (typeof holder.startTime === 'number' && holder.startTime !== stat.startTime) return 'dead';
    return 'alive';
  }
  try {
    process.kill(holder.pid, 0);
    return 'alive';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'dead';
  }
}

/** The state letter of a process in /proc (R, S, Z, ...), or null (no such process, or no /proc). For tests and messages. */
export function processState(pid: number): string | null {
  const stat = readProcStat(pid);
  return stat && stat !== 'gone' ? stat.state : null;
}
