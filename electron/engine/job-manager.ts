// Owns every job of the app or of `serve`: starts them on a runner (worker thread or in-process),
// keeps a model of each built from the engine's events, persists the job list and the settings in a
// data directory, and restores them after a restart as paused, so they resume from their journals.
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readJsonWithFallback, writeFileAtomic } from './atomic-file';
import { EngineError } from './errors';
import type { AttemptRecord, EngineEvent, PauseReason } from './events';
import type { JobOptions, JobOutcome, JobRunner } from './worker/runner';
import { JobModel, emptyProgress, type JobRecord, type ModelChanges } from '../ipc/job-model';
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
  now?: () => number;
}

interface JobsFile {
  version: 1;
  jobs: JobRecord[];
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

function isJobsFile(value: unknown): value is JobsFile {
  return !!value && typeof value === 'object' && (value as JobsFile).version === 1 && Array.isArray((value as JobsFile).jobs);
}

export class JobManager {
  private readonly jobs = new Map<string, JobModel>();
  private readonly options = new Map<string, JobOptions>();
  /** Reasons (suspend, offline) for which pauseAll paused a job; it resumes when none is left. */
  private readonly heldBy = new Map<string, Set<PauseReason>>();
  private readonly cancelling = new Set<string>();
  private readonly settleWaiters = new Map<string, Array<() => void>>();
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
    await fsp.mkdir(join(config.dataDir, 'jobs'), { recursive: true });
    await manager.load();
    return manager;
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

  isRunning(id: string): boolean {
    return this.config.runner.isRunning(id);
  }

  stateDirOf(id: string): string {
    return join(this.config.dataDir, 'jobs', id);
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
    this.changes.state(id);
    await this.enqueueSave('jobs');
    this.config.runner.start(id, options);
    return model.snapshot();
  }

  pause(id: string, reason: PauseReason = 'user'): JobView {
    const m = this.model(id);
    if (m.isTerminal) throw new JobConflictError(`The job is ${m.state}; there is nothing to pause`, id);
    if (reason === 'user') this.heldBy.delete(id);
    if (this.isRunning(id)) this.config.runner.pause(id, reason);
    else if (m.state !== 'paused') m.setState('paused', { pauseReason: reason });
    return m.snapshot();
  }

  resume(id: string): JobView {
    this.assertOpen();
    const m = this.model(id);
    if (m.state === 'done' || m.state === 'cancelled') throw new JobConflictError(`The job is ${m.state} and cannot be resumed`, id);
    this.heldBy.delete(id);
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

  cancel(id: string): JobView {
    const m = this.model(id);
    if (m.state === 'done' || m.state === 'cancelled') throw new JobConflictError(`The job is already ${m.state}`, id);
    this.heldBy.delete(id);
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
    await this.discardStaging(id);
    await this.enqueueSave('jobs');
  }

  retryChunkNow(id: string, index: number): boolean {
    const m = this.model(id);
    if (!this.isRunning(id) || m.isTerminal) return false;
    this.config.runner.retryChunkNow(id, index);
    return true;
  }

  /** The engine's record while the job runs; afterwards what the model saw in this process. */
  async chunkHistory(id: string, index: number): Promise<AttemptRecord[]> {
    const m = this.model(id);
    if (this.isRunning(id)) {
      const records = await this.config.runner.chunkHistory(id, index);
      if (records.length > 0) return records;
    }
    return m.chunkHistory(index);
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
    for (const m of this.jobs.values()) {
      if (this.isRunning(m.id) && !m.isTerminal) {
        m.setState('paused', { pauseReason: 'user' });
        m.markStopped();
      }
    }
    this.closed = true;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    await this.config.runner.close();
    await this.enqueueSave('jobs');
    await this.saveChain;
  }

  // ---- engine side

  private onEngineEvents(events: EngineEvent[]): void {
    if (this.closed) return;
    for (const e of events) {
      const m = this.jobs.get(e.jobId);
      if (!m) continue;
      m.apply(e);
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
    } else {
      m.setState('failed', { error: outcome.error });
      this.changes.error(id, outcome.error);
    }
    m.markStopped();
    this.scheduleSave(true);
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
      const { engineOptions, ...record } = stored as JobRecord & { engineOptions?: JobOptions };
      if (!engineOptions || typeof record.id !== 'string') continue;
      const model = this.createModel(record);
      // Whatever ran when the process stopped is paused now: resumable from its journal, not restarted
      // behind the operator's back.
      if (!model.isTerminal && model.state !== 'paused') model.setState('paused', { pauseReason: 'user' });
      model.markStopped();
      this.options.set(record.id, { ...engineOptions, ...this.config.engineOptions, stateDir: this.stateDirOf(record.id) });
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
      const jobs = [...this.jobs.values()].map((m) => ({ ...m.record(), engineOptions: this.options.get(m.id) }));
      const file: JobsFile = { version: 1, jobs };
      await writeFileAtomic(this.jobsPath, JSON.stringify(file), { keepPrevious: true });
    };
    const next = this.saveChain.then(write, write);
    this.saveChain = next.catch(() => undefined);
    return next;
  }

  private async discardStaging(id: string): Promise<void> {
    await fsp.rm(this.stateDirOf(id), { recursive: true, force: true }).catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new EngineError('E_INTERNAL', 'The job manager is closed');
  }
}
