// The tar stage: uncompressed tar bytes in (a Writable, in order, with backpressure), members out to the
// safe writer. tar-stream parses; the framer runs ahead of it on the same bytes to find the end of the
// archive, enforce caps and cross-check the parser's framing.
//
// Resume: `capture(at)` waits until every byte before `at` has been parsed and written (and fsynced),
// then describes the stage's state there (see TarResumeState); a stage built with `resumeFrom` reopens
// the member being written (truncated to its saved length), or replays the saved raw header bytes into
// a fresh parser, and continues with the bytes from that point on.
import { Writable } from 'node:stream';
import * as tarStream from 'tar-stream';
import type { ResumedMember, TarResumeState } from './extract-checkpoint';
import { AbortedError, ArchiveError, EngineError } from './errors';
import type { EntryHeader, EntryType } from './extract-types';
import type { FileSink, SafeWriter } from './safe-writer';
import { TarFramer, type FramedEntry } from './tar-framer';
import type { ExtractLimits } from './tar-limits';

/** Raw header bytes a checkpoint may carry; a point with more waits for the next one. */
export const MAX_REPLAY_BYTES = 1024 * 1024;

/** Data is handed to the file system in batches of about this size (one writev each). */
const WRITE_BATCH = 1024 * 1024;
/** Files up to this size are collected whole and written in the background (no round trip per file). */
const SMALL_FILE_BYTES = 256 * 1024;

