// The durability of a download written in place (see staging/output-file.ts). A sync round fdatasyncs the
// output and then journals, for every chunk in the window whose bytes moved, the prefix that was in the file
// before the sync began (an OutputRecord, see staging/output-record.ts). A round is due once 64 MiB were written since the last one, every 2 s while bytes
// come in, and at once when the producer waits for a slot that a complete chunk holds. A chunk's window slot
// is given back only once a round has made it durable, so a kill -9 costs at most the window, and in
// practice what was written since the last round.
import { toEngineError, type EngineError } from '../errors';
import type { ChunkState } from '../events';
import type { PrefixDigests } from '../checksum/prefix-digests';
import type { ChunkRecord, ChunkRecords } from '../staging/chunk-records';
import type { ChunkWindow } from '../staging/chunk-window';
import type { Journal } from '../staging/journal';
import type { OutputFile, OutputRegion } from '../staging/output-file';
import type { OutputRecord } from '../staging/output-record';
import { deferred, type Deferred } from './deferred';

/** A round is due once this much was written since the last one... */
export const SYNC_BYTES = 64 * 1024 * 1024;
/** ... or this long after it, if anything was written since. */
export const SYNC_MS = 2_000;

export interface SyncerHost {
  readonly file: OutputFile;
  readonly digests: PrefixDigests | null;
  readonly journal: Journal;
  readonly window: ChunkWindow;
  readonly records: ChunkRecords;
  readonly chunkSize: number;
  readonly size: number;
  readonly chunkCount: number;
  /** Durable bytes from each chunk's start, kept from an earlier run (verified against the file). */
  readonly kept: ReadonlyMap<number, number>;
  setChunk(rec: ChunkRecord, state: ChunkState): void;
  emitWindow(): void;
  /** ENOSPC from a sync: pauses as disk-full until there is space. */
  waitForDiskSpace(cause: EngineError): Promise<void>;
}

export class OutputSyncer {
  readonly stats = { rounds: 0, syncMs: 0 };
  /** Durable bytes from each chunk's start: kept, or made durable by this run. */
  private readonly durable: Map<number, number>;
  /** Regions of the chunks in the window (fetching, or complete and waiting for a round). */
  private readonly regions = new Map<number, OutputRegion>();
  /** Chunks whose every byte is in the file, durable or not, and their bytes. */
  private readonly complete = new Set<number>();
  private completeBytes = 0;
  /** Chunks kept in part from an earlier run, not yet taken up again. */
  private readonly keptParts = new Set<number>();
  /** Complete chunks whose slot waits for a round. */
  private readonly waiting = new Set<number>();
  /** Bumped when a region is emptied: a round's look at it from before then is stale. */
  private readonly generation = new Map<number, number>();
  /** The first chunk not complete in the file: bytes before it and its region's prefix are complete. */
  private head = 0;
  private syncedWritten = 0;
  private lastRoundAt = performance.now();
  private slotWanted = false;
  private produced = false;
  private failure: EngineError | null = null;
  private wake: Deferred = deferred();
  private round: Promise<void> | null = null;
  /** Journal appends, one at a time and in order (a retraction must not pass a round's record). */
  private appends: Promise<void> = Promise.resolve();

  constructor(private readonly host: SyncerHost) {
    this.durable = new Map(host.kept);
    for (const [index, length] of host.kept) {
      if (length < this.lengthOf(index)) this.keptParts.add(index);
      else {
        this.complete.add(index);
        this.completeBytes += length;
      }
    }
    this.advanceHead();
  }

  /** Chunk `index` is durable in the file from an earlier run: nothing to fetch. */
  isKept(index: number): boolean {
    return this.complete.has(index) && !this.regions.has(index);
  }

  /** The region chunk `index`'s range goes to, continuing its durable prefix. */
  open(index: number): OutputRegion {
    const rec = this.host.records.get(index);
    const region = this.host.file.region(rec.start, rec.length, Math.min(rec.length, this.durable.get(index) ?? 0));
    region.onFlushed = () => this.flushed(index);
    region.onReset = () => this.retract(index);
    this.regions.set(index, region);
    this.keptParts.delete(index);
    return region;
  }

  /** Every byte of chunk `index` is in the file; its slot goes with the next round. */
  completed(index: number): void {
    this.complete.add(index);
    this.completeBytes += this.lengthOf(index);
    this.waiting.add(index);
    const rec = this.host.records.get(index);
    rec.bytes = rec.length;
    this.host.setChunk(rec, 'staged');
    this.advanceHead();
    this.host.digests?.hashTo(this.contiguous);
    if (this.slotWanted) this.nudge();
  }

  /** The producer waits for a window slot. */
  wantSlot(): void {
    this.slotWanted = true;
    if (this.waiting.size > 0) this.nudge();
  }

  /** Every chunk has been admitted and fetched (or the producer stopped): the last round ends the run. */
  producerDone(): void {
    this.produced = true;
    this.nudge();
  }

  stop(err: EngineError): void {
    this.failure ??= err;
    this.nudge();
  }

