// The first contact with the origin: the probe, retried with backoff while it fails in a retryable way, each
// failure said as it happens (the host, the reason, the next try), never a silent wait.
import type { Dispatcher } from 'undici';
import { HttpStatusError, toEngineError, type EngineError } from '../errors';
import { sleep } from '../sleep';
import { connectReason } from '../transfer/connect-reason';
import type { HeaderSet } from '../transfer/origin-headers';
import { probe, type ProbeResult } from '../transfer/probe';
import { backoffDelay, type RetryPolicy } from '../transfer/retry-policy';
import type { JobEventInput } from './run-context';

export async function probeWithRetries(p: {
  url: string;
  headers: HeaderSet | null;
  dispatcher: Dispatcher;
  signal: AbortSignal;
  retries: number;
  policy: RetryPolicy;
  whileRunning: () => Promise<void>;
  onRetry: (attempt: number, e: EngineError, delayMs: number) => void;
}): Promise<ProbeResult> {
  for (let failures = 1; ; failures++) {
    await p.whileRunning();
    try {
      return await probe(p.url, { dispatcher: p.dispatcher, signal: p.signal, headers: p.headers });
    } catch (err) {
      const e = toEngineError(err);
      if (p.signal.aborted || !e.retryable || failures > p.retries) throw e;
      const delay = e instanceof HttpStatusError && e.retryAfterMs !== undefined ? e.retryAfterMs : backoffDelay(p.policy, failures);
      p.onRetry(failures, e, delay);
      await sleep(delay, p.signal);
    }
  }
}

/** The event that says the origin did not answer, naming its host, and when the next try goes out. */
export function connectRetryEvent(url: string, attempt: number, e: EngineError, delayMs: number, phase: 'start' | 'unreachable'): JobEventInput {
  let host = '';
  try {
    host = new URL(url).host;
  } catch {
    // validated before the job starts
  }
  return { type: 'connect-retry', host, attempt, code: e.code, reason: connectReason(e), delayMs, nextAt: Date.now() + delayMs, phase };
}
