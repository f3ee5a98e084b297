// After a job completes its state folder goes (unless the operator keeps it): beside the target it would stay
// in the operator's data for good, holding the source URL with its query string (a presigned URL's
// signature). Whoever lists finished jobs keeps its own record (the app and `serve`, in their data folder).
// Only the job's own files are removed, never anything else an operator put in a --state-dir.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE, CHUNK_FILE, JOB_FILE, JOURNAL_FILE, PREVIOUS, isJobStateFile } from './layout';

/** Removes the job's state files (the lock goes with its release; see removeStateFolder). */
export async function removeJobState(stateDir: string): Promise<void> {
  const names = (await fsp.readdir(stateDir).catch(() => [] as string[])).filter(isJobStateFile);
  // job.json (which says "complete") goes last, and its previous generation (which does not) just before it:
  // a kill in between must leave a state that reads as complete, never an older incomplete one that a re-run
  // would resume by fetching the whole file again.
  const rank = (n: string) => (n === JOB_FILE ? 2 : n === `${JOB_FILE}${PREVIOUS}` ? 1 : 0);
  for (const name of names.sort((a, b) => rank(a) - rank(b))) await fsp.rm(join(stateDir, name), { force: true });
}

/** The folder itself, once the lock is released, if nothing else is left in it. */
export async function removeStateFolder(stateDir: string): Promise<void> {
  await fsp.rmdir(stateDir).catch(() => undefined);
}

/**
 * A new job in the state folder of another (another file to the same target): that job's checkpoint, journal
 * and chunk files describe other bytes, and must not vouch for this one's. Its state is replaced by the new one.
 */
export async function forgetEarlierJob(stateDir: string): Promise<void> {
  for (const name of await fsp.readdir(stateDir).catch(() => [] as string[])) {
    if (name === CHECKPOINT_FILE || name === `${CHECKPOINT_FILE}${PREVIOUS}` || name === JOURNAL_FILE || CHUNK_FILE.test(name)) {
      await fsp.rm(join(stateDir, name), { force: true });
    }
  }
}

/** --restart: the earlier run's state, journal, checkpoint and chunk files go; the destination is left to the operator. */
export async function clearEarlierRun(stateDir: string): Promise<void> {
  for (const name of await fsp.readdir(stateDir).catch(() => [] as string[])) {
    if (
      name === JOB_FILE ||
      name === `${JOB_FILE}${PREVIOUS}` ||
      name === CHECKPOINT_FILE ||
      name === `${CHECKPOINT_FILE}${PREVIOUS}` ||
      name === JOURNAL_FILE ||
      CHUNK_FILE.test(name)
    ) {
      await fsp.rm(join(stateDir, name), { force: true });
    }
  }
}
