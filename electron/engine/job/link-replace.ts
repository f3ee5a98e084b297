// Job.replaceUrl's check: the new link is probed and must serve the object the job holds bytes of (see
// same-object.ts). A link that cannot be shown to is refused with a clear message naming host and path only;
// the job keeps its link and everything it fetched.
import type { Dispatcher } from 'undici';
import { UpstreamChangedError } from '../errors';
import { probe, type ProbeResult } from '../transfer/probe';
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
