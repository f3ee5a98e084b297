// One process at a time per job, and one job at a time per target: a lock names its holder (pid, start
// time, boot, host), is refused while that holder lives, and is taken over once it is dead.
//
// Taking over must be atomic: "read, decide stale, remove, create" let two processes that both saw the
// same dead holder both go on. So a lock is a series of generations, `<prefix>` (0), `<prefix>-1`, ...,
// each created whole with link() (exclusive: exactly one creator per name). The highest generation present
// is the lock. Superseding a dead generation g means creating g+1, which only one claimant can do; a
// claimant then checks that no higher generation appeared (it had a stale view) and yields if one did.
// A generation g+1 can only appear by someone having seen g and judged its holder dead, so a live holder
// is never superseded. Lower generations are removed by the winner.
import { JOB_LOCK } from './layout';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { EngineError } from '../errors';
import { liveness, selfIdentity, type ProcessIdentity } from './process-identity';
import { sleep } from '../sleep';

export interface LockInfo extends ProcessIdentity {
  host: string;
  startedAt: number;
  /** Unique per acquisition: tells this process's own locks from a leftover with the same pid. */
  token: string;
  /** What the holder does, for the refusal's message. */
  stateDir?: string;
  target?: string;
}

/** How long a restart waits, by default, for a holder that is exiting (a kill in progress, a stop that flushes). */
export const LOCK_WAIT_MS = 3_000;
const POLL_MS = 100;
/** Locks held by this process (a second job in the same process must be refused too). */
const heldTokens = new Set<string>();

export interface LockOptions {
  /** Wait this long for a live holder to go before refusing (default LOCK_WAIT_MS). */
  waitMs?: number;
  stateDir?: string;
  target?: string;
  /** The refusal when a live holder keeps the lock. */
  refuse: (holder: LockInfo) => EngineError;
}

export class FileLock {
  private constructor(
    private readonly path: string,
    private readonly token: string,
  ) {}

