// Folds raw engine events (in the order they happened) into one delta: the last state of each chunk,
// the last window and progress, every attempt and retry. Used when the host forwards events as they are.
import type { EngineEvent } from '../../../electron/engine/events';
import type { ChunkChange, JobDelta } from './model';

export function foldEvents(jobId: string, seq: number, events: readonly EngineEvent[]): JobDelta {
  const delta: JobDelta = { jobId, seq, at: 0 };
  const chunks = new Map<number, ChunkChange>();
  for (const e of events) {
    if (e.jobId !== jobId) continue;
    delta.at = Math.max(delta.at, e.at);
    switch (e.type) {
      case 'job-state':
        delta.state = { state: e.state, reason: e.reason, error: e.error };
        break;
      case 'probed':
        delta.probe = { finalUrl: e.finalUrl, size: e.size, mode: e.mode, chunkSize: e.chunkSize, chunkCount: e.chunkCount, format: e.format };
        break;
      case 'chunk':
        chunks.delete(e.index); // keep the map in the order of the last change
        chunks.set(e.index, { index: e.index, state: e.state, bytes: e.bytes, length: e.length });
        break;
      case 'attempt-started':
        (delta.attemptsStarted ??= []).push({ index: e.index, attempt: e.attempt, at: e.at, rangeStart: e.rangeStart, rangeEnd: e.rangeEnd });
        break;
      case 'attempt-failed':
        (delta.attemptsFailed ??= []).push({ index: e.index, attempt: e.attempt, at: e.at, status: e.status, bytes: e.bytes, durationMs: e.durationMs, error: e.error });
        break;
      case 'retry-scheduled':
        (delta.retries ??= []).push({ index: e.index, attempt: e.attempt, delayMs: e.delayMs, nextAt: e.nextAt, reason: e.reason });
        break;
      case 'window':
        delta.window = { capacity: e.capacity, slots: e.slots, inFlight: e.inFlight, staged: e.staged, stagedBytes: e.stagedBytes, waitingOn: e.waitingOn };
        break;
      case 'progress': {
        const { type: _t, jobId: _j, at: _a, ...progress } = e;
        delta.progress = progress;
        break;
      }
      case 'warning':
        (delta.warnings ??= []).push({ at: e.at, code: e.code, message: e.message, entry: e.entry });
        break;
      case 'done': {
        const { type: _t, jobId: _j, at: _a, ...summary } = e;
        delta.done = summary;
        break;
      }
      case 'error':
        delta.error = e.error;
        break;
    }
  }
  if (chunks.size > 0) delta.chunks = [...chunks.values()];
  return delta;
}
