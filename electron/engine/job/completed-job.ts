// A job that completed before: its state (job.json saying "complete") or, once that went, its completion
// record in the app's data folder (see state/completion-record.ts). Running it again is a no-op while the
// origin serves the same object; a changed origin is not extracted over the old snapshot unasked.
import { promises as fsp } from 'node:fs';
import { UpstreamChangedError } from '../errors';
import type { JobSummary } from '../events';
import { completionMatches, loadCompletion, saveCompletion, sha256Hex, sourceOf, type CompletionRecord } from '../state/completion-record';
import { describeUpstreamChange, type JobIdentity, type JobStateRecord } from '../state/job-state';
import type { ProbeResult } from '../transfer/probe';
import { redactUrl } from '../transfer/redact';
import { validatorChange } from '../transfer/response-checks';

/** A completed job's target is still there (a download-only output at its full length). */
export async function targetIntact(identity: Pick<JobIdentity, 'mode' | 'size'>, path: string): Promise<boolean> {
  const st = await fsp.stat(path).catch(() => null);
  if (!st) return false;
  return identity.mode !== 'download' || identity.size === null || (st.isFile() && st.size === identity.size);
}

/** The record of this job's earlier completion at `target`, if the URL names the same object and the target is there. */
export async function completedBefore(dir: string, url: string, mode: JobIdentity['mode'], target: string): Promise<CompletionRecord | null> {
  const record = await loadCompletion(dir, target);
  if (!record || record.mode !== mode) return null;
  return completionMatches(record, url) && (await targetIntact({ mode: record.mode, size: record.size }, target)) ? record : null;
}

/**
 * The outcome of running a completed job again, once the origin is probed: the earlier summary (and the
 * warning to give) when it still serves that object; an UpstreamChangedError when it does not.
 */
export function repeatOfCompleted(
  completed: CompletionRecord,
  probed: ProbeResult,
  job: { url: string; chunkSize: number; target: string },
): { summary: JobSummary; message: string } {
  const pinned = { size: completed.size, etag: completed.etag, weakEtag: completed.weakEtag, lastModified: completed.lastModified };
  const sameObject = completionMatches(completed, job.url, { size: probed.size, etag: probed.etag, weakEtag: probed.weakEtag });
  const change = !sameObject
    ? 'another object at that path'
    : (describeUpstreamChange({ ...pinned, url: job.url, finalUrl: '', chunkSize: job.chunkSize, mode: completed.mode, target: job.target }, probed) ??
      validatorChange(pinned, { etag: probed.weakEtag, lastModified: probed.lastModified }));
  const when = new Date(completed.completedAt).toISOString();
  if (change) {
    throw new UpstreamChangedError(
      `This job completed into ${job.target} on ${when}, and the snapshot at ${redactUrl(job.url)} has changed since (${change}). ` +
        'Nothing was changed. To replace it with the new snapshot, run again with --restart --force, or choose another destination.',
      { details: { change, target: job.target } },
    );
  }
  return {
    summary: completed.summary,
    message: `This job already completed into ${job.target} on ${when}; nothing to do. Use --restart --force to download it again.`,
  };
}

/** Written before the job's state goes, so a kill in between leaves one or the other. */
export async function recordCompletion(dir: string, record: JobStateRecord): Promise<void> {
  if (!record.summary) return;
  const id = record.identity;
  await saveCompletion(dir, {
    version: 1,
    target: id.target,
    mode: id.mode,
    urlSha256: sha256Hex(id.url),
    source: sourceOf(id.url),
    size: id.size,
    etag: id.etag,
    weakEtag: id.weakEtag ?? null,
    lastModified: id.lastModified,
    completedAt: record.updatedAt,
    summary: record.summary,
  });
}
