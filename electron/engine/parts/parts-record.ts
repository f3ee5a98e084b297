// parts.json in a parts job's state folder: which parts completed (by index and the hash of their URL, so
// an edited manifest is not taken for the old one). Written atomically after each part.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readJsonWithFallback, writeFileAtomic } from '../state/atomic-file';
import type { JobSummary } from '../events';
import { PARTS_FILE } from '../state/layout';

export interface PartsRecord {
  version: 1;
  /** Parts in the manifest when the record was written. */
  count: number;
  done: Array<{ index: number; urlSha256: string; completedAt: number; summary: JobSummary }>;
}

export function urlHash(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}

function isRecord(v: unknown): v is PartsRecord {
  const r = v as PartsRecord;
  return !!r && r.version === 1 && Array.isArray(r.done);
}

export async function loadPartsRecord(stateDir: string): Promise<PartsRecord | null> {
  return readJsonWithFallback(join(stateDir, PARTS_FILE), isRecord);
}

export async function savePartsRecord(stateDir: string, record: PartsRecord): Promise<void> {
  await writeFileAtomic(join(stateDir, PARTS_FILE), JSON.stringify(record), { keepPrevious: true });
}

/** Part directory names: `part-0003/` under the parts job's state folder. */
export function partStateDirName(index: number): string {
  return `part-${String(index).padStart(4, '0')}`;
}
