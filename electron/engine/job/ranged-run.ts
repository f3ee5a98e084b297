// One ranged run of a job: a producer admits chunks in order (a window slot first, then a connection), each
// chunk's attempts fetch its range into a part file, and a consumer feeds the chunks to the sink strictly in
// order, reading a chunk while it still arrives. A download-only job's chunks go instead straight into the
// output file at their offsets, and a syncer makes them durable and gives their slots back (see
// output-syncer.ts). Everything that lives only while ranges are fetched lives here, created when the run
// opens, so nothing is half-there for the rest of the job.
import { toEngineError, type EngineError, type NetworkError } from '../errors';
import type { AttemptRecord, ChunkState } from '../events';
import { ChunkRecords } from '../staging/chunk-records';
import { ChunkWindow } from '../staging/chunk-window';
import { Journal } from '../staging/journal';
import { StagingArea, type PartFile } from '../staging/staging';
import type { ResumableDigests } from '../checksum/digest-set';
import type { SavedCheckpoint } from '../state/checkpoint-store';
import { Checkpointer } from './checkpointer';
import { ChunkConsumer } from './chunk-consumer';
import { ChunkNews } from './chunk-news';
import { DirectOutputSink } from './direct-output-sink';
import type { OutputSyncer } from './output-syncer';
import { KeptChunks } from './kept-chunks';
import { openEarlierRun, replayJournal } from './journal-replay';
import { confirmProbedSize } from './size-check';
import { fetchUntilComplete, type AttemptHost } from './chunk-attempts';
import { deferred, type Deferred } from './deferred';
import { PAUSE, type RunContext } from './run-context';
import { PartGuard } from './part-guard';
import { ExtractSink, type StreamSink } from './sinks';
import { StallWatchdog, type StallView } from './stall-watchdog';

export interface RangedPlan {
  size: number;
  chunkCount: number;
  /** The first chunk this run fetches (the checkpoint's chunk, or the first not yet in the output). */
  startChunk: number;
  resumePoint: SavedCheckpoint | null;
}

export class RangedRun {
  readonly records: ChunkRecords;
  readonly window: ChunkWindow;
  readonly watchdog: StallWatchdog;
  readonly checkpointer: Checkpointer;
  /** Feeds the sink in order (null when the chunks are written straight into the output). */
  private readonly consumer: ChunkConsumer | null;
  /** Makes a download written in place durable, and gives its slots back (null otherwise). */
  private syncer: OutputSyncer | null = null;
  private readonly direct: DirectOutputSink | null;
  private failure: EngineError | null = null;
  /** Resolved when the run fails: wakes whoever waits on a pause so that they see it. */
  private readonly stopped = deferred();
  private readonly stop = new AbortController();
  private readonly stagedSignals = new Map<number, Deferred>();
  /** Part files of ranges in flight, for a consumer that reads a chunk while it arrives (see growing-chunk.ts). */
  private readonly growing = new Map<number, PartFile>();
  /** Wakes whoever waits for news of a chunk: its part opened, bytes flushed, or staged. */
  private readonly news = new ChunkNews();
  /** Which chunks the consumer may read while they arrive, given their sources (see part-guard.ts). */
  private readonly guard = new PartGuard(this.growing, this.news);
  private readonly inflight = new Map<number, AbortController>();
  /** The producer has admitted every chunk. */
  private allAdmitted = false;
  /** The check of a HEAD-reported size, started by the first range without a total (see size-confirm.ts). */
  private sizeCheck: Promise<void> | null = null;

