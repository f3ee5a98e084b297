// When extraction checkpoints are taken and what they release. A checkpoint is due every ~64 MiB of output,
// ~10 s, or a consumed chunk; one is saved at a time and never waited for by the consumer. A consumed chunk's
// window slot is given back only once a durable checkpoint lies past it, so a crash costs at most the window.
// With a SHA-256 to verify, the hash state is saved with the checkpoint (it follows the staged chunk files).
import { sleep } from '../sleep';
import { toEngineError, type EngineError } from '../errors';
import type { ResumableDigests } from '../checksum/digest-set';
import { saveCheckpoint } from '../state/checkpoint-store';
import type { ChunkRecords } from '../staging/chunk-records';
import type { StagingArea } from '../staging/staging';
import type { ExtractSink } from './sinks';

const CHECKPOINT_OUTPUT_BYTES = 64 * 1024 * 1024;
const CHECKPOINT_INTERVAL_MS = 10_000;
/** How often a wait for a checkpoint looks whether it can still come without more input. */
const NEEDS_INPUT_POLL_MS = 10;

/** What the checkpointer needs of its run. */
export interface CheckpointHost {
  readonly stateDir: string;
  readonly chunkSize: number;
  /** The chunk file the hash reads for chunk `index`. */
  stagedPath(index: number): string;
  /** The end offset (exclusive) of chunk `index` in the file. */
  chunkEnd(index: number): number;
  /** Gives chunk `index`'s slot back (its file goes). */
  releaseChunk(index: number): Promise<void>;
  warn(code: string, message: string): void;
}

export class Checkpointer {
  /** Chunks consumed whose slots wait for a checkpoint past them, oldest first. */
  readonly awaiting: number[] = [];
  readonly stats = { count: 0, bytes: 0, saveMs: 0 };
  private enabled: boolean;
  private task: Promise<void> | null = null;
  private failure: EngineError | null = null;
  private wanted = false;
  private finishing = false;
  private last = { at: 0, written: 0 };
  private hashChain: Promise<void> = Promise.resolve();

  /** A ranged run's checkpointer: chunks hashed from their staged files, slots given back through `release`. */
  static forStaging(
    run: { stateDir: string; chunkSize: number; staging: StagingArea; records: ChunkRecords; release(index: number): Promise<void>; warn(code: string, message: string): void },
    sink: ExtractSink | null,
    hasher: ResumableDigests | null,
    enabled: boolean,
  ): Checkpointer {
    const host: CheckpointHost = {
      stateDir: run.stateDir,
      chunkSize: run.chunkSize,
      stagedPath: (i) => run.staging.stagedPath(i),
      chunkEnd: (i) => {
        const rec = run.records.get(i);
        return rec.start + rec.length;
      },
      releaseChunk: (i) => run.release(i),
      warn: (code, message) => run.warn(code, message),
    };
    return new Checkpointer(host, sink, hasher, enabled);
  }

  constructor(
    private readonly host: CheckpointHost,
    private readonly sink: ExtractSink | null,
    private readonly hasher: ResumableDigests | null,
    enabled: boolean,
  ) {
    this.enabled = enabled && sink !== null;
  }

  get on(): boolean {
    return this.enabled;
  }

  get inFlight(): Promise<void> | null {
    return this.task;
  }

  get error(): EngineError | null {
    return this.failure;
  }

  /** No new checkpoints (the run is ending, or was given up); the one in flight may still land. */
  stop(): void {
    this.enabled = false;
  }

  /** The job is finishing: a late point is of no use, and must not be saved after the final state. */
  finish(): void {
    this.finishing = true;
  }

  /** The checkpoint in flight, if any, has ended (saved, failed or dropped). */
  async settled(): Promise<void> {
    await this.task;
  }

