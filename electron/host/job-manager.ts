// Owns every job of the app or of `serve`: starts them on a runner (worker thread or in-process),
// keeps a model of each built from the engine's events, persists the job list and the settings in a
// data directory, and restores them after a restart in the state they were in: what ran resumes from its
// journal, what the operator paused stays paused. One process at a time owns a data directory.
//
// This file holds the commands and the engine's side; its parts: the job list on disk (job-store), the
// logs (job-logs), a new job's options and record (new-job), the wait of a job paused on a full disk
// (disk-full-wait), what a cancel deletes (cancelled-files), and its refusals (job-errors).
import { replaceLink } from './replace-link';
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../engine/errors';
import { FileLock } from '../engine/state/job-lock';
import type { AttemptRecord, EngineEvent, PauseReason } from '../engine/events';
import type { JobOptions, JobOutcome, JobRunner } from '../engine/runner/runner';
import { deleteWrittenFiles } from './cancelled-files';
import { DiskFullWaits } from './disk-full-wait';
import { JobConflictError, JobNotFoundError } from './job-errors';
import { ATTEMPTS_KEPT, JobModel, type JobRecord, type ModelChanges } from './job-model';
import { journalAttempts, mergeAttemptHistory } from '../engine/staging/attempt-history';
import { logEntryFor, type LogEntry, type LogLevel } from './job-log';
import { JobLogs } from './job-logs';
import { JobStore } from './job-store';
import { newJob, type AddJobInput } from './new-job';
import type { JobDetail, JobView, Settings } from '../../shared/contract';
import { DEFAULT_SETTINGS, settingsSchema } from '../../shared/schemas';

export { JobConflictError, JobNotFoundError } from './job-errors';
export type { AddJobInput } from './new-job';

export interface JobManagerOptions {
  dataDir: string;
  runner: JobRunner;
  /** Engine options the renderer cannot set (tests shorten retry delays, for instance). */
  engineOptions?: Partial<Omit<JobOptions, 'url' | 'dest' | 'output' | 'stateDir'>>;
  /** How often a running job's progress is written to disk, ms. */
  saveIntervalMs?: number;
  /** How often a job paused for a full destination looks at the free space again, ms. */
  diskCheckMs?: number;
  now?: () => number;
}

const NOOP_CHANGES: ModelChanges = { chunk() {}, progress() {}, window() {}, attempt() {}, state() {}, error() {} };

function isDiskFull(e: EngineEvent): boolean {
  return (e.type === 'job-state' && e.state === 'failed' && e.error?.code === 'E_DISK_FULL') || (e.type === 'error' && e.error.code === 'E_DISK_FULL');
}

export class JobManager {
  private readonly jobs = new Map<string, JobModel>();
  private readonly options = new Map<string, JobOptions>();
  /** Reasons (suspend, offline) for which pauseAll paused a job; it resumes when none is left. */
  private readonly heldBy = new Map<string, Set<PauseReason>>();
  private readonly cancelling = new Set<string>();
  /** Cancelled jobs whose files go too, once their run has stopped writing. */
  private readonly deleteOnCancel = new Set<string>();
  private readonly settleWaiters = new Map<string, Array<() => void>>();
  /** Jobs that were running when the previous process stopped; startRestored() resumes them. */
  private readonly resumeOnStart = new Set<string>();
  private readonly diskWaits: DiskFullWaits;
  private lock: FileLock | null = null;
  private readonly logs: JobLogs;
  private readonly store: JobStore;
  private settingsValue: Settings = { ...DEFAULT_SETTINGS };
  private changes: ModelChanges = NOOP_CHANGES;
  private closed = false;
  private readonly now: () => number;

  private constructor(private readonly config: JobManagerOptions) {
    this.now = config.now ?? Date.now;
    this.diskWaits = new DiskFullWaits(config.diskCheckMs ?? 2000);
    this.logs = new JobLogs((id) => this.logDirOf(id), this.now);
    this.store = new JobStore(config.dataDir, config.saveIntervalMs ?? 5000, {
      jobs: () =>
        [...this.jobs.values()].map((m) => ({
          ...m.record(),
          engineOptions: this.options.get(m.id) ?? { url: m.record().url, stateDir: this.stateDirOf(m.id) },
          ...(this.resumeOnStart.has(m.id) ? { resumeOnStart: true } : {}),
        })),
      settings: () => this.settingsValue,
    });
    config.runner.setListeners({
      events: (events) => this.onEngineEvents(events),
      settled: (id, outcome) => this.onSettled(id, outcome),
    });
  }