// The slice of tar-stream's (streamx-based) API used here, typed loosely on purpose: unknown type flags
// arrive as a null type, and the pax record map is not in its published types.
interface TarStreamHeader {
  name: string;
  size?: number | null;
  mode?: number | null;
  mtime?: Date | null;
  type?: string | null;
  linkname?: string | null;
  pax?: Record<string, string> | null;
}
interface TarStreamEntry {
  /** Offset of the member's own header in the tar stream. */
  offset: number;
  on(event: 'data', fn: (buf: Buffer) => void): void;
  on(event: 'end', fn: () => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  pause(): void;
  resume(): void;
}
interface TarStreamParser {
  on(event: 'entry', fn: (header: TarStreamHeader, stream: TarStreamEntry, next: (err?: Error | null) => void) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  once(event: 'drain' | 'finish' | 'close', fn: () => void): void;
  write(buf: Buffer): boolean;
  end(): void;
  destroy(err?: Error): void;
}
const createParser = tarStream.extract as unknown as (options: { allowUnknownFormat: boolean }) => TarStreamParser;

/** How the member whose data is flowing is handled, and how much of its data has arrived. */
interface ActiveMember {
  framed: FramedEntry;
  entry: EntryHeader;
  kind: 'stream' | 'collect' | 'drain';
  sink: FileSink | null;
  /** Data bytes received from the parser (or, for a resumed member, from the input), its saved part included. */
  received: number;
  /** Hands buffered data to the file and resolves once it is written. */
  flush(): Promise<void>;
}

export class TarStage extends Writable {
  private readonly framer: TarFramer;
  private readonly parser: TarStreamParser;
  private failure: Error | null = null;
  /** Set while the parser is ended early after a framing error: its own complaints are then moot. */
  private stopping = false;
  private entryInFlight: Promise<void> = Promise.resolve();
  /** Absolute tar offset of the parser's byte 0 (non-zero after a resume: its offsets restart at 0). */
  private parserBase = 0;
  /** Members fully handled (written, skipped or failed), counted like the framer counts them. */
  private completed: number;
  private active: ActiveMember | null = null;
  /** A resumed member's remaining data and padding, taken from the input before the parser sees any. */
  private resumed: { member: ActiveMember; dataLeft: number; padLeft: number; chain: Promise<void> } | null = null;
  private readonly resumeFrom: TarResumeState | undefined;
  /** Raw bytes from the framer's current sequence start (for a checkpoint inside a header sequence). */
  private retained: Buffer[] = [];
  private retainedBytes = 0;
  private retainOverflow = false;
  private waiters: Array<{ ready: () => boolean; resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(
    private readonly writer: SafeWriter,
    limits: ExtractLimits,
    resumeFrom?: TarResumeState,
  ) {
    // A few decoder buffers of slack, so inflating goes on while a file write is in flight.
    super({ highWaterMark: 4 * 1024 * 1024 });
    this.resumeFrom = resumeFrom;
    this.framer = new TarFramer(limits, resumeFrom?.framer);
    // allowUnknownFormat: old v7 archives have no `ustar` magic; the header checksum is still verified.
    this.parser = createParser({ allowUnknownFormat: true });
    this.completed = this.framer.entries - (resumeFrom?.member ? 1 : 0);
    if (resumeFrom) {
      // A fresh parser must know the global pax record in force; it produces no member, so the framer
      // (already past it) does not see it again. Parser offsets then count it too.
      const m = resumeFrom.member;
      const firstParserByte = m ? resumeFrom.framer.pos + resumeFrom.framer.remaining : resumeFrom.framer.pos;
      const global = this.framer.globalRecord;
      this.parserBase = firstParserByte - (global?.length ?? 0);
      if (global) this.parser.write(global);
    }
    this.parser.on('entry', (header, stream, next) => {
      this.entryInFlight = this.onEntry(header, stream).then(
        () => {
          this.active = null;
          this.completed++;
          this.progressed();
          next();
        },
        (err) => this.fail(err),
      );
    });
    this.parser.on('error', (err) => {
      if (!this.stopping) this.fail(this.parserError(err));
    });
  }

  /**
   * Resume only: reopens the member that was being written (truncated to its saved length) and replays
   * the saved header bytes. Call before writing the bytes that follow the checkpoint.
   */
  async start(): Promise<void> {
    const r = this.resumeFrom;
    if (!r) return;
    if (r.member) await this.reopen(r.member, r.framer.remaining);
    if (r.replay) {
      const replay = Buffer.from(r.replay, 'base64');
      await new Promise<void>((resolve, reject) => this.write(replay, (err) => (err ? reject(err) : resolve())));
    }
  }

  /**
   * Waits until every byte before tar offset `at` (which must be everything written to this stage) is
   * parsed and written, none after it, then returns the stage's state there, and `durable`, which resolves
   * once all of that is fsynced (the caller may write on meanwhile). null when the point cannot be a
   * checkpoint (a header sequence longer than MAX_REPLAY_BYTES): try again later.
   */
  async capture(at: number): Promise<{ state: TarResumeState; durable: Promise<void> } | null> {
    await this.until(() => this.framer.position >= at);
    if (this.framer.position !== at) throw new ArchiveError('E_INTERNAL', `tar checkpoint at ${at}, but the stage is at ${this.framer.position}`);
    const framer = this.framer;
    if (framer.ended) {
      await this.until(() => this.completed === framer.entries);
      await this.writer.settle();
      return { state: { framer: framer.snapshot(), member: null, replay: null }, durable: this.writer.syncCompleted() };
    }
    const current = framer.current;
    if (current) {
      // Every member before this one is done, and this one's handling is decided.
      await this.until(() => this.completed >= framer.entries - 1 && (this.active?.framed === current || this.completed === framer.entries));
      const dataEnd = current.dataOffset + current.size;
      if (at >= dataEnd) {
        // In the padding: the member itself is complete (closed, timed); only padding is left to skip.
        await this.until(() => this.completed === framer.entries);
        await this.writer.settle();
        const member = { entry: placeholderEntry(current), key: null, written: current.size, dataRemaining: 0 };
        return { state: { framer: framer.snapshot(), member, replay: null }, durable: this.writer.syncCompleted() };
      }
      const member = this.active!;
      if (member.kind !== 'collect') {
        const want = at - current.dataOffset;
        await this.until(() => member.received >= want);
        if (member.received !== want) throw new ArchiveError('E_INTERNAL', `member data ran past the checkpoint (${member.received} > ${want})`);
        await member.flush();
        await this.writer.settle();
        const state: ResumedMember = { entry: member.entry, key: member.sink?.key ?? null, written: want, dataRemaining: current.size - want };
        const ownSync = member.sink ? member.sink.sync() : Promise.resolve();
        const durable = Promise.all([ownSync, this.writer.syncCompleted()]).then(() => undefined);
        return { state: { framer: framer.snapshot(), member: state, replay: null }, durable };
      }
      // A small file collected in memory: nothing of it is on disk yet, its raw bytes are replayed instead.
    } else {
      await this.until(() => this.completed === framer.entries);
    }
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
    let n: number;
    try {
      n = this.framer.push(chunk);
    } catch (err) {
      // The members before the bad spot are complete: let them be written, then report the error.
      const at = (err as ArchiveError).details?.offset;
      const good = typeof at === 'number' ? Math.max(0, Math.min(chunk.length, at - start)) : 0;
      this.completeThenFail(this.resumed ? null : chunk.subarray(0, good), err as Error, cb);
      return;
    }
    this.retain(chunk, start, n);
    this.progressed();
    if (n === 0) {
      cb();
      return;
    }
    const part = n === chunk.length ? chunk : chunk.subarray(0, n);
    const r = this.resumed;
    if (r) {
      const rest = part.subarray(this.takeResumed(part));
      // Accept more once the resumed member's data is written (backpressure); the parser gets what follows it.
      r.chain.then(
        () => (rest.length === 0 ? cb() : this.toParser(rest, cb)),
        (err: Error) => cb(err),
      );
      return;
    }
    this.toParser(part, cb);
  }

  private toParser(part: Buffer, cb: (err?: Error | null) => void): void {
    if (this.parser.write(part)) cb();
    else this.parser.once('drain', () => cb());
  }

  /** Keeps views of the bytes since the framer's sequence start, up to MAX_REPLAY_BYTES. */
  private retain(chunk: Buffer, chunkStart: number, n: number): void {
    const seq = this.framer.sequenceStart;
    if (seq >= chunkStart) {
      const from = Math.min(n, seq - chunkStart);
      this.retained = from < n ? [chunk.subarray(from, n)] : [];
      this.retainedBytes = n - from;
      this.retainOverflow = false;
    } else if (!this.retainOverflow) {
      if (n > 0) this.retained.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      this.retainedBytes += n;
    }
    if (this.retainedBytes > MAX_REPLAY_BYTES) {
      this.retained = [];
      this.retainedBytes = 0;
      this.retainOverflow = true;
    }
  }

  /** Routes input to the resumed member: its data to the file (or nowhere), then its padding skipped. */
  private takeResumed(part: Buffer): number {
    const r = this.resumed!;
    let used = 0;
    if (r.dataLeft > 0) {
      const n = Math.min(r.dataLeft, part.length);
      const data = part.subarray(0, n);
      r.dataLeft -= n;
      r.member.received += n;
      const sink = r.member.sink;
      if (sink) r.chain = r.chain.then(() => sink.write([data]));
      used = n;
      if (r.dataLeft === 0) r.chain = r.chain.then(() => sink?.end());
    }
    const pad = Math.min(r.padLeft, part.length - used);
    r.padLeft -= pad;
    used += pad;
    if (r.dataLeft === 0 && r.padLeft === 0) {
      this.resumed = null;
      this.entryInFlight = r.chain.then(
        () => {
          this.active = null;
          this.completed++;
          this.progressed();
        },
        (err) => this.fail(err),
      );
    }
    this.progressed();
    return used;
  }

  /** Reopens the member a checkpoint was taken in; its data then comes first in the input. */
  private async reopen(m: ResumedMember, remaining: number): Promise<void> {
    const framed = this.framer.current!;
    let sink: FileSink | null = null;
    if (m.key !== null && m.dataRemaining > 0) sink = await this.writer.resumeFile(m.entry, m.written, m.key);
    const member: ActiveMember = {
      framed,
      entry: m.entry,
      kind: sink ? 'stream' : 'drain',
      sink,
      received: m.written,
      flush: () => this.resumed?.chain ?? Promise.resolve(),
    };
    this.active = member;
    this.resumed = { member, dataLeft: m.dataRemaining, padLeft: remaining - m.dataRemaining, chain: Promise.resolve() };
    if (m.dataRemaining === 0 && sink) this.resumed.chain = sink.end();
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
      this.completeThenFail(null, err as Error, cb);
      return;
    }
    this.parser.once('finish', () => {
      this.entryInFlight
        .then(() => {
          if (this.failure) throw this.failure;
          return this.writer.finish();
        })
        .then(
          () => cb(),
          (err) => cb(err as Error),
        );
    });
    this.parser.end();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const stopped = err ?? new AbortedError('The extraction was stopped.');
    for (const w of this.waiters.splice(0)) w.reject(stopped);
    this.parser.destroy();
    void this.writer.abort().then(() => cb(err));
  }