  /** Bytes from byte 0 that are complete in the file (where the digests may read up to). */
  get contiguous(): number {
    const start = this.head * this.host.chunkSize;
    if (start >= this.host.size) return this.host.size;
    return start + (this.regions.get(this.head)?.onDisk ?? this.durable.get(this.head) ?? 0);
  }

  /** Bytes received and kept: complete chunks and the prefixes of those still arriving. */
  committedBytes(): number {
    let total = this.completeBytes;
    for (const [index, region] of this.regions) if (!this.complete.has(index)) total += region.committed;
    for (const index of this.keptParts) total += this.durable.get(index) ?? 0;
    return total;
  }

  /** Rounds as they come due, until every chunk is complete and durable; the last one ends the run. */
  async run(): Promise<void> {
    const timer = setInterval(() => this.nudge(), SYNC_MS / 4);
    timer.unref();
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        if (this.host.digests?.error) throw this.host.digests.error;
        if (this.produced && this.complete.size === this.host.chunkCount) {
          await this.syncRound();
          return;
        }
        if (this.due()) await this.syncRound();
        else await this.wake.promise;
        this.wake = deferred();
      }
    } finally {
      clearInterval(timer);
    }
  }

  /** The job stops (failed, cancelled): what the ranges brought is made durable and journaled, best effort. */
  async lastRound(): Promise<void> {
    // A cancelled range leaves what it gathered unwritten.
    for (const region of this.regions.values()) await region.flush().catch(() => undefined);
    await this.round?.catch(() => undefined);
    await this.syncRound().catch(() => undefined);
  }

  private due(): boolean {
    const unsynced = this.host.file.written - this.syncedWritten;
    if (this.slotWanted && this.waiting.size > 0) return true;
    if (unsynced >= SYNC_BYTES) return true;
    return unsynced > 0 && performance.now() - this.lastRoundAt >= SYNC_MS;
  }

  private nudge(): void {
    this.wake.resolve();
  }

  private flushed(index: number): void {
    if (index === this.head) this.host.digests?.hashTo(this.contiguous);
    if (this.host.file.written - this.syncedWritten >= SYNC_BYTES) this.nudge();
  }

  private advanceHead(): void {
    while (this.head < this.host.chunkCount && this.complete.has(this.head)) this.head++;
  }

  private lengthOf(index: number): number {
    return Math.min(this.host.chunkSize, this.host.size - index * this.host.chunkSize);
  }

  /** One round: what each region holds, then the sync, then the record. */
  private syncRound(): Promise<void> {
    const run = (this.round ?? Promise.resolve()).catch(() => undefined).then(() => this.syncOnce());
    this.round = run;
    return run;
  }

  private async syncOnce(): Promise<void> {
    const h = this.host;
    const t0 = performance.now();
    const seen: Array<[number, number, number]> = [];
    for (const [index, region] of this.regions) {
      if (region.onDisk !== (this.durable.get(index) ?? 0)) seen.push([index, region.onDisk, this.generation.get(index) ?? 0]);
    }
    const releasing = [...this.waiting];
    const written = h.file.written;
    this.slotWanted = false;
    await this.untilSpace(() => h.file.datasync());
    this.syncedWritten = Math.max(this.syncedWritten, written);
    this.lastRoundAt = performance.now();
    await this.untilSpace(() =>
      this.append(() => {
        // A region emptied since the look (another source takes its range) keeps its retraction.
        const chunks = seen.filter(([index, , gen]) => (this.generation.get(index) ?? 0) === gen).map(([index, length]) => [index, length] as [number, number]);
        for (const [index, length] of chunks) this.durable.set(index, length);
        if (chunks.length === 0) return null;
        return { t: 'output', chunks, file: h.file.identity };
      }),
    );
    for (const index of releasing) {
      this.waiting.delete(index);
      this.regions.delete(index);
      const rec = h.records.get(index);
      h.setChunk(rec, 'done');
      h.records.settle(index);
      h.window.release(index);
    }
    h.emitWindow();
    this.stats.rounds++;
    this.stats.syncMs += performance.now() - t0;
  }

  /** Runs `step` again once there is space, for as long as it finds the disk full. */
  private async untilSpace(step: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        return await step();
      } catch (err) {
        const e = toEngineError(err, 'E_IO');
        if (e.code !== 'E_DISK_FULL') throw e;
        await this.host.waitForDiskSpace(e);
      }
    }
  }

  /** A region was emptied: its prefix is no longer vouched for, durably so before new bytes go over it. */
  private async retract(index: number): Promise<void> {
    this.generation.set(index, (this.generation.get(index) ?? 0) + 1);
    if (!this.durable.has(index)) return;
    this.durable.delete(index);
    await this.append(() => ({ t: 'output', chunks: [[index, 0]], file: this.host.file.identity }), true);
  }

  /**
   * Appends the record `make` returns (null: none), after any append before it. Unsynced: the bytes it
   * vouches for are durable already, so losing it costs only a re-fetch. A retraction is synced.
   */
  private append(make: () => OutputRecord | null, sync = false): Promise<void> {
    const run = this.appends.then(async () => {
      const record = make();
      if (!record) return;
      if (sync) await this.host.journal.append(record);
      else await this.host.journal.appendUnsynced(record);
    });
    this.appends = run.catch(() => undefined);
    return run;
  }
}
