// Remaining time as the window and the CLI show it. The rate is averaged over a window of recent samples
// (a single second's rate swings with every reconnect), a rate of about nothing reads "stalled" rather
// than a number of days, and the text never falls into exponent notation. Plain TypeScript: the renderer
// and the CLI both use it.

/** Below this many bytes per second a transfer counts as stalled: no estimate is honest then. */
export const STALLED_BELOW_BYTES_PER_S = 1;
/** How far back the average rate looks. */
export const ETA_WINDOW_MS = 20_000;
/** Longer than this and an estimate says only that it is long. */
const LONGEST_MS = 99 * 24 * 3600_000;

export interface RateSample {
  /** When (ms, any monotonic or wall clock). */
  at: number;
  /** A byte counter that only grows (bytes received and kept, or consumed). */
  bytes: number;
}

/** Average rate (bytes/s) over the samples of the last `windowMs`, or null with less than two samples. */
export function windowRate(samples: readonly RateSample[], windowMs = ETA_WINDOW_MS): number | null {
  const last = samples[samples.length - 1];
  if (!last) return null;
  let first: RateSample | undefined;
  for (const s of samples) {
    if (s.at >= last.at - windowMs) {
      first = s;
      break;
    }
  }
  if (!first || last.at <= first.at) return null;
  return Math.max(0, (last.bytes - first.bytes) / ((last.at - first.at) / 1000));
}

/** Keeps samples of a growing counter over `windowMs` for windowRate. */
export class RateWindow {
  private readonly samples: RateSample[] = [];
  constructor(private readonly windowMs = ETA_WINDOW_MS) {}

  add(at: number, bytes: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && (at < last.at || bytes < last.bytes)) this.samples.length = 0; // a restart of the counter
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && this.samples[1]!.at < at - this.windowMs) this.samples.shift();
  }

  rate(): number | null {
    return windowRate(this.samples, this.windowMs);
  }

  /** The samples kept, oldest first. */
  all(): readonly RateSample[] {
    return this.samples;
  }
}

/** Remaining ms for `left` bytes at `rate` bytes/s: null when unknown, 'stalled' when the rate is about nothing. */
export function etaMs(left: number | null, rate: number | null): number | 'stalled' | null {
  if (left === null || !Number.isFinite(left)) return null;
  if (left <= 0) return 0;
  if (rate === null || !Number.isFinite(rate)) return null;
  if (rate < STALLED_BELOW_BYTES_PER_S) return 'stalled';
  return (left / rate) * 1000;
}

/** "45s", "3m 05s", "2h 07m", "3d 4h", "> 99d", "stalled" or "—". */
export function formatEta(eta: number | 'stalled' | null): string {
  if (eta === 'stalled') return 'stalled';
  if (eta === null || !Number.isFinite(eta) || eta < 0) return '—';
  if (eta > LONGEST_MS) return '> 99d';
  const s = Math.round(eta / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/**
 * A job's remaining time from two counters: bytes received and kept (`committed`) and bytes consumed by the
 * extractor (or written to the output). The slower of the two finishes last; only when both stand still is
 * the job stalled.
 */
export function pipelineEta(total: number | null, committed: { bytes: number; rate: number | null }, consumed: { bytes: number; rate: number | null }): number | 'stalled' | null {
  if (total === null) return null;
  if (consumed.bytes >= total) return 0;
  if (committed.rate === null && consumed.rate === null) return null;
  const times: number[] = [];
  const dl = etaMs(total - committed.bytes, committed.rate);
  const ex = etaMs(total - consumed.bytes, consumed.rate);
  for (const t of [dl, ex]) if (typeof t === 'number') times.push(t);
  if (times.length === 0) return dl === 'stalled' || ex === 'stalled' ? 'stalled' : null;
  // Download done but the extractor stands still: it is the one to wait for.
  if (committed.bytes >= total && ex === 'stalled') return 'stalled';
  return Math.max(...times);
}

/** Nothing received or consumed for this long reads "stalled" at once, before the 20 s average decays. */
export const STALL_WINDOW_MS = 5_000;

/** Whether the samples reach back at least `ms` from the last one. */
function spans(samples: readonly RateSample[], ms: number): boolean {
  const first = samples[0];
  const last = samples[samples.length - 1];
  return !!first && !!last && last.at - first.at >= ms;
}

/** A job's ETA from its counters' recent samples (oldest first), as the window and the CLI show it. */
export function counterEta(total: number | null, committed: readonly RateSample[], consumed: readonly RateSample[]): number | 'stalled' | null {
  const c = committed[committed.length - 1];
  const x = consumed[consumed.length - 1];
  if (total === null || !c || !x) return null;
  if (x.bytes >= total) return 0;
  if (spans(committed, STALL_WINDOW_MS) && spans(consumed, STALL_WINDOW_MS)) {
    const recentC = windowRate(committed, STALL_WINDOW_MS) ?? 0;
    const recentX = windowRate(consumed, STALL_WINDOW_MS) ?? 0;
    if (recentC < STALLED_BELOW_BYTES_PER_S && recentX < STALLED_BELOW_BYTES_PER_S) return 'stalled';
  }
  return pipelineEta(total, { bytes: c.bytes, rate: windowRate(committed) }, { bytes: x.bytes, rate: windowRate(consumed) });
}
