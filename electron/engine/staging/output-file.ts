// A download's output file, written in place: each chunk's range goes straight to its own offset (positional
// writes), so no byte is staged in a chunk file and none is read back. The window's chunks are regions of
// this file. What is durable is said by the journal (see output-record.ts), only after a sync of this file.
//
// The file is given its full length when opened (ftruncate: sparse, no blocks allocated; Node has no
// fallocate), so a region's writes never extend the file and a restart finds it at its length whatever a
// crash left; the free-space check before the job stands in for the reservation fallocate would make.
import { promises as fsp } from 'node:fs';
import { toEngineError } from '../errors';
import type { ChunkPart } from './chunk-part';

/** Body pieces are gathered and written in one positional writev of about this size. */
const FLUSH_BYTES = 1024 * 1024;

/** Which file the bytes are in: one replaced since (removed and created again) holds none of them. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

export class OutputFile {
  /** Bytes written by this run, in every region. */
  written = 0;

  private constructor(
    readonly path: string,
    private readonly handle: fsp.FileHandle,
    readonly identity: FileIdentity,
  ) {}

  /**
   * Opens `path` at `size` bytes. `keep`: an earlier run's bytes in it are this job's (the caller checked the
   * file); otherwise it starts empty.
   */
  static async open(path: string, size: number, keep: boolean): Promise<OutputFile> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(path, keep ? 'r+' : 'w');
    } catch (err) {
      throw toEngineError(Object.assign(err as Error, { path }), 'E_IO');
    }
    try {
      const st = await handle.stat();
      if (st.size !== size) await handle.truncate(size);
      return new OutputFile(path, handle, { dev: st.dev, ino: st.ino });
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw toEngineError(Object.assign(err as Error, { path }), 'E_IO');
    }
  }

  /** The region of chunk bytes [start, start + length), of which the first `kept` are there already. */
  region(start: number, length: number, kept: number): OutputRegion {
    return new OutputRegion(this, start, length, kept);
  }

  /** Makes every byte written so far durable (data only: the length was set when the file was opened). */
  async datasync(): Promise<void> {
    try {
      await this.handle.datasync();
    } catch (err) {
      throw toEngineError(Object.assign(err as Error, { path: this.path }), 'E_IO');
    }
  }

  /** Writes `buffers` at `position`; returns the bytes written (all of them unless the write failed part way). */
  async writeAt(buffers: Buffer[], position: number): Promise<number> {
    let written = 0;
    let rest = buffers;
    try {
      while (rest.length > 0) {
        const { bytesWritten } = await this.handle.writev(rest, position + written);
        written += bytesWritten;
        this.written += bytesWritten;
        rest = after(rest, bytesWritten);
      }
    } catch (err) {
      throw Object.assign(toEngineError(Object.assign(err as Error, { path: this.path }), 'E_IO'), { bytesWritten: written });
    }
    return written;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** What is left of `buffers` once their first `n` bytes are written. */
function after(buffers: Buffer[], n: number): Buffer[] {
  let left = n;
  for (let i = 0; i < buffers.length; i++) {
    const b = buffers[i]!;
    if (left < b.length) return [b.subarray(left), ...buffers.slice(i + 1)];
    left -= b.length;
  }
  return [];
}

/** One chunk's bytes in the output: a range's body is gathered and written at the chunk's offset in order. */
export class OutputRegion implements ChunkPart {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of the region in the file (kept, or written by this run). */
  private size: number;
  /** Called after bytes reach the file (the digests follow the file's complete prefix). */
  onFlushed: (() => void) | null = null;
  /** Called before an emptied region takes new bytes: the record of its old prefix must go first. */
  onReset: (() => Promise<void>) | null = null;
  /** Writes one at a time (the job's stop flushes a region its range may be writing to). */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: OutputFile,
    readonly start: number,
    readonly length: number,
    kept: number,
  ) {
    this.size = kept;
  }

  get committed(): number {
    return this.size + this.pendingBytes;
  }

  /** Bytes of the region in the file now. */
  get onDisk(): number {
    return this.size;
  }

  async write(data: Buffer): Promise<void> {
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  /** Writes what was gathered. On a write error the bytes that did reach the file still count. */
  flush(): Promise<void> {
    const run = this.writes.then(() => this.writePending());
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async writePending(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buffers = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      this.size += await this.file.writeAt(buffers, this.start + this.size);
    } catch (err) {
      this.size += (err as { bytesWritten?: number }).bytesWritten ?? 0;
      throw err;
    } finally {
      this.onFlushed?.();
    }
  }

  async reset(): Promise<void> {
    await this.writes;
    this.pending = [];
    this.pendingBytes = 0;
    this.size = 0;
    await this.onReset?.();
  }
}
