// One snapshot download: probe, plan the resume, then the transfer (see job-transfer.ts): a ranged run (chunks
// through the window into the sink, see ranged-run.ts) or one stream when the origin cannot serve ranges. The
// job coordinates: it owns pause/resume/cancel, the locks, the state on disk and the events; what exists only
// once the origin is probed (the origin, the run context with its waits, the transfer, the timers) lives in
// per-run objects the job holds.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import type { Dispatcher } from 'undici';
import { AbortedError, type EngineError, serializeError, toEngineError, UsageError } from '../errors';
import type { AttemptRecord, EngineEvent, JobState, JobSummary, PauseReason, TransferMode } from '../events';
import type { CompletionRecord } from '../state/completion-record';
import { JobLock, lockTarget, type FileLock } from '../state/job-lock';
import { loadJobStateForRun, withKeptDataHint, type JobStateRecord } from '../state/job-state';
import { defaultStateDirOf } from '../state/layout';
import { clearEarlierRun, removeStateFolder } from '../state/state-cleanup';
import { createDispatcher } from '../transfer/http';
import { OriginQuirks } from '../transfer/origin-quirks';
import type { ProbeResult } from '../transfer/probe';
import { RateLimiter } from '../transfer/rate-limiter';
import type { RetryPolicy } from '../transfer/retry-policy';
import { planResume, type RunPlan } from './resume-plan';
import { completedBefore, repeatOfCompleted } from './completed-job';
import { PauseGate } from './pause-gate';
import { connectRetryEvent, probeWithRetries } from './probe-retries';
import { adoptLink, verifiedReplacementOf } from './link-replace';
import { finishJob, forgetCompletedState } from './finish-job';
import { redactUrl } from '../transfer/redact';
import { resolveOptions, type JobOptions, type ResolvedOptions } from './job-options';
import { type Origin, runContextOf } from './job-run-context';
import { JobTransfer } from './job-transfer';
import { preflightDestination } from './preflight';
import { ProgressTicker } from './progress-ticker';
import { PAUSE, type JobCounters, type JobEventInput, type RunContext } from './run-context';
import { openSources, SourcesReport } from './job-sources';
import type { SourceSet } from '../transfer/sources/source-set';

export type { JobOptions } from './job-options';
export { blockingStallMs, peerStallMs, BLOCKING_STALL_FLOOR_MS } from './stall-watchdog';

export class Job extends EventEmitter {
  readonly id: string;
  readonly options: ResolvedOptions;
  private readonly cancelController = new AbortController();
  private state: JobState = 'probing';
  private readonly gate = new PauseGate(this.cancelController.signal);
  /** The state this run keeps (null before the plan): a replaced link is pinned in it. */
  private record: JobStateRecord | null = null;
  /** Created before the probe, destroyed when the run ends, however it ends. */
  private dispatcher: Dispatcher | null = null;
  /** Set once the origin is probed. */
  private origin: Origin | null = null;
  /** Set once the sink is open: everything that lives while bytes move. */
  private transfer: JobTransfer | null = null;
  private ticker: ProgressTicker | null = null;
  /** The URL and its mirrors' counts, for the window and the summary (see job-sources.ts). */
  private sourcesReport: SourcesReport | null = null;
  /** Every range's bytes pass it; unlimited until a rate is set (at the start or while running). */
  private readonly limiter: RateLimiter;
  private readonly counters: JobCounters = { bytesFetched: 0, retries: 0 };
  /** Ranged 200s and encoded answers across all connections (see origin-quirks.ts). */
  private readonly quirks = new OriginQuirks();
  private startedAt = 0;
  private terminalEmitted = false;
  private lock: FileLock | null = null;
  private targetLock: FileLock | null = null;
  /** The job completed and its state files went: the folder goes once the lock is released. */
  private stateRemoved = false;
  /** This run continued from an earlier run's checkpoint or committed chunks (see withKeptDataHint). */
  private continuedFromKeptData = false;

  constructor(options: JobOptions, id: string = randomUUID()) {
    super();
    this.id = id;
    this.options = resolveOptions(options);
    this.limiter = new RateLimiter(this.options.limitRate);
  }

  // ---- control -------------------------------------------------------------------------------------------

