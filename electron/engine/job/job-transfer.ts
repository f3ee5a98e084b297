// The transfer of one job's run, from the sink's opening to the file's last byte: a ranged run (see
// ranged-run.ts), one stream when the origin cannot serve ranges, or one stream after it stopped honouring
// them (see one-stream-fallback.ts). It holds what exists only while bytes move: the sink, the digests, the
// ranged run, and the figures that progress reports.
import type { EngineError } from '../errors';
import type { ArchiveFormat, AttemptRecord, TransferMode } from '../events';
import type { ResumableDigests } from '../checksum/digest-set';
import { RangesAbandoned } from '../transfer/origin-quirks';
import type { ProbeResult } from '../transfer/probe';
import type { ResolvedOptions } from './job-options';
import { continueAsOneStream } from './one-stream-fallback';
import type { RangedRun } from './ranged-run';
import { openRanged } from './ranged-start';
import { extractResumeMode } from './resume-mode';
import type { RunPlan } from './resume-plan';
import type { RunContext } from './run-context';
import { openSinkFor } from './sink-choice';
import type { StreamSink } from './sinks';
import { streamRest } from './single-stream-run';

/** What the sink reports as it opens, kept where the transfer reads it later. */
interface Seen {
  mode: TransferMode;
  /** The archive format the extractor found (for the resume line after ranges are abandoned). */
  format: ArchiveFormat | null;
}

export class JobTransfer {
  /** The ranged run while (and after) it runs; null for a single stream from the start. */
  private rangedRun: RangedRun | null = null;
  private digests: ResumableDigests | null = null;
  /** Bytes the single stream has delivered (it replaces the ranged run's figure once it takes over). */
  private streamCommitted: number | null = null;
  /** Offset in the file the sink's count starts from (a resumed extraction counts from its checkpoint). */
  private consumedBase = 0;

  private constructor(
    private readonly ctx: RunContext,
    /** The origin as probed when the run started: a stream reads from it. */
    private readonly probed: ProbeResult,
    private readonly plan: RunPlan,
    readonly sink: StreamSink,
    private readonly seen: Seen,
  ) {}

  static async open(ctx: RunContext, probed: ProbeResult, plan: RunPlan, mode: TransferMode): Promise<JobTransfer> {
    const o: ResolvedOptions = ctx.options;
    const seen: Seen = { mode, format: null };
    const sink = await openSinkFor(
      o,
      plan,
      mode,
      {
        onFormat: (format, granularity) => {
          seen.format = format;
          ctx.emit({ type: 'decoding', format, ...extractResumeMode({ granularity, checkpoints: o.checkpoints, window: o.window, mode: seen.mode }) });
        },
        onWarning: (w) => ctx.emit({ type: 'warning', code: w.code, message: w.reason, entry: w.entry }),
      },
      probed.size,
    );
    return new JobTransfer(ctx, probed, plan, sink, seen);
  }

  get mode(): TransferMode {
    return this.seen.mode;
  }

  get ranged(): RangedRun | null {
    return this.rangedRun;
  }

  get hasher(): ResumableDigests | null {
    return this.digests;
  }

  /** Brings every byte into the sink. */
  async run(): Promise<void> {
    if (this.seen.mode !== 'ranged') return this.stream(0);
    try {
      await this.runRanged();
    } catch (err) {
      const ranged = this.rangedRun;
      if (!(err instanceof RangesAbandoned) || this.ctx.cancelSignal.aborted || !ranged) throw err;
      const { options } = this.ctx;
      const seen = this.seen;
      await continueAsOneStream(ranged, err, {
        // Read when the fallback says it: a download to a file decodes nothing.
        get format() {
          return options.output ? 'raw' : seen.format;
        },
        emit: (event) => this.ctx.emit(event),
        switched: (committed) => {
          this.streamCommitted = committed;
          seen.mode = 'single-stream';
        },
        stream: (skip) => this.stream(skip),
      });
    }
  }

  private async runRanged(): Promise<void> {
    const { plan } = this;
    this.consumedBase = plan.resumePoint ? plan.resumePoint.extract.compressedOffset : 0;
    const started = await openRanged(this.ctx, this.sink, plan, this.probed.size!);
    this.digests = started.hasher;
    this.rangedRun = started.ranged;
    await started.ranged.run();
  }

  /** The whole file as one stream; `skip`: bytes the sink already has (after ranges were given up). */
  private async stream(skip: number): Promise<void> {
    const c = this.ctx;
    this.streamCommitted = await streamRest({
      dispatcher: c.dispatcher,
      headers: c.options.headers,
      probed: this.probed,
      skip,
      cancelSignal: c.cancelSignal,
      limiter: c.limiter,
      counters: c.counters,
      // A hasher exists only when ranges were given up mid-job: it has covered `skip` bytes, the rest follows.
      hasher: this.digests,
      sink: this.sink,
      whileRunning: () => c.whileRunning(),
    });
  }

  // ---- the figures progress reports, and the ranged run's controls

  /** Bytes received and kept: whole staged chunks and the received prefix of those still arriving. */
  get committed(): number {
    return this.seen.mode === 'single-stream' ? (this.streamCommitted ?? 0) : (this.rangedRun?.committedBytes() ?? 0);
  }

  /** Offset in the file up to which the sink has read. */
  get consumed(): number {
    return this.consumedBase + this.sink.consumed;
  }

  interrupt(reason: unknown): void {
    this.rangedRun?.interrupt(reason);
  }

  retryChunkNow(index: number): void {
    this.rangedRun?.retryChunkNow(index);
  }

  chunkHistory(index: number): AttemptRecord[] {
    return this.rangedRun?.chunkHistory(index) ?? [];
  }

  async abort(e: EngineError): Promise<void> {
    await this.sink.abort(e);
  }

  async close(): Promise<void> {
    await this.rangedRun?.closeJournal();
  }
}
