// The job's identity and in-order progress, pinned in the state directory. A re-run compares the origin with
// what was pinned (size, ETag, Last-Modified) before it trusts a single byte kept from an earlier run.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readJsonGenerations, readJsonWithFallback, writeFileAtomic } from './atomic-file';
import { EngineError } from '../errors';
import { JOB_FILE } from './layout';

export const STATE_FILE = JOB_FILE;

export interface JobIdentity {
  url: string;
  finalUrl: string;
  size: number | null;
  etag: string | null;
  /** The ETag as first seen, weak or strong (compared weakly on a re-run); absent in state from older versions. */
  weakEtag?: string | null;
  lastModified: string | null;
  chunkSize: number;
  mode: 'extract' | 'download';
  /** Absolute destination folder (extract) or output file (download). */
  target: string;
}

export interface JobStateRecord {
  version: 1;
  identity: JobIdentity;
  /** Chunks [0, consumedChunks) are in the target for good (download-only: fsynced into the output file). */
  consumedChunks: number;
  complete: boolean;
  updatedAt: number;
  /** The outcome, once complete: a re-run reports it instead of downloading again. */
  summary?: import('../events').JobSummary;
  /**
   * The destination was empty (or missing) when this job first started: files in it with a member's name,
   * size and mtime are then this job's own work, which a restart without a checkpoint may keep.
   */
  destStartedEmpty?: boolean;
  /** --refresh-url-command, kept so that a resumed run can refresh an expired link too (the file is 0600). */
  refreshUrlCommand?: string;
}

function isStateRecord(value: unknown): value is JobStateRecord {
  const v = value as JobStateRecord;
  return !!v && v.version === 1 && typeof v.identity?.url === 'string' && typeof v.consumedChunks === 'number';
}

export async function loadJobState(stateDir: string): Promise<JobStateRecord | null> {
  return readJsonWithFallback(join(stateDir, STATE_FILE), isStateRecord);
}

/**
 * The state for a new run: null when there is none; an error when there is some but no generation of it
 * can be read (a damaged state must not pass for a job never started, which would blame the operator).
 */
export async function loadJobStateForRun(stateDir: string): Promise<JobStateRecord | null> {
  const loaded = await readJsonGenerations(join(stateDir, STATE_FILE), isStateRecord);
  if (loaded.value || !loaded.present) return loaded.value;
  throw new EngineError(
    'E_STATE_UNREADABLE',
    `The job state in ${stateDir} is there but cannot be read (${loaded.problem ?? 'damaged'}), in both its current and its previous generation; nothing was changed. ` +
      'Run again with --restart to start this job over (with --force too if the destination already holds files of the earlier run), or remove that folder.',
    { details: { stateDir, problem: loaded.problem } },
  );
}

export async function saveJobState(stateDir: string, record: JobStateRecord): Promise<void> {
  await writeFileAtomic(join(stateDir, STATE_FILE), JSON.stringify(record, null, 2), { keepPrevious: true });
}

export async function clearJobState(stateDir: string): Promise<void> {
  await fsp.rm(join(stateDir, STATE_FILE), { force: true });
  await fsp.rm(join(stateDir, `${STATE_FILE}.prev`), { force: true });
}

const ARCHIVE_FAILURES = new Set(['E_ARCHIVE_CORRUPT', 'E_ARCHIVE_TRUNCATED', 'E_NOT_AN_ARCHIVE', 'E_TRAILING_GARBAGE']);

/**
 * An archive that fails to decode in a run that continued from kept data (a checkpoint, committed chunks)
 * may be failing on that data, damaged on disk since, rather than on the origin's: such a job would fail on
 * every re-run. Says so, and what to do.
 */
export function withKeptDataHint(e: EngineError, continuedFromKeptData: boolean): EngineError {
  if (!continuedFromKeptData || !ARCHIVE_FAILURES.has(e.code)) return e;
  return new EngineError(
    e.code,
    `${e.message} This run continued from data kept by an earlier run; if running it again fails the same way, that data is damaged: run it with --restart to start over.`,
    { cause: e, retryable: e.retryable, details: e.details },
  );
}

/** The first difference between what was pinned and what the origin says now, or null. */
export function describeUpstreamChange(pinned: JobIdentity, now: Pick<JobIdentity, 'size' | 'etag' | 'lastModified'>): string | null {
  if (pinned.size !== now.size) return `size ${pinned.size ?? 'unknown'} → ${now.size ?? 'unknown'}`;
  if (pinned.etag !== null && now.etag !== pinned.etag) return `ETag ${pinned.etag} → ${now.etag ?? '(none)'}`;
  if (pinned.etag === null && pinned.lastModified !== null && now.lastModified !== pinned.lastModified) {
    return `Last-Modified ${pinned.lastModified} → ${now.lastModified ?? '(none)'}`;
  }
  return null;
}
