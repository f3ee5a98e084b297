// The tar stage: uncompressed tar bytes in (a Writable, in order, with backpressure), members out to the
// safe writer. The framer parses (headers, records, data boundaries, the end of the archive); this stage
// hands each member to the writer and its data to the file: in big batches, small files whole, sparse
// files to their regions' offsets (extract/sparse.ts).
//
// Resume: `capture(at)` waits until every byte before `at` has been parsed and written (and fsynced),
// then describes the stage's state there (see TarResumeState); a stage built with `resumeFrom` reopens
// the member being written (truncated to its saved length), or replays the saved raw header bytes into
// a fresh framer, and continues with the bytes from that point on.
import { Writable } from 'node:stream';
import type { ResumedMember, TarResumeState } from './extract-checkpoint';
import { AbortedError, ArchiveError } from '../errors';
import type { EntryHeader } from './extract-types';
import { SparseRouter } from './sparse';
import type { SparseInfo } from './sparse-map';
import type { MemberNote } from './tar-member';
import type { FileSink, SafeWriter } from './safe-writer';
import { TarFramer, type FramedEntry, type FramerEvent } from './tar-framer';
import type { ExtractLimits } from './tar-limits';

/** Raw header bytes a checkpoint may carry; a point with more waits for the next one. */
export const MAX_REPLAY_BYTES = 1024 * 1024;

/** Data is handed to the file system in batches of about this size (one writev each). */
const WRITE_BATCH = 1024 * 1024;
/** Files up to this size are collected whole and written in the background (no round trip per file). */
const SMALL_FILE_BYTES = 256 * 1024;

/** How the member whose data is flowing is handled, and how much of its data has arrived. */
interface ActiveMember {
  framed: FramedEntry;
  entry: EntryHeader;
  kind: 'stream' | 'collect' | 'drain';
  sink: FileSink | null;
  /** Sparse members: where each piece of data goes. */
  router: SparseRouter | null;
  /** Data bytes received (for a resumed member, its saved part included). */
  received: number;
  /** Data not yet handed to the file, and the file offset it starts at. */
  batch: Buffer[];
  batchBytes: number;
  batchAt: number;
}