  static async open(config: JobManagerOptions): Promise<JobManager> {
    const manager = new JobManager(config);
    await fsp.mkdir(join(config.dataDir, 'jobs'), { recursive: true, mode: 0o700 });
    // Two processes on one job list would overwrite each other's writes and run the same jobs twice.
    manager.lock = await FileLock.acquire(config.dataDir, 'manager.lock', {
      waitMs: 0,
      refuse: (h) =>
        new EngineError(
          'E_LOCKED',
          `Another Snapshot Manager (process ${h.pid} on ${h.host}, since ${new Date(h.startedAt).toISOString()}) already uses the state folder ${config.dataDir}. Stop it first, or give this one another --state-dir.`,
          { details: { pid: h.pid, host: h.host, startedAt: h.startedAt } },
        ),
    });
    try {
      await manager.load();
    } catch (err) {
      await manager.lock.release().catch(() => undefined);
      throw err;
    }
    return manager;
  }

  /**
   * Resumes the jobs that were running when the previous process stopped (or crashed). Called once the
   * host listens, so their first events reach the windows.
   */
  startRestored(): string[] {
    const started: string[] = [];
    for (const id of this.resumeOnStart) {
      const m = this.jobs.get(id);
      if (!m || m.isTerminal || this.isRunning(id)) continue;
      m.setState('probing', { error: null });
      this.log(id, 'info', 'resumed: it was running when the previous process stopped');
      this.config.runner.start(id, this.optionsOf(id));
      started.push(id);
    }
    this.resumeOnStart.clear();
    if (started.length > 0) this.store.schedule(true);
    return started;
  }

  get runnerKind(): JobRunner['kind'] {
    return this.config.runner.kind;
  }

  /** The coalescer; only one listener, set before any job runs. */
  setChangeListener(changes: ModelChanges): void {
    this.changes = changes;
  }

  // ---- queries

  list(): JobView[] {
    return [...this.jobs.values()].map((m) => m.snapshot()).sort((a, b) => a.createdAt - b.createdAt);
  }

  get(id: string): JobDetail {
    return this.model(id).detail();
  }

  view(id: string): JobView {
    return this.model(id).snapshot();
  }

  has(id: string): boolean {
    return this.jobs.has(id);
  }

  /** The model itself, for the coalescer (reads current chunk states at flush time). */
  model(id: string): JobModel {
    const m = this.jobs.get(id);
    if (!m) throw new JobNotFoundError(id);
    return m;
  }

  /** The job's log, oldest first (bounded; job.log in its state folder keeps more). */
  jobLog(id: string): LogEntry[] {
    this.model(id);
    return this.logs.entries(id);
  }

  /** Resolves once every log line so far is on disk (tests, shutdown). */
  logsFlushed(): Promise<void> {
    return this.logs.flushed();
  }

  isRunning(id: string): boolean {
    return this.config.runner.isRunning(id);
  }

  stateDirOf(id: string): string {
    return join(this.config.dataDir, 'jobs', id);
  }

  /** The job's log lives in the app's data folder, not its state folder: that one goes when the job completes. */
  logDirOf(id: string): string {
    return join(this.config.dataDir, 'logs', id);
  }

  settings(): Settings {
    return { ...this.settingsValue };
  }

  async updateSettings(patch: Partial<Settings>): Promise<Settings> {
    const next = settingsSchema.parse({ ...this.settingsValue, ...patch });
    this.settingsValue = next;
    await this.store.save('settings');
    return this.settings();
  }

  // ---- commands

  async add(input: AddJobInput): Promise<JobView> {
    this.assertOpen();
    const id = randomUUID();
    const { options, record } = newJob(id, input, this.settingsValue, this.config.engineOptions, this.stateDirOf(id), this.now());
    const model = this.createModel(record);
    this.options.set(id, options);
    this.log(id, 'info', `added: ${input.url} → ${input.dest ?? input.output}`);
    this.changes.state(id);
    await this.store.save('jobs');
    this.config.runner.start(id, options);
    return model.snapshot();
  }

