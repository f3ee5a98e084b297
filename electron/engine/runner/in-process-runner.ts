// Jobs in the calling thread: for the CLI, for tests, and as the baseline the event-loop bench
// compares the worker against.
import type { AttemptRecord, EngineEvent, PauseReason } from '../events';
import type { SerializedError } from '../errors';
import { JobHost } from './job-host';
import type { JobFactory, JobOptions, JobRunner, RunnerListeners } from './runner';

export class InProcessRunner implements JobRunner {
  readonly kind = 'in-process' as const;
  private listeners: RunnerListeners | null = null;
  private readonly host: JobHost;

  constructor(createJob: JobFactory) {
    this.host = new JobHost(createJob, {
      event: (e: EngineEvent) => this.listeners?.events([e]),
      settled: (id, outcome) => this.listeners?.settled(id, outcome),
    });
  }

  setListeners(listeners: RunnerListeners): void {
    this.listeners = listeners;
  }
  start(id: string, options: JobOptions): void {
    this.host.start(id, options);
  }
  isRunning(id: string): boolean {
    return this.host.isRunning(id);
  }
  pause(id: string, reason: PauseReason): void {
    this.host.pause(id, reason);
  }
  resume(id: string): void {
    this.host.resume(id);
  }
  cancel(id: string): void {
    this.host.cancel(id);
  }
  retryChunkNow(id: string, index: number): void {
    this.host.retryChunkNow(id, index);
  }
  setRateLimit(id: string, bytesPerSecond: number | null): void {
    this.host.setRateLimit(id, bytesPerSecond);
  }
  replaceUrl(id: string, url: string): Promise<SerializedError | null> {
    return this.host.replaceUrl(id, url);
  }
  async chunkHistory(id: string, index: number): Promise<AttemptRecord[]> {
    return this.host.chunkHistory(id, index);
  }
  /**
   * Stops every job and waits for its run to settle. The engine keeps a cancelled job's state on disk,
   * so a later run resumes it; nothing of it stays alive in this thread.
   */
  async close(): Promise<void> {
    const ids = this.host.runningIds();
    if (ids.length === 0) return;
    const settled = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      const check = (): void => {
        if (this.host.runningIds().length === 0) {
          clearTimeout(timer);
          resolve();
        } else setTimeout(check, 10);
      };
      check();
    });
    for (const id of ids) this.host.cancel(id);
    await settled;
  }
}
