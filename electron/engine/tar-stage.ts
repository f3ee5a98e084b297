// The tar stage: uncompressed tar bytes in (a Writable, in order, with backpressure), members out to the
// safe writer. tar-stream parses; the framer runs ahead of it on the same bytes to find the end of the
// archive, enforce caps and cross-check the parser's framing.
import { Writable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { ArchiveError, EngineError } from './errors';
import type { EntryHeader, EntryType } from './extract-types';
import type { FileSink, SafeWriter } from './safe-writer';
import { TarFramer, type FramedEntry } from './tar-framer';
import type { ExtractLimits } from './tar-limits';

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

export class TarStage extends Writable {
  private readonly framer: TarFramer;
  private readonly parser: TarStreamParser;
  private failure: Error | null = null;
  /** Set while the parser is ended early after a framing error: its own complaints are then moot. */
  private stopping = false;
  private entryInFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly writer: SafeWriter,
    limits: ExtractLimits,
  ) {
    // A few decoder buffers of slack, so inflating goes on while a file write is in flight.
    super({ highWaterMark: 4 * 1024 * 1024 });
    this.framer = new TarFramer(limits);
    // allowUnknownFormat: old v7 archives have no `ustar` magic; the header checksum is still verified.
    this.parser = createParser({ allowUnknownFormat: true });
    this.parser.on('entry', (header, stream, next) => {
      this.entryInFlight = this.onEntry(header, stream).then(
        () => next(),
        (err) => this.fail(err),
      );
    });
    this.parser.on('error', (err) => {
      if (!this.stopping) this.fail(this.parserError(err));
    });
  }

  /** Uncompressed tar bytes examined so far. */
  get tarOffset(): number {
    return this.framer.position;
  }

  /** The member whose data is being written, with its offsets (resume records it in a checkpoint). */
  get currentEntry(): FramedEntry | null {
    return this.framer.current;
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
      this.completeThenFail(chunk.subarray(0, good), err as Error, cb);
      return;
    }
    if (n === 0) {
      cb();
      return;
    }
    const part = n === chunk.length ? chunk : chunk.subarray(0, n);
    if (this.parser.write(part)) cb();
    else this.parser.once('drain', () => cb());
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
    if (!framed || framed.headerOffset !== stream.offset || (framed.size !== header.size && header.type !== 'directory')) {
      // Both readers saw the same bytes; if they disagree, one of them is being fooled.
      throw new ArchiveError(
        'E_ARCHIVE_CORRUPT',
        `The tar header of "${header.name}" is ambiguous (framed at byte ${framed?.headerOffset}, parsed at ${stream.offset}).`,
        { details: { offset: framed?.headerOffset ?? stream.offset, entry: header.name } },
      );
    }
    const entry = toEntryHeader(header, framed.headerOffset);
    if (entry.type === 'file' && entry.size <= SMALL_FILE_BYTES) {
      await this.writer.begin(entry, await collect(stream));
      return;
    }
    const sink = await this.writer.begin(entry);
    if (sink) await pump(stream, sink);
    else await drain(stream);
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

/** Streams one member's data into its file in big sequential writes, pausing the parser while a write runs. */
function pump(stream: TarStreamEntry, sink: FileSink): Promise<void> {
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
    stream.on('data', (buf: Buffer) => {
      if (failed) return;
      batch.push(buf);
      batchBytes += buf.length;
      if (batchBytes >= WRITE_BATCH) {
        stream.pause();
        flush().then(() => stream.resume(), fail);
      }
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

function drain(stream: TarStreamEntry): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.resume();
  });
}
