// One snapshot download: probe, plan the resume, then either a ranged run (chunks through the window into the
// sink, see ranged-run.ts) or one stream when the origin cannot serve ranges. The job coordinates: it owns
// pause/resume/cancel, the waits (offline, disk full), the state on disk and the events; the run owns its chunks.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import type { Dispatcher } from 'undici';
import { AbortedError, EngineError, NetworkError, serializeError, toEngineError, UsageError } from '../errors';
import type { ArchiveFormat, AttemptRecord, EngineEvent, JobState, JobSummary, PauseReason, TransferMode } from '../events';
import { ResumableDigests } from '../checksum/digest-set';
import { expectedKinds } from '../checksum/verify';
import type { CompletionRecord } from '../state/completion-record';
import { JobLock, lockTarget, type FileLock } from '../state/job-lock';
import { loadJobStateForRun, withKeptDataHint, type JobStateRecord } from '../state/job-state';
import { defaultStateDirOf } from '../state/layout';
import { clearEarlierRun, removeStateFolder } from '../state/state-cleanup';
import { createDispatcher } from '../transfer/http';
import { OriginQuirks, RangesAbandoned } from '../transfer/origin-quirks';
import type { ProbeResult } from '../transfer/probe';
import { RateLimiter } from '../transfer/rate-limiter';
import type { RetryPolicy } from '../transfer/retry-policy';
import { planResume, type RunPlan } from './resume-plan';
import { completedBefore, repeatOfCompleted } from './completed-job';
import { PauseGate } from './pause-gate';
import { openSinkFor } from './sink-choice';
import { connectRetryEvent, probeWithRetries } from './probe-retries';
import { streamRest } from './single-stream-run';
import { RecoveryWaits } from './recovery-waits';
import { LinkWait } from './link-wait';
import { adoptLink, verifiedReplacementOf } from './link-replace';
import { finishJob, forgetCompletedState } from './finish-job';
import { redactUrl } from '../transfer/redact';
import { resolveOptions, type JobOptions, type ResolvedOptions } from './job-options';
import { preflightDestination } from './preflight';
import { ProgressMeter } from './progress-meter';
import { RangedRun } from './ranged-run';
import { extractResumeMode } from './resume-mode';
import { PAUSE, type JobCounters, type JobEventInput, type RunContext } from './run-context';
import { ExtractSink, type StreamSink } from './sinks';
import { STALL_CHECK_MS } from './stall-watchdog';
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
  private readonly waits: RecoveryWaits;
  private readonly linkWait: LinkWait;
  /** The state this run keeps (null before the plan): a replaced link is pinned in it. */
  private record: JobStateRecord | null = null;
  private dispatcher: Dispatcher | null = null;
  /** Every range's bytes pass it; unlimited until a rate is set (at the start or while running). */
  private readonly limiter: RateLimiter;
  private probeResult: ProbeResult | null = null;
  /** The URL and its mirrors, once probed (see job-sources.ts). */
  private sources: SourceSet | null = null;
  private sourcesReport: SourcesReport | null = null;
  private sink: StreamSink | null = null;
  private hasher: ResumableDigests | null = null;
  private mode: TransferMode = 'ranged';
  /** The ranged run while (and after) it runs; null for a single stream from the start. */
  private ranged: RangedRun | null = null;
  /** Bytes the single stream has delivered (it replaces the ranged run's figure once it takes over). */
  private streamCommitted: number | null = null;
  private readonly counters: JobCounters = { bytesFetched: 0, retries: 0 };
  private readonly meter = new ProgressMeter();
  /** Ranged 200s and encoded answers across all connections (see origin-quirks.ts). */
  private readonly quirks = new OriginQuirks();
  private startedAt = 0;
  /** Offset in the file the sink's count starts from (a resumed extraction counts from its checkpoint). */
  private consumedBase = 0;
  private ticker: NodeJS.Timeout | null = null;
  private stallWatch: NodeJS.Timeout | null = null;
  private terminalEmitted = false;
  /** The archive format the extractor found (for the resume line after ranges are abandoned). */
  private detectedFormat: ArchiveFormat | null = null;
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
    this.waits = new RecoveryWaits({
      options: this.options,
      cancelSignal: this.cancelController.signal,
      policy: this.policy,
      dispatcher: () => this.dispatcher!,
      probed: () => this.probeResult!,
      pausedFor: () => this.gate.reason,
      pause: (reason) => this.pause(reason),
      resume: () => this.resume(),
      emit: (event) => this.emitEvent(event),
      connectRetry: (url, attempt, e, delayMs, phase) => this.connectRetry(url, attempt, e, delayMs, phase),
    });
    this.linkWait = new LinkWait({
      cancelSignal: this.cancelController.signal,
      onExpiry: this.options.onLinkExpired,
      url: () => this.options.url,
      refreshCommand: () => this.options.refreshUrlCommand ?? this.record?.refreshUrlCommand ?? null,
      fetched: () => this.counters.bytesFetched,
      pausedFor: () => this.gate.reason,
      pause: (reason) => this.pause(reason),
      whileRunning: () => this.gate.whileRunning(),
      emit: (event) => this.emitEvent(event),
      replaceUrl: (url) => this.replaceUrl(url),
    });
  }

  // ---- control -------------------------------------------------------------------------------------------

  pause(reason: PauseReason): void {
    if (this.state === 'done' || this.state === 'failed' || this.state === 'cancelled') return;
    if (!this.gate.pause(reason)) return;
    // Tear down ranges in flight: their committed bytes stay in the part files; nothing is lost.
    this.ranged?.interrupt(PAUSE);
    this.setState('paused', reason);
  }

  resume(): void {
    if (this.gate.resume()) this.setState(this.probeResult ? 'downloading' : 'probing');
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
    const current = this.probeResult;
    if (!current || !this.dispatcher) throw new UsageError('The job has not reached its server yet; replace the link once it has (or start it with the new link).');
    const o = this.options;
    const old = o.url;
    const { probed, detail } = await verifiedReplacementOf(newUrl, {
      options: o,
      current,
      dispatcher: this.dispatcher,
      signal: this.cancelController.signal,
      consumedChunks: this.record?.consumedChunks ?? 0,
    });
    o.url = newUrl;
    this.probeResult = await adoptLink({ current, probed, newUrl, record: this.record, stateDir: o.stateDir });
    this.emitEvent({
      type: 'warning',
      code: 'LINK_REPLACED',
      message: `The link was replaced (${redactUrl(old)} → ${redactUrl(newUrl)}): ${detail}. The job continues with everything it fetched.`,
    });
    if (this.gate.reason === 'link-expired') this.resume();
  }

  retryChunkNow(index: number): void {
    this.ranged?.retryChunkNow(index);
  }

  chunkHistory(index: number): AttemptRecord[] {
    return this.ranged?.chunkHistory(index) ?? [];
  }

  get paused(): PauseReason | null {
    return this.gate.reason;
  }

  get checkpointStats(): { count: number; bytes: number; saveMs: number } {
    return { ...(this.ranged?.checkpointer.stats ?? { count: 0, bytes: 0, saveMs: 0 }) };
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
      await this.sink?.abort(e).catch(() => undefined);
      this.setState(cancelled ? 'cancelled' : 'failed', undefined, serializeError(e));
      this.emitEvent({ type: 'error', error: serializeError(e) });
      throw e;
    } finally {
      this.stopTimers();
      // Every byte the job needs is in (or it has failed): nothing on a connection is worth waiting for. close()
      // would wait for a socket undici still holds, e.g. one whose range was replaced after a stall (that took
      // 2 s after `done` with a silent server), so the connections are destroyed.
      await this.dispatcher?.destroy().catch(() => undefined);
      await this.ranged?.closeJournal();
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

    this.dispatcher = createDispatcher({ connections: o.concurrency, connectTimeoutMs: o.connectTimeoutMs, idleTimeoutMs: o.idleTimeoutMs });
    const probed = await this.probeWithRetries();
    this.probeResult = probed;
    if (completed) return this.repeatCompleted(completed, probed, target);

    const plan = await this.planRun(previous, probed, target);
    if ('summary' in plan) return plan.summary;
    await this.openSources();
    await this.openSink(plan);
    this.startTimers();

    if (this.mode === 'ranged') {
      try {
        await this.runRanged(probed, plan);
      } catch (err) {
        if (!(err instanceof RangesAbandoned) || this.cancelController.signal.aborted) throw err;
        await this.continueAsOneStream(probed, err);
      }
    } else await this.runSingleStream(probed, 0);
    return this.finish(probed, plan);
  }

  private async openSources(): Promise<void> {
    this.sources = await openSources({
      options: this.options,
      probed: () => this.probeResult!,
      dispatcher: this.dispatcher!,
      signal: this.cancelController.signal,
      policy: this.policy,
      emit: (event) => this.emitEvent(event),
      changed: () => this.sourcesReport?.report(),
    });
    this.sourcesReport = new SourcesReport(this.sources, (event) => this.emitEvent(event));
    this.sourcesReport.report();
    if (this.mode === 'single-stream' && this.sources.hasMirrors) {
      this.emitEvent({ type: 'warning', code: 'MIRRORS_UNUSED', message: 'The URL cannot serve byte ranges, so the file comes as one stream from it: the mirrors are not used.' });
    }
  }

  /** Where this run starts (see resume-plan.ts); a job that completed before is a no-op. */
  private async planRun(previous: JobStateRecord | null, probed: ProbeResult, target: string): Promise<RunPlan | { summary: JobSummary }> {
    const decided = await planResume({ options: this.options, previous, probed, target, dispatcher: this.dispatcher!, emit: (event) => this.emitEvent(event) });
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
    this.mode = decided.mode;
    this.record = decided.plan.record;
    this.continuedFromKeptData = decided.plan.resumeFrom > 0 || decided.plan.resumePoint !== null;
    return decided.plan;
  }

  private async openSink(plan: RunPlan): Promise<void> {
    this.sink = await openSinkFor(this.options, plan, this.mode, {
      onFormat: (format, granularity) => {
        this.detectedFormat = format;
        const o = this.options;
        this.emitEvent({ type: 'decoding', format, ...extractResumeMode({ granularity, checkpoints: o.checkpoints, window: o.window, mode: this.mode }) });
      },
      onWarning: (w) => this.emitEvent({ type: 'warning', code: w.code, message: w.reason, entry: w.entry }),
    });
  }

  /** Progress ticks and the stall watchdog; neither may keep a process alive. */
  private startTimers(): void {
    const o = this.options;
    this.setState('downloading');
    this.ticker = setInterval(() => this.tick(), o.progressIntervalMs);
    this.ticker.unref();
    // The watchdog looks more often than progress is reported. A long gap between looks is a frozen process
    // (the tick's business).
    let lastLook = performance.now();
    this.stallWatch = setInterval(
      () => {
        const now = performance.now();
        if (now - lastLook < Math.max(o.idleTimeoutMs, 5_000)) this.ranged?.lookForStalls(now);
        lastLook = now;
      },
      Math.min(STALL_CHECK_MS, o.progressIntervalMs),
    );
    this.stallWatch.unref();
    this.meter.start(performance.now());
  }

  private stopTimers(): void {
    if (this.ticker) clearInterval(this.ticker);
    if (this.stallWatch) clearInterval(this.stallWatch);
    this.ticker = null;
    this.stallWatch = null;
  }

  /** Every byte is in the sink: verify, record the outcome, and let the state go (see finish-job.ts). */
  private async finish(probed: ProbeResult, plan: RunPlan): Promise<JobSummary> {
    this.setState('verifying');
    const { summary, stateRemoved } = await finishJob({
      options: this.options,
      plan,
      sink: this.sink!,
      hasher: this.hasher,
      ranged: this.ranged,
      size: probed.size,
      counters: this.counters,
      elapsedMs: () => Date.now() - this.startedAt,
      mode: this.mode,
      emit: (event) => this.emitEvent(event),
    });
    this.stateRemoved = stateRemoved;
    this.tick();
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

  private async probeWithRetries(): Promise<ProbeResult> {
    return probeWithRetries({
      url: this.options.url,
      headers: this.options.headers,
      dispatcher: this.dispatcher!,
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

  // ---- the runs ------------------------------------------------------------------------------------------

  private async runRanged(probed: ProbeResult, plan: RunPlan): Promise<void> {
    const o = this.options;
    const { resumePoint } = plan;
    const size = probed.size!;
    const resumeOffset = resumePoint ? resumePoint.extract.compressedOffset : plan.resumeFrom * o.chunkSize;
    this.consumedBase = resumePoint ? resumeOffset : 0;
    const kinds = expectedKinds({ sha256: o.sha256, md5: o.md5 });
    if (kinds.length > 0 && this.sink instanceof ExtractSink) this.hasher = await ResumableDigests.create(kinds, resumePoint);
    if (resumePoint) {
      this.emitEvent({
        type: 'warning',
        code: 'RESUMED',
        message: `Resuming from the checkpoint at byte ${resumeOffset} of ${size} (${((resumeOffset / size) * 100).toFixed(1)}%, ${resumePoint.extract.entries} entries done): chunks before chunk ${plan.resumeFrom} are not fetched again.`,
      });
    }
    this.ranged = await RangedRun.open(
      this.runContext(probed),
      this.sink!,
      { size, chunkCount: plan.chunkCount, startChunk: plan.resumeFrom, record: plan.record, resumePoint },
      this.hasher,
    );
    await this.ranged.run();
  }

  private runContext(probed: ProbeResult): RunContext {
    // The getter below reads the job's current probe: `this` there is the context object.
    const job = this;
    return {
      options: this.options,
      dispatcher: this.dispatcher!,
      limiter: this.limiter,
      // A getter: a replaced link reaches the ranges still to come.
      get probed() {
        return job.probeResult ?? probed;
      },
      quirks: this.quirks,
      sources: this.sources!,
      policy: this.policy,
      counters: this.counters,
      cancelSignal: this.cancelController.signal,
      emit: (event) => this.emitEvent(event),
      whileRunning: () => this.gate.whileRunning(),
      waitForDiskSpace: (cause) => this.waits.waitForDiskSpace(cause),
      waitUntilReachable: (cause) => this.waits.waitUntilReachable(cause),
      waitForNewLink: (cause) => this.linkWait.waitForNewLink(cause),
    };
  }

  /** The whole file as one stream; `skip`: bytes the sink already has (after ranges were given up). */
  private async runSingleStream(probed: ProbeResult, skip: number): Promise<void> {
    this.streamCommitted = await streamRest({
      dispatcher: this.dispatcher!,
      headers: this.options.headers,
      probed,
      skip,
      cancelSignal: this.cancelController.signal,
      limiter: this.limiter,
      counters: this.counters,
      // A hasher exists only when ranges were given up mid-job: it has covered `skip` bytes, the rest follows.
      hasher: this.hasher,
      sink: this.sink!,
      whileRunning: () => this.gate.whileRunning(),
    });
  }

  /** The origin stopped honouring ranges: the sink has every byte up to the run's offset, one stream brings the rest. */
  private async continueAsOneStream(probed: ProbeResult, why: RangesAbandoned): Promise<void> {
    const ranged = this.ranged!;
    // No new checkpoints: the one in flight may wait for input only the stream brings (a deflate block's end),
    // so it is not awaited; whatever it saves is a true point of this file.
    await ranged.abandon();
    this.streamCommitted = ranged.committedBytes();
    this.mode = 'single-stream';
    ranged.emitWindow();
    const offset = ranged.consumedOffset;
    this.emitEvent({
      type: 'warning',
      code: 'RANGES_ABANDONED',
      message: `${why.message} The sink has the first ${offset} bytes; the stream's first bytes up to there are read and dropped.`,
    });
    const format: ArchiveFormat | 'raw' | null = this.options.output ? 'raw' : this.detectedFormat;
    if (format) this.emitEvent({ type: 'decoding', format, resume: 'none', reason: 'the server stopped honouring range requests' });
    await this.runSingleStream(probed, offset);
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

  private tick(): void {
    const now = performance.now();
    const consumed = this.consumedBase + (this.sink?.consumed ?? 0);
    const frozenMs = this.meter.sample(now, this.counters.bytesFetched, consumed, Math.max(this.options.idleTimeoutMs, 5_000));
    // A tick far later than scheduled means the process was frozen (laptop sleep, SIGSTOP): connections are
    // likely dead, so tear the in-flight ranges down now rather than waiting out the idle timeout again.
    if (frozenMs > 0) {
      this.ranged?.interrupt(
        new NetworkError('E_IDLE_TIMEOUT', `The process was suspended for ${Math.round(frozenMs / 1000)} s; resuming the range from its last committed byte.`),
      );
    }
    this.ranged?.reportFetching();
    this.sourcesReport?.report();
    // Bytes received and kept: whole staged chunks and the received prefix of those still arriving (a resumed
    // range keeps its prefix), so the figure moves with the download rather than a chunk at a time.
    const committed = this.mode === 'single-stream' ? (this.streamCommitted ?? 0) : (this.ranged?.committedBytes() ?? 0);
    this.emitEvent({
      type: 'progress',
      bytesTotal: this.probeResult?.size ?? null,
      bytesFetched: this.counters.bytesFetched,
      bytesCommitted: committed,
      bytesConsumed: consumed,
      bytesWritten: this.sink?.written ?? 0,
      downloadRate: this.meter.rates.download,
      extractRate: this.meter.rates.extract,
      retries: this.counters.retries,
    });
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
