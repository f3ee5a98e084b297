// One snapshot download: probe, then either ranged chunks through the window into the sink, or one stream when
// the origin cannot serve ranges. The job owns pause/resume/cancel and reports everything as typed events.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import type { Dispatcher } from 'undici';
import { ChunkRecords } from './chunk-records';
import { ChunkWindow } from './chunk-window';
import { createDecompressor } from './decompress';
import {
  AbortedError,
  EngineError,
  HttpStatusError,
  IntegrityError,
  NetworkError,
  serializeError,
  toEngineError,
  UpstreamChangedError,
  UsageError,
  type ErrorCode,
} from './errors';
import type { AttemptRecord, ChunkState, EngineEvent, JobState, JobSummary, PauseReason, TransferMode } from './events';
import { createDispatcher } from './http';
import { resolveOptions, type JobOptions, type ResolvedOptions } from './job-options';
import { clearJobState, describeUpstreamChange, loadJobStateForRun, saveJobState, withKeptDataHint, type JobIdentity, type JobStateRecord } from './job-state';
import { probe, type ProbeResult } from './probe';
import { connectReason } from './connect-reason';
import { attemptInfo, fetchRange, type TransferWatch } from './range-fetch';
import { RateLimiter } from './rate-limiter';
import { sleep, wakeableDelay } from './sleep';
import { backoffDelay, type RetryPolicy } from './retry-policy';
import { ExtractSink, OutputFileSink, type SinkResult, type StreamSink } from './sinks';
import { StagingArea, type PartFile } from './staging';
import { journalParts } from './part-verify';
import { followChunk } from './growing-chunk';
import { preflightDestination } from './preflight';
import { Journal } from './journal';
import { clearCheckpoint, loadCheckpoint, saveCheckpoint, type SavedCheckpoint } from './checkpoint-store';
import { ResumableSha256 } from './resumable-hash';
import { checkFreeSpace, outputSizeHint, type SpaceNeed } from './space-check';
import { JobLock, lockTarget, type FileLock } from './job-lock';
import { removeJobState, removeStateFolder } from './state-cleanup';
import { OriginQuirks, RANGES_IGNORED_IN_A_ROW, RangesAbandoned } from './transfer/origin-quirks';
import { redactUrl } from './transfer/redact';
import { encodingRefused, hasNoValidator, identityChange, NO_VALIDATOR_MESSAGE, validatorChange } from './transfer/response-checks';
import { confirmSizeWithRetries, sizeUnconfirmedMessage } from './transfer/size-confirm';
import { readSingleStream } from './transfer/single-stream';

export type { JobOptions } from './job-options';

/** Checkpoint cadence: every ~64 MiB of output or ~10 s, whichever comes first (plus one per consumed chunk). */
const CHECKPOINT_OUTPUT_BYTES = 64 * 1024 * 1024;
const CHECKPOINT_INTERVAL_MS = 10_000;
const SIZE_HINT_MIN_BYTES = 256 * 1024 * 1024;
/** How long a full window waits for the checkpoint in flight before a slot is given back without one. */
const CHECKPOINT_WAIT_MS = 2_000;
/** Bytes other ranges must receive during one range's silence before it is called stalled (see abortStalled). */
const STALL_EVIDENCE_BYTES = 64 * 1024;
/** ... and, for the early replacement of a range that holds the job up, at least this much (or a chunk). */
const BLOCKING_STALL_EVIDENCE_BYTES = 1024 * 1024;
/** How often the stall watchdog looks (see abortStalled). */
const STALL_CHECK_MS = 100;

