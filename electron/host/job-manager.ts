// Owns every job of the app or of `serve`: starts them on a runner (worker thread or in-process),
// keeps a model of each built from the engine's events, persists the job list and the settings in a
// data directory, and restores them after a restart in the state they were in: what ran resumes from its
// journal, what the operator paused stays paused. One process at a time owns a data directory.
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJsonWithFallback, writeFileAtomic } from '../engine/state/atomic-file';
import { EngineError } from '../engine/errors';
import { FileLock } from '../engine/state/job-lock';
import { loadJobState } from '../engine/state/job-state';
import { freeBytes, waitForFreeSpace } from '../engine/space/space-wait';
import type { AttemptRecord, EngineEvent, PauseReason } from '../engine/events';
import type { JobOptions, JobOutcome, JobRunner } from '../engine/runner/runner';
import { ATTEMPTS_KEPT, JobModel, emptyProgress, type JobRecord, type ModelChanges } from './job-model';
import { journalAttempts, mergeAttemptHistory } from '../engine/staging/attempt-history';
import { LogFile, LogRing, logEntryFor, type LogEntry, type LogLevel } from './job-log';
import type { JobDetail, JobView, Settings } from '../../shared/contract';
import { DEFAULT_SETTINGS, settingsSchema } from '../../shared/schemas';

export interface AddJobInput {
  url: string;
  dest?: string | undefined;
  output?: string | undefined;
  sha256?: string | undefined;
  format?: 'auto' | 'tar' | 'gzip' | 'lz4' | 'zstd' | undefined;
  chunkSize?: number | undefined;
  window?: number | undefined;
  concurrency?: number | undefined;
  limitRate?: number | undefined;
  retries?: number | undefined;
  idleTimeoutMs?: number | undefined;
  zstdMaxWindow?: number | undefined;
  strict?: boolean | undefined;
  force?: boolean | undefined;
}

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

interface JobsFile {
  version: 1;
  jobs: JobRecord[];
}

/** What the jobs file holds per job besides its record. */
interface StoredExtras {
  engineOptions?: JobOptions;
  /** The job ran (or waited for the network, the disk, a wake-up) when the process stopped: it resumes on start. */
  resumeOnStart?: boolean;
}

const NOOP_CHANGES: ModelChanges = { chunk() {}, progress() {}, window() {}, attempt() {}, state() {}, error() {} };

export class JobNotFoundError extends EngineError {
  constructor(id: string) {
    super('E_NOT_FOUND', `No job ${id}`, { details: { jobId: id } });
  }
}

export class JobConflictError extends EngineError {
  constructor(message: string, id: string) {
    super('E_CONFLICT', message, { details: { jobId: id } });
  }
}

function isDiskFull(e: EngineEvent): boolean {
  return (e.type === 'job-state' && e.state === 'failed' && e.error?.code === 'E_DISK_FULL') || (e.type === 'error' && e.error.code === 'E_DISK_FULL');
}

