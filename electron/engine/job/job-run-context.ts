// The context a job hands the runs inside it (see run-context.ts), built once the origin is probed: the
// job's connections, limiter, counters and quirks, the origin as probed now, and the waits that pause the
// job instead of failing it (an origin that does not answer, a full disk, an expired link).
import type { Dispatcher } from 'undici';
import type { EngineError } from '../errors';
import type { PauseReason } from '../events';
import type { OriginQuirks } from '../transfer/origin-quirks';
import type { ProbeResult } from '../transfer/probe';
import type { RateLimiter } from '../transfer/rate-limiter';
import type { RetryPolicy } from '../transfer/retry-policy';
import type { SourceSet } from '../transfer/sources/source-set';
import type { ResolvedOptions } from './job-options';
import { LinkWait } from './link-wait';
import type { PauseGate } from './pause-gate';
import { RecoveryWaits } from './recovery-waits';
import type { JobCounters, JobEventInput, RunContext } from './run-context';

/** Where the job reaches its file once probed; a replaced link (Job.replaceUrl) changes `probed`. */
export interface Origin {
  readonly dispatcher: Dispatcher;
  probed: ProbeResult;
}

/** What the run context is made of: the job's parts and the calls back into the job. */
export interface JobParts {
  readonly options: ResolvedOptions;
  readonly origin: Origin;
  /** The URL and its mirrors (see transfer/sources/). */
  readonly sources: SourceSet;
  readonly limiter: RateLimiter;
  readonly quirks: OriginQuirks;
  readonly policy: RetryPolicy;
  readonly counters: JobCounters;
  readonly cancelSignal: AbortSignal;
  readonly gate: PauseGate;
  pause(reason: PauseReason): void;
  resume(): void;
  emit(event: JobEventInput): void;
  connectRetry(url: string, attempt: number, e: EngineError, delayMs: number, phase: 'start' | 'unreachable'): void;
  /** The link's refresh command: the options' or the one the job's state pinned. */
  refreshCommand(): string | null;
  replaceUrl(url: string): Promise<void>;
}

export function runContextOf(p: JobParts): RunContext {
  const { options, origin, gate, counters } = p;
  const waits = new RecoveryWaits({
    options,
    cancelSignal: p.cancelSignal,
    policy: p.policy,
    dispatcher: () => origin.dispatcher,
    probed: () => origin.probed,
    pausedFor: () => gate.reason,
    pause: (reason) => p.pause(reason),
    resume: () => p.resume(),
    emit: (event) => p.emit(event),
    connectRetry: (url, attempt, e, delayMs, phase) => p.connectRetry(url, attempt, e, delayMs, phase),
  });
  const linkWait = new LinkWait({
    cancelSignal: p.cancelSignal,
    onExpiry: options.onLinkExpired,
    url: () => options.url,
    refreshCommand: () => p.refreshCommand(),
    fetched: () => counters.bytesFetched,
    pausedFor: () => gate.reason,
    pause: (reason) => p.pause(reason),
    whileRunning: () => gate.whileRunning(),
    emit: (event) => p.emit(event),
    replaceUrl: (url) => p.replaceUrl(url),
  });
  return {
    options,
    dispatcher: origin.dispatcher,
    limiter: p.limiter,
    // A getter: a replaced link reaches the ranges still to come.
    get probed() {
      return origin.probed;
    },
    quirks: p.quirks,
    sources: p.sources,
    policy: p.policy,
    counters,
    cancelSignal: p.cancelSignal,
    emit: (event) => p.emit(event),
    whileRunning: () => gate.whileRunning(),
    waitForDiskSpace: (cause) => waits.waitForDiskSpace(cause),
    waitUntilReachable: (cause) => waits.waitUntilReachable(cause),
    waitForNewLink: (cause) => linkWait.waitForNewLink(cause),
  };
}
