// Chunk files in the state directory: `chunk-<index>.part` while a range is being fetched (its size is the
// committed prefix), `chunk-<index>.bin` once complete. Only the window's chunks ever exist here.
//
// A staged chunk is not fsynced: it is read back within seconds and deleted, and forcing it to disk put a
// write-back on the consumer's path for bytes nobody keeps. What makes it safe is the journal: its record
// carries the chunk's CRC-32, and a restart uses a staged chunk only if the file still matches it (see
// Job.reuseStaged); after a power loss a chunk the disk did not keep is fetched again, within the window.
// A part file is not fsynced either: the journal gets the CRC-32 of its prefix every few MiB and at the end
// of each attempt (PartRecord, not synced), and a restart continues a part only as far as a record still
// matches its bytes (see part-verify.ts).
import { CHUNK_FILE, chunkFileName, chunkIndexOf } from '../state/layout';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { toEngineError } from '../errors';
import { crc32 } from '../decode/gzip/crc32';
import { verifiedPrefix, type PrefixRecord } from './part-verify';
import type { ChunkPart } from './chunk-part';
import type { ChunkTap } from './chunk-tap';

/** A part's prefix is journaled again once this many bytes were added since the last record. */
export const PART_RECORD_BYTES = 4 * 1024 * 1024;

/** Verification of parts left by an earlier run, and journaling of the prefixes of new ones. */
export interface PartJournal {
  chunkSize: number;
  /** Prefix records of each chunk's part, from the journal (only those of the chunk at that index's start). */
  prefixes: Map<number, PrefixRecord[]>;
  record(index: number, start: number, length: number, crc: number): void;
  /** An earlier run's part held `had` bytes, of which only `kept` matched a record. */
  dropped?(index: number, kept: number, had: number): void;
}

