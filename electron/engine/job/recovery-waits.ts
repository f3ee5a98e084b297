// What a job waits out instead of failing: an origin that does not answer (paused as unreachable, probed in
// the background until it answers, unchanged) and a full disk (paused as disk-full until space is back).
// Each wait is shared: every chunk that meets the condition joins the one wait already running.
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import type { Dispatcher } from 'undici';
import { toEngineError, UpstreamChangedError, type EngineError } from '../errors';
import type { PauseReason } from '../events';
import { sleep } from '../sleep';
import { probe, type ProbeResult } from '../transfer/probe';
import { redactUrl } from '../transfer/redact';
import { identityChange } from '../transfer/response-checks';
import { backoffDelay, type RetryPolicy } from '../transfer/retry-policy';
import type { ResolvedOptions } from './job-options';
import type { JobEventInput } from './run-context';

export interface RecoveryHost {
  readonly options: ResolvedOptions;
  readonly cancelSignal: AbortSignal;
  readonly policy: RetryPolicy;
  dispatcher(): Dispatcher;
  probed(): ProbeResult;
  pausedFor(): PauseReason | null;
  pause(reason: PauseReason): void;
  resume(): void;
  emit(event: JobEventInput): void;
  /** Says that the origin did not answer and when the next try goes out. */
  connectRetry(url: string, attempt: number, e: EngineError, delayMs: number, phase: 'start' | 'unreachable'): void;
}

export class RecoveryWaits {
  private unreachableWait: Promise<void> | null = null;
  private diskWait: Promise<void> | null = null;

  constructor(private readonly host: RecoveryHost) {}

  /**
   * Connection failures past the retry budget: the job pauses as unreachable (one host down is not the
   * machine offline) and resumes by itself once the origin answers.
   */
  waitUntilReachable(cause: EngineError): Promise<void> {
    this.unreachableWait ??= this.untilReachable(cause).finally(() => {
      this.unreachableWait = null;
    });
    return this.unreachableWait;
  }

  /** ENOSPC while staging: pause as disk-full and resume by itself once a chunk's worth of space is free. */
  waitForDiskSpace(cause: EngineError): Promise<void> {
    this.diskWait ??= this.untilSpace(cause).finally(() => {
      this.diskWait = null;
    });
    return this.diskWait;
  }

  private async untilReachable(cause: EngineError): Promise<void> {
    const h = this.host;
    h.pause('unreachable');
    h.emit({ type: 'warning', code: cause.code, message: `${cause.message} Paused until the server answers; retrying it in the background.` });
    const pinned = h.probed();
    const url = pinned.finalUrl;
    const delayFor = (n: number) => Math.min(30_000, backoffDelay({ ...h.policy, capMs: 30_000 }, n) + h.options.retryBaseMs);
    h.connectRetry(url, 1, cause, delayFor(1), 'unreachable');
    for (let n = 1; h.pausedFor() === 'unreachable'; n++) {
      await sleep(delayFor(n), h.cancelSignal);
      let now: ProbeResult;
      try {
        now = await probe(url, { dispatcher: h.dispatcher(), signal: h.cancelSignal, headers: h.options.headers });
      } catch (err) {
        if (h.cancelSignal.aborted) throw err;
        if (h.pausedFor() === 'unreachable') h.connectRetry(url, n + 1, toEngineError(err), delayFor(n + 1), 'unreachable');
        continue;
      }
      const change = identityChange(pinned, now);
      if (change) {
        throw new UpstreamChangedError(
          `The file at ${redactUrl(h.options.url)} changed while the job waited for the server (${change}). Kept data was not mixed with the new file; run again with --restart.`,
          {
            details: { change },
          },
        );
      }
      if (h.pausedFor() === 'unreachable') h.resume();
    }
  }

  private async untilSpace(cause: EngineError): Promise<void> {
    const h = this.host;
    h.pause('disk-full');
    h.emit({ type: 'warning', code: cause.code, message: cause.message });
    // A download is written in place: its output's file system is the one that filled.
    const where = h.options.output ? dirname(h.options.output) : h.options.stateDir;
    while (h.pausedFor() === 'disk-full') {
      await sleep(2_000, h.cancelSignal);
      const stat = await fsp.statfs(where).catch(() => null);
      if (stat && stat.bavail * stat.bsize >= h.options.chunkSize && h.pausedFor() === 'disk-full') h.resume();
    }
  }
}