  pause(id: string, reason: PauseReason = 'user'): JobView {
    const m = this.model(id);
    if (m.isTerminal) throw new JobConflictError(`The job is ${m.state}; there is nothing to pause`, id);
    if (reason === 'user') {
      this.heldBy.delete(id);
      this.stopDiskWait(id);
      this.log(id, 'info', 'pause asked by the operator');
    }
    if (this.isRunning(id)) this.config.runner.pause(id, reason);
    else if (m.state !== 'paused') m.setState('paused', { pauseReason: reason });
    return m.snapshot();
  }

  resume(id: string): JobView {
    this.assertOpen();
    const m = this.model(id);
    if (m.state === 'done' || m.state === 'cancelled') throw new JobConflictError(`The job is ${m.state} and cannot be resumed`, id);
    this.heldBy.delete(id);
    this.stopDiskWait(id);
    this.log(id, 'info', m.state === 'failed' ? 'resume asked by the operator: a new run continues from the journal' : 'resume asked by the operator');
    if (this.isRunning(id)) {
      this.config.runner.resume(id);
    } else {
      // Not running (restored after a restart, or failed): a new run continues from the journal.
      m.setState('probing', { error: null });
      this.config.runner.start(id, this.optionsOf(id));
      this.store.schedule();
    }
    return m.snapshot();
  }

  /**
   * Stops a job for good. Its staging goes; what it wrote stays unless `deleteFiles` is set: then the output
   * file, or the destination's contents when the job found that folder empty (never an operator's files).
   */
  cancel(id: string, options: { deleteFiles?: boolean } = {}): JobView {
    const m = this.model(id);
    if (m.state === 'done' || m.state === 'cancelled') throw new JobConflictError(`The job is already ${m.state}`, id);
    this.heldBy.delete(id);
    this.stopDiskWait(id);
    if (options.deleteFiles) this.deleteOnCancel.add(id);
    this.log(id, 'info', `cancel asked by the operator${options.deleteFiles ? ', deleting what it wrote' : ', keeping what it wrote'}`);
    if (this.isRunning(id)) {
      this.cancelling.add(id);
      this.config.runner.cancel(id);
    } else {
      m.setState('cancelled');
      m.markStopped();
      void this.discardStaging(id);
      this.store.schedule(true);
    }
    return m.snapshot();
  }

  /** Forgets a job that no longer runs and frees its staging; the destination is never touched. */
  async remove(id: string): Promise<void> {
    const m = this.model(id);
    // A job reports its terminal state a moment before its run settles: wait for that, not the caller.
    if (this.isRunning(id) && m.isTerminal) await this.settledOrTimeout(id, 10_000);
    if (this.isRunning(id)) throw new JobConflictError('The job is running; cancel or pause it first', id);
    this.jobs.delete(id);
    this.options.delete(id);
    this.heldBy.delete(id);
    this.stopDiskWait(id);
    this.logs.forget(id);
    await this.discardStaging(id);
    await this.store.save('jobs');
  }

  /**
   * Changes a job's rate limit (bytes/s, null: unlimited): at once on the running job's connections, and
   * for its later runs (kept with the job, so a restart keeps it).
   */
  async setRateLimit(id: string, limitRate: number | null): Promise<JobView> {
    const m = this.model(id);
    if (m.isTerminal) throw new JobConflictError(`The job is ${m.state}; its rate limit no longer matters`, id);
    const options = this.options.get(id);
    if (options) {
      if (limitRate === null) delete options.limitRate;
      else options.limitRate = limitRate;
    }
    m.setLimitRate(limitRate);
    if (this.isRunning(id)) this.config.runner.setRateLimit(id, limitRate);
    this.log(id, 'info', limitRate === null ? 'rate limit removed' : `rate limit set to ${limitRate} bytes/s`);
    await this.store.save('jobs');
    return m.snapshot();
  }

  /** Continues a job paused as link-expired (or failed) with a fresh link to the same file (see replace-link.ts). */
  async replaceLink(id: string, url: string): Promise<JobView> {
    this.assertOpen();
    const m = this.model(id);
    await replaceLink(
      {
        runner: this.config.runner,
        model: m,
        options: this.optionsOf(id),
        isRunning: this.isRunning(id),
        log: (text) => this.log(id, 'info', text),
        save: () => this.store.save('jobs'),
        startAgain: () => {
          m.setState('probing', { error: null });
          this.config.runner.start(id, this.optionsOf(id));
        },
      },
      url,
    );
    return m.snapshot();
  }

