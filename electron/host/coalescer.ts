// Progress coalescer: the engine may report thousands of chunk events a second; the renderer gets at
// most one message per job every ~100 ms, carrying the latest state of every chunk that changed since
// the previous one (read from the model at flush time, so the last state is never dropped). State
// transitions and errors go out at once, together with whatever was pending for that job.
import type { EventMessage } from '../../shared/contract';
import type { SerializedError } from '../engine/errors';
import type { EngineEvent } from '../engine/events';
import type { JobModel, ModelChanges } from './job-model';

type AttemptEvent = Extract<EngineEvent, { type: 'attempt-started' | 'attempt-failed' | 'retry-scheduled' }>;

export interface ModelSource {
  has(jobId: string): boolean;
  model(jobId: string): JobModel;
}

export interface CoalescerOptions {
  intervalMs?: number;
  /** Attempt events kept per batch (the latest); the chunk history call has the rest. */
  maxAttemptsPerBatch?: number;
  now?: () => number;
}

interface Dirty {
  chunks: Set<number>;
  progress: boolean;
  window: boolean;
  attempts: AttemptEvent[];
  errors: SerializedError[];
  state: boolean;
}

export type BatchSink = (jobId: string, events: EventMessage[]) => void;

export class ProgressCoalescer implements ModelChanges {
  private readonly dirty = new Map<string, Dirty>();
  private timer: NodeJS.Timeout | null = null;
  private lastFlushAt = -Infinity;
  private readonly intervalMs: number;
  private readonly maxAttempts: number;
  private readonly now: () => number;
  private stopped = false;
  /** Messages handed to the sink, for the figures in tests and benches. */
  messagesSent = 0;

  constructor(
    private readonly source: ModelSource,
    private readonly sink: BatchSink,
    options: CoalescerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.maxAttempts = options.maxAttemptsPerBatch ?? 50;
    this.now = options.now ?? (() => performance.now());
  }

  // ---- ModelChanges

  chunk(jobId: string, index: number): void {
    this.entry(jobId).chunks.add(index);
    this.schedule();
  }
  progress(jobId: string): void {
    this.entry(jobId).progress = true;
    this.schedule();
  }
  window(jobId: string): void {
    this.entry(jobId).window = true;
    this.schedule();
  }
  attempt(jobId: string, event: AttemptEvent): void {
    const d = this.entry(jobId);
    d.attempts.push(event);
    if (d.attempts.length > this.maxAttempts * 2) d.attempts.splice(0, d.attempts.length - this.maxAttempts);
    this.schedule();
  }
  state(jobId: string): void {
    this.entry(jobId).state = true;
    this.flushJob(jobId);
  }
  error(jobId: string, error: SerializedError): void {
    this.entry(jobId).errors.push(error);
    this.flushJob(jobId);
  }

  /** The job was forgotten: drop what is pending and say so at once. */
  removed(jobId: string): void {
    this.dirty.delete(jobId);
    this.send(jobId, [{ channel: 'jobRemoved', payload: { jobId } }]);
  }

  /** Sends everything pending now (used on shutdown and by tests). */
  flushAll(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastFlushAt = this.now();
    for (const jobId of [...this.dirty.keys()]) this.flushJob(jobId);
  }

  stop(): void {
    this.flushAll();
    this.stopped = true;
  }

  // ---- internals

  private entry(jobId: string): Dirty {
    let d = this.dirty.get(jobId);
    if (!d) {
      d = { chunks: new Set(), progress: false, window: false, attempts: [], errors: [], state: false };
      this.dirty.set(jobId, d);
    }
    return d;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    const wait = Math.max(0, this.lastFlushAt + this.intervalMs - this.now());
    this.timer = setTimeout(() => this.flushAll(), wait);
  }

  private flushJob(jobId: string): void {
    const d = this.dirty.get(jobId);
    this.dirty.delete(jobId);
    if (!d || !this.source.has(jobId)) return;
    const model = this.source.model(jobId);
    const at = Date.now();
    const events: EventMessage[] = [];
    if (d.chunks.size > 0 || d.progress) {
      const chunks = [];
      for (const index of [...d.chunks].sort((a, b) => a - b)) {
        const c = model.chunk(index);
        if (c) chunks.push(c);
      }
      model.seq += 1;
      events.push({ channel: 'chunkBatch', payload: { jobId, seq: model.seq, at, chunks, progress: model.progress() } });
    }
    if (d.window) {
      // A stopped job has no window: an empty one tells the renderer to clear it.
      const w = model.window() ?? { capacity: 0, slots: [], inFlight: 0, staged: 0, stagedBytes: 0, waitingOn: 'none' as const };
      events.push({ channel: 'windowOccupancy', payload: { ...w, jobId, at } });
    }
    for (const a of d.attempts.slice(-this.maxAttempts)) events.push({ channel: 'attempt', payload: a });
    for (const error of d.errors) events.push({ channel: 'jobError', payload: { jobId, at, error } });
    if (d.state) events.push({ channel: 'jobSnapshot', payload: model.snapshot() });
    if (events.length > 0) this.send(jobId, events);
  }

  private send(jobId: string, events: EventMessage[]): void {
    this.messagesSent++;
    this.sink(jobId, events);
  }
}
