// Job.replaceUrl's check: the new link is probed and must serve the object the job holds bytes of (see
// same-object.ts). A link that cannot be shown to is refused with a clear message naming host and path only;
// the job keeps its link and everything it fetched.
import type { Dispatcher } from 'undici';
import { UpstreamChangedError } from '../errors';
import { probe, validateUrl, type ProbeResult } from '../transfer/probe';
import { saveJobState, type JobStateRecord } from '../state/job-state';
import type { ResolvedOptions } from './job-options';
import { diskSample } from './disk-sample';
import { redactUrl } from '../transfer/redact';
import type { HeaderSet } from '../transfer/origin-headers';
import type { DiskSample } from './disk-sample';
import { sameObject } from './same-object';

export async function verifiedReplacement(p: {
  newUrl: string;
  current: ProbeResult;
  dispatcher: Dispatcher;
  headers: HeaderSet | null;
  signal: AbortSignal;
  sample: () => Promise<DiskSample | null>;
  /** A checksum verifies the result: a link that cannot be compared otherwise may then go on. */
  checksumGiven: boolean;
}): Promise<{ probed: ProbeResult; detail: string }> {
  const now = await probe(p.newUrl, { dispatcher: p.dispatcher, signal: p.signal, headers: p.headers });
  const verdict = await sameObject({ pinned: p.current, now, sample: p.sample, dispatcher: p.dispatcher, headers: p.headers, signal: p.signal });
  if (verdict.same === true) return { probed: now, detail: verdict.detail };
  if (verdict.same === null && p.checksumGiven) return { probed: now, detail: `same size (${verdict.why}; the checksum verifies the result)` };
  throw new UpstreamChangedError(
    `The new link ${redactUrl(p.newUrl)} does not serve the file this job is downloading: ${verdict.why}. The job keeps its link and everything it fetched; give a link to the same file.`,
    {
      details: { why: verdict.why },
    },
  );
}

/** The check for a job's new link, with the job's own bytes on disk as the sample. */
export function verifiedReplacementOf(
  newUrl: string,
  job: { options: ResolvedOptions; current: ProbeResult; dispatcher: Dispatcher; signal: AbortSignal; consumedChunks: number },
): Promise<{ probed: ProbeResult; detail: string }> {
  validateUrl(newUrl);
  const o = job.options;
  return verifiedReplacement({
    newUrl,
    current: job.current,
    dispatcher: job.dispatcher,
    headers: o.headers,
    signal: job.signal,
    sample: () => diskSample({ stateDir: o.stateDir, chunkSize: o.chunkSize, output: o.output, consumedChunks: job.consumedChunks }),
    checksumGiven: o.sha256 !== null || o.md5 !== null,
  });
}

/**
 * The job takes the new link: the same object (size pinned) with the new link's validators, which every later
 * range is checked against; the state pins it (owner-only).
 */
export async function adoptLink(p: { current: ProbeResult; probed: ProbeResult; newUrl: string; record: JobStateRecord | null; stateDir: string }): Promise<ProbeResult> {
  const { probed } = p;
  const validators = { finalUrl: probed.finalUrl, etag: probed.etag, weakEtag: probed.weakEtag, lastModified: probed.lastModified };
  if (p.record) {
    Object.assign(p.record.identity, { url: p.newUrl, ...validators });
    p.record.updatedAt = Date.now();
    await saveJobState(p.stateDir, p.record);
  }
  return { ...p.current, url: p.newUrl, ...validators };
}