  pause(reason: PauseReason): void {
    if (this.state === 'done' || this.state === 'failed' || this.state === 'cancelled') return;
    if (!this.gate.pause(reason)) return;
    // Tear down ranges in flight: their committed bytes stay in the part files; nothing is lost.
    this.transfer?.interrupt(PAUSE);
    this.setState('paused', reason);
  }

  resume(): void {
    if (this.gate.resume()) this.setState(this.origin ? 'downloading' : 'probing');
  }

  cancel(): void {
    if (this.cancelController.signal.aborted) return;
    this.cancelController.abort(new AbortedError('The job was cancelled; its state is kept, so running it again resumes.'));
    this.gate.wake();
  }

  /** Changes the rate limit of the running job (bytes/s; null or 0: unlimited); ranges in flight follow at once. */
  setRateLimit(bytesPerSecond: number | null): void {
    if (bytesPerSecond !== null && bytesPerSecond !== 0 && (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 1024)) {
      throw new UsageError(`The rate limit must be at least 1K bytes/s, or empty for none (got ${bytesPerSecond}).`);
    }
    this.limiter.setRate(bytesPerSecond || null);
  }

  get rateLimit(): number | null {
    return this.limiter.rate;
  }

  /**
   * Continues with a new link to the same file (a fresh presigned URL): probed, and taken only if it serves the
   * same object (see same-object.ts), else refused with E_UPSTREAM_CHANGED and the job keeps its link. The
   * state pins the new link (owner-only); a job paused as link-expired resumes.
   */
  async replaceUrl(newUrl: string): Promise<void> {
    const origin = this.origin;
    if (!origin) throw new UsageError('The job has not reached its server yet; replace the link once it has (or start it with the new link).');
    const o = this.options;
    const old = o.url;
    const { probed, detail } = await verifiedReplacementOf(newUrl, {
      options: o,
      current: origin.probed,
      dispatcher: origin.dispatcher,
      signal: this.cancelController.signal,
      consumedChunks: this.record?.consumedChunks ?? 0,
    });
    o.url = newUrl;
    origin.probed = await adoptLink({ current: origin.probed, probed, newUrl, record: this.record, stateDir: o.stateDir });
    this.emitEvent({
      type: 'warning',
      code: 'LINK_REPLACED',
      message: `The link was replaced (${redactUrl(old)} → ${redactUrl(newUrl)}): ${detail}. The job continues with everything it fetched.`,
    });
    if (this.gate.reason === 'link-expired') this.resume();
  }

  retryChunkNow(index: number): void {
    this.transfer?.retryChunkNow(index);
  }

  chunkHistory(index: number): AttemptRecord[] {
    return this.transfer?.chunkHistory(index) ?? [];
  }

  get paused(): PauseReason | null {
    return this.gate.reason;
  }

  get checkpointStats(): { count: number; bytes: number; saveMs: number } {
    return { ...(this.transfer?.ranged?.checkpointer.stats ?? { count: 0, bytes: 0, saveMs: 0 }) };
  }

  // ---- run -----------------------------------------------------------------------------------------------

  async run(): Promise<JobSummary> {
    this.startedAt = Date.now();
    this.setState('probing');
    try {
      const summary = await this.execute();
      this.stopTimers();
      this.setState('done');
      this.emitEvent({ type: 'done', ...summary });
      return summary;
    } catch (err) {
      const cancelled = this.cancelController.signal.aborted;
      const e = cancelled ? (this.cancelController.signal.reason as EngineError) : withKeptDataHint(toEngineError(err), this.continuedFromKeptData);
      this.stopTimers();
      await this.transfer?.abort(e).catch(() => undefined);
      this.setState(cancelled ? 'cancelled' : 'failed', undefined, serializeError(e));
      this.emitEvent({ type: 'error', error: serializeError(e) });
      throw e;
    } finally {
      this.stopTimers();
      // Every byte the job needs is in (or it has failed): nothing on a connection is worth waiting for. close()
      // would wait for a socket undici still holds, e.g. one whose range was replaced after a stall (that took
      // 2 s after `done` with a silent server), so the connections are destroyed.
      await this.dispatcher?.destroy().catch(() => undefined);
      await this.transfer?.close();
      await this.targetLock?.release().catch(() => undefined);
      await this.lock?.release().catch(() => undefined);
      if (this.stateRemoved) await removeStateFolder(this.options.stateDir);
    }
  }

