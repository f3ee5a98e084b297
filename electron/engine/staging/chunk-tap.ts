// The chunk the consumer needs next, handed over in memory as its bytes arrive instead of written to its part
// file and read back (a write, a CRC-32 and a read per byte saved). It starts where the part's bytes on disk
// end, once the consumer has read them all; the part keeps that prefix, which a restart continues as before.
// Past `limit` bytes queued (a consumer slower than the download) the bytes go to a tail file that the consumer
// reads in turn, and back to memory once the queue has room again, so the download is never held back and
// memory stays bounded; the disk the chunk uses (prefix + tail) is at most its length. Neither the queue nor the tail has restart value: a kill loses
// them, which costs a re-fetch of this chunk, one that the window holds anyway.
import { promises as fsp } from 'node:fs';
import { PartFile } from './staging';

/** Bytes queued for the consumer before further bytes go to the chunk's tail file. */
export const TAP_BYTES = 8 * 1024 * 1024;

/**
 * A run of the chunk's bytes, in order: buffers in memory, or a stretch of the tail file (its length null
 * while the tail is still being written to, then what the tail file holds of it).
 */
type Segment = { buffers: Buffer[] } | { fileStart: number; length: number | null; read: number };

export class ChunkTap {
  private readonly segments: Segment[] = [];
  /** Bytes in memory segments, not yet handed over. */
  private queued = 0;
  private tail: PartFile | null = null;
  private tailOpening: Promise<PartFile> | null = null;
  /** Bytes that went to memory segments. */
  private inMemory = 0;
  /** Chunk offset of the first byte handed over here: null until the part file starts the tap. */
  private begun: number | null = null;

  constructor(
    /** The chunk's length: a part that holds it all has nothing to hand over. */
    readonly end: number,
    private readonly tailPath: string,
    /** Wakes the consumer (more bytes queued or in the tail). */
    private readonly announce: () => void,
    private readonly limit = TAP_BYTES,
  ) {}

  /** The part file hands over from chunk offset `start` on (its bytes on disk). */
  begin(start: number): void {
    this.begun = start;
  }

  get start(): number | null {
    return this.begun;
  }

  /**
   * Bytes received since `start`: in memory, and what the tail file holds (a failed write of the tail keeps
   * only the bytes that landed, so a retry asks for the rest again).
   */
  get received(): number {
    return this.inMemory + (this.tail?.committed ?? 0);
  }

  /** Bytes that went to the tail file (the disk this tap costs). */
  get spilled(): number {
    return this.tail?.committed ?? 0;
  }

  /** What the part file had gathered for its next write, queued before anything else. */
  seed(buffers: Buffer[]): void {
    for (const b of buffers) this.toMemory(b);
  }

  /** The next bytes of the range, in order. */
  async write(data: Buffer): Promise<void> {
    const last = this.segments.at(-1);
    if (this.queued + data.length <= this.limit) {
      // The consumer reads a stretch of the tail only as far as it is on disk: land it before what follows.
      if (last && 'fileStart' in last && last.length === null) {
        const tail = this.tail!;
        try {
          await tail.flush();
        } finally {
          last.length = tail.onDisk - last.fileStart;
        }
      }
      this.toMemory(data);
      return;
    }
    const tail = await this.openTail();
    if (!(last && 'fileStart' in last && last.length === null)) this.segments.push({ fileStart: tail.committed, length: null, read: 0 });
    await tail.write(data);
  }

  private toMemory(data: Buffer): void {
    const last = this.segments.at(-1);
    if (last && 'buffers' in last) last.buffers.push(data);
    else this.segments.push({ buffers: [data] });
    this.queued += data.length;
    this.inMemory += data.length;
    this.announce();
  }

  /** Puts what the tail gathered on disk, for the consumer to read (after every attempt). */
  async flush(): Promise<void> {
    await this.tailOpening;
    await this.tail?.flush();
  }

  async close(): Promise<void> {
    await this.tailOpening?.catch(() => undefined);
    await this.tail?.close();
  }

  private openTail(): Promise<PartFile> {
    this.tailOpening ??= fsp.open(this.tailPath, 'w+', 0o600).then((handle) => {
      const tail = new PartFile(this.tailPath, handle, 0, 0, null, false);
      tail.onFlushed = this.announce;
      this.tail = tail;
      return tail;
    });
    return this.tailOpening;
  }

  /**
   * The chunk's bytes from `start` to `end`, in order as they arrive, from memory or the tail file.
   * `changed` waits for news (or a short while) and rejects when the run fails.
   */
  async *pieces(changed: () => Promise<void>): AsyncGenerator<Buffer> {
    let pos = this.begun!;
    let handle: fsp.FileHandle | null = null;
    try {
      while (pos < this.end) {
        const seg = this.segments[0];
        const later = this.segments.length > 1;
        if (seg && 'buffers' in seg) {
          const piece = seg.buffers.shift();
          if (piece) {
            this.queued -= piece.length;
            pos += piece.length;
            yield piece;
          } else if (later) this.segments.shift();
          else await changed();
          continue;
        }
        const onDisk = Math.min(seg ? seg.fileStart + (seg.length ?? Number.POSITIVE_INFINITY) : 0, this.tail?.onDisk ?? 0);
        if (!seg || seg.fileStart + seg.read >= onDisk) {
          if (seg && seg.read === seg.length && later) this.segments.shift();
          else await changed();
          continue;
        }
        handle ??= await fsp.open(this.tailPath, 'r');
        // A fresh buffer per piece: the sink may hold it after write() returns.
        const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, onDisk - seg.fileStart - seg.read));
        const { bytesRead } = await handle.read(buf, 0, buf.length, seg.fileStart + seg.read);
        if (bytesRead === 0) throw new Error(`${this.tailPath} is shorter than its ${onDisk} bytes on disk`);
        seg.read += bytesRead;
        pos += bytesRead;
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      }
    } finally {
      await handle?.close();
    }
  }
}