  /** Starts a checkpoint when one is due; never waits for it. */
  maybe(chunkConsumed: boolean): void {
    if (!this.enabled || !this.sink) return;
    const written = this.sink.written;
    const due = chunkConsumed || performance.now() - this.last.at >= CHECKPOINT_INTERVAL_MS || written - this.last.written >= CHECKPOINT_OUTPUT_BYTES;
    if (!due) return;
    if (this.task) {
      // One at a time; the one that comes due meanwhile starts as soon as this one is saved.
      this.wanted = true;
      return;
    }
    this.last = { at: performance.now(), written };
    this.task = this.take(this.sink)
      .catch((err) => {
        this.failure ??= toEngineError(err, 'E_JOURNAL');
      })
      .finally(() => {
        this.task = null;
        if (this.wanted && !this.failure) {
          this.wanted = false;
          this.maybe(true);
        }
      });
  }

  /**
   * Waits for the checkpoint in flight, `ms` at most. The timer goes as soon as the checkpoint is in: a
   * pending 2 s timer kept the process alive after a job was done. Returns at once when the checkpoint needs
   * input the waiting consumer has not fed (a decoder unit longer than the window): waiting cost the whole
   * `ms` per chunk then (lz4's 4 MiB blocks in a 2 MiB window: 15.6 s for a 16 MB archive instead of 1.2 s).
   */
  async waitInFlight(ms: number): Promise<void> {
    const task = this.task;
    if (!task) return;
    const stop = new AbortController();
    let settled = false;
    void task.finally(() => {
      settled = true;
    });
    const deadline = performance.now() + ms;
    try {
      while (!settled && performance.now() < deadline) {
        if (this.sink?.checkpointNeedsInput) return;
        await Promise.race([task, sleep(Math.min(NEEDS_INPUT_POLL_MS, Math.max(0, deadline - performance.now())), stop.signal).catch(() => undefined)]);
      }
    } finally {
      stop.abort();
    }
  }

  /** Advances the resumable hash to `offset`, one advance at a time (they read the chunk files in order). */
  hashTo(offset: number): Promise<void> {
    const hasher = this.hasher;
    if (!hasher) return Promise.resolve();
    const run = this.hashChain.then(() => (hasher.position < offset ? hasher.advanceTo(offset, this.host.chunkSize, (i) => this.host.stagedPath(i)) : undefined));
    this.hashChain = run.catch(() => undefined);
    return run;
  }

  /** Gives back the slots of consumed chunks that lie wholly before `offset`. */
  async releaseConsumed(offset: number): Promise<void> {
    while (this.awaiting.length > 0) {
      const index = this.awaiting[0]!;
      if (this.host.chunkEnd(index) > offset) break;
      this.awaiting.shift();
      await this.host.releaseChunk(index);
    }
  }

  private async take(sink: ExtractSink): Promise<void> {
    const cp = await sink.checkpoint();
    if (!cp && !sink.checkpointUnsupportedReason) {
      // No point left to resume from (the stream has ended): nothing more to save.
      await this.releaseConsumed(Number.POSITIVE_INFINITY);
      return;
    }
    if (!cp) {
      this.enabled = false;
      this.host.warn(
        'CHECKPOINT_UNSUPPORTED',
        `Extraction cannot be checkpointed (${sink.checkpointUnsupportedReason ?? 'unsupported format'}): if the job stops, it re-reads the archive from the beginning.`,
      );
      await this.releaseConsumed(Number.POSITIVE_INFINITY);
      return;
    }
    // Offsets in a checkpoint are absolute in the file, also for an extractor that was itself resumed.
    if (this.finishing) return;
    const offset = cp.compressedOffset;
    if (this.hasher) {
      await this.hashTo(offset);
      // A slot given back early (see RangedRun.consume) may have been hashed past this point: its state cannot be saved here.
      if (this.hasher.position !== offset) return;
    }
    const t0 = performance.now();
    const bytes = await saveCheckpoint(this.host.stateDir, { version: 1, savedAt: Date.now(), extract: cp, ...(this.hasher?.save() ?? { sha256: null }) });
    this.stats.count++;
    this.stats.bytes = bytes;
    this.stats.saveMs += performance.now() - t0;
    await this.releaseConsumed(offset);
  }
}
