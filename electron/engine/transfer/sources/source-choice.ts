// Which source the next range goes to: the one whose measured throughput, shared by the ranges already on
// it, promises the most (so connections spread in proportion to what each source delivers). A source not
// measured yet goes first, and now and then a random one is tried so that a source slow at the start (or
// back from the bench) gets measured again instead of being starved on an old figure.
import { usable, type Source } from './source';

/** Share of choices that explore (a random usable source) rather than exploit the best figure. */
export const EXPLORE_SHARE = 0.1;

export interface Choice {
  source: Source;
  /** Another usable source than `avoid` was there to choose: a failure can be retried on it at once. */
  switched: boolean;
}

/**
 * The source for a range; `avoid`: the source its last attempt failed on (chosen again only if none else is
 * usable). With no usable source at all, the one whose bench ends first (the caller backs off as for one source).
 */
export function chooseSource(sources: readonly Source[], now: number, avoid: Source | null, random: () => number = Math.random): Choice {
  const all = sources.filter((s) => usable(s, now));
  const others = avoid ? all.filter((s) => s !== avoid) : all;
  const pool = others.length > 0 ? others : all;
  if (pool.length === 0) {
    const waiting = sources.filter((s) => s.probed !== null && s.state !== 'dropped').sort((a, b) => a.benchedUntil - b.benchedUntil);
    // The primary is never dropped, so there is always one.
    return { source: waiting[0] ?? sources[0]!, switched: false };
  }
  const switched = avoid !== null && others.length > 0;
  const unmeasured = pool.filter((s) => s.rate === null).sort((a, b) => a.inflight - b.inflight);
  if (unmeasured.length > 0 && unmeasured[0]!.inflight === 0) return { source: unmeasured[0]!, switched };
  if (pool.length > 1 && random() < EXPLORE_SHARE) return { source: pool[Math.floor(random() * pool.length)]!, switched };
  let best = pool[0]!;
  for (const s of pool) if (score(s) > score(best)) best = s;
  return { source: best, switched };
}

/** What one more range on `s` can expect: its throughput shared with the ranges already on it. */
function score(s: Source): number {
  return (s.rate ?? 0) / (s.inflight + 1);
}