/** The reason given to an in-flight attempt's AbortController when the job pauses: not a failure. */
const PAUSE = Symbol('pause');

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export class Job extends EventEmitter {
  readonly id: string;
  readonly options: ResolvedOptions;
  private readonly cancelController = new AbortController();
  private state: JobState = 'probing';
  private pauseReason: PauseReason | null = null;
  private resumed: Deferred | null = null;
  private readonly inflight = new Map<number, AbortController>();
  /** The in-flight ranges' silences, for the stall watchdog (see abortStalled). */
  private readonly watches = new Map<number, { watch: TransferWatch; fetchedThen: number }>();
  /** The longest silence any connection of this job recovered from (see blockingStallMs). */
  private recoveredGapMs = 0;
  /** The least silence that replaces a range holding the job up; doubles with each such replacement. */
  private blockingFloorMs = BLOCKING_STALL_FLOOR_MS;
  private readonly stagedSignals = new Map<number, Deferred>();
  /** Part files of ranges in flight, for a consumer that reads a chunk while it arrives (see growing-chunk.ts). */
  private readonly growing = new Map<number, PartFile>();
  /** Wakes whoever waits for news of a chunk: its part opened, bytes flushed, or staged. */
  private readonly chunkNews = new Map<number, Array<() => void>>();
  private records: ChunkRecords | null = null;
  private window: ChunkWindow | null = null;
  private dispatcher: Dispatcher | null = null;
  /** Every range's bytes pass it; unlimited until a rate is set (at the start or while running). */
  private readonly limiter: RateLimiter;
  private probeResult: ProbeResult | null = null;
  private sink: StreamSink | null = null;
  private mode: TransferMode = 'ranged';
  private nextToConsume: number | null = null;
  private startedAt = 0;
  private bytesFetched = 0;
  private retries = 0;
  /** Connections the stall watchdog replaced (in the summary: a healthy origin's gaps must leave it at 0). */
  private stallReplacements = 0;
  private committedChunksBytes = 0;
  private ticker: NodeJS.Timeout | null = null;
  private stallWatch: NodeJS.Timeout | null = null;
  private lastTick = { at: 0, fetched: 0, consumed: 0 };
  private rates = { download: 0, extract: 0 };
  private offlineWait: Promise<void> | null = null;
  private diskWait: Promise<void> | null = null;
  private failure: EngineError | null = null;
  private terminalEmitted = false;
  private staging: StagingArea | null = null;
  private hasher: ResumableSha256 | null = null;
  private checkpointing = false;
  private checkpointTask: Promise<void> | null = null;
  private checkpointError: EngineError | null = null;
  private readonly consumedAwaiting: number[] = [];
  private lastCheckpoint = { at: 0, written: 0 };
  private consumedBase = 0;
  private hashChain: Promise<void> = Promise.resolve();
  private checkpointWanted = false;
  private finishing = false;
  readonly checkpointStats = { count: 0, bytes: 0, saveMs: 0 };
  private journal: Journal | null = null;
  private readonly stagedRecords = new Map<number, { length: number; crc: number }>();
  private lock: FileLock | null = null;
  private targetLock: FileLock | null = null;
  /** The job completed and its state files went: the folder goes once the lock is released. */
  private stateRemoved = false;
  /** Parts of an earlier run that failed verification in this run (see partDropped). */
  private keptDataDropped = 0;
  /** This run continued from an earlier run's checkpoint or committed chunks (see withKeptDataHint). */
  private continuedFromKeptData = false;
  /** Ranged 200s and encoded answers across all connections (see origin-quirks.ts). */
  private readonly quirks = new OriginQuirks();
  /** Absolute offset in the file up to which the sink has been fed (where a switch to one stream continues). */
  private consumedOffset = 0;
  /** The check of a HEAD-reported size, started by the first range without a total (see size-confirm.ts). */
  private sizeCheck: Promise<void> | null = null;
  /** Stops the ranged run with an error (set while it runs). */
  private failRanged: ((err: unknown) => void) | null = null;
  /** Why the ranged run stopped; its chunk tasks end when they see it. */
  private rangedStop: EngineError | null = null;

  constructor(options: JobOptions, id: string = randomUUID()) {
    super();
    this.id = id;
    this.options = resolveOptions(options);
    this.limiter = new RateLimiter(this.options.limitRate);
  }

  // ---- control -------------------------------------------------------------------------------------------

  pause(reason: PauseReason): void {
    if (this.state === 'done' || this.state === 'failed' || this.state === 'cancelled') return;
    if (this.pauseReason !== null) {
      this.pauseReason = reason;
      return;
    }
    this.pauseReason = reason;
    this.resumed = deferred();
    // Tear down ranges in flight: their committed bytes stay in the part files; nothing is lost.
    for (const controller of this.inflight.values()) controller.abort(PAUSE);
    for (const rec of this.records?.active() ?? []) rec.wake?.();
    this.setState('paused', reason);
  }

  resume(): void {
    if (this.pauseReason === null) return;
    this.pauseReason = null;
    const r = this.resumed;
    this.resumed = null;
    this.setState(this.probeResult ? 'downloading' : 'probing');
    r?.resolve();
  }

  cancel(): void {
    if (this.cancelController.signal.aborted) return;
    this.cancelController.abort(new AbortedError('The job was cancelled; its state is kept, so running it again resumes.'));
    this.resumed?.resolve();
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

  retryChunkNow(index: number): void {
    this.records?.peek(index)?.wake?.();
  }

  chunkHistory(index: number): AttemptRecord[] {
    return [...(this.records?.peek(index)?.attempts ?? [])];
  }

  get paused(): PauseReason | null {
    return this.pauseReason;
  }

  // ---- run -----------------------------------------------------------------------------------------------

  async run(): Promise<JobSummary> {
    this.startedAt = Date.now();
    this.setState('probing');
    try {
      const summary = await this.execute();
      this.stopTicker();
      this.setState('done');
      this.emitEvent({ type: 'done', ...summary });
      return summary;
    } catch (err) {
      const cancelled = this.cancelController.signal.aborted;
      const e = cancelled ? (this.cancelController.signal.reason as EngineError) : withKeptDataHint(toEngineError(this.failure ?? err), this.continuedFromKeptData);
      this.stopTicker();
      await this.sink?.abort(e).catch(() => undefined);
      this.setState(cancelled ? 'cancelled' : 'failed', undefined, serializeError(e));
      this.emitEvent({ type: 'error', error: serializeError(e) });
      throw e;
    } finally {
      this.stopTicker();
      // Every byte the job needs is in (or it has failed): nothing on a connection is worth waiting for. close()
      // would wait for a socket undici still holds, e.g. one whose range was replaced after a stall (that took
      // 2 s after `done` with a silent server), so the connections are destroyed.
      await this.dispatcher?.destroy().catch(() => undefined);
      await this.journal?.close();
      await this.targetLock?.release().catch(() => undefined);
      await this.lock?.release().catch(() => undefined);
      if (this.stateRemoved) await removeStateFolder(this.options.stateDir);
    }
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    if (this.stallWatch) clearInterval(this.stallWatch);
    this.ticker = null;
    this.stallWatch = null;
  }

  private async execute(): Promise<JobSummary> {
    const o = this.options;
    // Owner-only: the state holds the source URL (a presigned one carries its signature).
    await fsp.mkdir(o.stateDir, { recursive: true, mode: 0o700 });
    this.lock = await JobLock.acquire(o.stateDir);
    const target = o.dest ?? o.output!;
    this.targetLock = await lockTarget(target, o.stateDir, (message) => this.emitEvent({ type: 'warning', code: 'TARGET_NOT_LOCKED', message }));
    const previous = o.restart ? null : await loadJobStateForRun(o.stateDir);
    if (o.restart) await this.forgetEarlierRun();
    await preflightDestination({ dest: o.dest, output: o.output, ownedByJob: previous?.identity.target === target, force: o.force });

    this.dispatcher = createDispatcher({ connections: o.concurrency, connectTimeoutMs: o.connectTimeoutMs, idleTimeoutMs: o.idleTimeoutMs });
    const probed = await this.probeWithRetries();
    this.probeResult = probed;

    const identity: JobIdentity = {
      url: o.url,
      finalUrl: probed.finalUrl,
      size: probed.size,
      etag: probed.etag,
      weakEtag: probed.weakEtag,
      lastModified: probed.lastModified,
      chunkSize: o.chunkSize,
      mode: o.dest ? 'extract' : 'download',
      target,
    };
    let resumeFrom = 0;
    let resumePoint: SavedCheckpoint | null = null;
    const sameJob = !!previous && previous.identity.target === target && previous.identity.url === o.url;
    if (previous && sameJob) {
      const change =
        describeUpstreamChange(previous.identity, probed) ?? validatorChange(previous.identity, { etag: probed.weakEtag, lastModified: probed.lastModified });
      if (change) {
        throw new UpstreamChangedError(
          `The snapshot at ${redactUrl(o.url)} changed since this job started (${change}). Kept data was not mixed with the new file. Run again with --restart to download the new snapshot from the beginning.`,
          { details: { change } },
        );
      }
      // Download-only output is committed chunk by chunk; extraction restarts from the beginning until a
      // checkpoint says otherwise.
      if (previous.complete && previous.summary && (await targetIntact(previous.identity, target))) {
        // Finished before (perhaps killed just after): running it again is a no-op, not a second download.
        this.emitEvent({ type: 'warning', code: 'ALREADY_COMPLETE', message: `This job already completed on ${new Date(previous.updatedAt).toISOString()}; nothing to do. Use --restart to download it again.` });
        await this.forgetCompletedState();
        return { ...previous.summary, bytesFetched: 0, retries: 0, elapsedMs: Date.now() - this.startedAt };
      }
      if (identity.mode === 'download' && previous.identity.chunkSize === o.chunkSize) resumeFrom = previous.consumedChunks;
      if (o.checkpoints && identity.mode === 'extract' && previous.identity.chunkSize === o.chunkSize) resumePoint = await loadCheckpoint(o.stateDir);
    }
    if (!sameJob) await clearCheckpoint(o.stateDir);

    this.mode = probed.rangeSupported && probed.size !== null && probed.size > 0 ? 'ranged' : 'single-stream';
    const size = probed.size ?? 0;
    const chunkCount = this.mode === 'ranged' ? Math.ceil(size / o.chunkSize) : 0;
    resumePoint = this.usableResumePoint(resumePoint, size);
    if (resumePoint) resumeFrom = Math.floor(resumePoint.extract.compressedOffset / o.chunkSize);
    resumeFrom = Math.min(resumeFrom, chunkCount);
    if (o.output && resumeFrom > 0) resumeFrom = await this.checkOutputLength(o.output, resumeFrom, size);
    this.continuedFromKeptData = resumeFrom > 0 || resumePoint !== null;
    this.emitEvent({
      type: 'probed',
      finalUrl: redactUrl(probed.finalUrl),
      size: probed.size,
      mode: this.mode,
      etag: probed.etag,
      lastModified: probed.lastModified,
      chunkSize: o.chunkSize,
      chunkCount,
      format: o.output ? 'raw' : o.format === 'auto' ? null : o.format,
    });

    if (hasNoValidator(probed) && o.sha256 === null) this.emitEvent({ type: 'warning', code: 'NO_VALIDATOR', message: NO_VALIDATOR_MESSAGE });

    if (!o.force) await this.preflightSpace(probed, chunkCount, resumeFrom, resumePoint);

    // Only a destination this job found empty may hold files a restart keeps (never an operator's, see --force).
    const destStartedEmpty = sameJob ? previous!.destStartedEmpty === true : o.dest !== null && (await isEmptyOrMissing(o.dest));
    const reuseComplete = sameJob && destStartedEmpty && !resumePoint;
    const record: JobStateRecord = { version: 1, identity, consumedChunks: resumeFrom, complete: false, updatedAt: Date.now(), destStartedEmpty };
    await saveJobState(o.stateDir, record);

    this.sink = o.dest
      ? new ExtractSink(
          {
            dest: o.dest,
            format: o.format,
            strict: o.strict,
            onWarning: (w: { entry: string; code: string; reason: string }) => this.emitEvent({ type: 'warning', code: w.code, message: w.reason, entry: w.entry }),
            ...(resumePoint ? { resumeFrom: resumePoint.extract } : {}),
            ...(reuseComplete ? { reuseComplete: true } : {}),
            // Checkpoints off: zlib's streaming gunzip (the fastest decoder), and the extractor then says it cannot checkpoint.
            ...(o.checkpoints ? {} : { decompressor: createDecompressor, decompressorNote: 'checkpoints are turned off for this job' }),
          },
          o.sha256 !== null && this.mode !== 'ranged',
        )
      : await OutputFileSink.open(o.output!, resumeFrom * o.chunkSize, o.sha256 !== null);

    this.setState('downloading');
    this.ticker = setInterval(() => this.tick(), o.progressIntervalMs);
    // The ticker only reports; it must never be what keeps a process alive.
    this.ticker.unref();
    // The stall watchdog looks more often than progress is reported: a range the job waits for is replaced
    // within a tenth of a second of its threshold. A long gap between looks is a frozen process (tick's business).
    let lastLook = performance.now();
    this.stallWatch = setInterval(() => {
      const now = performance.now();
      if (now - lastLook < Math.max(o.idleTimeoutMs, 5_000)) this.abortStalled(now);
      lastLook = now;
    }, Math.min(STALL_CHECK_MS, o.progressIntervalMs));
    this.stallWatch.unref();
    this.lastTick = { at: performance.now(), fetched: 0, consumed: 0 };

    if (this.mode === 'ranged') {
      try {
        await this.runRanged(size, chunkCount, resumeFrom, record, resumePoint);
      } catch (err) {
        if (!(err instanceof RangesAbandoned) || this.cancelController.signal.aborted) throw err;
        await this.continueAsOneStream(probed, err);
      }
    } else await this.runSingleStream(probed, 0);

    this.setState('verifying');
    const finished: SinkResult = await this.sink.finish();
    if (finished.reused) {
      this.emitEvent({
        type: 'warning',
        code: 'FILES_KEPT',
        message: `${finished.reused} files completed by the earlier run were verified (size and modification time) and kept; the rest was extracted again.`,
      });
    }
    await this.checkpointTask;
    const result = this.hasher ? { ...finished, sha256: this.hasher.digest() } : finished;
    if (o.sha256 !== null && result.sha256 !== o.sha256) {
      throw new IntegrityError(`SHA-256 mismatch: expected ${o.sha256}, got ${result.sha256}. The download does not match the published checksum; do not use it.`, {
        details: { expected: o.sha256, actual: result.sha256 },
      });
    }
    const summary: JobSummary = {
      bytesTotal: probed.size,
      bytesFetched: this.bytesFetched,
      bytesWritten: result.bytesWritten,
      retries: this.retries,
      stallReplacements: this.stallReplacements,
      elapsedMs: Date.now() - this.startedAt,
      entries: result.entries,
      skipped: result.skipped,
      skippedTotal: Object.values(result.skippedByCode).reduce((n, c) => n + c, 0),
      skippedByCode: result.skippedByCode,
      sha256: result.sha256,
      mode: this.mode,
      format: result.format,
    };
    record.consumedChunks = chunkCount;
    record.complete = true;
    record.updatedAt = Date.now();
    record.summary = summary;
    await saveJobState(o.stateDir, record);
    await this.journal?.close();
    this.journal = null;
    await fsp.rm(`${o.stateDir}/journal.log`, { force: true });
    await clearCheckpoint(o.stateDir);
    await this.forgetCompletedState();
    this.tick();
    return summary;
  }

  /** Completed: the state folder goes unless it is to be kept (see state-cleanup.ts). */
  private async forgetCompletedState(): Promise<void> {
    if (this.options.keepState) return;
    await removeJobState(this.options.stateDir);
    this.stateRemoved = true;
  }

  /** --restart: the earlier run's state, journal and staged chunks go; the destination is left to the operator. */
  private async forgetEarlierRun(): Promise<void> {
    await clearJobState(this.options.stateDir);
    for (const name of await fsp.readdir(this.options.stateDir)) {
      if (/^chunk-\d+\.(part|bin)$/.test(name) || name === 'journal.log') await fsp.rm(`${this.options.stateDir}/${name}`, { force: true });
    }
    await clearCheckpoint(this.options.stateDir);
  }

  /** Resume of a download-only job: the output must still hold the chunks the state says are in it. */
  private async checkOutputLength(output: string, chunks: number, size: number): Promise<number> {
    const kept = await OutputFileSink.chunksStillThere(output, chunks, this.options.chunkSize, size);
    if (kept < chunks) {
      this.emitEvent({
        type: 'warning',
        code: 'OUTPUT_SHORTER',
        message: `The output ${output} is shorter than the ${Math.min(size, chunks * this.options.chunkSize)} bytes this job had written into it (truncated or emptied since); it continues from byte ${kept * this.options.chunkSize} and fetches the rest again.`,
      });
    }
    return kept;
  }

  /** Free space for the window and for what is known of the output, before anything is fetched. */
  private async preflightSpace(probed: ProbeResult, chunkCount: number, startChunk: number, resumePoint: SavedCheckpoint | null): Promise<void> {
    const o = this.options;
    const needs: SpaceNeed[] = [];
    const remainingChunks = Math.max(0, chunkCount - startChunk);
    if (this.mode === 'ranged') needs.push({ path: o.stateDir, bytes: Math.min(o.window, remainingChunks) * o.chunkSize, what: 'the chunk window' });
    if (o.output && probed.size !== null) needs.push({ path: dirname(o.output), bytes: probed.size - startChunk * o.chunkSize, what: 'the download' });
    // The trailer hint costs two tiny requests: worth it only where running out of space would hurt.
    if (o.dest && this.mode === 'ranged' && probed.size !== null && probed.size >= SIZE_HINT_MIN_BYTES) {
      const hint = await outputSizeHint(this.dispatcher!, probed.finalUrl, probed.size, probed.etag ?? probed.lastModified);
      if (hint !== null) needs.push({ path: o.dest, bytes: hint.bytes - (resumePoint?.extract.bytesWritten ?? 0), what: `the extracted files (${hint.what})` });
    }
    await checkFreeSpace(needs);
  }

  /** A saved checkpoint is used only if it fits this file and can verify what it must. */
  private usableResumePoint(point: SavedCheckpoint | null, size: number): SavedCheckpoint | null {
    if (!point) return null;
    const why =
      this.mode !== 'ranged'
        ? 'the server no longer serves ranges'
        : point.extract.compressedOffset > size
          ? 'it lies beyond the end of the file'
          : this.options.sha256 !== null && !point.sha256
            ? 'it holds no checksum state, and --sha256 must cover every byte'
            : null;
    if (!why) return point;
    this.emitEvent({ type: 'warning', code: 'CHECKPOINT_IGNORED', message: `The saved checkpoint cannot be used (${why}); extraction starts from the beginning.` });
    return null;
  }

  private async probeWithRetries(): Promise<ProbeResult> {
    for (let failures = 1; ; failures++) {
      await this.whileRunning();
      try {
        return await probe(this.options.url, { dispatcher: this.dispatcher!, signal: this.cancelController.signal });
      } catch (err) {
        const e = toEngineError(err);
        if (this.cancelController.signal.aborted || !e.retryable || failures > this.options.retries) throw e;
        const delay = e instanceof HttpStatusError && e.retryAfterMs !== undefined ? e.retryAfterMs : backoffDelay(this.policy, failures);
        this.connectRetry(this.options.url, failures, e, delay, 'start');
        await sleep(delay, this.cancelController.signal);
      }
    }
  }

  /** Says, while it happens, that the origin did not answer and when the next try goes out. */
  private connectRetry(url: string, attempt: number, e: EngineError, delayMs: number, phase: 'start' | 'unreachable'): void {
    let host = '';
    try {
      host = new URL(url).host;
    } catch {
      // validated before the job starts
    }
    this.emitEvent({ type: 'connect-retry', host, attempt, code: e.code, reason: connectReason(e), delayMs, nextAt: Date.now() + delayMs, phase });
  }

  private get policy(): RetryPolicy {
    const o = this.options;
    return { retries: o.retries, baseMs: o.retryBaseMs, capMs: o.retryCapMs, retryAfterCapMs: o.retryAfterCapMs };
  }

  // ---- ranged mode ---------------------------------------------------------------------------------------

  private async runRanged(size: number, chunkCount: number, startChunk: number, record: JobStateRecord, resumePoint: SavedCheckpoint | null): Promise<void> {
    const o = this.options;
    const resumeOffset = resumePoint ? resumePoint.extract.compressedOffset : startChunk * o.chunkSize;
    this.consumedBase = resumePoint ? resumeOffset : 0;
    this.consumedOffset = resumeOffset;
    if (o.sha256 !== null && this.sink instanceof ExtractSink) this.hasher = await ResumableSha256.create(resumePoint?.sha256 ?? null);
    // A window of one slot cannot hold a consumed chunk while the next one is fetched: no checkpoints then.
    this.checkpointing = this.sink instanceof ExtractSink && o.window >= 2;
    if (resumePoint) {
      this.emitEvent({
        type: 'warning',
        code: 'RESUMED',
        message: `Resuming from the checkpoint at byte ${resumeOffset} of ${size} (${((resumeOffset / size) * 100).toFixed(1)}%, ${resumePoint.extract.entries} entries done): chunks before chunk ${startChunk} are not fetched again.`,
      });
    }
    this.records = new ChunkRecords(o.chunkSize, size);
    const opened = await Journal.open(o.stateDir);
    this.journal = opened.journal;
    // Parts of an earlier run are continued only as far as the journal vouches for their bytes.
    const staging = new StagingArea(o.stateDir, journalParts(opened.journal, opened.records, o.chunkSize, (index, kept, had) => this.partDropped(index, kept, had)));
    await staging.init();
    for (const r of opened.records) {
      if (r.t === 'staged') this.stagedRecords.set(r.index, { length: r.length, crc: r.crc });
      else if (r.t === 'attempt' && r.index >= startChunk) {
        this.records.addAttempt(r.index, r.attempt);
        const rec = this.records.get(r.index);
        rec.attemptCount = Math.max(rec.attemptCount, r.attempt.attempt);
      }
    }
    if (opened.tornBytes > 0) {
      this.emitEvent({ type: 'warning', code: 'E_JOURNAL', message: `The journal ended in a torn record (${opened.tornBytes} bytes, from a crash mid-write); it was dropped and the chunks it named are verified again.` });
    }
    await this.discardStaleChunks(staging, startChunk);
    this.window = new ChunkWindow(o.window);
    this.nextToConsume = startChunk < chunkCount ? startChunk : null;
    this.committedChunksBytes = startChunk * o.chunkSize;
    for (let i = startChunk; i < chunkCount; i++) this.stagedSignals.set(i, deferred());

    // Aborted on the first failure or on cancel: wakes a producer waiting for a window permit.
    const stop = new AbortController();
    const failAll = (err: unknown) => {
      // Once stopped, the ranged run stays stopped: a late failure of one of its tasks changes nothing (and
      // must not stop the single stream that may follow, see continueAsOneStream).
      if (this.rangedStop) return;
      this.failure ??= toEngineError(err);
      this.rangedStop = this.failure;
      stop.abort(this.failure);
      for (const rec of this.records?.active() ?? []) rec.wake?.();
      for (const d of this.stagedSignals.values()) d.reject(this.failure);
      for (const c of this.inflight.values()) c.abort(this.failure);
      this.resumed?.resolve();
    };
    const producer = this.produce(staging, startChunk, chunkCount, stop.signal, failAll).catch((err) => {
      failAll(err);
      throw err;
    });
    const consumer = this.consume(staging, startChunk, chunkCount, record, resumeOffset - startChunk * o.chunkSize).catch((err) => {
      failAll(err);
      throw err;
    });
    const onCancel = () => failAll(this.cancelController.signal.reason);
    this.cancelController.signal.addEventListener('abort', onCancel, { once: true });
    this.failRanged = failAll;
    try {
      const results = await Promise.allSettled([producer, consumer]);
      if (this.failure) throw this.failure;
      for (const r of results) if (r.status === 'rejected') throw r.reason;
      // Never done short: a size that only HEAD vouched for is confirmed before the job can finish.
      await this.sizeCheck;
      if (this.failure) throw this.failure;
    } finally {
      this.failRanged = null;
      this.cancelController.signal.removeEventListener('abort', onCancel);
    }
  }

  private partDropped(index: number, kept: number, had: number): void {
    this.keptDataDropped++;
    this.emitEvent({
      type: 'warning',
      code: 'E_PART_INVALID',
      message:
        `Chunk ${index}'s partial download from an earlier run matched its journal only for ${kept} of its ${had} bytes (after a power loss a disk may return zeros for data it never wrote back); the rest is fetched again.` +
        (this.keptDataDropped >= 3 ? ' Kept data keeps failing its checks: if this job fails or keeps doing this, run it with --restart.' : ''),
    });
  }

  /** Chunk files of an earlier run that this run will not reach again would only cost disk. */
  private async discardStaleChunks(staging: StagingArea, startChunk: number): Promise<void> {
    const keepUpTo = startChunk + this.options.window;
    for (const name of await fsp.readdir(staging.dir)) {
      const m = /^chunk-(\d+)\.(part|bin)$/.exec(name);
      if (m && (Number(m[1]) < startChunk || Number(m[1]) >= keepUpTo)) await staging.remove(Number(m[1]));
    }
  }

  /** Admits chunks in order: a window slot first (backpressure), then a connection slot. */
  private async produce(staging: StagingArea, startChunk: number, chunkCount: number, stop: AbortSignal, fatal: (err: unknown) => void): Promise<void> {
    const o = this.options;
    const running = new Set<Promise<void>>();
    for (let index = startChunk; index < chunkCount; index++) {
      if (this.failure) break;
      const rec = this.records!.get(index);
      // A connection slot first, then the window permit: a slot marked fetching always has a request going.
      while (running.size >= o.concurrency) await Promise.race(running);
      await this.window!.acquire(index, rec.length, stop);
      this.emitWindow();
      if (this.failure) break;
      const task: Promise<void> = this.fetchChunk(staging, index).then(
        () => {
          running.delete(task);
        },
        (err) => {
          running.delete(task);
          // Fail everything now: the producer may be waiting for a window permit, not on this task.
          fatal(err);
          throw err;
        },
      );
      running.add(task);
      task.catch(() => undefined);
    }
    await Promise.all(running);
  }

  private async fetchChunk(staging: StagingArea, index: number): Promise<void> {
    const rec = this.records!.get(index);
    if (await this.reuseStaged(staging, index, rec.length)) {
      this.markStaged(index, rec.length);
      return;
    }
    const part = await staging.openPart(index).catch((err) => {
      throw toEngineError(err, 'E_IO');
    });
    try {
      if (part.committed > rec.length) await part.reset();
      rec.bytes = part.committed;
      part.onFlushed = () => this.announce(index);
      this.growing.set(index, part);
      this.announce(index);
      let failures = 0;
      for (;;) {
        // Bytes gathered by the last attempt go to disk first: the next range starts right after them.
        try {
          await part.flush();
        } catch (err) {
          const e = toEngineError(err, 'E_IO');
          if (e.code !== 'E_DISK_FULL') throw e;
          await this.waitForDiskSpace(e);
          continue;
        }
        if (part.committed >= rec.length) break;
        if (this.rangedStop) throw this.rangedStop;
        await this.whileRunning();
        const controller = new AbortController();
        this.inflight.set(index, controller);
        const watch: TransferWatch = { awaitingNetwork: true, receiving: false, waitingSince: performance.now(), longestRecoveredGapMs: 0 };
        const watched = { watch, fetchedThen: this.bytesFetched };
        this.watches.set(index, watched);
        rec.attemptCount++;
        const attempt = rec.attemptCount;
        const startedAt = Date.now();
        const from = rec.start + part.committed;
        const before = part.committed;
        this.setChunk(rec, 'fetching');
        this.emitEvent({ type: 'attempt-started', index, attempt, rangeStart: from, rangeEnd: rec.start + rec.length - 1 });
        try {
          const result = await fetchRange({
            dispatcher: this.dispatcher!,
            url: this.probeResult!.finalUrl,
            start: rec.start,
            end: rec.start + rec.length - 1,
            pinned: { size: this.probeResult!.size!, etag: this.probeResult!.etag, weakEtag: this.probeResult!.weakEtag, lastModified: this.probeResult!.lastModified },
            onAccepted: ({ totalKnown }) => {
              this.quirks.honoured();
              if (!totalKnown) this.confirmSizeOnce();
            },
            sink: part,
            signal: controller.signal,
            limiter: this.limiter,
            retryAfterCapMs: this.options.retryAfterCapMs,
            watch,
            onBytes: (n) => {
              this.bytesFetched += n;
              watched.fetchedThen = this.bytesFetched;
              rec.bytes = part.committed;
            },
          });
          this.records!.addAttempt(index, {
            attempt,
            startedAt,
            durationMs: Date.now() - startedAt,
            rangeStart: from,
            rangeEnd: rec.start + rec.length - 1,
            status: result.status,
            bytes: result.bytes,
            error: null,
          });
        } catch (err) {
          if (this.failure || this.cancelController.signal.aborted) throw this.failure ?? this.cancelController.signal.reason;
          rec.bytes = part.committed;
          if (controller.signal.reason === PAUSE) {
            rec.attemptCount--; // a pause is not a failed attempt
            continue;
          }
          const info = attemptInfo(err);
          const e = toEngineError(err);
          const serialized = serializeError(e);
          this.records!.addAttempt(index, {
            attempt,
            startedAt,
            durationMs: Date.now() - startedAt,
            rangeStart: from,
            rangeEnd: rec.start + rec.length - 1,
            status: info.status,
            bytes: info.bytes,
            error: serialized,
          });
          this.emitEvent({ type: 'attempt-failed', index, attempt, status: info.status, bytes: info.bytes, durationMs: Date.now() - startedAt, error: serialized });
          await this.journal
            ?.append({ t: 'attempt', index, attempt: rec.attempts[rec.attempts.length - 1]! })
            .catch(() => undefined); // history is a convenience: a full disk must not turn into a second failure
          if (e.code === 'E_DISK_FULL') {
            await this.waitForDiskSpace(e);
            continue;
          }
          if (e.code === 'E_RANGE_IGNORED' && this.quirks.rangeIgnored()) throw new RangesAbandoned(RANGES_IGNORED_IN_A_ROW, e);
          if (e.code === 'E_CONTENT_ENCODING' && e.retryable) {
            const times = this.quirks.encodedAnswer();
            if (times !== null) {
              this.setChunk(rec, 'failed');
              throw encodingRefused(e, times);
            }
          }
          if (!e.retryable) {
            this.setChunk(rec, 'failed');
            throw chunkFailure(e, index, rec.start, rec.length);
          }
          // An attempt that committed bytes made progress: the backoff starts over, and the first try after
          // it goes out at once (a connection broke or stuck, the origin was answering); only failures
          // without progress back off.
          const progressed = part.committed > before;
          failures = progressed ? 1 : failures + 1;
          if (failures > this.options.retries) {
            if (e.code === 'E_CONNECT') {
              await this.waitUntilReachable(e);
              failures = 0;
              continue;
            }
            this.setChunk(rec, 'failed');
            throw new EngineError(
              'E_RETRIES_EXHAUSTED',
              `Chunk ${index} (bytes ${rec.start}-${rec.start + rec.length - 1}) failed ${failures} times in a row; giving up. Its ${part.committed} committed bytes are kept: run the job again to resume.`,
              { cause: e, retryable: false, details: { chunk: index, attempts: rec.attemptCount } },
            );
          }
          const delayMs =
            e instanceof HttpStatusError && e.retryAfterMs !== undefined ? e.retryAfterMs : progressed ? 0 : backoffDelay(this.policy, failures);
          this.retries++;
          rec.nextRetryAt = Date.now() + delayMs;
          this.setChunk(rec, 'retrying');
          this.emitEvent({ type: 'retry-scheduled', index, attempt: attempt + 1, delayMs, nextAt: rec.nextRetryAt, reason: e.code });
          await this.retryDelay(rec, delayMs);
          rec.nextRetryAt = null;
        } finally {
          this.recoveredGapMs = Math.max(this.recoveredGapMs, watch.longestRecoveredGapMs);
          this.inflight.delete(index);
          this.watches.delete(index);
        }
      }
      const crc = part.checksum;
      await staging.commit(index, part).catch((err) => {
        throw toEngineError(err, 'E_IO');
      });
      // The record vouches for the file by its CRC, so the file need not be durable first (see staging.ts).
      await this.journal!.append({ t: 'staged', index, length: rec.length, crc });
      this.stagedRecords.set(index, { length: rec.length, crc });
    } finally {
      this.growing.delete(index);
      part.onFlushed = null;
      await part.close().catch(() => undefined);
    }
    this.markStaged(index, rec.length);
  }

  private announce(index: number): void {
    const waiting = this.chunkNews.get(index);
    if (!waiting) return;
    this.chunkNews.delete(index);
    for (const wake of waiting) wake();
  }

  /** News of chunk `index`, or a quarter second, whichever comes first; rejects when the job fails. */
  private chunkChanged(index: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const news = new Promise<void>((resolve) => {
      const waiting = this.chunkNews.get(index) ?? [];
      waiting.push(resolve);
      this.chunkNews.set(index, waiting);
      timer = setTimeout(resolve, 250);
    });
    return Promise.race([news, this.stagedSignals.get(index)?.promise ?? Promise.resolve()]).finally(() => clearTimeout(timer));
  }

  /** Reads chunk `index` from `from` while its range arrives (see growing-chunk.ts). */
  private followGrowing(staging: StagingArea, index: number, from: number): AsyncIterable<Buffer> {
    const rec = this.records!.get(index);
    let known = 0;
    const onDisk = (): number => {
      const part = this.growing.get(index);
      // Between the part's close and markStaged only what was seen is vouched for; staged means complete.
      if (part) known = part.onDisk;
      else if (rec.state === 'staged') known = rec.length;
      return known;
    };
    return followChunk({ paths: [staging.partPath(index), staging.stagedPath(index)], onDisk, changed: () => this.chunkChanged(index) }, from, rec.length);
  }

  /**
   * Where the consumer reads chunk `index` from: its staged file once it is complete, or its part file while
   * it arrives. Not while a SHA-256 is computed: the hash reads staged files only.
   */
  private async chunkSource(index: number): Promise<'staged' | 'growing'> {
    for (;;) {
      if (this.records!.get(index).state === 'staged') return 'staged';
      if (!this.hasher && this.growing.has(index)) return 'growing';
      await this.chunkChanged(index);
    }
  }

  /** A chunk staged by an earlier run is used only if the journal vouches for its length and CRC. */
  private async reuseStaged(staging: StagingArea, index: number, length: number): Promise<boolean> {
    const onDisk = await staging.stagedCrc(index);
    if (!onDisk) return false;
    const recorded = this.stagedRecords.get(index);
    if (recorded && recorded.length === length && onDisk.length === length && recorded.crc === onDisk.crc) return true;
    await staging.remove(index);
    this.emitEvent({
      type: 'warning',
      code: 'E_STAGED_CHUNK_INVALID',
      message: `Staged chunk ${index} did not match its journal record (${recorded ? 'CRC or length differs' : 'no record'}); it is fetched again.`,
    });
    return false;
  }

  private markStaged(index: number, length: number): void {
    const rec = this.records!.get(index);
    rec.bytes = length;
    this.setChunk(rec, 'staged');
    this.stagedSignals.get(index)?.resolve();
    this.announce(index);
  }

  /** Feeds staged chunks to the sink strictly in order, returning each slot once its bytes are consumed. */
  private async consume(staging: StagingArea, startChunk: number, chunkCount: number, record: JobStateRecord, skipInFirst: number): Promise<void> {
    const o = this.options;
    this.staging = staging;
    for (let index = startChunk; index < chunkCount; index++) {
      this.nextToConsume = index;
      this.emitWindow();
      const source = await this.chunkSource(index);
      await this.whileRunning();
      const rec = this.records!.get(index);
      const from = index === startChunk ? skipInFirst : 0;
      // A chunk still arriving stays 'fetching' in the UI; it is 'extracting' once staged.
      if (source === 'staged') this.setChunk(rec, 'extracting');
      const stream = source === 'staged' ? createReadStream(staging.stagedPath(index), { highWaterMark: 1024 * 1024, start: from }) : this.followGrowing(staging, index, from);
      try {
        for await (const piece of stream as AsyncIterable<Buffer>) {
          if (this.failure) throw this.failure;
          await this.sink!.write(piece);
          this.consumedOffset += piece.length;
          this.maybeCheckpoint(false);
        }
      } catch (err) {
        if ('destroy' in stream) stream.destroy();
        throw toEngineError(err);
      }
      // Every byte is read; the slot may go only once the chunk is staged (its record journaled).
      await this.stagedSignals.get(index)!.promise;
      if (source === 'growing') this.setChunk(rec, 'extracting');
      this.stagedSignals.delete(index);
      this.committedChunksBytes += rec.length;
      if (this.sink instanceof OutputFileSink) {
        // Data before record: the output is fsynced before the state says the chunk is in it.
        await this.sink.sync();
        record.consumedChunks = index + 1;
        record.updatedAt = Date.now();
        await saveJobState(o.stateDir, record);
        await this.releaseChunk(index);
        continue;
      }
      this.setChunk(rec, 'done');
      this.consumedAwaiting.push(index);
      if (!this.checkpointing) {
        await this.releaseConsumed(Number.POSITIVE_INFINITY);
        continue;
      }
      // A slot returns only once a durable checkpoint lies past its chunk, so a crash costs at most the window.
      if (index < chunkCount - 1) this.maybeCheckpoint(true);
      if (this.consumedAwaiting.length >= o.window && this.checkpointTask) {
        // Every slot holds a consumed chunk: give the checkpoint in flight a moment to return them.
        await this.checkpointOrTimeout(this.checkpointTask, CHECKPOINT_WAIT_MS);
      }
      if (this.consumedAwaiting.length >= o.window) {
        // Still full: the checkpoint needs more input than the window can give (a deflate block longer than the
        // window). Give the oldest slot back; a crash now costs that chunk again, never a deadlock.
        const oldest = this.consumedAwaiting.shift()!;
        await this.releaseChunk(oldest);
      }
      if (this.checkpointError) throw this.checkpointError;
    }
    // Not awaiting the checkpoint in flight: it may need a block boundary that only the end of input brings
    // (it then resolves null once the extractor is ended). Every byte is consumed: the slots can go.
    if (this.checkpointError) throw this.checkpointError;
    this.finishing = true;
    await this.releaseConsumed(Number.POSITIVE_INFINITY);
    this.nextToConsume = null;
    this.emitWindow();
  }

  /**
   * Waits for the checkpoint in flight, `ms` at most. The timer goes as soon as the checkpoint is in: a
   * pending 2 s timer kept the process alive after a job was done.
   */
  private async checkpointOrTimeout(task: Promise<void>, ms: number): Promise<void> {
    const stop = new AbortController();
    try {
      await Promise.race([task, sleep(ms, stop.signal).catch(() => undefined)]);
    } finally {
      stop.abort();
    }
  }

  /** Starts a checkpoint when one is due (every 64 MiB of output, 10 s, or a chunk consumed); never waits for it. */
  private maybeCheckpoint(chunkConsumed: boolean): void {
    if (!this.checkpointing || !(this.sink instanceof ExtractSink)) return;
    const written = this.sink.written;
    const due = chunkConsumed || performance.now() - this.lastCheckpoint.at >= CHECKPOINT_INTERVAL_MS || written - this.lastCheckpoint.written >= CHECKPOINT_OUTPUT_BYTES;
    if (!due) return;
    if (this.checkpointTask) {
      // One at a time; the one that comes due meanwhile starts as soon as this one is saved.
      this.checkpointWanted = true;
      return;
    }
    this.lastCheckpoint = { at: performance.now(), written };
    this.checkpointTask = this.takeCheckpoint(this.sink)
      .catch((err) => {
        this.checkpointError ??= toEngineError(err, 'E_JOURNAL');
      })
      .finally(() => {
        this.checkpointTask = null;
        if (this.checkpointWanted && !this.checkpointError) {
          this.checkpointWanted = false;
          this.maybeCheckpoint(true);
        }
      });
  }

  private async takeCheckpoint(sink: ExtractSink): Promise<void> {
    const cp = await sink.checkpoint();
    if (!cp && !sink.checkpointUnsupportedReason) {
      // No point left to resume from (the stream has ended): nothing more to save.
      await this.releaseConsumed(Number.POSITIVE_INFINITY);
      return;
    }
    if (!cp) {
      this.checkpointing = false;
      this.emitEvent({
        type: 'warning',
        code: 'CHECKPOINT_UNSUPPORTED',
        message: `Extraction cannot be checkpointed (${sink.checkpointUnsupportedReason ?? 'unsupported format'}): if the job stops, it re-reads the archive from the beginning.`,
      });
      await this.releaseConsumed(Number.POSITIVE_INFINITY);
      return;
    }
    // Offsets in a checkpoint are absolute in the file, also for an extractor that was itself resumed.
    // The job is finishing: a late point is of no use, and must not be saved after the final state.
    if (this.finishing) return;
    const offset = cp.compressedOffset;
    const absolute = cp;
    if (this.hasher) {
      await this.hashTo(offset);
      // A slot given back early (see consume) may have been hashed past this point: its state cannot be saved here.
      if (this.hasher.position !== offset) return;
    }
    const t0 = performance.now();
    const bytes = await saveCheckpoint(this.options.stateDir, { version: 1, savedAt: Date.now(), extract: absolute, sha256: this.hasher?.save() ?? null });
    this.checkpointStats.count++;
    this.checkpointStats.bytes = bytes;
    this.checkpointStats.saveMs += performance.now() - t0;
    await this.releaseConsumed(offset);
  }

  /** Advances the resumable hash to `offset`, one advance at a time (they read the chunk files in order). */
  private hashTo(offset: number): Promise<void> {
    const hasher = this.hasher;
    if (!hasher) return Promise.resolve();
    const run = this.hashChain.then(() => (hasher.position < offset ? hasher.advanceTo(offset, this.options.chunkSize, (i) => this.staging!.stagedPath(i)) : undefined));
    this.hashChain = run.catch(() => undefined);
    return run;
  }

  /** Gives back the slots of consumed chunks that lie wholly before `offset`. */
  private async releaseConsumed(offset: number): Promise<void> {
    while (this.consumedAwaiting.length > 0) {
      const index = this.consumedAwaiting[0]!;
      const rec = this.records!.get(index);
      if (rec.start + rec.length > offset) break;
      this.consumedAwaiting.shift();
      await this.releaseChunk(index);
    }
  }

  private async releaseChunk(index: number): Promise<void> {
    const rec0 = this.records!.get(index);
    // The hash reads staged files: a chunk file goes only once the hash has passed it.
    await this.hashTo(rec0.start + rec0.length);
    await this.staging!.remove(index);
    const rec = this.records!.get(index);
    if (rec.state !== 'done') this.setChunk(rec, 'done');
    this.records!.settle(index);
    this.window!.release(index);
    this.emitWindow();
  }

  // ---- single-stream mode --------------------------------------------------------------------------------

  /** The whole file as one stream; `skip`: bytes the sink already has (after ranges were given up). */
  private async runSingleStream(probed: ProbeResult, skip: number): Promise<void> {
    const controller = new AbortController();
    const onCancel = () => controller.abort(this.cancelController.signal.reason);
    this.cancelController.signal.addEventListener('abort', onCancel, { once: true });
    try {
      await this.whileRunning();
      // A hasher exists only when ranges were given up mid-job: it has covered `skip` bytes, the rest follows.
      const hasher = this.hasher;
      const received = await readSingleStream({
        dispatcher: this.dispatcher!,
        url: probed.finalUrl,
        pinned: probed,
        skip,
        signal: controller.signal,
        limiter: this.limiter,
        onBytes: (n) => {
          this.bytesFetched += n;
        },
        onData: async (piece) => {
          hasher?.update(piece);
          await this.sink!.write(piece);
        },
      });
      this.committedChunksBytes = received;
    } finally {
      this.cancelController.signal.removeEventListener('abort', onCancel);
    }
  }

  /** The origin stopped honouring ranges: the sink has every byte up to `consumedOffset`, one stream brings the rest. */
  private async continueAsOneStream(probed: ProbeResult, why: RangesAbandoned): Promise<void> {
    // No new checkpoints: the one in flight may wait for input only the stream brings (a deflate block's end),
    // so it is not awaited; whatever it saves is a true point of this file.
    this.checkpointing = false;
    if (this.hasher) await this.hashTo(this.consumedOffset);
    // Staged chunks are of no more use: the stream brings their bytes again.
    for (const name of await fsp.readdir(this.options.stateDir)) {
      if (/^chunk-\d+\.(part|bin)$/.test(name)) await fsp.rm(`${this.options.stateDir}/${name}`, { force: true });
    }
    this.failure = null;
    this.mode = 'single-stream';
    this.nextToConsume = null;
    this.emitEvent({
      type: 'warning',
      code: 'RANGES_ABANDONED',
      message: `${why.message} The sink has the first ${this.consumedOffset} bytes; the stream's first bytes up to there are read and dropped.`,
    });
    await this.runSingleStream(probed, this.consumedOffset);
  }

  /** Once per job, for the first range whose Content-Range gave no total: is the HEAD size the real one? */
  private confirmSizeOnce(): void {
    if (this.sizeCheck) return;
    const p = this.probeResult!;
    this.sizeCheck = confirmSizeWithRetries(this.dispatcher!, p.finalUrl, p.size!, this.policy, this.cancelController.signal).then(
      (verdict) => {
        if (verdict === 'unconfirmed') this.emitEvent({ type: 'warning', code: 'SIZE_UNCONFIRMED', message: sizeUnconfirmedMessage(p.size!) });
      },
      (err) => {
        this.failRanged?.(err);
        throw err;
      },
    );
    this.sizeCheck.catch(() => undefined);
  }

  // ---- waiting -------------------------------------------------------------------------------------------

  /** Returns at once while running; waits while paused; throws when cancelled or failed. */
  private async whileRunning(): Promise<void> {
    for (;;) {
      if (this.cancelController.signal.aborted) throw this.cancelController.signal.reason;
      if (this.failure) throw this.failure;
      if (this.pauseReason === null) return;
      await this.resumed!.promise;
    }
  }

  private async retryDelay(rec: { wake: (() => void) | null }, ms: number): Promise<void> {
    const delay = wakeableDelay(ms, this.cancelController.signal);
    rec.wake = delay.wake;
    await delay.ended;
    rec.wake = null;
  }

  /**
   * Connection failures past the retry budget: the job pauses as unreachable (one host down is not the
   * machine offline) and resumes by itself once the origin answers.
   */
  private async waitUntilReachable(cause: EngineError): Promise<void> {
    this.offlineWait ??= (async () => {
      this.pause('unreachable');
      this.emitEvent({ type: 'warning', code: cause.code, message: `${cause.message} Paused until the server answers; retrying it in the background.` });
      const url = this.probeResult!.finalUrl;
      const delayFor = (n: number) => Math.min(30_000, backoffDelay({ ...this.policy, capMs: 30_000 }, n) + this.options.retryBaseMs);
      this.connectRetry(url, 1, cause, delayFor(1), 'unreachable');
      for (let n = 1; this.pauseReason === 'unreachable'; n++) {
        await sleep(delayFor(n), this.cancelController.signal);
        let now: ProbeResult;
        try {
          now = await probe(url, { dispatcher: this.dispatcher!, signal: this.cancelController.signal });
        } catch (err) {
          if (this.cancelController.signal.aborted) throw err;
          if (this.pauseReason === 'unreachable') this.connectRetry(url, n + 1, toEngineError(err), delayFor(n + 1), 'unreachable');
          continue;
        }
        const change = identityChange(this.probeResult!, now);
        if (change) {
          throw new UpstreamChangedError(`The file at ${redactUrl(this.options.url)} changed while the job waited for the server (${change}). Kept data was not mixed with the new file; run again with --restart.`, {
            details: { change },
          });
        }
        if (this.pauseReason === 'unreachable') this.resume();
      }
    })().finally(() => {
      this.offlineWait = null;
    });
    await this.offlineWait;
  }

  /** ENOSPC while staging: pause as disk-full and resume by itself once a chunk's worth of space is free. */
  private async waitForDiskSpace(cause: EngineError): Promise<void> {
    this.diskWait ??= (async () => {
      this.pause('disk-full');
      this.emitEvent({ type: 'warning', code: cause.code, message: cause.message });
      while (this.pauseReason === 'disk-full') {
        await sleep(2_000, this.cancelController.signal);
        const stat = await fsp.statfs(this.options.stateDir).catch(() => null);
        if (stat && stat.bavail * stat.bsize >= this.options.chunkSize && this.pauseReason === 'disk-full') this.resume();
      }
    })().finally(() => {
      this.diskWait = null;
    });
    await this.diskWait;
  }

  // ---- events --------------------------------------------------------------------------------------------

  private emitEvent(event: DistributiveOmit<EngineEvent, 'jobId' | 'at'>): void {
    // `done` / `error` is the last word: a chunk settling after a failure must not look like progress.
    if (this.terminalEmitted) return;
    if (event.type === 'done' || event.type === 'error') this.terminalEmitted = true;
    this.emit('event', { ...event, jobId: this.id, at: Date.now() } as EngineEvent);
  }

  private setState(state: JobState, reason?: PauseReason, error?: ReturnType<typeof serializeError>): void {
    this.state = state;
    this.emitEvent({ type: 'job-state', state, ...(reason ? { reason } : {}), ...(error ? { error } : {}) });
  }

  private setChunk(rec: { index: number; state: ChunkState; bytes: number; length: number }, state: ChunkState): void {
    rec.state = state;
    // A consumed chunk's slot is released right after; a failed one fails the job: neither is a fetch.
    if (state === 'staged' || state === 'extracting') this.window?.update(rec.index, state, rec.bytes);
    else if (state === 'fetching' || state === 'retrying') this.window?.update(rec.index, 'fetching', rec.bytes);
    this.emitEvent({ type: 'chunk', index: rec.index, state, bytes: rec.bytes, length: rec.length });
    this.emitWindow();
  }

  private emitWindow(): void {
    if (!this.window) return;
    const snap = this.window.snapshot(this.nextToConsume);
    this.emitEvent({ type: 'window', capacity: this.window.capacity, ...snap });
  }

  /**
   * One range silent mid-body while other ranges received data after its last byte: that connection is stuck
   * (a known failure of object stores and proxies), not the network. It is replaced, resuming from its last
   * committed byte, instead of holding the head of the window for the whole idle timeout. (When the network
   * itself is down nobody receives anything, and the idle timeout and offline handling apply.)
   *
   * How long to wait depends on what the silence costs: a range that holds the job up (the extractor waits
   * for it, or it is the oldest in flight and the window is full, so no range after it can start) is
   * replaced after `blockingStallMs`, a few times the longest silence any connection of this job has
   * recovered from; any other after `peerStallMs`, a fifth of the idle timeout.
   */
  private abortStalled(now: number): void {
    const stallMs = peerStallMs(this.options.idleTimeoutMs);
    if (stallMs === null) return;
    const windowFull = (this.window?.free ?? 1) === 0;
    const oldestInFlight = Math.min(...this.watches.keys());
    const blockingEvidence = Math.min(this.options.chunkSize, BLOCKING_STALL_EVIDENCE_BYTES);
    for (const [index, { watch: w, fetchedThen }] of this.watches) {
      this.recoveredGapMs = Math.max(this.recoveredGapMs, w.longestRecoveredGapMs);
      if (!w.receiving || !w.awaitingNetwork) continue;
      const silentMs = now - w.waitingSince;
      const othersSince = this.bytesFetched - fetchedThen;
      // Holding the job up, with the others having moved a chunk's worth (1 MiB at most) meanwhile: the link
      // works, this connection does not.
      const blocking = (index === this.nextToConsume || (windowFull && index === oldestInFlight)) && othersSince >= blockingEvidence;
      // Other connections silent mid-body right now are evidence of a paced origin (nginx's limit_rate sends a
      // burst a second; the connections drift out of phase): their silences so far count like recovered ones.
      const pacedGapMs = Math.max(this.recoveredGapMs, othersSilentMs(this.watches, index, now));
      const thresholdMs = blocking ? blockingStallMs(stallMs, pacedGapMs, this.blockingFloorMs) : stallMs;
      if (silentMs < thresholdMs || othersSince < STALL_EVIDENCE_BYTES) continue;
      // Each early replacement doubles the next one's floor, so a link whose pauses are normal but rare
      // costs a few reconnects, never a stream of them.
      if (blocking && thresholdMs < stallMs) this.blockingFloorMs = Math.min(stallMs, this.blockingFloorMs * 2);
      w.awaitingNetwork = false; // once per attempt
      this.stallReplacements++;
      this.inflight.get(index)?.abort(
        new NetworkError(
          'E_STALLED',
          `No data for ${(silentMs / 1000).toFixed(1)} s on chunk ${index}'s connection while other connections received ${othersSince} bytes${blocking ? ' and the job waited for it' : ''}; it is replaced by a new one that resumes from the last committed byte.`,
          { details: { silentMs: Math.round(silentMs), thresholdMs: Math.round(thresholdMs), othersReceived: othersSince, blocking } },
        ),
      );
    }
  }

  private tick(): void {
    const now = performance.now();
    const consumed = this.consumedBase + (this.sink?.consumed ?? 0);
    const dt = (now - this.lastTick.at) / 1000;
    if (dt > 0) {
      // Exponentially weighted, so one slow tick does not make the rate jump around.
      const alpha = 0.3;
      this.rates.download = alpha * ((this.bytesFetched - this.lastTick.fetched) / dt) + (1 - alpha) * this.rates.download;
      this.rates.extract = alpha * (Math.max(0, consumed - this.lastTick.consumed) / dt) + (1 - alpha) * this.rates.extract;
    }
    // A tick far later than scheduled means the process was frozen (laptop sleep, SIGSTOP): connections are
    // likely dead, so tear the in-flight ranges down now rather than waiting out the idle timeout again.
    if (this.lastTick.at > 0 && now - this.lastTick.at > Math.max(this.options.idleTimeoutMs, 5_000)) {
      for (const c of this.inflight.values()) {
        c.abort(new NetworkError('E_IDLE_TIMEOUT', `The process was suspended for ${Math.round((now - this.lastTick.at) / 1000)} s; resuming the range from its last committed byte.`));
      }
    }
    this.lastTick = { at: now, fetched: this.bytesFetched, consumed };
    for (const rec of this.records?.active() ?? []) {
      if (rec.state === 'fetching') {
        this.window?.update(rec.index, 'fetching', rec.bytes);
        this.emitEvent({ type: 'chunk', index: rec.index, state: 'fetching', bytes: rec.bytes, length: rec.length });
      }
    }
    this.emitWindow();
    // Bytes received and kept: whole staged chunks and the received prefix of those still arriving (a resumed
    // range keeps its prefix), so the figure moves with the download rather than a chunk at a time.
    const committedInWindow =
      this.records?.active().reduce((s, r) => s + (r.state === 'staged' || r.state === 'extracting' ? r.length : r.state === 'fetching' || r.state === 'retrying' ? r.bytes : 0), 0) ?? 0;
    this.emitEvent({
      type: 'progress',
      bytesTotal: this.probeResult?.size ?? null,
      bytesFetched: this.bytesFetched,
      bytesCommitted: this.committedChunksBytes + committedInWindow,
      bytesConsumed: consumed,
      bytesWritten: this.sink?.written ?? 0,
      downloadRate: this.rates.download,
      extractRate: this.rates.extract,
      retries: this.retries,
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function chunkFailure(e: EngineError, index: number, start: number, length: number): EngineError {
  if (e instanceof UpstreamChangedError || e instanceof UsageError) return e;
  const code: ErrorCode = e.code;
  return new EngineError(code, `Chunk ${index} (bytes ${start}-${start + length - 1}): ${e.message}`, {
    cause: e,
    retryable: false,
    details: { ...e.details, chunk: index },
  });
}

export async function runJob(options: JobOptions, onEvent?: (e: EngineEvent) => void): Promise<JobSummary> {
  const job = new Job(options);
  if (onEvent) job.on('event', onEvent);
  return job.run();
}

export function defaultStateDir(target: string): string {
  const base = target.replace(/[\\/]+$/, '');
  return `${dirname(base)}/.${base.split(/[\\/]/).pop()}.snapshot-manager`;
}

/** A completed job's target is still there (a download-only output at its full length). */
async function targetIntact(identity: JobIdentity, path: string): Promise<boolean> {
  const st = await fsp.stat(path).catch(() => null);
  if (!st) return false;
  return identity.mode !== 'download' || identity.size === null || (st.isFile() && st.size === identity.size);
}

/**
 * Silence after which one range is called stalled while others flow: a fifth of the idle timeout, 2 s at
 * least; null (no watchdog) when that would not come before the idle timeout itself.
 */
export function peerStallMs(idleTimeoutMs: number): number | null {
  const ms = Math.max(2_000, idleTimeoutMs / 5);
  return ms < idleTimeoutMs ? ms : null;
}

/** The longest silence in progress mid-body on any connection other than `index`'s. */
export function othersSilentMs(watches: ReadonlyMap<number, { watch: TransferWatch }>, index: number, now: number): number {
  let longest = 0;
  for (const [i, { watch: w }] of watches) {
    if (i !== index && w.receiving && w.awaitingNetwork) longest = Math.max(longest, now - w.waitingSince);
  }
  return longest;
}

/** The shortest silence that replaces a range holding the job up, at first: a quarter second. */
export const BLOCKING_STALL_FLOOR_MS = 250;

/**
 * Silence after which a range that holds the job up is replaced: three times the longest silence a connection
 * of this job has recovered from (so a link with long but normal pauses is not cut), at least `floorMs`,
 * at most the ordinary `peerStallMs`.
 */
export function blockingStallMs(peerStall: number, recoveredGapMs: number, floorMs = BLOCKING_STALL_FLOOR_MS): number {
  return Math.min(peerStall, Math.max(floorMs, 3 * recoveredGapMs));
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await fsp.readdir(dir)).length === 0;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
