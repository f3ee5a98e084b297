// Bytes this job already holds on disk, with their offset in the file: what a new link (or a mirror) must
// serve identically before any of its bytes is trusted. A staged chunk first (complete, vouched for by its
// journal record), then a download's output (where its journal says bytes are durable), then the prefix of a
// part still arriving.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readJournal } from '../staging/journal';
import { durableOutputFrom } from '../staging/output-record';
import { CHUNK_FILE, JOURNAL_FILE } from '../state/layout';

/** How much of the file a sample compares: enough to tell two files apart, cheap to fetch again. */
export const SAMPLE_BYTES = 64 * 1024;

export interface DiskSample {
  /** Offset of `bytes` in the file. */
  offset: number;
  bytes: Buffer;
  /** Where they were read (for the message). */
  from: 'staged chunk' | 'output' | 'part';
}

export async function diskSample(p: { stateDir: string; chunkSize: number; output: string | null; consumedChunks: number }): Promise<DiskSample | null> {
  const names = await fsp.readdir(p.stateDir).catch(() => [] as string[]);
  const chunks = names
    .map((name) => ({ name, m: CHUNK_FILE.exec(name) }))
    .filter((c): c is { name: string; m: RegExpExecArray } => c.m !== null)
    .map((c) => ({ name: c.name, index: Number(c.m[1]), kind: c.m[2] as 'part' | 'bin' | 'tail' }))
    .sort((a, b) => a.index - b.index);
  for (const c of chunks.filter((c) => c.kind === 'bin')) {
    const s = await readPrefix(join(p.stateDir, c.name), c.index * p.chunkSize, 'staged chunk');
    if (s) return s;
  }
  if (p.output) {
    const { records } = await readJournal(join(p.stateDir, JOURNAL_FILE)).catch(() => ({ records: [] }));
    const durable = durableOutputFrom(records, p.consumedChunks, p.chunkSize, Number.POSITIVE_INFINITY).chunks;
    const first = [...durable.entries()].sort((a, b) => a[0] - b[0])[0];
    if (first) {
      const s = await readPrefix(p.output, first[0] * p.chunkSize, 'output', Math.min(SAMPLE_BYTES, first[1]));
      if (s) return s;
    }
  }
  for (const c of chunks.filter((c) => c.kind === 'part')) {
    const s = await readPrefix(join(p.stateDir, c.name), c.index * p.chunkSize, 'part');
    if (s) return s;
  }
  return null;
}

/** Bytes at `offset` of the file (`path` holds the file from there: a chunk file, or from byte 0: the output). */
async function readPrefix(path: string, offset: number, from: DiskSample['from'], max = SAMPLE_BYTES): Promise<DiskSample | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(max);
    const { bytesRead } = await handle.read(buf, 0, max, from === 'output' ? offset : 0);
    return bytesRead > 0 ? { offset, bytes: buf.subarray(0, bytesRead), from } : null;
  } finally {
    await handle.close();
  }
}