function isJobsFile(value: unknown): value is JobsFile {
  return !!value && typeof value === 'object' && (value as JobsFile).version === 1 && Array.isArray((value as JobsFile).jobs);
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
  /** Jobs paused because their destination is full, each with the wait for free space it ends. */
  private readonly diskWaits = new Map<string, AbortController>();
  private lock: FileLock | null = null;
  /** Each job's log: the ring the window reads and the job.log it is appended to. */
  private readonly logs = new Map<string, { ring: LogRing; file: LogFile }>();
  private settingsValue: Settings = { ...DEFAULT_SETTINGS };
  private changes: ModelChanges = NOOP_CHANGES;
  private saveChain: Promise<void> = Promise.resolve();
  private dirtySince: number | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly now: () => number;
  private readonly saveIntervalMs: number;

  private constructor(private readonly config: JobManagerOptions) {
    this.now = config.now ?? Date.now;
    this.saveIntervalMs = config.saveIntervalMs ?? 5000;
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
    if (started.length > 0) this.scheduleSave(true);
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
    return this.logs.get(id)?.ring.entries() ?? [];
  }

  /** Resolves once every log line so far is on disk (tests, shutdown). */
  async logsFlushed(): Promise<void> {
    await Promise.all([...this.logs.values()].map((l) => l.file.flushed()));
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
    await this.enqueueSave('settings');
    return this.settings();
  }

  // ---- commands

  async add(input: AddJobInput): Promise<JobView> {
    this.assertOpen();
    const id = randomUUID();
    const s = this.settingsValue;
    const options: JobOptions = {
      ...this.config.engineOptions,
      url: input.url,
      ...(input.dest !== undefined ? { dest: input.dest } : {}),
      ...(input.output !== undefined ? { output: input.output } : {}),
      stateDir: this.stateDirOf(id),
      chunkSize: input.chunkSize ?? s.chunkSize,
      window: input.window ?? s.window,
      concurrency: input.concurrency ?? Math.min(s.concurrency, input.window ?? s.window),
      retries: input.retries ?? s.retries,
      idleTimeoutMs: input.idleTimeoutMs ?? this.config.engineOptions?.idleTimeoutMs ?? s.idleTimeoutMs,
      format: input.format ?? 'auto',
      strict: input.strict ?? false,
      force: input.force ?? false,
      ...(input.limitRate !== undefined ? { limitRate: input.limitRate } : s.limitRate !== null ? { limitRate: s.limitRate } : {}),
      ...(input.sha256 !== undefined ? { sha256: input.sha256.toLowerCase() } : {}),
      ...(input.zstdMaxWindow !== undefined ? { zstdMaxWindow: input.zstdMaxWindow } : {}),
    };
    const at = this.now();
    const record: JobRecord = {
      id,
      url: input.url,
      dest: input.dest ?? null,
      output: input.output ?? null,
      state: 'probing',
      pauseReason: null,
      error: null,
      createdAt: at,
      updatedAt: at,
      probe: null,
      decoding: null,
      progress: emptyProgress(),
      summary: null,
      options: {
        chunkSize: options.chunkSize ?? null,
        window: options.window ?? null,
        concurrency: options.concurrency ?? null,
        limitRate: options.limitRate ?? null,
        retries: options.retries ?? null,
        idleTimeoutMs: options.idleTimeoutMs ?? null,
        format: options.format ?? 'auto',
        sha256: options.sha256 ?? null,
        strict: options.strict ?? false,
        force: options.force ?? false,
      },
      warnings: 0,
      chunkMap: '',
    };
    const model = this.createModel(record);
    this.options.set(id, options);
    this.log(id, 'info', `added: ${input.url} → ${input.dest ?? input.output}`);
    this.changes.state(id);
    await this.enqueueSave('jobs');
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
      this.scheduleSave();
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
      this.scheduleSave(true);
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
    this.logs.delete(id);
    await this.discardStaging(id);
    await this.enqueueSave('jobs');
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
    await this.enqueueSave('jobs');
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
    for (const id of [...this.diskWaits.keys()]) this.stopDiskWait(id);
    this.closed = true;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    await this.config.runner.close();
    await this.enqueueSave('jobs');
    await this.saveChain;
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
      if (e.type === 'job-state' || e.type === 'done' || e.type === 'probed') this.scheduleSave(e.type !== 'probed');
      else this.scheduleSave();
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
    this.scheduleSave(true);
  }

  // ---- log

  private logOf(id: string): { ring: LogRing; file: LogFile } {
    let log = this.logs.get(id);
    if (!log) this.logs.set(id, (log = { ring: new LogRing(), file: new LogFile(this.logDirOf(id)) }));
    return log;
  }

  private log(id: string, level: LogLevel, text: string, at = this.now()): void {
    this.record(id, { at, level, text });
  }

  private record(id: string, entry: LogEntry): void {
    const log = this.logOf(id);
    log.ring.push(entry);
    log.file.append(entry);
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

  /**
   * The extraction (or a refusal up front) found the destination full. Staging ENOSPC pauses inside the
   * engine; a destination's cannot continue mid-write, so the run ends and a new one resumes from the last
   * checkpoint once the space it needs is free: what the refusal named, else a chunk's worth.
   */
  private waitForDisk(id: string, error: { details?: Record<string, unknown> | undefined }): void {
    this.stopDiskWait(id);
    const options = this.optionsOf(id);
    const path = options.dest ?? (options.output ? dirname(options.output) : options.stateDir);
    // A refusal up front names the total it needs; a write that hit ENOSPC how much more than was free then.
    const total = typeof error.details?.['needed'] === 'number' ? error.details['needed'] : 0;
    const more = typeof error.details?.['bytesNeeded'] === 'number' ? error.details['bytesNeeded'] : 0;
    const controller = new AbortController();
    this.diskWaits.set(id, controller);
    void (async () => {
      const freeNow = (await freeBytes(path)) ?? 0;
      const bytes = Math.max(total, freeNow + Math.max(more, options.chunkSize ?? 64 * 1024 * 1024));
      await waitForFreeSpace(path, bytes, controller.signal, this.config.diskCheckMs ?? 2000);
      if (this.diskWaits.get(id) !== controller) return;
      this.diskWaits.delete(id);
      const m = this.jobs.get(id);
      if (!m || this.closed || m.state !== 'paused' || m.pauseReason !== 'disk-full' || this.isRunning(id)) return;
      this.log(id, 'info', 'space is free again: a new run continues from the last checkpoint');
      m.setState('probing', { error: null });
      this.config.runner.start(id, options);
      this.scheduleSave(true);
    })().catch(() => undefined);
  }

  private stopDiskWait(id: string): void {
    this.diskWaits.get(id)?.abort();
    this.diskWaits.delete(id);
  }

  private optionsOf(id: string): JobOptions {
    const options = this.options.get(id);
    if (!options) throw new JobNotFoundError(id);
    return options;
  }

  private get jobsPath(): string {
    return join(this.config.dataDir, 'jobs.json');
  }
  private get settingsPath(): string {
    return join(this.config.dataDir, 'settings.json');
  }

  private async load(): Promise<void> {
    const settings = await readJsonWithFallback(this.settingsPath, (v): v is unknown => v !== null && typeof v === 'object');
    const parsed = settingsSchema.safeParse({ ...DEFAULT_SETTINGS, ...(settings as object | null) });
    this.settingsValue = parsed.success ? parsed.data : { ...DEFAULT_SETTINGS };

    const file = await readJsonWithFallback(this.jobsPath, isJobsFile);
    for (const stored of file?.jobs ?? []) {
      const { engineOptions, resumeOnStart, ...record } = stored as JobRecord & StoredExtras;
      if (!engineOptions || typeof record.id !== 'string') continue;
      const model = this.createModel(record);
      // What ran when the process stopped (a clean stop says so; after a crash its state still reads running)
      // resumes from its journal once startRestored() is called; a pause the operator asked for stays.
      const interrupted = resumeOnStart === true || (!model.isTerminal && model.state !== 'paused') || (model.state === 'paused' && model.pauseReason !== 'user');
      if (interrupted && !model.isTerminal) this.resumeOnStart.add(record.id);
      if (!model.isTerminal && model.state !== 'paused') model.setState('paused', { pauseReason: 'user' });
      model.markStopped();
      this.options.set(record.id, { ...engineOptions, ...this.config.engineOptions, stateDir: this.stateDirOf(record.id) });
      const log = this.logOf(record.id);
      for (const entry of await log.file.tail()) log.ring.push(entry);
    }
  }

  private scheduleSave(soon = false): void {
    if (this.closed) return;
    this.dirtySince ??= this.now();
    const delay = soon ? 0 : this.saveIntervalMs;
    if (this.saveTimer && !soon) return;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.dirtySince = null;
      void this.enqueueSave('jobs').catch(() => undefined);
    }, delay);
    this.saveTimer.unref();
  }

  /** Writes run one after another, so an older snapshot never lands after a newer one. */
  private enqueueSave(what: 'jobs' | 'settings'): Promise<void> {
    const write = async (): Promise<void> => {
      if (what === 'settings') {
        await writeFileAtomic(this.settingsPath, JSON.stringify(this.settingsValue, null, 2), { keepPrevious: true });
        return;
      }
      const jobs = [...this.jobs.values()].map((m) => ({
        ...m.record(),
        engineOptions: this.options.get(m.id),
        ...(this.resumeOnStart.has(m.id) ? { resumeOnStart: true } : {}),
      }));
      const file: JobsFile = { version: 1, jobs };
      await writeFileAtomic(this.jobsPath, JSON.stringify(file), { keepPrevious: true });
    };
    const next = this.saveChain.then(write, write);
    this.saveChain = next.catch(() => undefined);
    return next;
  }

  private async discardStaging(id: string): Promise<void> {
    if (this.deleteOnCancel.delete(id)) await this.deleteFiles(id).catch(() => undefined);
    await fsp.rm(this.stateDirOf(id), { recursive: true, force: true }).catch(() => undefined);
  }

  /** What a cancelled job wrote: its output file, or the contents of a destination it found empty. */
  private async deleteFiles(id: string): Promise<void> {
    const options = this.optionsOf(id);
    if (options.output) {
      await fsp.rm(options.output, { force: true });
      return;
    }
    if (!options.dest) return;
    const state = await loadJobState(this.stateDirOf(id));
    // Without the job's word that the folder started empty, its files may be the operator's: they stay.
    if (state?.destStartedEmpty !== true) return;
    for (const name of await fsp.readdir(options.dest).catch(() => [] as string[])) {
      await fsp.rm(join(options.dest, name), { recursive: true, force: true });
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new EngineError('E_INTERNAL', 'The job manager is closed');
  }
}