  static async acquire(dir: string, prefix: string, options: LockOptions): Promise<FileLock> {
    const info: LockInfo = {
      ...selfIdentity(),
      host: hostname(),
      startedAt: Date.now(),
      token: randomBytes(12).toString('hex'),
      ...(options.stateDir ? { stateDir: options.stateDir } : {}),
      ...(options.target ? { target: options.target } : {}),
    };
    const deadline = Date.now() + (options.waitMs ?? LOCK_WAIT_MS);
    // Written whole under a private name, then linked: a reader never sees a half-written lock.
    const tmp = join(dir, `.${prefix}.${process.pid}.${info.token}.tmp`);
    await fsp.writeFile(tmp, JSON.stringify(info), { mode: 0o600 });
    try {
      for (let round = 0; round < 10_000; round++) {
        const gens = await generations(dir, prefix);
        const top = gens.length > 0 ? Math.max(...gens) : -1;
        if (top >= 0) {
          const topPath = join(dir, nameOf(prefix, top));
          const holder = await readLock(topPath);
          if (holder === 'missing') continue; // released meanwhile: look again
          if (holder === null ? await beingWritten(topPath) : isAlive(holder)) {
            if (Date.now() < deadline) {
              await sleep(POLL_MS);
              continue;
            }
            throw holder ? options.refuse(holder) : new EngineError('E_LOCKED', `The lock ${topPath} is being taken by another process.`);
          }
        }
        const want = top + 1;
        const path = join(dir, nameOf(prefix, want));
        try {
          await claim(tmp, path, info);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue; // another claimant won this generation
          throw err;
        }
        const after = await generations(dir, prefix);
        if (after.some((g) => g > want)) {
          // Someone superseded the generation this claim was based on: our view was stale.
          await fsp.unlink(path).catch(() => undefined);
          continue;
        }
        heldTokens.add(info.token);
        for (const g of after) if (g < want) await fsp.unlink(join(dir, nameOf(prefix, g))).catch(() => undefined);
        return new FileLock(path, info.token);
      }
      throw new EngineError('E_LOCKED', `Could not take the lock ${join(dir, prefix)}; other processes keep changing it.`);
    } finally {
      await fsp.unlink(tmp).catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    heldTokens.delete(this.token);
    const holder = await readLock(this.path);
    if (holder && holder !== 'missing' && holder.token === this.token) await fsp.unlink(this.path).catch(() => undefined);
  }
}

/** The job's own lock, in its state directory. */
export class JobLock {
  static async acquire(stateDir: string, options: { waitMs?: number; target?: string } = {}): Promise<FileLock> {
    return FileLock.acquire(stateDir, JOB_LOCK, {
      ...options,
      stateDir,
      refuse: (h) =>
        new EngineError(
          'E_LOCKED',
          `This job is already running in process ${h.pid} on ${h.host} (since ${new Date(h.startedAt).toISOString()}). Stop that one first, or use another destination.`,
          { details: lockDetails(h) },
        ),
    });
  }
}

/**
 * The target's lock, beside it (named for it, in its parent's real path): two jobs with different state
 * folders must not extract into one folder, or write one file, at once.
 */
export async function acquireTargetLock(target: string, stateDir: string, waitMs?: number): Promise<FileLock> {
  const parent = await fsp.realpath(join(target, '..'));
  const name = target
    .replace(/[\\/]+$/, '')
    .split(/[\\/]/)
    .pop()!;
  return FileLock.acquire(parent, `.${name}.snapshot-manager.lock`, {
    ...(waitMs !== undefined ? { waitMs } : {}),
    stateDir,
    target,
    refuse: (h) =>
      new EngineError(
        'E_LOCKED',
        `Another job is writing into ${target}: process ${h.pid} on ${h.host} (since ${new Date(h.startedAt).toISOString()}), with its state in ${h.stateDir ?? 'an unknown folder'}. Two jobs in one target would mix their files; stop that job first, or choose another target.`,
        { details: lockDetails(h) },
      ),
  });
}

/**
 * The target's lock (see job-lock.ts). None when its folder cannot be made (preflight then reports that) or
 * written (a destination that is a mount point in a read-only folder): said in a warning.
 */
export async function lockTarget(target: string, stateDir: string, warn: (message: string) => void): Promise<FileLock | null> {
  const made = await fsp.mkdir(dirname(target), { recursive: true }).then(
    () => true,
    () => false,
  );
  if (!made) return null;
  try {
    return await acquireTargetLock(target, stateDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw err;
    warn(`The target cannot be locked (${code}: its folder ${dirname(target)} is not writable); make sure no other job writes into ${target} at the same time.`);
    return null;
  }
}

function lockDetails(h: LockInfo): Record<string, unknown> {
  return { pid: h.pid, host: h.host, startedAt: h.startedAt, ...(h.stateDir ? { stateDir: h.stateDir } : {}), ...(h.target ? { target: h.target } : {}) };
}

/**
 * Creates `path` exclusively with the lock's content: by link() from the temp file, so it appears whole;
 * where links are not supported (FAT, some network shares) by an exclusive create, whose content a reader
 * may briefly see empty (see beingWritten).
 */
async function claim(tmp: string, path: string, info: LockInfo): Promise<void> {
  try {
    await fsp.link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
    await fsp.writeFile(path, JSON.stringify(info), { flag: 'wx', mode: 0o600 });
  }
}

/** An unreadable lock younger than a few seconds is one being written (see claim): not a dead holder yet. */
async function beingWritten(path: string): Promise<boolean> {
  const st = await fsp.stat(path).catch(() => null);
  return !!st && Date.now() - st.mtimeMs < 5_000;
}

function nameOf(prefix: string, gen: number): string {
  return gen === 0 ? prefix : `${prefix}-${gen}`;
}

async function generations(dir: string, prefix: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await fsp.readdir(dir)) {
    if (name === prefix) out.push(0);
    else if (name.startsWith(`${prefix}-`) && /^\d+$/.test(name.slice(prefix.length + 1))) out.push(Number(name.slice(prefix.length + 1)));
  }
  return out;
}

/** The holder, 'missing' when the file is gone, null when it cannot be read as a lock (then it is not alive). */
async function readLock(path: string): Promise<LockInfo | 'missing' | null> {
  try {
    const v = JSON.parse(await fsp.readFile(path, 'utf8')) as LockInfo;
    return typeof v.pid === 'number' ? v : null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : null;
  }
}

function isAlive(info: LockInfo): boolean {
  if (typeof info.host === 'string' && info.host !== hostname()) return true; // another machine sharing the folder: assume it is alive
  if (info.pid === process.pid) return typeof info.token === 'string' && heldTokens.has(info.token);
  return liveness(info) === 'alive';
}

/** The holder of the lock `<dir>/<prefix>` (its highest generation) and whether it still runs; null when there is none. */
export async function lockHolder(dir: string, prefix = JOB_LOCK): Promise<{ holder: LockInfo; alive: boolean } | null> {
  const gens = await generations(dir, prefix).catch(() => [] as number[]);
  if (gens.length === 0) return null;
  const holder = await readLock(join(dir, nameOf(prefix, Math.max(...gens))));
  return holder && holder !== 'missing' ? { holder, alive: isAlive(holder) } : null;
}