  /**
   * Ends the parser after `part` (which stops at a member boundary) and waits for the members already
   * parsed to be written before failing with `err`; a write failure meanwhile takes precedence. When the
   * stream stopped inside a member, fails at once: that member can never complete.
   */
  private completeThenFail(part: Buffer | null, err: Error, cb: (err?: Error | null) => void): void {
    this.stopping = true;
    if (!this.framer.atBoundary || this.failure) {
      cb(this.failure ?? err);
      return;
    }
    new Promise<void>((resolve) => {
      this.parser.once('finish', resolve);
      this.parser.once('close', resolve);
      if (part && part.length > 0) this.parser.write(part);
      this.parser.end();
    })
      .then(() => this.entryInFlight)
      .then(() => cb(this.failure ?? err));
  }

  private fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.failure) return;
    this.failure = e;
    for (const w of this.waiters.splice(0)) w.reject(e);
    this.destroy(e);
  }

  private parserError(err: Error): EngineError {
    if (err instanceof EngineError) return err;
    const offset = this.framer.position;
    return new ArchiveError('E_ARCHIVE_CORRUPT', `The tar data is corrupt near byte ${offset}: ${err.message}`, {
      cause: err,
      details: { offset },
    });
  }

  private async onEntry(header: TarStreamHeader, stream: TarStreamEntry): Promise<void> {
    const framed = this.framer.claim();
    const parsedAt = stream.offset + this.parserBase;
    if (!framed || framed.headerOffset !== parsedAt || (framed.size !== header.size && header.type !== 'directory')) {
      // Both readers saw the same bytes; if they disagree, one of them is being fooled.
      throw new ArchiveError(
        'E_ARCHIVE_CORRUPT',
        `The tar header of "${header.name}" is ambiguous (framed at byte ${framed?.headerOffset}, parsed at ${parsedAt}).`,
        { details: { offset: framed?.headerOffset ?? parsedAt, entry: header.name } },
      );
    }
    const entry = toEntryHeader(header, framed.headerOffset);
    const member: ActiveMember = { framed, entry, kind: 'collect', sink: null, received: 0, flush: () => Promise.resolve() };
    if (entry.type === 'file' && entry.size <= SMALL_FILE_BYTES) {
      this.active = member;
      this.progressed();
      await this.writer.begin(entry, await collect(stream));
      return;
    }
    const sink = await this.writer.begin(entry);
    member.kind = sink ? 'stream' : 'drain';
    member.sink = sink;
    this.active = member;
    this.progressed();
    if (sink) await pump(stream, sink, member, () => this.progressed());
    else await drain(stream, member, () => this.progressed());
  }
}