  private async execute(): Promise<JobSummary> {
    const o = this.options;
    // Owner-only: the state holds the source URL (a presigned one carries its signature).
    await fsp.mkdir(o.stateDir, { recursive: true, mode: 0o700 });
    this.lock = await JobLock.acquire(o.stateDir);
    const target = o.dest ?? o.output!;
    this.targetLock = await lockTarget(target, o.stateDir, (message) => this.emitEvent({ type: 'warning', code: 'TARGET_NOT_LOCKED', message }));
    // --restart forgets the earlier run's progress, not that the target is this job's own work.
    const earlier = o.restart ? await loadJobStateForRun(o.stateDir).catch(() => null) : null;
    const previous = o.restart ? null : await loadJobStateForRun(o.stateDir);
    if (o.restart) await clearEarlierRun(o.stateDir);
    // No state, but this job may have completed here before (its state went with it): the record says so.
    const completed = !previous && !o.restart && o.completionDir ? await completedBefore(o.completionDir, o.url, o.dest ? 'extract' : 'download', target) : null;
    await preflightDestination({ dest: o.dest, output: o.output, ownedByJob: (previous ?? earlier)?.identity.target === target || completed !== null, force: o.force });

    const dispatcher = createDispatcher({ connections: o.concurrency, connectTimeoutMs: o.connectTimeoutMs, idleTimeoutMs: o.idleTimeoutMs });
    this.dispatcher = dispatcher;
    const probed = await this.probeWithRetries(dispatcher);
    const origin: Origin = { dispatcher, probed };
    this.origin = origin;
    if (completed) return this.repeatCompleted(completed, probed, target);

    const decided = await this.planRun(previous, probed, target, dispatcher);
    if ('summary' in decided) return decided.summary;
    const { plan, mode } = decided;
    const sources = await this.openSources(origin, mode);
    const transfer = await JobTransfer.open(this.runContext(origin, sources), probed, plan, mode);
    this.transfer = transfer;
    // Paused while probing: the job stays paused (its transfer waits at the gate); resume() says downloading.
    if (!this.gate.reason) this.setState('downloading');
    this.ticker = new ProgressTicker({
      options: o,
      counters: this.counters,
      transfer,
      size: () => origin.probed.size ?? null,
      emit: (event) => this.emitEvent(event),
      onTick: () => this.sourcesReport?.report(),
    });
    this.ticker.start();
    await transfer.run();
    return this.finish(probed, plan, transfer);
  }

  /** The URL and the mirrors, each probed (see job-sources.ts); a stream from the URL alone uses none. */
  private async openSources(origin: Origin, mode: TransferMode): Promise<SourceSet> {
    const sources = await openSources({
      options: this.options,
      probed: () => origin.probed,
      dispatcher: origin.dispatcher,
      signal: this.cancelController.signal,
      policy: this.policy,
      emit: (event) => this.emitEvent(event),
      changed: () => this.sourcesReport?.report(),
      oneStream: mode === 'single-stream',
    });
    this.sourcesReport = new SourcesReport(sources, (event) => this.emitEvent(event));
    this.sourcesReport.report();
    return sources;
  }

  /** Where this run starts (see resume-plan.ts); a job that completed before is a no-op. */
  private async planRun(
    previous: JobStateRecord | null,
    probed: ProbeResult,
    target: string,
    dispatcher: Dispatcher,
  ): Promise<{ plan: RunPlan; mode: TransferMode } | { summary: JobSummary }> {
    const decided = await planResume({ options: this.options, previous, probed, target, dispatcher, emit: (event) => this.emitEvent(event) });
    if (decided.kind === 'complete') {
      const done = decided.previous;
      // Finished before (perhaps killed just after): running it again is a no-op, not a second download.
      this.emitEvent({
        type: 'warning',
        code: 'ALREADY_COMPLETE',
        message: `This job already completed on ${new Date(done.updatedAt).toISOString()}; nothing to do. Use --restart to download it again.`,
      });
      await this.forgetCompletedState(done);
      return { summary: { ...done.summary!, bytesFetched: 0, retries: 0, stallReplacements: 0, elapsedMs: Date.now() - this.startedAt } };
    }
    this.record = decided.plan.record;
    this.continuedFromKeptData = decided.plan.resumeFrom > 0 || decided.plan.resumePoint !== null;
    return { plan: decided.plan, mode: decided.mode };
  }

  private stopTimers(): void {
    this.ticker?.stop();
  }

