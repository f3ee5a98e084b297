// What a run inside a job (the ranged run) gets from its job: the options, the connections, the origin as
// probed, the job's counters and waits, and the way to report. The run owns its own state; the job owns
// pause, cancel and the lifetime of everything here.
import type { Dispatcher } from 'undici';
import type { EngineError } from '../errors';
import type { EngineEvent } from '../events';
import type { OriginQuirks } from '../transfer/origin-quirks';
import type { ProbeResult } from '../transfer/probe';
import type { RateLimiter } from '../transfer/rate-limiter';
import type { RetryPolicy } from '../transfer/retry-policy';
import type { SourceSet } from '../transfer/sources/source-set';
import type { ResolvedOptions } from './job-options';

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as a job's parts report it; the job adds its id and the time. */
export type JobEventInput = DistributiveOmit<EngineEvent, 'jobId' | 'at'>;

/** The reason given to an in-flight attempt's AbortController when the job pauses: not a failure. */
export const PAUSE = Symbol('pause');

/** Counted across the job's runs (ranged, then perhaps one stream). */
export interface JobCounters {
  bytesFetched: number;
  retries: number;
}

export interface RunContext {
  readonly options: ResolvedOptions;
  readonly dispatcher: Dispatcher;
  readonly limiter: RateLimiter | null;
  /** The origin as probed; a replaced link (Job.replaceUrl) changes it while the run goes on. */
  readonly probed: ProbeResult;
  readonly quirks: OriginQuirks;
  /** The URL and its mirrors: which one each range goes to (see transfer/sources/). */
  readonly sources: SourceSet;
  readonly policy: RetryPolicy;
  readonly counters: JobCounters;
  readonly cancelSignal: AbortSignal;
  emit(event: JobEventInput): void;
  /** Returns at once while running; waits while paused; throws when cancelled. */
  whileRunning(): Promise<void>;
  /** ENOSPC: pauses as disk-full until space is back. */
  waitForDiskSpace(cause: EngineError): Promise<void>;
  /** Connection failures past the retry budget: pauses until the origin answers again. */
  waitUntilReachable(cause: EngineError): Promise<void>;
  /** A link refused after the probe (401/403): pauses as link-expired until a fresh link is in (see link-wait.ts). */
  waitForNewLink(cause: EngineError): Promise<void>;
}
