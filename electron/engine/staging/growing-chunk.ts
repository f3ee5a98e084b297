// Reads a chunk while its range is still arriving, so the extractor starts on the first flushed megabyte
// instead of waiting for the whole chunk: on a link slower than extraction that is a chunk's download time
// saved at the start of the job and most of one at its end. Only bytes already on disk are read (the part
// file's size is its committed prefix), so what the extractor sees is exactly what a restart would keep.
import { promises as fsp } from 'node:fs';

export interface GrowingChunk {
  /** The part file, or the staged one if the part was renamed meanwhile (an open handle survives the rename). */
  readonly paths: readonly [part: string, staged: string];
  /** Bytes of the chunk on disk now. */
  onDisk(): number;
  /**
   * Resolves when more may be on disk (a flush, the commit) or after a short while; rejects when the job
   * fails, so a reader never waits on a range that will not come.
   */
  changed(): Promise<void>;
  /**
   * Called once the reader has read every byte on disk: a hand-over of the rest of the chunk in memory as it
   * arrives (see chunk-tap.ts), read once the bytes before its start are, or null (go on with the file).
   */
  divert?(): HandOver | null;
}

/** The rest of a chunk handed over in memory: from `start` (null until the writer starts it). */
export interface HandOver {
  readonly start: number | null;
  pieces(): AsyncIterable<Buffer>;
}

/** Reads bytes `from`..`length` of the chunk as they land, in pieces of at most `pieceBytes`. */
export async function* followChunk(chunk: GrowingChunk, from: number, length: number, pieceBytes = 1024 * 1024): AsyncGenerator<Buffer> {
  const handle = await fsp.open(chunk.paths[0], 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    return fsp.open(chunk.paths[1], 'r');
  });
  try {
    let pos = from;
    let handOver: HandOver | null = null;
    while (pos < length) {
      // Every byte before the hand-over's start is read: the rest comes from memory.
      if (handOver && handOver.start === pos) {
        yield* handOver.pieces();
        return;
      }
      const available = Math.min(chunk.onDisk(), length);
      if (available <= pos) {
        // Asked for only with every byte on disk read (a resumed chunk may start past its part's prefix).
        if (!handOver && available === pos) handOver = chunk.divert?.() ?? null;
        if ((handOver as HandOver | null)?.start === pos) continue;
        await chunk.changed();
        continue;
      }
      // A fresh buffer per piece: the sink may hold it after write() returns.
      const buf = Buffer.allocUnsafe(Math.min(pieceBytes, available - pos));
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw new Error(`${chunk.paths[0]} is shorter than its ${available} committed bytes`);
      pos += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
