// The jobs' runs on the runner: a new run (it continues from the job's journal), the engine's events applied
// to the models (see engine-events.ts), what a run's end means (see run-settled.ts), who waits for that end
// (see settle-waiters.ts), and the wait of a job paused on a full destination, which starts a new run once
// there is room (see disk-full-wait.ts).
import type { AttemptRecord } from '../engine/events';
import type { JobOptions, JobOutcome, JobRunner } from '../engine/runner/runner';
import { journalAttempts, mergeAttemptHistory } from '../engine/staging/attempt-history';
import { DiskFullWaits } from './disk-full-wait';
import { applyEngineEvents } from './engine-events';
import type { JobLogs } from './job-logs';
import { ATTEMPTS_KEPT, type ModelChanges } from './job-model';
import type { JobStore } from './job-store';
import type { JobTable } from './job-table';
import { applyOutcome } from './run-settled';
import { SettleWaiters } from './settle-waiters';

export interface RunsHost {
  readonly jobs: JobTable;
  readonly runner: JobRunner;
  readonly store: JobStore;
  readonly logs: JobLogs;
  readonly changes: ModelChanges;
  /** How often a job paused for a full destination looks at the free space again, ms. */
  readonly diskCheckMs: number;
  /** The manager is closed: what the runner says now changes nothing. */
  closed(): boolean;
  discardStaging(id: string): Promise<void>;
}

export class JobRuns {
  readonly diskWaits: DiskFullWaits;
  /** Jobs cancelled while running: their run's end reads as a cancel, whatever it says. */
  private readonly cancelling = new Set<string>();
  private readonly settleWaiters = new SettleWaiters();

  constructor(private readonly host: RunsHost) {
    this.diskWaits = new DiskFullWaits(host.diskCheckMs);
    host.runner.setListeners({
      events: (events) => {
        if (host.closed()) return;
        applyEngineEvents(events, {
          model: (id) => host.jobs.find(id),
          record: (id, entry) => host.logs.record(id, entry),
          schedule: (soon) => host.store.schedule(soon),
        });
      },
      settled: (id, outcome) => this.onSettled(id, outcome),
    });
  }

  isRunning(id: string): boolean {
    return this.host.runner.isRunning(id);
  }

  /** A new run of a job that does not run, continuing from its journal. */
  start(id: string, options: JobOptions = this.host.jobs.optionsOf(id)): void {
    this.host.jobs.model(id).setState('probing', { error: null });
    this.host.runner.start(id, options);
  }

  cancel(id: string): void {
    this.cancelling.add(id);
    this.host.runner.cancel(id);
  }

  settledOrTimeout(id: string, ms: number): Promise<void> {
    return this.settleWaiters.settledOrTimeout(id, ms);
  }

  /**
   * The engine's record while the job runs (it read the journal's earlier attempts when it started);
   * afterwards what the model saw in this process, with the attempts the journal kept from earlier runs
   * (after a restart the model has seen none).
   */
  async chunkHistory(id: string, index: number, stateDir: string): Promise<AttemptRecord[]> {
    const m = this.host.jobs.model(id);
    if (this.isRunning(id)) {
      const records = await this.host.runner.chunkHistory(id, index);
      if (records.length > 0) return records;
    }
    return mergeAttemptHistory(await journalAttempts(stateDir, index), m.chunkHistory(index), ATTEMPTS_KEPT);
  }

  private onSettled(id: string, outcome: JobOutcome): void {
    const h = this.host;
    this.settleWaiters.settled(id);
    const m = h.jobs.find(id);
    const wasCancelled = this.cancelling.delete(id);
    if (!m || h.closed()) return;
    applyOutcome(m, outcome, wasCancelled, {
      log: (level, text) => h.logs.log(id, level, text),
      reportError: (error) => h.changes.error(id, error),
      discardStaging: () => void h.discardStaging(id),
      waitForDisk: (error) => this.waitForDisk(id, error),
    });
    h.store.schedule(true);
  }

  /** The extraction (or a refusal up front) found the destination full: a new run once there is room. */
  private waitForDisk(id: string, error: { details?: Record<string, unknown> | undefined }): void {
    const h = this.host;
    this.diskWaits.stop(id);
    const options = h.jobs.optionsOf(id);
    this.diskWaits.start(id, options, error, () => {
      const m = h.jobs.find(id);
      if (!m || h.closed() || m.state !== 'paused' || m.pauseReason !== 'disk-full' || this.isRunning(id)) return;
      h.logs.log(id, 'info', 'space is free again: a new run continues from the last checkpoint');
      this.start(id, options);
      h.store.schedule(true);
    });
  }
}
