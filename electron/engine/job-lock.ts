// One process at a time per job: a lock file in the state directory naming its holder. A lock whose process
// is gone (crash, kill -9) is stale and taken over; a live holder is named in the refusal.
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EngineError } from './errors';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: number;
}

export interface LockOptions {
  /** File name in the folder (default `lock`). */
  file?: string;
  /** The refusal's message when a live process holds the lock. */
  busyMessage?: (holder: LockInfo) => string;
}

export class JobLock {
  private constructor(private readonly path: string) {}

  static async acquire(stateDir: string, lockOptions: LockOptions = {}): Promise<JobLock> {
    const path = join(stateDir, lockOptions.file ?? 'lock');
    for (let tries = 0; tries < 3; tries++) {
      try {
        const handle = await fsp.open(path, 'wx');
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), startedAt: Date.now() } satisfies LockInfo));
        await handle.close();
        return new JobLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readLock(path);
      if (holder && isAlive(holder)) {
        throw new EngineError(
          'E_LOCKED',
          lockOptions.busyMessage?.(holder) ??
            `This job is already running in process ${holder.pid} on ${holder.host} (since ${new Date(holder.startedAt).toISOString()}). Stop that one first, or use another destination.`,
          { details: { ...holder } },
        );
      }
      // Stale (its process is gone) or unreadable (torn write at a crash): remove and try again.
      await fsp.rm(path, { force: true });
    }
    throw new EngineError('E_LOCKED', `Could not take the job lock ${path}; another process keeps re-creating it.`);
  }

  async release(): Promise<void> {
    const holder = await readLock(this.path);
    if (holder?.pid === process.pid) await fsp.rm(this.path, { force: true });
  }
}

/** The lock's holder as written, or null when there is no (readable) lock. */
export async function readLock(path: string): Promise<LockInfo | null> {
  try {
    const v = JSON.parse(await fsp.readFile(path, 'utf8')) as LockInfo;
    return typeof v.pid === 'number' ? v : null;
  } catch {
    return null;
  }
}

/** Whether the holder still runs (a lock from another host is assumed alive). */
export function isAlive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true; // another machine sharing the folder: assume it is alive
  if (info.pid === process.pid) return false;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