  retryChunkNow(id: string, index: number): boolean {
    const m = this.model(id);
    // A failed job's chunk is retried by a new run, which resumes from the journal.
    if (!this.isRunning(id) && m.state === 'failed') {
      this.resume(id);
      return true;
    }
    if (!this.isRunning(id) || m.isTerminal) return false;
    this.config.runner.retryChunkNow(id, index);
    return true;
  }

  /**
   * The engine's record while the job runs (it read the journal's earlier attempts when it started);
   * afterwards what the model saw in this process, with the attempts the journal kept from earlier runs
   * (after a restart the model has seen none).
   */
  async chunkHistory(id: string, index: number): Promise<AttemptRecord[]> {
    const m = this.model(id);
    if (this.isRunning(id)) {
      const records = await this.config.runner.chunkHistory(id, index);
      if (records.length > 0) return records;
    }
    return mergeAttemptHistory(await journalAttempts(this.stateDirOf(id), index), m.chunkHistory(index), ATTEMPTS_KEPT);
  }

  /** Suspend or offline: pause every running job, remembering why, so resumeAll(reason) undoes only that. */
  pauseAll(reason: PauseReason): string[] {
    const paused: string[] = [];
    for (const m of this.jobs.values()) {
      const held = this.heldBy.get(m.id);
      if (held) {
        // Already held for another reason (suspend while offline): it resumes only when both are gone.
        held.add(reason);
        continue;
      }
      // A job the operator paused, or one that stopped by itself, stays as it is.
      if (!this.isRunning(m.id) || m.isTerminal || m.state === 'paused') continue;
      this.heldBy.set(m.id, new Set([reason]));
      this.config.runner.pause(m.id, reason);
      paused.push(m.id);
    }
    return paused;
  }

  resumeAll(reason: PauseReason): string[] {
    const resumed: string[] = [];
    for (const [id, reasons] of [...this.heldBy]) {
      if (!reasons.delete(reason) || reasons.size > 0) continue;
      this.heldBy.delete(id);
      const m = this.jobs.get(id);
      if (!m || m.isTerminal) continue;
      if (this.isRunning(id)) this.config.runner.resume(id);
      else {
        m.setState('probing', { error: null });
        this.config.runner.start(id, this.optionsOf(id));
      }
      resumed.push(id);
    }
    return resumed;
  }

  /** True while any job transfers (for keep-awake and the taskbar). */
  activeJobs(): JobView[] {
    return this.list().filter((j) => j.state === 'probing' || j.state === 'downloading' || j.state === 'verifying');
  }

  /** Pauses what runs (every committed byte stays), writes the list, and stops the runner. */
  async close(): Promise<void> {
    if (this.closed) return;
    // What runs is recorded as paused first: the runner's shutdown must not read as a failure or a cancel.
    // It resumes when the next process starts; a job the operator paused stays paused.
    for (const m of this.jobs.values()) {
      const userPaused = m.state === 'paused' && m.pauseReason === 'user' && !this.heldBy.has(m.id);
      if (!m.isTerminal && !userPaused && (this.isRunning(m.id) || this.diskWaits.has(m.id))) this.resumeOnStart.add(m.id);
      if (this.isRunning(m.id) && !m.isTerminal) {
        m.setState('paused', { pauseReason: m.state === 'paused' ? m.pauseReason : 'user' });
        m.markStopped();
      }
    }
    for (const id of this.diskWaits.ids()) this.stopDiskWait(id);
    this.closed = true;
    this.store.stop();
    await this.config.runner.close();
    await this.store.save('jobs');
    await this.store.idle();
    await this.logsFlushed();
    await this.lock?.release().catch(() => undefined);
  }

  // ---- engine side

  private onEngineEvents(events: EngineEvent[]): void {
    if (this.closed) return;
    for (const e of events) {
      const m = this.jobs.get(e.jobId);
      if (!m) continue;
      // A full destination is a pause, not a failure (onSettled decides): the window must not flash "Failed".
      if (isDiskFull(e)) continue;
      m.apply(e);
      const entry = logEntryFor(e);
      if (entry) this.record(e.jobId, entry);
      if (e.type === 'job-state' || e.type === 'done' || e.type === 'probed') this.store.schedule(e.type !== 'probed');
      else this.store.schedule();
    }
  }

