// A source that keeps failing is benched: no new ranges for a while, then one is tried (a probe of sorts).
// The bench doubles with each bench in a row and carries jitter, so sources that failed together (a network
// blip) do not come back in step; a success ends the series.
import type { RetryPolicy } from '../retry-policy';

/** Consecutive failures of a source (no success between) that bench it. */
export const BENCH_AFTER_FAILURES = 2;

/** The bench after `benches` benches in a row (>= 1): half the exponential figure, plus up to as much again. */
export function benchDelayMs(policy: RetryPolicy, benches: number, random: () => number = Math.random): number {
  const base = Math.max(policy.baseMs, 10);
  const full = Math.min(Math.max(policy.capMs, base), base * 2 ** Math.max(0, benches - 1));
  return Math.floor(full / 2 + random() * (full / 2));
}
