// Where jobs run, seen from the job manager: in this thread, or in a worker thread so that inflating,
// hashing and tar parsing never delay the thread that answers IPC. Both runners speak this interface.
import type { EngineEvent, JobSummary, PauseReason, AttemptRecord } from '../events';
import type { SerializedError } from '../errors';
import type { JobOptions } from '../job/job-options';

export type { JobOptions };

/** What a runner needs of the engine's Job (electron/engine/job.ts). */
export interface JobLike {
  readonly id: string;
  on(event: 'event', listener: (e: EngineEvent) => void): unknown;
  run(): Promise<JobSummary>;
  pause(reason: PauseReason): void;
  resume(): void;
  cancel(): void;
  retryChunkNow(index: number): void;
  chunkHistory(index: number): AttemptRecord[];
  /** Bytes/s, null for unlimited; applies to ranges in flight. */
  setRateLimit(bytesPerSecond: number | null): void;
  /** Continues with a new link to the same file (see Job.replaceUrl); rejects when it serves another. */
  replaceUrl(url: string): Promise<void>;
}

export type JobFactory = (options: JobOptions, id: string) => JobLike;

export type JobOutcome = { ok: true; summary: JobSummary } | { ok: false; error: SerializedError };

export interface RunnerListeners {
  /** Engine events in the order the engine emitted them (superseded progress may be folded). */
  events(events: EngineEvent[]): void;
  /** run() settled: resolved with the summary or rejected with the error. */
  settled(jobId: string, outcome: JobOutcome): void;
}

export interface JobRunner {
  readonly kind: 'in-process' | 'worker';
  start(id: string, options: JobOptions): void;
  isRunning(id: string): boolean;
  pause(id: string, reason: PauseReason): void;
  resume(id: string): void;
  cancel(id: string): void;
  retryChunkNow(id: string, index: number): void;
  setRateLimit(id: string, bytesPerSecond: number | null): void;
  /** The running job takes a new link; the error (serialized) when it refuses it. */
  replaceUrl(id: string, url: string): Promise<SerializedError | null>;
  chunkHistory(id: string, index: number): Promise<AttemptRecord[]>;
  setListeners(listeners: RunnerListeners): void;
  /** Stops what runs, keeping every committed byte and the journal (a later run resumes), and releases the thread. */
  close(): Promise<void>;
}
