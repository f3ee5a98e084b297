// What a job's state directory says, for `snapshot-manager status` and for an app reopening old jobs:
// identity, progress, the last checkpoint, and every chunk that had failed attempts (with their history).
import { JOURNAL_FILE } from './layout';
import { join } from 'node:path';
import { loadCheckpoint } from './checkpoint-store';
import type { AttemptRecord } from '../events';
import { loadJobStateForRun, type JobStateRecord } from './job-state';
import { readJournal } from '../staging/journal';
import { durableOutputFrom } from '../staging/output-record';

export interface JobStatusReport {
  state: JobStateRecord;
  chunkCount: number;
  /** Bytes of the source that are in the target for good (a checkpoint, or committed download chunks). */
  committedBytes: number;
  checkpoint: { format: string; compressedOffset: number; uncompressedOffset: number; entries: number; bytesWritten: number; savedAt: number } | null;
  stagedChunks: number[];
  failedChunks: Array<{ index: number; attempts: AttemptRecord[] }>;
}

/** Null when there is no state; throws E_STATE_UNREADABLE when there is some that cannot be read. */
export async function readJobStatus(stateDir: string): Promise<JobStatusReport | null> {
  const state = await loadJobStateForRun(stateDir);
  if (!state) return null;
  const id = state.identity;
  const chunkCount = id.size === null ? 0 : Math.ceil(id.size / id.chunkSize);
  const saved = state.complete ? null : await loadCheckpoint(stateDir);
  const { records } = await readJournal(join(stateDir, JOURNAL_FILE));
  const staged = new Set<number>();
  const failures = new Map<number, AttemptRecord[]>();
  for (const r of records) {
    if (r.t === 'staged') staged.add(r.index);
    else if (r.t === 'attempt') failures.set(r.index, [...(failures.get(r.index) ?? []), r.attempt].slice(-20));
  }
  const checkpoint = saved
    ? {
        format: saved.extract.format,
        compressedOffset: saved.extract.compressedOffset,
        uncompressedOffset: saved.extract.uncompressedOffset,
        entries: saved.extract.entries,
        bytesWritten: saved.extract.bytesWritten,
        savedAt: saved.savedAt,
      }
    : null;
  const committedBytes = state.complete
    ? (id.size ?? 0)
    : id.mode === 'download'
      ? [...durableOutputFrom(records, state.consumedChunks, id.chunkSize, id.size ?? 0).chunks.values()].reduce((a, b) => a + b, 0)
      : (checkpoint?.compressedOffset ?? 0);
  return {
    state,
    chunkCount,
    committedBytes,
    checkpoint,
    stagedChunks: [...staged].sort((a, b) => a - b),
    failedChunks: [...failures.entries()].sort((a, b) => a[0] - b[0]).map(([index, attempts]) => ({ index, attempts })),
  };
}