  private constructor(
    private readonly ctx: RunContext,
    sink: StreamSink,
    private readonly plan: RangedPlan,
    private journal: Journal | null,
    private readonly staging: StagingArea,
    hasher: ResumableDigests | null,
    private readonly kept: KeptChunks,
  ) {
    const o = ctx.options;
    this.direct = sink instanceof DirectOutputSink ? sink : null;
    this.records = new ChunkRecords(o.chunkSize, plan.size);
    // Written in place, chunks are made durable in rounds, not in order: a slot is any free one.
    this.window = new ChunkWindow(o.window, this.direct ? 'any' : 'in-order');
    this.watchdog = new StallWatchdog(o.idleTimeoutMs, o.chunkSize);
    // A window of one slot cannot hold a consumed chunk while the next one is fetched: no checkpoints then.
    const extractSink = sink instanceof ExtractSink ? sink : null;
    this.checkpointer = Checkpointer.forStaging(
      {
        stateDir: o.stateDir,
        chunkSize: o.chunkSize,
        staging,
        records: this.records,
        release: (i) => this.consumer!.releaseChunk(i),
        warn: (code, message) => ctx.emit({ type: 'warning', code, message }),
      },
      extractSink,
      hasher,
      o.window >= 2,
    );
    const consumedOffset = plan.resumePoint ? plan.resumePoint.extract.compressedOffset : plan.startChunk * o.chunkSize;
    this.consumer = this.direct
      ? null
      : new ChunkConsumer(
          {
            ctx,
            sink,
            records: this.records,
            window: this.window,
            staging,
            checkpointer: this.checkpointer,
            hashing: hasher !== null,
            stagedSignals: this.stagedSignals,
            growing: this.growing,
            guard: this.guard,
            news: this.news,
            failure: () => this.failure,
            whileRunning: () => this.whileRunning(),
            setChunk: (rec, state) => this.setChunk(rec, state),
            emitWindow: () => this.emitWindow(),
          },
          plan.startChunk,
          plan.chunkCount,
          consumedOffset,
        );
    if (!this.direct) for (let i = plan.startChunk; i < plan.chunkCount; i++) this.stagedSignals.set(i, deferred());
  }

  /** Opens the journal and the staging area (verifying what an earlier run left) and returns the run, ready to go. */
  static async open(ctx: RunContext, sink: StreamSink, plan: RangedPlan, hasher: ResumableDigests | null): Promise<RangedRun> {
    const o = ctx.options;
    const { opened, kept, staging } = await openEarlierRun(o.stateDir, o.chunkSize, (event) => ctx.emit(event));
    const run = new RangedRun(ctx, sink, plan, opened.journal, staging, hasher, kept);
    replayJournal(opened, run.records, kept, plan.startChunk, (event) => ctx.emit(event));
    // Written in place: no chunk files (an earlier version's go).
    await kept.discardStale(staging, plan.startChunk, run.direct ? 0 : o.window);
    if (run.direct) await run.openOutput(run.direct, opened.journal);
    return run;
  }

  /** The output written in place, and its syncer, once this run's record of what it keeps is in the journal. */
  private async openOutput(sink: DirectOutputSink, journal: Journal): Promise<void> {
    this.syncer = await sink.begin(journal, {
      window: this.window,
      records: this.records,
      chunkCount: this.plan.chunkCount,
      setChunk: (rec, state) => this.setChunk(rec, state),
      emitWindow: () => this.emitWindow(),
      waitForDiskSpace: (e) => this.ctx.waitForDiskSpace(e),
    });
  }

  // ---- the run -------------------------------------------------------------------------------------------

  /** The chunk the consumer reads next (null once every chunk is consumed, and when nothing reads them in order). */
  get nextToConsume(): number | null {
    return this.consumer?.nextToConsume ?? null;
  }

  /** Absolute offset in the file up to which the sink has been fed (where a switch to one stream continues). */
  get consumedOffset(): number {
    return this.consumer?.consumedOffset ?? this.syncer!.contiguous;
  }

  async run(): Promise<void> {
    const { startChunk, chunkCount } = this.plan;
    const producer = this.produce(startChunk, chunkCount).then(
      () => this.syncer?.producerDone(),
      (err) => {
        this.fail(err);
        throw err;
      },
    );
    const consumer = (this.consumer ? this.consumer.run() : this.syncer!.run()).catch((err) => {
      this.fail(err);
      throw err;
    });
    const onCancel = () => this.fail(this.ctx.cancelSignal.reason);
    this.ctx.cancelSignal.addEventListener('abort', onCancel, { once: true });
    try {
      const results = await Promise.allSettled([producer, consumer]);
      if (this.failure) throw this.failure;
      for (const r of results) if (r.status === 'rejected') throw r.reason;
      // Never done short: a size that only HEAD vouched for is confirmed before the job can finish.
      await this.sizeCheck;
      if (this.failure) throw this.failure;
    } finally {
      this.ctx.cancelSignal.removeEventListener('abort', onCancel);
    }
  }