export class TarStage extends Writable {
  private readonly framer: TarFramer;
  private failure: Error | null = null;
  /** A chunk's events are being handled (a capture waits for the stage to be idle). */
  private busy = false;
  private active: ActiveMember | null = null;
  private readonly resumeFrom: TarResumeState | undefined;
  /** Raw bytes from the framer's current sequence start (for a checkpoint inside a header sequence). */
  private retained: Buffer[] = [];
  private retainedBytes = 0;
  private retainOverflow = false;
  private waiters: Array<{ ready: () => boolean; resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(
    private readonly writer: SafeWriter,
    private readonly limits: ExtractLimits,
    resumeFrom?: TarResumeState,
  ) {
    // A few decoder buffers of slack, so inflating goes on while a file write is in flight.
    super({ highWaterMark: 4 * 1024 * 1024 });
    this.resumeFrom = resumeFrom;
    this.framer = new TarFramer(limits, resumeFrom?.framer);
  }

  /**
   * Resume only: reopens the member that was being written (truncated to its saved length) and replays
   * the saved header bytes. Call before writing the bytes that follow the checkpoint.
   */
  async start(): Promise<void> {
    const r = this.resumeFrom;
    if (!r) return;
    const framed = this.framer.current;
    if (r.member && r.member.dataRemaining > 0 && framed) await this.reopen(r.member, framed);
    if (r.replay) {
      const replay = Buffer.from(r.replay, 'base64');
      await new Promise<void>((resolve, reject) => this.write(replay, (err) => (err ? reject(err) : resolve())));
    }
  }

  /**
   * Waits until every byte before tar offset `at` (which must be everything written to this stage) is
   * parsed and written, none after it, then returns the stage's state there, and `durable`, which resolves
   * once all of that is fsynced (the caller may write on meanwhile). null when the point cannot be a
   * checkpoint (a header sequence longer than MAX_REPLAY_BYTES, a sparse map not read yet): try again later.
   */
  async capture(at: number): Promise<{ state: TarResumeState; durable: Promise<void> } | null> {
    await this.until(() => this.framer.position >= at && !this.busy);
    if (this.framer.position !== at) throw new ArchiveError('E_INTERNAL', `tar checkpoint at ${at}, but the stage is at ${this.framer.position}`);
    const framer = this.framer;
    if (framer.ended) {
      await this.writer.settle();
      return { state: { framer: framer.snapshot(), member: null, replay: null }, durable: this.writer.syncCompleted() };
    }
    const current = framer.current;
    if (current && framer.inPadding) {
      // The member itself is complete (closed, timed); only padding is left to skip.
      await this.writer.settle();
      const member = { entry: placeholderEntry(current), key: null, written: current.size, dataRemaining: 0 };
      return { state: { framer: framer.snapshot(), member, replay: null }, durable: this.writer.syncCompleted() };
    }
    const m = this.active;
    if (current && m && m.kind !== 'collect' && (!m.router || m.router.mapKnown)) {
      await this.flush(m);
      await this.writer.settle();
      const state: ResumedMember = { entry: cloneEntry(m.entry), key: m.sink?.key ?? null, written: m.received, dataRemaining: current.size - m.received };
      const ownSync = m.sink ? m.sink.sync() : Promise.resolve();
      const durable = Promise.all([ownSync, this.writer.syncCompleted()]).then(() => undefined);
      return { state: { framer: framer.snapshot(), member: state, replay: null }, durable };
    }
    // In a header sequence, or a small file collected in memory (nothing of it on disk yet): its raw bytes
    // are replayed instead.
    const start = framer.sequenceStart;
    if (this.retainOverflow || at - start > MAX_REPLAY_BYTES || this.retainedBytes !== at - start) return null;
    await this.writer.settle();
    const replay = this.retained.length === 1 ? this.retained[0]! : Buffer.concat(this.retained);
    return { state: { framer: framer.sequenceSnapshot(), member: null, replay: replay.toString('base64') }, durable: this.writer.syncCompleted() };
  }

  /** Uncompressed tar bytes examined so far. */
  get tarOffset(): number {
    return this.framer.position;
  }

  /** The member whose data is being written, with its offsets (resume records it in a checkpoint). */
  get currentEntry(): FramedEntry | null {
    return this.framer.current;
  }

  /** Members the archive has declared so far (those before a checkpoint included, after a resume). */
  get entriesFramed(): number {
    return this.framer.entries;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const start = this.framer.position;
    const events: FramerEvent[] = [];
    let error: Error | null = null;
    try {
      this.framer.push(chunk, events);
      this.retain(chunk, start);
    } catch (err) {
      error = err as Error;
    }
    this.busy = true;
    this.handle(events).then(
      () => {
        this.busy = false;
        if (error) this.failAfterSettling(error, cb);
        else {
          this.progressed();
          cb();
        }
      },
      (err: Error) => {
        this.busy = false;
        this.fail(err);
        cb(err);
      },
    );
  }

  /** The members before the bad spot are complete: let them be written, then report the error. */
  private failAfterSettling(err: Error, cb: (err?: Error | null) => void): void {
    this.writer.settle().then(
      () => cb(err),
      (writeErr: Error) => cb(writeErr),
    );
  }

  private async handle(events: FramerEvent[]): Promise<void> {
    for (const ev of events) {
      switch (ev.kind) {
        case 'member':
          await this.onMember(ev.framed, ev.entry, ev.notes, ev.silent);
          break;
        case 'data':
          await this.onData(this.active!, ev.data);
          break;
        case 'end':
          await this.onEnd(this.active!);
          this.active = null;
          break;
        case 'notice':
          this.writer.note(noticeEntry(ev.offset), ev.code, ev.reason, false);
          break;
      }
    }
  }

  private async onMember(framed: FramedEntry, entry: EntryHeader, notes: MemberNote[], silent: boolean): Promise<void> {
    const m: ActiveMember = { framed, entry, kind: 'drain', sink: null, router: null, received: 0, batch: [], batchBytes: 0, batchAt: 0 };
    this.active = m;
    let skipped = silent;
    for (const n of notes) {
      this.writer.note(entry, n.code, n.reason, n.skipped);
      skipped ||= n.skipped;
    }
    if (skipped) return;
    if (entry.type === 'file' && !entry.sparse && framed.size <= SMALL_FILE_BYTES) {
      m.kind = 'collect';
      return;
    }
    const sink = await this.writer.begin(entry);
    if (!sink) return;
    m.kind = 'stream';
    m.sink = sink;
    if (entry.sparse) m.router = new SparseRouter(entry as EntryHeader & { sparse: SparseInfo }, framed.size, this.limits.maxPaxHeaderSize);
  }

  private async onData(m: ActiveMember, data: Buffer): Promise<void> {
    m.received += data.length;
    if (m.kind === 'drain') return;
    if (m.kind === 'collect') {
      m.batch.push(data);
      return;
    }
    if (m.router) {
      for (const piece of m.router.take(data)) {
        if (piece.at !== m.batchAt + m.batchBytes) {
          await this.flush(m);
          m.sink!.seek(piece.at);
          m.batchAt = piece.at;
        }
        m.batch.push(piece.data);
        m.batchBytes += piece.data.length;
      }
    } else {
      m.batch.push(data);
      m.batchBytes += data.length;
    }
    if (m.batchBytes >= WRITE_BATCH) await this.flush(m);
  }

  private async onEnd(m: ActiveMember): Promise<void> {
    if (m.kind === 'collect') {
      await this.writer.begin(m.entry, m.batch);
      return;
    }
    if (m.kind !== 'stream') return;
    if (m.router && !m.router.mapKnown) {
      throw new ArchiveError('E_ARCHIVE_CORRUPT', `The data of "${m.entry.name}" ends inside its sparse map.`, { details: { offset: m.framed.headerOffset, entry: m.entry.name } });
    }
    await this.flush(m);
    // The regions are written; a hole at the end is a length, not zeros.
    if (m.entry.sparse) await m.sink!.truncate(m.entry.sparse.realSize);
    await m.sink!.end();
  }

  private async flush(m: ActiveMember): Promise<void> {
    if (m.kind !== 'stream' || m.batch.length === 0) return;
    const b = m.batch;
    m.batch = [];
    m.batchAt += m.batchBytes;
    m.batchBytes = 0;
    await m.sink!.write(b);
  }

  /** Keeps views of the bytes since the framer's sequence start, up to MAX_REPLAY_BYTES. */
  private retain(chunk: Buffer, chunkStart: number): void {
    const n = chunk.length;
    const seq = this.framer.sequenceStart;
    if (seq >= chunkStart) {
      const from = Math.min(n, seq - chunkStart);
      this.retained = from < n ? [chunk.subarray(from, n)] : [];
      this.retainedBytes = n - from;
      this.retainOverflow = false;
    } else if (!this.retainOverflow) {
      if (n > 0) this.retained.push(chunk);
      this.retainedBytes += n;
    }
    if (this.retainedBytes > MAX_REPLAY_BYTES) {
      this.retained = [];
      this.retainedBytes = 0;
      this.retainOverflow = true;
    }
  }

  /** Reopens the member a checkpoint was taken in; the framer hands it the rest of its data. */
  private async reopen(saved: ResumedMember, framed: FramedEntry): Promise<void> {
    const entry = saved.entry;
    const m: ActiveMember = { framed, entry, kind: 'drain', sink: null, router: null, received: saved.written, batch: [], batchBytes: 0, batchAt: 0 };
    this.active = m;
    if (saved.key === null) return;
    let fileAt = saved.written;
    if (entry.sparse) {
      m.router = new SparseRouter(entry as EntryHeader & { sparse: SparseInfo }, framed.size, this.limits.maxPaxHeaderSize, saved.written);
      fileAt = m.router.fileLength();
    }
    m.sink = await this.writer.resumeFile(entry, fileAt, saved.key);
    m.kind = 'stream';
    m.batchAt = fileAt;
  }

  /** Resolves once `ready()` holds (re-checked whenever the stage makes progress); rejects if the stage fails. */
  private until(ready: () => boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ ready, resolve, reject }));
  }

  private progressed(): void {
    if (this.waiters.length === 0) return;
    const still = [];
    for (const w of this.waiters) {
      if (w.ready()) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  override _final(cb: (err?: Error | null) => void): void {
    try {
      this.framer.finish();
    } catch (err) {
      this.failAfterSettling(err as Error, cb);
      return;
    }
    this.writer.finish().then(
      () => cb(),
      (err) => cb(err as Error),
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const stopped = err ?? new AbortedError('The extraction was stopped.');
    for (const w of this.waiters.splice(0)) w.reject(stopped);
    void this.writer.abort().then(() => cb(err));
  }

  private fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.failure) return;
    this.failure = e;
    for (const w of this.waiters.splice(0)) w.reject(e);
  }
}

/** The header of a member whose data is complete (only its padding is left): never used to write. */
function placeholderEntry(framed: FramedEntry): EntryHeader {
  return { name: framed.name, type: 'file', rawType: 'file', size: framed.size, mode: 0o644, mtime: 0, linkname: null, offset: framed.headerOffset };
}

/** What an archive-level warning is reported against. */
function noticeEntry(offset: number): EntryHeader {
  return { name: '(archive)', type: 'other', rawType: 'archive', size: 0, mode: 0, mtime: 0, linkname: null, offset };
}

function cloneEntry(e: EntryHeader): EntryHeader {
  return e.sparse ? { ...e, sparse: { ...e.sparse, regions: e.sparse.regions.map((r) => [r[0], r[1]] as [number, number]) } } : { ...e };
}
