// The names of everything a job keeps in its state folder, in one place: the writers, the status reader and
// the cleanup after completion must agree on them, and a rename in one of them alone would orphan files.
import { dirname } from 'node:path';

export const JOB_FILE = 'job.json';
export const CHECKPOINT_FILE = 'checkpoint.json';
export const JOURNAL_FILE = 'journal.log';
/** A manifest job's record of its parts (see parts/parts-record.ts). */
export const PARTS_FILE = 'parts.json';
/** A job's log ring: the current file and the one before it (see host/job-log.ts). */
export const JOB_LOG_FILE = 'job.log';
export const JOB_LOG_PREVIOUS = 'job.log.1';
/** The operator's request headers (--header): owner-only, never printed (see saved-headers.ts). */
export const HEADERS_FILE = 'headers.json';
/** The mirrors (--mirror): owner-only like the headers, since a mirror URL may be presigned (see saved-mirrors.ts). */
export const MIRRORS_FILE = 'mirrors.json';
/** The job's own lock (generations `lock`, `lock-1`, ...; see job-lock.ts). */
export const JOB_LOCK = 'lock';
/** Suffix of the previous generation kept by writeFileAtomic. */
export const PREVIOUS = '.prev';

/**
 * Chunk files: `chunk-00000042.part` while it arrives, `.bin` once complete; `.tail` holds the rest of a chunk
 * handed to the consumer in memory once the consumer fell behind (see chunk-tap.ts; no restart value).
 */
export const CHUNK_FILE = /^chunk-(\d+)\.(part|bin|tail)$/;

export function chunkFileName(index: number, kind: 'part' | 'bin' | 'tail'): string {
  return `chunk-${String(index).padStart(8, '0')}.${kind}`;
}

/** The chunk index a state-folder entry names, or null when it is not a chunk file. */
export function chunkIndexOf(name: string): number | null {
  const m = CHUNK_FILE.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * Every file of a job's state (not the lock, which goes with its release): current and previous generations,
 * the journal, chunk files, the log, and temp files an interrupted atomic write left behind.
 */
export function isJobStateFile(name: string): boolean {
  if (name === JOB_FILE || name === CHECKPOINT_FILE || name === `${JOB_FILE}${PREVIOUS}` || name === `${CHECKPOINT_FILE}${PREVIOUS}`) return true;
  if (name === JOURNAL_FILE || name === HEADERS_FILE || name === MIRRORS_FILE || name === JOB_LOG_FILE || name === JOB_LOG_PREVIOUS) return true;
  if (CHUNK_FILE.test(name)) return true;
  return /^\.(job|checkpoint|headers|mirrors)\.json(\.prev)?\.\d+\.\d+\.\d+\.tmp$/.test(name);
}

/** The default state folder of a target: hidden, beside it. */
export function defaultStateDirOf(target: string): string {
  const base = target.replace(/[\\/]+$/, '');
  return `${dirname(base)}/.${base.split(/[\\/]/).pop()}.snapshot-manager`;
}