  private settledOrTimeout(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      const list = this.settleWaiters.get(id) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.settleWaiters.set(id, list);
    });
  }

  private onSettled(id: string, outcome: JobOutcome): void {
    const waiters = this.settleWaiters.get(id) ?? [];
    this.settleWaiters.delete(id);
    queueMicrotask(() => waiters.forEach((w) => w()));
    const m = this.jobs.get(id);
    const wasCancelled = this.cancelling.delete(id);
    if (!m || this.closed) return;
    if (outcome.ok) {
      m.setState('done');
    } else if (outcome.error.code === 'E_ABORTED' || wasCancelled) {
      m.setState('cancelled');
      void this.discardStaging(id);
    } else if (outcome.error.code === 'E_DISK_FULL') {
      this.log(id, 'warn', `paused (disk-full): ${outcome.error.message} It continues by itself once the space is free.`);
      m.setState('paused', { pauseReason: 'disk-full', error: outcome.error });
      this.changes.error(id, outcome.error);
      this.waitForDisk(id, outcome.error);
    } else {
      m.setState('failed', { error: outcome.error });
      this.changes.error(id, outcome.error);
    }
    m.markStopped();
    this.store.schedule(true);
  }

  // ---- log

  private log(id: string, level: LogLevel, text: string, at = this.now()): void {
    this.logs.log(id, level, text, at);
  }

  private record(id: string, entry: LogEntry): void {
    this.logs.record(id, entry);
  }

  // ---- persistence

  private createModel(record: JobRecord): JobModel {
    const model = new JobModel(record, this.forwardChanges, this.now);
    this.jobs.set(record.id, model);
    return model;
  }

  /** Changes are forwarded through the current listener, which may be set after models exist. */
  private readonly forwardChanges: ModelChanges = {
    chunk: (id, i) => this.changes.chunk(id, i),
    progress: (id) => this.changes.progress(id),
    window: (id) => this.changes.window(id),
    attempt: (id, e) => this.changes.attempt(id, e),
    state: (id) => this.changes.state(id),
    error: (id, err) => this.changes.error(id, err),
  };

  /** The extraction (or a refusal up front) found the destination full: a new run once there is room (see disk-full-wait.ts). */
  private waitForDisk(id: string, error: { details?: Record<string, unknown> | undefined }): void {
    this.stopDiskWait(id);
    const options = this.optionsOf(id);
    this.diskWaits.start(id, options, error, () => {
      const m = this.jobs.get(id);
      if (!m || this.closed || m.state !== 'paused' || m.pauseReason !== 'disk-full' || this.isRunning(id)) return;
      this.log(id, 'info', 'space is free again: a new run continues from the last checkpoint');
      m.setState('probing', { error: null });
      this.config.runner.start(id, options);
      this.store.schedule(true);
    });
  }

  private stopDiskWait(id: string): void {
    this.diskWaits.stop(id);
  }

  private optionsOf(id: string): JobOptions {
    const options = this.options.get(id);
    if (!options) throw new JobNotFoundError(id);
    return options;
  }

  private async load(): Promise<void> {
    const { settings, jobs } = await this.store.load();
    this.settingsValue = settings;
    for (const stored of jobs) {
      const { engineOptions, resumeOnStart, ...record } = stored;
      const model = this.createModel(record);
      // What ran when the process stopped (a clean stop says so; after a crash its state still reads running)
      // resumes from its journal once startRestored() is called; a pause the operator asked for stays.
      const interrupted = resumeOnStart === true || (!model.isTerminal && model.state !== 'paused') || (model.state === 'paused' && model.pauseReason !== 'user');
      if (interrupted && !model.isTerminal) this.resumeOnStart.add(record.id);
      if (!model.isTerminal && model.state !== 'paused') model.setState('paused', { pauseReason: 'user' });
      model.markStopped();
      this.options.set(record.id, { onLinkExpired: 'wait', ...engineOptions, ...this.config.engineOptions, stateDir: this.stateDirOf(record.id) });
      await this.logs.restore(record.id);
    }
  }

  private async discardStaging(id: string): Promise<void> {
    if (this.deleteOnCancel.delete(id)) await deleteWrittenFiles(this.options.get(id), this.stateDirOf(id)).catch(() => undefined);
    await fsp.rm(this.stateDirOf(id), { recursive: true, force: true }).catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new EngineError('E_INTERNAL', 'The job manager is closed');
  }
}
