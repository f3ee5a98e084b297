// The end of a job that has every byte in its sink: the sink finished (files kept from an earlier run said),
// the digests verified, the outcome recorded, the journal and checkpoint gone, and the state folder removed
// after the completion record is written (unless the operator keeps it).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ResumableDigests } from '../checksum/digest-set';
import type { JobSummary, TransferMode } from '../events';
import { clearCheckpoint } from '../state/checkpoint-store';
import { saveJobState, type JobStateRecord } from '../state/job-state';
import { JOURNAL_FILE } from '../state/layout';
import { removeJobState } from '../state/state-cleanup';
import { recordCompletion } from './completed-job';
import type { ResolvedOptions } from './job-options';
import { verifiedOutcome } from './outcome';
import type { RangedRun } from './ranged-run';
import type { RunPlan } from './resume-plan';
import type { JobCounters, JobEventInput } from './run-context';
import type { StreamSink } from './sinks';

export async function finishJob(p: {
  options: ResolvedOptions;
  plan: RunPlan;
  sink: StreamSink;
  hasher: ResumableDigests | null;
  ranged: RangedRun | null;
  size: number | null;
  counters: JobCounters;
  elapsedMs: () => number;
  mode: TransferMode;
  emit: (event: JobEventInput) => void;
}): Promise<{ summary: JobSummary; stateRemoved: boolean }> {
  const o = p.options;
  const { record } = p.plan;
  const finished = await p.sink.finish();
  if (finished.reused) {
    p.emit({
      type: 'warning',
      code: 'FILES_KEPT',
      message: `${finished.reused} files completed by the earlier run were verified (size and modification time) and kept; the rest was extracted again.`,
    });
  }
  await p.ranged?.checkpointer.settled();
  const summary = verifiedOutcome({
    finished,
    hasher: p.hasher,
    expected: { sha256: o.sha256, md5: o.md5 },
    size: p.size,
    counters: p.counters,
    stallReplacements: p.ranged?.watchdog.replacements ?? 0,
    elapsedMs: p.elapsedMs(),
    mode: p.mode,
  });
  record.consumedChunks = p.plan.chunkCount;
  record.complete = true;
  record.updatedAt = Date.now();
  record.summary = summary;
  await saveJobState(o.stateDir, record);
  await p.ranged?.closeJournal();
  await fsp.rm(join(o.stateDir, JOURNAL_FILE), { force: true });
  await clearCheckpoint(o.stateDir);
  return { summary, stateRemoved: await forgetCompletedState(o, record, p.emit) };
}

/**
 * Completed: the completion record is written, then the state folder's files go unless they are to be kept (see
 * state-cleanup.ts); true when they went. A record that cannot be written costs only a later re-run's no-op.
 */
export async function forgetCompletedState(o: ResolvedOptions, record: JobStateRecord, emit: (event: JobEventInput) => void): Promise<boolean> {
  const dir = o.completionDir;
  if (dir) {
    await recordCompletion(dir, record).catch((err: unknown) =>
      emit({
        type: 'warning',
        code: 'COMPLETION_NOT_RECORDED',
        message: `The completion record in ${dir} could not be written (${(err as Error).message}); running this job again will not know it completed.`,
      }),
    );
  }
  if (o.keepState) return false;
  await removeJobState(o.stateDir);
  return true;
}
