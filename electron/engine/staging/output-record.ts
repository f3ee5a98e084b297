// What a download written in place (see output-file.ts) has made durable: the journal gets an OutputRecord
// after each sync of the output file, naming the chunks whose durable prefix moved. Nothing is recorded that
// was not synced first, so a restart trusts these prefixes without reading them back, as long as the file is
// still the one they were written to and still that long.
import { promises as fsp } from 'node:fs';
import type { FileIdentity } from './output-file';

export interface OutputRecord {
  t: 'output';
  /**
   * A run's first record: the chunks it kept, and nothing before it counts. Later records name only the
   * chunks whose durable prefix changed.
   */
  base?: true;
  /**
   * Chunks [0, upTo) are durable whole (a base record's contiguous prefix, said in one number: a 6 TB file has
   * 100,000 chunks of 64 MiB, and a journal record holds 1 MiB at most).
   */
  upTo?: number;
  /** [chunk index, bytes from the chunk's start that are durable]; 0 retracts a chunk's prefix. */
  chunks: Array<[number, number]>;
  file: FileIdentity;
}

export interface DurableOutput {
  /** Durable bytes from each chunk's start (chunks with none are absent). */
  chunks: Map<number, number>;
  file: FileIdentity | null;
}

/**
 * The journal's output records folded in order: from the last base record on, later records win.
 * `lengthOf(index)`: chunk `index`'s length (for a record's `upTo`).
 */
export function durableOutputOf(records: readonly { t: string }[], lengthOf: (index: number) => number): DurableOutput {
  const out: DurableOutput = { chunks: new Map(), file: null };
  for (const r of records) {
    if (r.t !== 'output') continue;
    const o = r as OutputRecord;
    if (o.base) out.chunks.clear();
    out.file = o.file;
    for (let index = 0; index < (o.upTo ?? 0); index++) out.chunks.set(index, lengthOf(index));
    for (const [index, length] of o.chunks) {
      if (length > 0) out.chunks.set(index, length);
      else out.chunks.delete(index);
    }
  }
  return out;
}

/**
 * What a download-only job made durable in its output: the journal's records and, from a state an earlier
 * version wrote chunk by chunk in order (job.json's consumedChunks, no records), its first chunks.
 */
export function durableOutputFrom(records: readonly { t: string }[], consumedChunks: number, chunkSize: number, size: number): DurableOutput {
  const lengthOf = (index: number) => Math.min(chunkSize, size - index * chunkSize);
  const durable = durableOutputOf(records, lengthOf);
  for (let index = 0; index < consumedChunks; index++) durable.chunks.set(index, lengthOf(index));
  return durable;
}

/** A base record of `kept`: its contiguous whole chunks as `upTo`, the others listed. */
export function baseRecord(kept: ReadonlyMap<number, number>, lengthOf: (index: number) => number, file: FileIdentity): OutputRecord {
  let upTo = 0;
  while (kept.get(upTo) !== undefined && kept.get(upTo)! >= lengthOf(upTo)) upTo++;
  const chunks = [...kept].filter(([index]) => index >= upTo);
  return { t: 'output', base: true, ...(upTo > 0 ? { upTo } : {}), chunks, file };
}

/** Bytes from byte 0 on that are durable (the chunks' prefixes, contiguous). */
export function contiguousBytes(chunks: ReadonlyMap<number, number>, chunkSize: number, size: number): number {
  let offset = 0;
  for (let index = 0; offset < size; index++) {
    const length = Math.min(chunkSize, size - offset);
    const kept = chunks.get(index) ?? 0;
    offset += kept;
    if (kept < length) break;
  }
  return offset;
}

/** What of `durable` the output at `path` still holds: none if it is gone or another file; up to its length otherwise. */
export async function stillInOutput(path: string, durable: DurableOutput, chunkSize: number): Promise<{ chunks: Map<number, number>; why: string | null }> {
  const st = await fsp.stat(path).catch(() => null);
  const had = [...durable.chunks.values()].reduce((a, b) => a + b, 0);
  if (had === 0) return { chunks: new Map(), why: null };
  if (!st?.isFile()) return { chunks: new Map(), why: 'it is gone' };
  if (durable.file && (durable.file.dev !== st.dev || durable.file.ino !== st.ino)) return { chunks: new Map(), why: 'it is another file than the one this job wrote' };
  const chunks = new Map<number, number>();
  let lost = 0;
  for (const [index, length] of durable.chunks) {
    const start = index * chunkSize;
    const there = Math.max(0, Math.min(length, st.size - start));
    if (there > 0) chunks.set(index, there);
    lost += length - there;
  }
  return { chunks, why: lost > 0 ? `it is ${st.size} bytes, shorter than the bytes this job had written into it (truncated since)` : null };
}
