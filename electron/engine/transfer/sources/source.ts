// One place the file can be fetched from: the job's URL (the primary) or a --mirror. What it pinned at its
// probe is checked on each of its answers; its counts and state feed the choice of source and the summary.
import type { SourceSummary } from '../../events';
import type { ProbeResult } from '../probe';
import { redactUrl } from '../redact';

export interface Source {
  /** 0 is the primary; mirrors follow in the order given. */
  readonly id: number;
  readonly role: 'primary' | 'mirror';
  /** As given (the primary's follows a replaced link, see SourceSet). */
  url: string;
  /** Null until its probe succeeded (a mirror that did not answer at the start is probed again later). */
  probed: ProbeResult | null;
  /** Its bytes are proved the primary's: same size and strong ETag, or a checksum covers the result. */
  provenSame: boolean;
  state: SourceSummary['state'];
  /** performance.now() at which a benched source may be tried again. */
  benchedUntil: number;
  /** Benches in a row without a success since: the next bench is longer. */
  benches: number;
  consecutiveFailures: number;
  bytes: number;
  requests: number;
  failures: number;
  inflight: number;
  /** EWMA of one connection's throughput, bytes/s; null before a range of it completed. */
  rate: number | null;
  reason: string | null;
  /** A probe of it is under way (a mirror that failed its probe). */
  probing: boolean;
}

export function newSource(id: number, url: string, probed: ProbeResult | null): Source {
  return {
    id,
    role: id === 0 ? 'primary' : 'mirror',
    url,
    probed,
    provenSame: id === 0,
    state: 'active',
    benchedUntil: 0,
    benches: 0,
    consecutiveFailures: 0,
    bytes: 0,
    requests: 0,
    failures: 0,
    inflight: 0,
    rate: null,
    reason: null,
    probing: false,
  };
}

/** The source for the summary and the window: never the query string (a presigned URL's signature). */
export function summarize(s: Source, nowPerf: number, nowWall: number): SourceSummary {
  const benched = s.state === 'benched';
  return {
    host: redactUrl(s.probed?.finalUrl ?? s.url),
    role: s.role,
    state: s.state,
    bytes: s.bytes,
    requests: s.requests,
    failures: s.failures,
    benchedUntil: benched ? Math.round(nowWall + Math.max(0, s.benchedUntil - nowPerf)) : null,
    rate: s.rate === null ? null : Math.round(s.rate),
    reason: s.reason,
  };
}

/** A usable source now: probed, not dropped, not benched (or its bench is over). */
export function usable(s: Source, now: number): boolean {
  return s.probed !== null && s.state !== 'dropped' && (s.state === 'active' || s.benchedUntil <= now);
}
