// The consumer of a ranged run: feeds the chunks to the sink strictly in order, each from its staged file, or
// while it still arrives from its part file and then from memory (see chunk-tap.ts), and gives a chunk's
// window slot back once it is consumed and (extracting) a durable checkpoint lies past it.
import { createReadStream } from 'node:fs';
import { toEngineError, type EngineError } from '../errors';
import type { ChunkState } from '../events';
import { ChunkTap } from '../staging/chunk-tap';
import type { ChunkRecords } from '../staging/chunk-records';
import type { ChunkWindow } from '../staging/chunk-window';
import { followChunk, type HandOver } from '../staging/growing-chunk';
import type { PartFile, StagingArea } from '../staging/staging';
import type { Checkpointer } from './checkpointer';
import type { ChunkNews } from './chunk-news';
import type { Deferred } from './deferred';
import type { PartGuard } from './part-guard';
import type { RunContext } from './run-context';
import type { StreamSink } from './sinks';

/** How long a full window waits for the checkpoint in flight before a slot is given back without one. */
const CHECKPOINT_WAIT_MS = 2_000;

/** What the consumer shares with its run's producer. */
export interface ConsumerHost {
  readonly ctx: RunContext;
  readonly sink: StreamSink;
  readonly records: ChunkRecords;
  readonly window: ChunkWindow;
  readonly staging: StagingArea;
  readonly checkpointer: Checkpointer;
  /** A SHA-256 is computed from the staged files: every chunk must be staged, none handed over in memory. */
  readonly hashing: boolean;
  /** Resolved once a chunk is complete (staged, or every byte handed over); rejected when the run fails. */
  readonly stagedSignals: Map<number, Deferred>;
  /** Part files of ranges in flight. */
  readonly growing: Map<number, PartFile>;
  /** Which chunks may be read while they arrive, given their sources (see part-guard.ts). */
  readonly guard: PartGuard;
  readonly news: ChunkNews;
  failure(): EngineError | null;
  whileRunning(): Promise<void>;
  setChunk(rec: { index: number; state: ChunkState; bytes: number; length: number }, state: ChunkState): void;
  emitWindow(): void;
}

export class ChunkConsumer {
  /** The chunk read next (null once every chunk is consumed). */
  nextToConsume: number | null;
  /** Absolute offset in the file up to which the sink has been fed (where a switch to one stream continues). */
  consumedOffset: number;
  /** Bytes of the chunks consumed for good. */
  consumedChunksBytes: number;

  constructor(
    private readonly host: ConsumerHost,
    private readonly startChunk: number,
    private readonly chunkCount: number,
    consumedOffset: number,
  ) {
    const chunkSize = host.ctx.options.chunkSize;
    this.consumedOffset = consumedOffset;
    this.nextToConsume = startChunk < chunkCount ? startChunk : null;
    this.consumedChunksBytes = startChunk * chunkSize;
  }

