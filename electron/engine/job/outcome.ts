// A job's outcome once every byte is in the sink: the digests verified (a mismatch is exit 4, naming the
// digest), and the summary the CLI prints, the window shows and a re-run of a completed job reports.
import type { DigestKind } from '../checksum/checksum-text';
import type { ResumableDigests } from '../checksum/digest-set';
import { verifyDigests, type ExpectedDigests } from '../checksum/verify';
import type { JobSummary, TransferMode } from '../events';
import type { JobCounters } from './run-context';
import type { SinkResult } from './sinks';

export function verifiedOutcome(p: {
  finished: SinkResult;
  /** The resumable digests of a ranged extraction; otherwise the sink hashed inline. */
  hasher: ResumableDigests | null;
  expected: ExpectedDigests;
  size: number | null;
  counters: JobCounters;
  stallReplacements: number;
  elapsedMs: number;
  mode: TransferMode;
}): JobSummary {
  const { finished } = p;
  const digests: Partial<Record<DigestKind, string>> = p.hasher
    ? p.hasher.digest()
    : { ...(finished.sha256 ? { sha256: finished.sha256 } : {}), ...(finished.md5 ? { md5: finished.md5 } : {}) };
  verifyDigests(p.expected, digests);
  return {
    bytesTotal: p.size,
    bytesFetched: p.counters.bytesFetched,
    bytesWritten: finished.bytesWritten,
    retries: p.counters.retries,
    stallReplacements: p.stallReplacements,
    elapsedMs: p.elapsedMs,
    entries: finished.entries,
    skipped: finished.skipped,
    skippedTotal: Object.values(finished.skippedByCode).reduce((n, c) => n + c, 0),
    skippedByCode: finished.skippedByCode,
    sha256: digests.sha256 ?? null,
    ...(digests.md5 ? { md5: digests.md5 } : {}),
    mode: p.mode,
    format: finished.format,
  };
}
