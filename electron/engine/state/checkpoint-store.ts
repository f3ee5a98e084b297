// The extraction checkpoint on disk: written as temp + fsync + rename (+ directory fsync), the previous
// generation kept, so a crash while saving one still leaves the one before.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readJsonWithFallback, writeFileAtomic } from './atomic-file';
import { CHECKPOINT_FILE } from './layout';

export { CHECKPOINT_FILE };

/** What the extractor hands out; opaque here except for the fields the job reads. */
export interface ExtractCheckpointData {
  version: number;
  format: string;
  compressedOffset: number;
  uncompressedOffset: number;
  entries: number;
  bytesWritten: number;
  [field: string]: unknown;
}

export interface SavedCheckpoint {
  version: 1;
  savedAt: number;
  extract: ExtractCheckpointData;
  /** SHA-256 state of the stream up to extract.compressedOffset, when a checksum is being verified. */
  sha256: { state: string; position: number } | null;
  /** MD5 state at the same position (absent in checkpoints written before MD5 was supported). */
  md5?: { state: string; position: number } | null;
}

function isSaved(v: unknown): v is SavedCheckpoint {
  const c = v as SavedCheckpoint;
  return !!c && c.version === 1 && typeof c.extract?.compressedOffset === 'number';
}

export async function loadCheckpoint(stateDir: string): Promise<SavedCheckpoint | null> {
  return readJsonWithFallback(join(stateDir, CHECKPOINT_FILE), isSaved);
}

export async function saveCheckpoint(stateDir: string, checkpoint: SavedCheckpoint): Promise<number> {
  const text = JSON.stringify(checkpoint);
  await writeFileAtomic(join(stateDir, CHECKPOINT_FILE), text, { keepPrevious: true });
  return text.length;
}

export async function clearCheckpoint(stateDir: string): Promise<void> {
  await fsp.rm(join(stateDir, CHECKPOINT_FILE), { force: true });
  await fsp.rm(join(stateDir, `${CHECKPOINT_FILE}.prev`), { force: true });
}