  /** Feeds the chunks to the sink strictly in order, returning each slot once its bytes are consumed. */
  async run(): Promise<void> {
    const h = this.host;
    const o = h.ctx.options;
    const cp = h.checkpointer;
    const { startChunk, chunkCount } = this;
    const skipInFirst = this.consumedOffset - startChunk * o.chunkSize;
    for (let index = startChunk; index < chunkCount; index++) {
      this.nextToConsume = index;
      h.emitWindow();
      const source = await this.chunkSource(index);
      await h.whileRunning();
      const rec = h.records.get(index);
      const from = index === startChunk ? skipInFirst : 0;
      // A chunk still arriving stays 'fetching' in the UI; it is 'extracting' once staged.
      if (source === 'staged') h.setChunk(rec, 'extracting');
      const stream = source === 'staged' ? createReadStream(h.staging.stagedPath(index), { highWaterMark: 1024 * 1024, start: from }) : this.followGrowing(index, from);
      try {
        for await (const piece of stream as AsyncIterable<Buffer>) {
          const failure = h.failure();
          if (failure) throw failure;
          await h.sink.write(piece);
          this.consumedOffset += piece.length;
          cp.maybe(false);
        }
      } catch (err) {
        if ('destroy' in stream) stream.destroy();
        throw toEngineError(err);
      }
      // Every byte is read; the slot may go only once the chunk is complete (staged: its record journaled).
      await h.stagedSignals.get(index)!.promise;
      if (source === 'growing') h.setChunk(rec, 'extracting');
      h.stagedSignals.delete(index);
      this.consumedChunksBytes += rec.length;
      h.setChunk(rec, 'done');
      cp.awaiting.push(index);
      if (!cp.on) {
        await cp.releaseConsumed(Number.POSITIVE_INFINITY);
        continue;
      }
      // A slot returns only once a durable checkpoint lies past its chunk, so a crash costs at most the window.
      if (index < chunkCount - 1) cp.maybe(true);
      // Every slot holds a consumed chunk: give the checkpoint in flight a moment to return them.
      if (cp.awaiting.length >= o.window) await cp.waitInFlight(CHECKPOINT_WAIT_MS);
      if (cp.awaiting.length >= o.window) {
        // Still full: the checkpoint needs more input than the window can give (a deflate block longer than the
        // window). Give the oldest slot back; a crash now costs that chunk again, never a deadlock.
        await this.releaseChunk(cp.awaiting.shift()!);
      }
      if (cp.error) throw cp.error;
    }
    // Not awaiting the checkpoint in flight: it may need a block boundary that only the end of input brings
    // (it then resolves null once the extractor is ended). Every byte is consumed: the slots can go.
    if (cp.error) throw cp.error;
    cp.finish();
    await cp.releaseConsumed(Number.POSITIVE_INFINITY);
    this.nextToConsume = null;
    h.emitWindow();
  }

  /** Gives chunk `index`'s slot back; its files go once the hash (which reads staged files) has passed it. */
  async releaseChunk(index: number): Promise<void> {
    const h = this.host;
    const rec = h.records.get(index);
    await h.checkpointer.hashTo(rec.start + rec.length);
    await h.staging.remove(index);
    if (rec.state !== 'done') h.setChunk(rec, 'done');
    h.records.settle(index);
    h.window.release(index);
    h.emitWindow();
  }

  /**
   * Where the consumer reads chunk `index` from: its staged file once it is complete, or its part file while
   * it arrives. Not while a SHA-256 is computed: the hash reads staged files only.
   */
  private async chunkSource(index: number): Promise<'staged' | 'growing'> {
    const h = this.host;
    for (;;) {
      if (h.records.get(index).state === 'staged') return 'staged';
      if (!h.hashing && h.guard.mayFollow(index)) return 'growing';
      await h.news.changed(index, h.stagedSignals.get(index)?.promise);
    }
  }

  /**
   * Reads chunk `index` from `from` while its range arrives (see growing-chunk.ts): the part file's bytes on
   * disk, then, once they are all read, the rest in memory as it arrives (see chunk-tap.ts).
   */
  private followGrowing(index: number, from: number): AsyncIterable<Buffer> {
    const h = this.host;
    h.guard.follow(index);
    const rec = h.records.get(index);
    let known = 0;
    const onDisk = (): number => {
      const part = h.growing.get(index);
      // Between the part's close and markStaged only what was seen is vouched for; staged means complete.
      if (part) known = part.onDisk;
      else if (rec.state === 'staged') known = rec.length;
      return known;
    };
    const changed = (): Promise<void> => h.news.changed(index, h.stagedSignals.get(index)?.promise);
    const divert = (): HandOver | null => {
      const part = h.growing.get(index);
      const tap = new ChunkTap(rec.length, h.staging.tailPath(index), () => h.news.announce(index));
      return part?.divert(tap)
        ? {
            get start() {
              return tap.start;
            },
            pieces: () => tap.pieces(changed),
          }
        : null;
    };
    return followChunk({ paths: [h.staging.partPath(index), h.staging.stagedPath(index)], onDisk, changed, divert }, from, rec.length);
  }
}
