// Turns the contract's payloads into the store's deltas. The only place that knows the wire shapes,
// so a change of the contract touches this file and its test.
import type { AttemptEventView, ChunkView, EventPayload, JobDetail, JobView as ContractJobView, WindowView } from '../../../shared/contract';
import type { ChunkChange, JobDelta, JobInfo } from './model';

export function jobInfoFromView(view: ContractJobView): JobInfo {
  return {
    id: view.id,
    url: view.url,
    dest: view.dest,
    output: view.output,
    createdAt: view.createdAt,
    chunkSize: view.options.chunkSize,
    window: view.options.window,
    concurrency: view.options.concurrency,
    limitRate: view.options.limitRate,
    sha256: view.options.sha256,
    ...(view.options.headerNames ? { headerNames: view.options.headerNames } : {}),
    ...(view.options.refreshCommand ? { refreshCommand: true } : {}),
    ...(view.parts ? { parts: view.parts } : {}),
  };
}

/** A job snapshot (sent on add, restore and every state change) as an unordered delta. */
export function deltaFromJobView(view: ContractJobView, seq: number): JobDelta {
  const delta: JobDelta = {
    jobId: view.id,
    seq,
    at: view.updatedAt,
    info: jobInfoFromView(view),
    state: { state: view.state, reason: view.pauseReason ?? undefined, error: view.error ?? undefined, connecting: view.connecting ?? null },
    progress: view.progress,
    warningCount: view.warnings,
  };
  if (view.probe)
    delta.probe = {
      finalUrl: view.probe.finalUrl,
      size: view.probe.size,
      mode: view.probe.mode,
      chunkSize: view.probe.chunkSize,
      chunkCount: view.probe.chunkCount,
      format: view.probe.format,
    };
  if (view.sources) delta.sources = view.sources;
  if (view.decoding) delta.decoding = { format: view.decoding.format, resume: view.decoding.resume, reason: view.decoding.reason };
  if (view.summary && view.state === 'done') delta.done = view.summary;
  if (view.error && view.state === 'failed') delta.error = view.error;
  return delta;
}

function chunkChange(c: ChunkView): ChunkChange {
  return { index: c.index, state: c.state, bytes: c.bytes, length: c.length, attempt: c.attempt, nextAt: c.nextAt, errorCode: c.errorCode };
}

/** A job with its whole chunk map (after a reload or a resync). */
export function deltaFromDetail(detail: JobDetail, seq: number): JobDelta {
  const delta = deltaFromJobView(detail, seq);
  delta.chunks = detail.chunks.map(chunkChange);
  if (detail.window) delta.window = windowInfo(detail.window);
  return delta;
}

export function deltaFromChunkBatch(batch: EventPayload<'chunkBatch'>): JobDelta {
  return { jobId: batch.jobId, seq: batch.seq, at: batch.at, chunks: batch.chunks.map(chunkChange), progress: batch.progress };
}

function windowInfo(w: WindowView) {
  return { capacity: w.capacity, slots: w.slots, inFlight: w.inFlight, staged: w.staged, stagedBytes: w.stagedBytes, waitingOn: w.waitingOn };
}

export function deltaFromWindow(w: EventPayload<'windowOccupancy'>, seq: number): JobDelta {
  return { jobId: w.jobId, seq, at: w.at, window: windowInfo(w) };
}

export function deltaFromAttempt(e: AttemptEventView, seq: number): JobDelta {
  const base = { jobId: e.jobId, seq, at: e.at };
  switch (e.type) {
    case 'attempt-started':
      return { ...base, attemptsStarted: [{ index: e.index, attempt: e.attempt, at: e.at, rangeStart: e.rangeStart, rangeEnd: e.rangeEnd }] };
    case 'attempt-failed':
      return { ...base, attemptsFailed: [{ index: e.index, attempt: e.attempt, at: e.at, status: e.status, bytes: e.bytes, durationMs: e.durationMs, error: e.error }] };
    case 'retry-scheduled':
      return { ...base, retries: [{ index: e.index, attempt: e.attempt, delayMs: e.delayMs, nextAt: e.nextAt, reason: e.reason }] };
  }
}

export function deltaFromJobError(e: EventPayload<'jobError'>, seq: number): JobDelta {
  return { jobId: e.jobId, seq, at: e.at, error: e.error };
}
