// Owns every job of the app or of `serve`: starts them on a runner (worker thread or in-process),
// keeps a model of each built from the engine's events, persists the job list and the settings in a
// data directory, and restores them after a restart in the state they were in: what ran resumes from its
// journal, what the operator paused stays paused. One process at a time owns a data directory.
//
// This file holds the commands and the queries; its parts: the models and their options (job-table), the job
// list on disk (job-store), the logs (job-logs), a new job's options and record (new-job), the runs on the
// runner, their events and ends and the wait of a job paused on a full disk (job-runs), the pauses of every
// job at once (pause-holds), the restore after a restart (job-restore), the data directory's lock
// (manager-lock), a cancel and a remove (job-ending, cancelled-files), and its refusals (job-errors).
import { replaceLink } from './replace-link';
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../engine/errors';
import type { FileLock } from '../engine/state/job-lock';
import type { AttemptRecord, PauseReason } from '../engine/events';
import type { JobOptions, JobRunner } from '../engine/runner/runner';
import { ChangeRelay } from './change-relay';
import { JobConflictError } from './job-errors';
import type { JobModel, ModelChanges } from './job-model';
import { RestoredJobs } from './job-restore';
import { JobTable } from './job-table';
import type { LogEntry } from './job-log';
import { JobEnding } from './job-ending';
import { JobLogs } from './job-logs';
import { JobRuns } from './job-runs';
import { JobStore } from './job-store';
import { lockDataDir } from './manager-lock';
import { newJob, type AddJobInput } from './new-job';
import { redactUrl } from '../engine/transfer/redact';
import { describeHeaders } from '../engine/transfer/origin-headers';
import { loadHeaders, saveHeaders } from '../engine/state/saved-headers';
import { PauseHolds } from './pause-holds';
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

export class JobManager {
  /** Changes are forwarded through the current listener, which may be set after models exist. */
  private readonly changes = new ChangeRelay();
  private readonly jobs: JobTable;
  private readonly holds: PauseHolds;
  private readonly ending: JobEnding;
  private readonly restored = new RestoredJobs();
  private readonly runs: JobRuns;
  private lock: FileLock | null = null;
  private readonly logs: JobLogs;
  private readonly store: JobStore;
  private settingsValue: Settings = { ...DEFAULT_SETTINGS };
  private closed = false;
  private readonly now: () => number;

  private constructor(private readonly config: JobManagerOptions) {
    this.now = config.now ?? Date.now;
    this.jobs = new JobTable(this.changes, this.now);
    this.logs = new JobLogs((id) => this.logDirOf(id), this.now);
    this.store = new JobStore(config.dataDir, config.saveIntervalMs ?? 5000, {
      jobs: () =>
        this.jobs.rows(
          (id) => this.stateDirOf(id),
          (id) => this.restored.has(id),
        ),
      settings: () => this.settingsValue,
    });
    this.holds = new PauseHolds({
      jobs: () => this.jobs.values(),
      model: (id) => this.jobs.find(id),
      isRunning: (id) => this.isRunning(id),
      pause: (id, reason) => this.config.runner.pause(id, reason),
      resume: (id) => this.config.runner.resume(id),
      startAgain: (id) => this.runs.start(id),
    });
    this.runs = new JobRuns({
      jobs: this.jobs,
      runner: config.runner,
      store: this.store,
      logs: this.logs,
      changes: this.changes,
      diskCheckMs: config.diskCheckMs ?? 2000,
      closed: () => this.closed,
      discardStaging: (id) => this.ending.discardStaging(id),
    });
    this.ending = new JobEnding({
      jobs: this.jobs,
      runs: this.runs,
      store: this.store,
      logs: this.logs,
      stateDirOf: (id) => this.stateDirOf(id),
      takeOver: (id) => this.takeOver(id),
    });
  }

  static async open(config: JobManagerOptions): Promise<JobManager> {
    const manager = new JobManager(config);
    await fsp.mkdir(join(config.dataDir, 'jobs'), { recursive: true, mode: 0o700 });
    manager.lock = await lockDataDir(config.dataDir);
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
    const started = this.restored.startAll({
      model: (id) => this.jobs.find(id),
      isRunning: (id) => this.isRunning(id),
      resume: (id, why) => {
        this.model(id).setState('probing', { error: null });
        this.logs.log(id, 'info', why);
        this.config.runner.start(id, this.jobs.optionsOf(id));
      },
    });
    if (started.length > 0) this.store.schedule(true);
    return started;
  }

  get runnerKind(): JobRunner['kind'] {
    return this.config.runner.kind;
  }

  /** The coalescer; only one listener, set before any job runs. */
  setChangeListener(changes: ModelChanges): void {
    this.changes.listener = changes;
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
    return this.jobs.model(id);
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
    return this.runs.isRunning(id);
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
    // The values live owner-only in the job's state folder, not in the job list (see job-headers.ts).
    if (options.headers) await saveHeaders(options.stateDir, options.headers);
    const model = this.jobs.add(record, options);
    // The log is shown in the window and kept on disk: the link without its query, headers by name only.
    const extras = [options.headers ? `headers ${describeHeaders(options.headers)}` : '', options.refreshUrlCommand ? 'a refresh command' : ''].filter(Boolean);
    this.logs.log(id, 'info', `added: ${redactUrl(input.url)} → ${input.dest ?? input.output}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}`);
    this.changes.state(id);
    await this.store.save('jobs');
    this.config.runner.start(id, options);
    return model.snapshot();
  }

