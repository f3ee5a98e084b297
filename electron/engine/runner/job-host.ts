// Runs Jobs in the current thread and reports their events and outcomes. The in-process runner uses
// it directly; the worker thread wraps it behind messages.
import { EngineError, serializeError, type SerializedError } from '../errors';
import type { AttemptRecord, EngineEvent, PauseReason } from '../events';
import type { JobFactory, JobLike, JobOptions, JobOutcome } from './runner';

export interface JobHostListeners {
  event(e: EngineEvent): void;
  settled(jobId: string, outcome: JobOutcome): void;
}

export class JobHost {
  private readonly jobs = new Map<string, JobLike>();

  constructor(
    private readonly createJob: JobFactory,
    private readonly listeners: JobHostListeners,
  ) {}

  isRunning(id: string): boolean {
    return this.jobs.has(id);
  }

  runningIds(): string[] {
    return [...this.jobs.keys()];
  }

  start(id: string, options: JobOptions): void {
    if (this.jobs.has(id)) return;
    let job: JobLike;
    try {
      job = this.createJob(options, id);
    } catch (err) {
      this.listeners.settled(id, { ok: false, error: serializeError(err) });
      return;
    }
    this.jobs.set(id, job);
    job.on('event', (e) => this.listeners.event(e));
    job.run().then(
      (summary) => this.finish(id, job, { ok: true, summary }),
      (err: unknown) => this.finish(id, job, { ok: false, error: serializeError(err) }),
    );
  }

  private finish(id: string, job: JobLike, outcome: JobOutcome): void {
    if (this.jobs.get(id) === job) this.jobs.delete(id);
    this.listeners.settled(id, outcome);
  }

  pause(id: string, reason: PauseReason): void {
    this.jobs.get(id)?.pause(reason);
  }

  resume(id: string): void {
    this.jobs.get(id)?.resume();
  }

  cancel(id: string): void {
    this.jobs.get(id)?.cancel();
  }

  retryChunkNow(id: string, index: number): void {
    this.jobs.get(id)?.retryChunkNow(index);
  }

  setRateLimit(id: string, bytesPerSecond: number | null): void {
    this.jobs.get(id)?.setRateLimit(bytesPerSecond);
  }

  async replaceUrl(id: string, url: string): Promise<SerializedError | null> {
    const job = this.jobs.get(id);
    if (!job) return serializeError(new EngineError('E_CONFLICT', 'The job is not running.'));
    return job.replaceUrl(url).then(
      () => null,
      (err: unknown) => serializeError(err),
    );
  }

  chunkHistory(id: string, index: number): AttemptRecord[] {
    return this.jobs.get(id)?.chunkHistory(index) ?? [];
  }
}
