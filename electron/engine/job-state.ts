// The job's identity and in-order progress, pinned in the state directory. A re-run compares the origin with
// what was pinned (size, ETag, Last-Modified) before it trusts a single byte kept from an earlier run.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readJsonWithFallback, writeFileAtomic } from './atomic-file';

export const STATE_FILE = 'job.json';

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
  summary?: import('./events').JobSummary;
  /**
   * The destination was empty (or missing) when this job first started: files in it with a member's name,
   * size and mtime are then this job's own work, which a restart without a checkpoint may keep.
   */
  destStartedEmpty?: boolean;
}

function isStateRecord(value: unknown): value is JobStateRecord {
  const v = value as JobStateRecord;
  return !!v && v.version === 1 && typeof v.identity?.url === 'string' && typeof v.consumedChunks === 'number';
}

export async function loadJobState(stateDir: string): Promise<JobStateRecord | null> {
  return readJsonWithFallback(join(stateDir, STATE_FILE), isStateRecord);
}

export async function saveJobState(stateDir: string, record: JobStateRecord): Promise<void> {
  await writeFileAtomic(join(stateDir, STATE_FILE), JSON.stringify(record, null, 2), { keepPrevious: true });
}

export async function clearJobState(stateDir: string): Promise<void> {
  await fsp.rm(join(stateDir, STATE_FILE), { force: true });
  await fsp.rm(join(stateDir, `${STATE_FILE}.prev`), { force: true });
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