function toEntryType(type: TarStreamHeader['type']): EntryType {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other';
  }
}

export function toEntryHeader(header: TarStreamHeader, offset: number): EntryHeader {
  const type = toEntryType(header.type);
  const paxMtime = header.pax?.mtime !== undefined ? Number.parseFloat(header.pax.mtime) : Number.NaN;
  const mtime = Number.isFinite(paxMtime) ? paxMtime : (header.mtime?.getTime() ?? 0) / 1000;
  return {
    name: header.name,
    type,
    rawType: header.type ?? 'unknown type',
    size: header.size ?? 0,
    mode: header.mode ?? (type === 'directory' ? 0o755 : 0o644),
    mtime,
    linkname: header.linkname ?? null,
    offset,
  };
}

/**
 * Streams one member's data into its file in big sequential writes, pausing the parser while a write runs.
 * Counts what arrives in `member.received` and lets a checkpoint flush a partial batch (`member.flush`).
 */
function pump(stream: TarStreamEntry, sink: FileSink, member: ActiveMember, onData: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let chain: Promise<void> = Promise.resolve();
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      reject(err);
    };
    const flush = (): Promise<void> => {
      const b = batch;
      batch = [];
      batchBytes = 0;
      chain = chain.then(() => (b.length > 0 ? sink.write(b) : undefined));
      return chain;
    };
    member.flush = flush;
    stream.on('data', (buf: Buffer) => {
      if (failed) return;
      batch.push(buf);
      batchBytes += buf.length;
      member.received += buf.length;
      if (batchBytes >= WRITE_BATCH) {
        stream.pause();
        flush().then(() => stream.resume(), fail);
      }
      onData();
    });
    stream.on('end', () => {
      flush()
        .then(() => sink.end())
        .then(resolve, fail);
    });
    stream.on('error', fail);
  });
}

function collect(stream: TarStreamEntry): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (buf) => parts.push(buf));
    stream.on('end', () => resolve(parts));
    stream.on('error', reject);
  });
}

function drain(stream: TarStreamEntry, member: ActiveMember, onData: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('data', (buf: Buffer) => {
      member.received += buf.length;
      onData();
    });
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.resume();
  });
}

/** The header of a member whose data is complete (only its padding is left): never used to write. */
function placeholderEntry(framed: FramedEntry): EntryHeader {
  return { name: framed.name, type: 'file', rawType: 'file', size: framed.size, mode: 0o644, mtime: 0, linkname: null, offset: framed.headerOffset };
}