export class StagingArea {
  constructor(
    readonly dir: string,
    private readonly journal: PartJournal | null = null,
  ) {}

  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    // A tail file is only a consumer's overflow: an earlier run's is of no use.
    for (const name of await fsp.readdir(this.dir)) {
      if (name.endsWith('.tail') && CHUNK_FILE.test(name)) await fsp.rm(join(this.dir, name), { force: true });
    }
  }

  partPath(index: number): string {
    return join(this.dir, chunkFileName(index, 'part'));
  }

  stagedPath(index: number): string {
    return join(this.dir, chunkFileName(index, 'bin'));
  }

  /** Where the rest of a chunk handed over in memory goes once the consumer falls behind (see chunk-tap.ts). */
  tailPath(index: number): string {
    return join(this.dir, chunkFileName(index, 'tail'));
  }

  /**
   * Opens (or continues) the chunk's part file. With a journal, an earlier run's part is kept only as far as
   * a prefix record vouches for it; without one, its size is taken as the committed prefix.
   */
  async openPart(index: number): Promise<PartFile> {
    const path = this.partPath(index);
    const handle = await fsp.open(path, 'a+');
    try {
      const { size } = await handle.stat();
      const j = this.journal;
      if (!j) {
        // A continued part needs the CRC of its prefix, so the staged record covers every byte.
        return new PartFile(path, handle, size, size > 0 ? await crcOfHandle(handle, size) : 0, null);
      }
      const kept = size > 0 ? await verifiedPrefix(handle, size, j.prefixes.get(index) ?? []) : { length: 0, crc: 0 };
      if (kept.length < size) {
        await handle.truncate(kept.length);
        j.dropped?.(index, kept.length, size);
      }
      const start = index * j.chunkSize;
      return new PartFile(path, handle, kept.length, kept.crc, (length, crc) => j.record(index, start, length, crc));
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /** CRC-32 of a staged chunk file, or null when it is missing. */
  async stagedCrc(index: number): Promise<{ length: number; crc: number } | null> {
    const handle = await fsp.open(this.stagedPath(index), 'r').catch(() => null);
    if (!handle) return null;
    try {
      const { size } = await handle.stat();
      return { length: size, crc: await crcOfHandle(handle, size) };
    } finally {
      await handle.close();
    }
  }

  /** Makes a complete part visible as staged (not durable: see the top of this file). */
  async commit(index: number, part: PartFile): Promise<void> {
    await part.flush();
    await part.close();
    await fsp.rename(part.path, this.stagedPath(index));
  }

  async remove(index: number): Promise<void> {
    await fsp.rm(this.stagedPath(index), { force: true });
    await fsp.rm(this.partPath(index), { force: true });
    await fsp.rm(this.tailPath(index), { force: true });
  }

  /** Removes every chunk's files (the origin stopped serving ranges: the stream brings their bytes again). */
  async removeAll(): Promise<void> {
    for (const name of await fsp.readdir(this.dir)) {
      const index = chunkIndexOf(name);
      if (index !== null) await this.remove(index);
    }
  }

  /** Bytes currently held by chunk files (what the window costs on disk). */
  async stagedBytes(): Promise<number> {
    let total = 0;
    for (const name of await fsp.readdir(this.dir)) {
      if (!CHUNK_FILE.test(name)) continue;
      total += (await fsp.stat(join(this.dir, name)).catch(() => ({ size: 0 }))).size;
    }
    return total;
  }
}

/** Body pieces are gathered and written in one writev of about this size: far fewer syscalls than per piece. */
const FLUSH_BYTES = 1024 * 1024;

export class PartFile implements ChunkPart {
  private closed = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** A writev is under way (its bytes are neither pending nor counted on disk yet). */
  private writing = false;
  /** Once set, the rest of the range goes to the consumer in memory, not to this file (see chunk-tap.ts). */
  private tap: ChunkTap | null = null;
  /** A tap asked for while a write was under way: started once it has landed. */
  private requestedTap: ChunkTap | null = null;
  /** Called after bytes reach the disk (a reader may be following the chunk: see growing-chunk.ts). */
  onFlushed: (() => void) | null = null;

  /** Bytes on disk when the prefix was last journaled (see PART_RECORD_BYTES). */
  private recordedAt: number;

  constructor(
    readonly path: string,
    readonly handle: fsp.FileHandle,
    /** Bytes on disk. */
    private size: number,
    private crc: number,
    /** Journals the CRC of the prefix on disk (null: parts are not verified). */
    private readonly recordPrefix: ((length: number, crc: number) => void) | null,
    /** Keep the CRC-32 of the bytes written (a tail file, never vouched for, does without). */
    private readonly checksummed = true,
  ) {
    this.recordedAt = size;
  }

  /** Bytes received for this chunk: on disk, plus those gathered for the next write (see flush), plus those handed over in memory. */
  get committed(): number {
    return this.size + this.pendingBytes + (this.tap?.received ?? 0);
  }

  /** Bytes on disk (what a reader may read). */
  get onDisk(): number {
    return this.size;
  }

  /** CRC-32 of the bytes on disk (flush first). */
  get checksum(): number {
    return this.crc;
  }

  /** The rest of the range went to the consumer in memory: this file holds only a prefix, and is never staged. */
  get tapped(): boolean {
    return this.tap !== null;
  }

  /**
   * Asks that the rest of the range go to `tap` (see chunk-tap.ts), from the end of the bytes on disk: at once
   * when no write is under way, else as soon as the one under way has landed (every byte not on disk is then
   * in hand); what was gathered for the next write goes to the tap too. Never once the file is closed or
   * holds the whole chunk. False when a tap was asked for already.
   */
  divert(tap: ChunkTap): boolean {
    if (this.closed || this.tap || this.requestedTap) return false;
    this.requestedTap = tap;
    if (!this.writing) this.startTap();
    return true;
  }

  private startTap(): void {
    const tap = this.requestedTap;
    this.requestedTap = null;
    if (!tap || this.closed || this.size >= tap.end) return;
    tap.begin(this.size);
    this.tap = tap;
    tap.seed(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Drops everything (a part longer than its chunk cannot be trusted). */
  async reset(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.truncate(0);
    this.size = 0;
    this.crc = 0;
    this.recordedAt = 0;
  }

  async write(data: Buffer): Promise<void> {
    if (this.tap) return this.tap.write(data);
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= FLUSH_BYTES) {
      await this.writePending();
      if (this.size - this.recordedAt >= PART_RECORD_BYTES) this.journalPrefix();
    }
  }

  /**
   * Writes what was gathered and journals the prefix. Called after every attempt (failed or not), so the
   * next range starts exactly after the bytes on disk, and a restart can continue from there.
   */
  async flush(): Promise<void> {
    try {
      await this.writePending();
      await this.tap?.flush();
    } finally {
      this.journalPrefix();
    }
  }

  private journalPrefix(): void {
    if (!this.recordPrefix || this.size === this.recordedAt) return;
    this.recordPrefix(this.size, this.crc);
    this.recordedAt = this.size;
  }

  /** Writes what was gathered. On a write error the bytes that did reach the disk still count. */
  private async writePending(): Promise<void> {
    if (this.pendingBytes === 0) return;
    let buffers = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = true;
    try {
      while (buffers.length > 0) {
        const { bytesWritten } = await this.handle.writev(buffers);
        buffers = this.account(buffers, bytesWritten);
      }
    } catch (err) {
      throw toEngineError(Object.assign(err as Error, { path: this.path }), 'E_IO');
    } finally {
      this.writing = false;
      if (this.requestedTap) this.startTap();
      this.onFlushed?.();
    }
  }

  /** Counts `written` bytes of `buffers` as on disk; returns what is left to write. */
  private account(buffers: Buffer[], written: number): Buffer[] {
    let left = written;
    let i = 0;
    for (; i < buffers.length && left > 0; i++) {
      const b = buffers[i]!;
      const n = Math.min(b.length, left);
      if (this.checksummed) this.crc = crc32(n === b.length ? b : b.subarray(0, n), this.crc);
      this.size += n;
      left -= n;
      if (n < b.length) return [b.subarray(n), ...buffers.slice(i + 1)];
    }
    return buffers.slice(i);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush().catch(() => undefined);
    await this.tap?.close().catch(() => undefined);
    await this.handle.close();
  }
}

async function crcOfHandle(handle: fsp.FileHandle, size: number): Promise<number> {
  const buf = Buffer.allocUnsafe(Math.min(size, 4 * 1024 * 1024) || 1);
  let crc = 0;
  for (let pos = 0; pos < size; ) {
    const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) break;
    crc = crc32(buf.subarray(0, bytesRead), crc);
    pos += bytesRead;
  }
  return crc;
}