  /** Every byte is in the sink: verify, record the outcome, and let the state go (see finish-job.ts). */
  private async finish(probed: ProbeResult, plan: RunPlan, transfer: JobTransfer): Promise<JobSummary> {
    this.setState('verifying');
    const { summary, stateRemoved } = await finishJob({
      options: this.options,
      plan,
      sink: transfer.sink,
      hasher: transfer.hasher,
      ranged: transfer.ranged,
      size: probed.size,
      counters: this.counters,
      elapsedMs: () => Date.now() - this.startedAt,
      mode: transfer.mode,
      emit: (event) => this.emitEvent(event),
    });
    this.stateRemoved = stateRemoved;
    this.ticker?.tick();
    return { ...summary, ...this.sourcesReport?.summary() };
  }

  private async forgetCompletedState(record: JobStateRecord): Promise<void> {
    this.stateRemoved = await forgetCompletedState(this.options, record, (event) => this.emitEvent(event));
  }

  /** This job completed into `target` before and its state went: a no-op, or exit 4 if the origin changed. */
  private repeatCompleted(completed: CompletionRecord, probed: ProbeResult, target: string): JobSummary {
    const o = this.options;
    const repeat = repeatOfCompleted(completed, probed, { url: o.url, chunkSize: o.chunkSize, target });
    this.emitEvent({ type: 'warning', code: 'ALREADY_COMPLETE', message: repeat.message });
    this.stateRemoved = !o.keepState;
    return { ...repeat.summary, bytesFetched: 0, retries: 0, stallReplacements: 0, elapsedMs: Date.now() - this.startedAt };
  }

  private async probeWithRetries(dispatcher: Dispatcher): Promise<ProbeResult> {
    return probeWithRetries({
      url: this.options.url,
      headers: this.options.headers,
      dispatcher,
      signal: this.cancelController.signal,
      retries: this.options.retries,
      policy: this.policy,
      whileRunning: () => this.gate.whileRunning(),
      onRetry: (attempt, e, delayMs) => this.connectRetry(this.options.url, attempt, e, delayMs, 'start'),
    });
  }

  /** Says, while it happens, that the origin did not answer and when the next try goes out. */
  private connectRetry(url: string, attempt: number, e: EngineError, delayMs: number, phase: 'start' | 'unreachable'): void {
    this.emitEvent(connectRetryEvent(url, attempt, e, delayMs, phase));
  }

  private get policy(): RetryPolicy {
    const o = this.options;
    return { retries: o.retries, baseMs: o.retryBaseMs, capMs: o.retryCapMs, retryAfterCapMs: o.retryAfterCapMs };
  }

  /** The context the runs get (see job-run-context.ts): the job's parts, its waits, the way back to the job. */
  private runContext(origin: Origin, sources: SourceSet): RunContext {
    return runContextOf({
      options: this.options,
      origin,
      sources,
      limiter: this.limiter,
      quirks: this.quirks,
      policy: this.policy,
      counters: this.counters,
      cancelSignal: this.cancelController.signal,
      gate: this.gate,
      pause: (reason) => this.pause(reason),
      resume: () => this.resume(),
      emit: (event) => this.emitEvent(event),
      connectRetry: (url, attempt, e, delayMs, phase) => this.connectRetry(url, attempt, e, delayMs, phase),
      refreshCommand: () => this.options.refreshUrlCommand ?? this.record?.refreshUrlCommand ?? null,
      replaceUrl: (url) => this.replaceUrl(url),
    });
  }

  // ---- events --------------------------------------------------------------------------------------------

  private emitEvent(event: JobEventInput): void {
    // `done` / `error` is the last word: a chunk settling after a failure must not look like progress.
    if (this.terminalEmitted) return;
    if (event.type === 'done' || event.type === 'error') this.terminalEmitted = true;
    this.emit('event', { ...event, jobId: this.id, at: Date.now() } as EngineEvent);
  }

  private setState(state: JobState, reason?: PauseReason, error?: ReturnType<typeof serializeError>): void {
    this.state = state;
    this.emitEvent({ type: 'job-state', state, ...(reason ? { reason } : {}), ...(error ? { error } : {}) });
  }
}

export async function runJob(options: JobOptions, onEvent?: (e: EngineEvent) => void): Promise<JobSummary> {
  const job = new Job(options);
  if (onEvent) job.on('event', onEvent);
  return job.run();
}

export function defaultStateDir(target: string): string {
  return defaultStateDirOf(target);
}
