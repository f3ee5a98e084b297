// Bytes this job already holds on disk, with their offset in the file: what a new link (or a mirror) must
// serve identically before any of its bytes is trusted. A staged chunk first (complete, vouched for by its
// journal record), then a download's output, then the prefix of a part still arriving.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { CHUNK_FILE } from '../state/layout';

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
  if (p.output && p.consumedChunks > 0) {
    const s = await readPrefix(p.output, 0, 'output');
    if (s) return s;
  }
  for (const c of chunks.filter((c) => c.kind === 'part')) {
    const s = await readPrefix(join(p.stateDir, c.name), c.index * p.chunkSize, 'part');
    if (s) return s;
  }
  return null;
}

async function readPrefix(path: string, offset: number, from: DiskSample['from']): Promise<DiskSample | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SAMPLE_BYTES, 0);
    return bytesRead > 0 ? { offset, bytes: buf.subarray(0, bytesRead), from } : null;
  } finally {
    await handle.close();
  }
}
