// The rows of a job's sources list: which host (never a query string), what it served, and its state in
// words (a benched source says when it is tried again).
import { formatBytes, formatRate } from './format';
import type { SourceInfo } from './model';

export interface SourceRow {
  key: string;
  host: string;
  role: 'URL' | 'Mirror';
  bytes: string;
  state: SourceInfo['state'];
  stateText: string;
  /** Requests, failures and the measured rate, for the row's detail line. */
  detail: string;
  reason: string | null;
}

export function sourceRows(sources: readonly SourceInfo[], now: number): SourceRow[] {
  return sources.map((s, i) => ({
    key: `${i}`,
    // The engine sends the URL redacted already; cut at '?' again so nothing else can show a signature.
    host: s.host.replace(/\?.*$/, ''),
    role: s.role === 'primary' ? 'URL' : 'Mirror',
    bytes: formatBytes(s.bytes),
    state: s.state,
    stateText: s.state === 'active' ? 'serving' : s.state === 'dropped' ? 'dropped' : benchedText(s.benchedUntil, now),
    detail: `${s.requests} requests, ${s.failures} failed${s.rate !== null ? `, ${formatRate(s.rate)} per connection` : ''}`,
    reason: s.state === 'active' ? null : s.reason,
  }));
}

function benchedText(until: number | null, now: number): string {
  if (until === null || until <= now) return 'benched, trying again';
  const seconds = Math.ceil((until - now) / 1000);
  return `benched, next try in ${seconds} s`;
}