  /**
   * Stops the run with an error, once: a late failure of one of its tasks changes nothing (and must not stop
   * the single stream that may follow the run).
   */
  fail(err: unknown): void {
    if (this.failure) return;
    this.failure = toEngineError(err);
    this.stop.abort(this.failure);
    this.syncer?.stop(this.failure);
    for (const rec of this.records.active()) rec.wake?.();
    for (const d of this.stagedSignals.values()) d.reject(this.failure);
    for (const c of this.inflight.values()) c.abort(this.failure);
    this.stopped.resolve();
  }

  /** The job pauses (or its process was frozen): ranges in flight go down; their committed bytes stay in the part files. */
  interrupt(reason: unknown): void {
    for (const controller of this.inflight.values()) controller.abort(reason);
    if (reason === PAUSE) for (const rec of this.records.active()) rec.wake?.();
  }

  /** Ends a chunk's retry wait now (the window's "Retry now"). */
  retryChunkNow(index: number): void {
    this.records.peek(index)?.wake?.();
  }

  chunkHistory(index: number): AttemptRecord[] {
    return [...(this.records.peek(index)?.attempts ?? [])];
  }

  /** Bytes received and kept: whole chunks consumed or staged, and the received prefix of those still arriving. */
  committedBytes(): number {
    if (this.syncer) return this.syncer.committedBytes();
    return this.consumer!.consumedChunksBytes + this.records.bytesInWindow();
  }

  /** The watchdog's look at the ranges in flight (see stall-watchdog.ts). */
  lookForStalls(now: number): void {
    const view: StallView = {
      bytesFetched: this.ctx.counters.bytesFetched,
      nextToConsume: this.nextToConsume,
      windowFull: this.window.free === 0,
      allAdmitted: this.direct !== null && this.allAdmitted,
      abort: (index: number, reason: NetworkError) => this.inflight.get(index)?.abort(reason),
    };
    this.watchdog.look(now, view);
  }

  /** Progress of the chunks still arriving, and the window, for the job's tick. */
  reportFetching(): void {
    for (const rec of this.records.active()) {
      if (rec.state === 'fetching') {
        this.window.update(rec.index, 'fetching', rec.bytes);
        this.ctx.emit({ type: 'chunk', index: rec.index, state: 'fetching', bytes: rec.bytes, length: rec.length });
      }
    }
    this.emitWindow();
  }

  /** After the run: the journal goes with the state (complete) or stays for the next run (stopped). */
  async closeJournal(): Promise<void> {
    await this.journal?.close();
    this.journal = null;
  }

  /** The origin stopped honouring ranges: staged chunks are of no more use (the stream brings their bytes again). */
  async abandon(): Promise<void> {
    this.checkpointer.stop();
    await this.checkpointer.hashTo(this.consumedOffset);
    await this.staging.removeAll();
    if (this.consumer) this.consumer.nextToConsume = null;
    else this.direct!.streamFrom(this.consumedOffset);
  }

  // ---- producer ------------------------------------------------------------------------------------------

  /** Admits chunks in order: a connection slot first, then the window permit (backpressure before the request). */
  private async produce(startChunk: number, chunkCount: number): Promise<void> {
    const running = new Set<Promise<void>>();
    for (let index = startChunk; index < chunkCount; index++) {
      if (this.failure) break;
      const rec = this.records.get(index);
      if (this.syncer?.isKept(index)) {
        // Durable in the output from an earlier run.
        this.ctx.emit({ type: 'chunk', index, state: 'done', bytes: rec.length, length: rec.length });
        this.records.settle(index);
        continue;
      }
      // A slot marked fetching always has a request going.
      while (running.size >= this.ctx.options.concurrency) await Promise.race(running);
      // Written in place, a slot comes back with the syncer's next round: it is told that one is wanted.
      if (this.window.free === 0) this.syncer?.wantSlot();
      await this.window.acquire(index, rec.length, this.stop.signal);
      this.emitWindow();
      if (this.failure) break;
      const task: Promise<void> = this.fetchChunk(index).then(
        () => {
          running.delete(task);
        },
        (err) => {
          running.delete(task);
          // Fail everything now: the producer may be waiting for a window permit, not on this task.
          this.fail(err);
          throw err;
        },
      );
      running.add(task);
      task.catch(() => undefined);
    }
    if (!this.failure) this.allAdmitted = true;
    await Promise.all(running);
  }

