// When to try a chunk again: exponential backoff with full jitter (AWS architecture blog's "full jitter": a
// uniformly random delay in [0, min(cap, base * 2^n)]), so many clients failing together do not retry in step.
// A server's Retry-After wins over our own schedule, within a cap.

export interface RetryPolicy {
  /** Failed attempts without progress before the chunk (and so the job) fails. */
  retries: number;
  baseMs: number;
  capMs: number;
  retryAfterCapMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 8,
  baseMs: 1_000,
  capMs: 60_000,
  retryAfterCapMs: 5 * 60_000,
};

/** Delay before attempt number `failures + 1`, after `failures` consecutive failures (>= 1). */
export function backoffDelay(policy: RetryPolicy, failures: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * exp);
}

/**
 * Parses Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns milliseconds from `now`, capped,
 * or undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | string[] | undefined, capMs: number, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return Math.min(capMs, Math.max(0, ms));
}
