// Messages between the job manager's thread and the engine worker thread.
import type { AttemptRecord, EngineEvent, PauseReason } from '../events';
import type { JobOptions, JobOutcome } from './runner';
import type { SerializedError } from '../errors';

export interface WorkerData {
  /** Absolute path of a module exporting the `Job` class (the engine's, or a test double). */
  jobModule: string;
  /** How long the worker gathers events before posting them, ms. */
  batchMs: number;
}

export type ToWorker =
  | { op: 'start'; id: string; options: JobOptions }
  | { op: 'pause'; id: string; reason: PauseReason }
  | { op: 'resume'; id: string }
  | { op: 'cancel'; id: string }
  | { op: 'retryChunkNow'; id: string; index: number }
  | { op: 'setRateLimit'; id: string; bytesPerSecond: number | null }
  | { op: 'history'; id: string; index: number; requestId: number }
  | { op: 'replaceUrl'; id: string; url: string; requestId: number }
  | { op: 'stopAll'; requestId: number };

export type FromWorker =
  | { t: 'events'; events: EngineEvent[] }
  | { t: 'settled'; id: string; outcome: JobOutcome }
  | { t: 'history'; requestId: number; records: AttemptRecord[] }
  | { t: 'replaced'; requestId: number; error: SerializedError | null }
  | { t: 'stopped-all'; requestId: number };