  private async fetchChunk(index: number): Promise<void> {
    if (this.syncer) return this.fetchIntoOutput(this.syncer, index);
    const rec = this.records.get(index);
    if (await this.kept.reuseStaged(this.staging, index, rec.length)) {
      this.markStaged(index, rec.length);
      return;
    }
    const part = await this.staging.openPart(index).catch((err) => {
      throw toEngineError(err, 'E_IO');
    });
    try {
      if (part.committed > rec.length) await part.reset();
      rec.bytes = part.committed;
      part.onFlushed = () => this.news.announce(index);
      this.growing.set(index, part);
      this.news.announce(index);
      await fetchUntilComplete(this.attemptHost, rec, part);
      if (part.tapped) {
        // Handed to the consumer in memory (and its tail file): nothing to stage; the part keeps its prefix.
        await part.flush();
      } else {
        const crc = part.checksum;
        await this.staging.commit(index, part).catch((err) => {
          throw toEngineError(err, 'E_IO');
        });
        // The record vouches for the file by its CRC, so the file need not be durable first (see staging.ts).
        await this.journal!.append({ t: 'staged', index, length: rec.length, crc });
        this.kept.noteStaged({ index, length: rec.length, crc });
      }
    } finally {
      this.growing.delete(index);
      part.onFlushed = null;
      await part.close().catch(() => undefined);
    }
    this.markStaged(index, rec.length);
  }

  /** Chunk `index`'s range straight into its region of the output, after the prefix an earlier run made durable. */
  private async fetchIntoOutput(syncer: OutputSyncer, index: number): Promise<void> {
    const rec = this.records.get(index);
    const region = syncer.open(index);
    rec.bytes = region.committed;
    await fetchUntilComplete(this.attemptHost, rec, region);
    syncer.completed(index);
  }

  /** The chunk attempts' view of this run (see chunk-attempts.ts). */
  private get attemptHost(): AttemptHost {
    return {
      ctx: this.ctx,
      records: this.records,
      watchdog: this.watchdog,
      inflight: this.inflight,
      journal: () => this.journal,
      failure: () => this.failure,
      whileRunning: () => this.whileRunning(),
      setChunk: (rec, state) => this.setChunk(rec, state),
      confirmSizeOnce: () => this.confirmSizeOnce(),
      guard: this.guard,
    };
  }

  /** Once per job, for the first range whose Content-Range gave no total: is the HEAD size the real one? */
  private confirmSizeOnce(): void {
    this.sizeCheck ??= confirmProbedSize(this.ctx, (err) => this.fail(err));
  }

  private markStaged(index: number, length: number): void {
    const rec = this.records.get(index);
    rec.bytes = length;
    this.setChunk(rec, 'staged');
    this.stagedSignals.get(index)?.resolve();
    this.news.announce(index);
  }

  // ---- signals -------------------------------------------------------------------------------------------

  /** Returns at once while running; waits while paused; throws when the run has failed or the job is cancelled. */
  private async whileRunning(): Promise<void> {
    if (this.failure) throw this.failure;
    await Promise.race([this.ctx.whileRunning(), this.stopped.promise]);
    if (this.failure) throw this.failure;
  }

  private setChunk(rec: { index: number; state: ChunkState; bytes: number; length: number }, state: ChunkState): void {
    rec.state = state;
    // A consumed chunk's slot is released right after; a failed one fails the job: neither is a fetch.
    if (state === 'staged' || state === 'extracting') this.window.update(rec.index, state, rec.bytes);
    else if (state === 'fetching' || state === 'retrying') this.window.update(rec.index, 'fetching', rec.bytes);
    this.ctx.emit({ type: 'chunk', index: rec.index, state, bytes: rec.bytes, length: rec.length });
    this.emitWindow();
  }

  emitWindow(): void {
    const snap = this.window.snapshot(this.nextToConsume);
    // Nothing reads a download written in place: complete chunks wait for a sync, not for an extractor.
    if (this.direct) snap.waitingOn = snap.inFlight > 0 ? 'network' : 'none';
    this.ctx.emit({ type: 'window', capacity: this.window.capacity, ...snap });
  }
}