  pause(id: string, reason: PauseReason = 'user'): JobView {
    const m = this.model(id);
    if (m.isTerminal) throw new JobConflictError(`The job is ${m.state}; there is nothing to pause`, id);
    if (reason === 'user') {
      this.takeOver(id);
      this.logs.log(id, 'info', 'pause asked by the operator');
    }
    if (this.isRunning(id)) this.config.runner.pause(id, reason);
    else if (m.state !== 'paused') m.setState('paused', { pauseReason: reason });
    return m.snapshot();
  }

  resume(id: string): JobView {
    this.assertOpen();
    const m = this.model(id);
    if (m.state === 'done' || m.state === 'cancelled') throw new JobConflictError(`The job is ${m.state} and cannot be resumed`, id);
    this.takeOver(id);
    this.logs.log(id, 'info', m.state === 'failed' ? 'resume asked by the operator: a new run continues from the journal' : 'resume asked by the operator');
    if (this.isRunning(id)) {
      this.config.runner.resume(id);
    } else {
      // Not running (restored after a restart, or failed): a new run continues from the journal.
      this.runs.start(id);
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
    this.ending.cancel(m, options.deleteFiles === true);
    return m.snapshot();
  }

  /** Forgets a job that no longer runs and frees its staging; the destination is never touched. */
  async remove(id: string): Promise<void> {
    await this.ending.remove(this.model(id));
  }

  /**
   * Changes a job's rate limit (bytes/s, null: unlimited): at once on the running job's connections, and
   * for its later runs (kept with the job, so a restart keeps it).
   */
  async setRateLimit(id: string, limitRate: number | null): Promise<JobView> {
    const m = this.model(id);
    if (m.isTerminal) throw new JobConflictError(`The job is ${m.state}; its rate limit no longer matters`, id);
    this.jobs.setLimitRate(id, limitRate);
    if (this.isRunning(id)) this.config.runner.setRateLimit(id, limitRate);
    this.logs.log(id, 'info', limitRate === null ? 'rate limit removed' : `rate limit set to ${limitRate} bytes/s`);
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
        options: this.jobs.optionsOf(id),
        isRunning: this.isRunning(id),
        log: (text) => this.logs.log(id, 'info', text),
        save: () => this.store.save('jobs'),
        startAgain: () => this.runs.start(id),
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
    return this.runs.chunkHistory(id, index, this.stateDirOf(id));
  }

  /** Suspend or offline: pause every running job, remembering why, so resumeAll(reason) undoes only that (see pause-holds.ts). */
  pauseAll(reason: PauseReason): string[] {
    return this.holds.pauseAll(reason);
  }

  resumeAll(reason: PauseReason): string[] {
    return this.holds.resumeAll(reason);
  }

  /** True while any job transfers (for keep-awake and the taskbar). */
  activeJobs(): JobView[] {
    return this.list().filter((j) => j.state === 'probing' || j.state === 'downloading' || j.state === 'verifying');
  }

  /** Pauses what runs (every committed byte stays), writes the list, and stops the runner. */
  async close(): Promise<void> {
    if (this.closed) return;
    // What runs resumes when the next process starts (see job-restore.ts); a job the operator paused stays paused.
    for (const m of this.jobs.values()) {
      this.restored.stopping(m, { running: this.isRunning(m.id), waitingForSpace: this.runs.diskWaits.has(m.id), held: this.holds.has(m.id) });
    }
    for (const id of this.runs.diskWaits.ids()) this.runs.diskWaits.stop(id);
    this.closed = true;
    this.store.stop();
    await this.config.runner.close();
    await this.store.save('jobs');
    await this.store.idle();
    await this.logsFlushed();
    await this.lock?.release().catch(() => undefined);
  }

  // ---- persistence

  private async load(): Promise<void> {
    const { settings, jobs } = await this.store.load();
    this.settingsValue = settings;
    for (const stored of jobs) {
      const { engineOptions, resumeOnStart, ...record } = stored;
      const stateDir = this.stateDirOf(record.id);
      // A job given headers gets them back from its state folder; unreadable ones leave the job without them
      // (the origin's refusal then says what is missing), rather than the whole list unread.
      const headers = record.options.headerNames?.length ? await loadHeaders(stateDir).catch(() => null) : null;
      const options = { onLinkExpired: 'wait' as const, ...engineOptions, ...this.config.engineOptions, stateDir, ...(headers ? { headers } : {}) };
      // It resumes from its journal once startRestored() is called if it ran when the process stopped.
      this.restored.restore(this.jobs.add(record, options), resumeOnStart);
      await this.logs.restore(record.id);
    }
  }

  /** The operator's word on a job ends the pauses the app made (suspend, offline) and its wait for space. */
  private takeOver(id: string): void {
    this.holds.release(id);
    this.runs.diskWaits.stop(id);
  }

  private assertOpen(): void {
    if (this.closed) throw new EngineError('E_INTERNAL', 'The job manager is closed');
  }
}
