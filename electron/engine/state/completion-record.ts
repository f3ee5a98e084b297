// What is left of a job once it completed and its state folder went: a small record in the app's data folder,
// keyed by the target. Without it a re-run of the same `get` (or one whose kill landed between the state's
// removal and the `done` line) meets a full destination it cannot tell from an operator's and refuses it.
// The record holds no secret: a hash of the URL, its origin and path (no query, no userinfo), the validators.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readJsonWithFallback, writeFileAtomic } from './atomic-file';
import type { JobSummary } from '../events';
import type { JobIdentity } from './job-state';

export interface CompletionRecord {
  version: 1;
  target: string;
  mode: JobIdentity['mode'];
  /** SHA-256 of the URL as given: the same URL again, query and all, without keeping the query. */
  urlSha256: string;
  /** Origin and path only: a presigned URL re-signed for the same object keeps these. */
  source: string;
  size: number | null;
  etag: string | null;
  weakEtag: string | null;
  lastModified: string | null;
  completedAt: number;
  summary: JobSummary;
}

/** Records kept before the ones whose target is gone are pruned. */
const PRUNE_ABOVE = 256;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Origin and path of a URL, or the text itself when it is not one. */
export function sourceOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}

function recordPath(dir: string, target: string): string {
  return join(dir, `${sha256Hex(target)}.json`);
}

function isRecord(v: unknown): v is CompletionRecord {
  const r = v as CompletionRecord;
  return !!r && r.version === 1 && typeof r.target === 'string' && typeof r.urlSha256 === 'string' && !!r.summary;
}

export async function loadCompletion(dir: string, target: string): Promise<CompletionRecord | null> {
  const record = await readJsonWithFallback(recordPath(dir, target), isRecord).catch(() => null);
  return record && record.target === target ? record : null;
}

/** Written durably before the state goes, so a kill in between leaves one or the other, never neither. */
export async function saveCompletion(dir: string, record: CompletionRecord): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(recordPath(dir, record.target), JSON.stringify(record, null, 2));
  await pruneCompletions(dir).catch(() => undefined);
}

export async function removeCompletion(dir: string, target: string): Promise<void> {
  await fsp.rm(recordPath(dir, target), { force: true });
}

/** The URL names the object the record was made for: the same URL, or the same path with the same validators. */
export function completionMatches(record: CompletionRecord, url: string, seen?: { size: number | null; etag: string | null; weakEtag: string | null }): boolean {
  if (record.urlSha256 === sha256Hex(url)) return true;
  if (record.source !== sourceOf(url)) return false;
  if (!seen) return true; // before the probe: a candidate, confirmed by its validators afterwards
  const tag = record.weakEtag ?? record.etag;
  return tag !== null && seen.size === record.size && (seen.weakEtag ?? seen.etag) === tag;
}

/** Past PRUNE_ABOVE records, those whose target no longer exists go (the folder must not grow without bound). */
async function pruneCompletions(dir: string): Promise<void> {
  const names = (await fsp.readdir(dir)).filter((n) => /^[0-9a-f]{64}\.json$/.test(n));
  if (names.length <= PRUNE_ABOVE) return;
  for (const name of names) {
    const record = await readJsonWithFallback(join(dir, name), isRecord).catch(() => null);
    const there = record
      ? await fsp.stat(record.target).then(
          () => true,
          () => false,
        )
      : false;
    if (!there) {
      await fsp.rm(join(dir, name), { force: true });
      await fsp.rm(join(dir, `${name}.prev`), { force: true });
    }
  }
}
