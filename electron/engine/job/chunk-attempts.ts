// A chunk's attempts: each asks for the range from the part's last committed byte, and a failure is retried
// with backoff and jitter (Retry-After honoured), waited out (disk full, origin unreachable) or turned into
// the reason the job stops. Every attempt is recorded once: in the chunk's history, as an event, in the journal.
import { EngineError, HttpStatusError, serializeError, toEngineError, UpstreamChangedError, UsageError, type ErrorCode } from '../errors';
import type { AttemptRecord, ChunkState } from '../events';
import { wakeableDelay } from '../sleep';
import type { ChunkRecord, ChunkRecords } from '../staging/chunk-records';
import type { Journal } from '../staging/journal';
import type { ChunkPart } from '../staging/chunk-part';
import { RANGES_IGNORED_IN_A_ROW, RangesAbandoned } from '../transfer/origin-quirks';
import { attemptInfo, fetchRange, type TransferWatch } from '../transfer/range-fetch';
import { encodingRefused } from '../transfer/response-checks';
import { isLinkRefusal } from '../transfer/link-refusal';
import { backoffDelay } from '../transfer/retry-policy';
import { PAUSE, type RunContext } from './run-context';
import type { StallWatchdog } from './stall-watchdog';
import { newTrack, noteAttempt, routeFailure, sourceForAttempt } from './source-attempts';
import type { PartGuard } from './part-guard';

/** What the attempts need of their run. */
export interface AttemptHost {
  readonly ctx: RunContext;
  readonly records: ChunkRecords;
  readonly watchdog: StallWatchdog;
  /** The attempts in flight, by chunk: the run aborts them on pause, failure or a stall. */
  readonly inflight: Map<number, AbortController>;
  journal(): Journal | null;
  /** Why the run stopped, if it has. */
  failure(): EngineError | null;
  whileRunning(): Promise<void>;
  setChunk(rec: ChunkRecord, state: ChunkState): void;
  /** The first range whose Content-Range gave no total asks for the HEAD size to be confirmed. */
  confirmSizeOnce(): void;
  /** Which chunks the consumer may read while they arrive, given their sources (see part-guard.ts). */
  readonly guard: PartGuard;
}

/** Attempts at a chunk's range until its part holds every byte: retries with backoff, waits, and the reasons to give up. */
export async function fetchUntilComplete(host: AttemptHost, rec: ChunkRecord, part: ChunkPart): Promise<void> {
  const o = host.ctx.options;
  const index = rec.index;
  const end = rec.start + rec.length - 1;
  let failures = 0;
  const sources = host.ctx.sources;
  const track = newTrack(sources, part);
  for (;;) {
    // Bytes gathered by the last attempt go to disk first: the next range starts right after them.
    try {
      await part.flush();
    } catch (err) {
      const e = toEngineError(err, 'E_IO');
      if (e.code !== 'E_DISK_FULL') throw e;
      await host.ctx.waitForDiskSpace(e);
      continue;
    }
    if (part.committed >= rec.length) return;
    if (host.failure()) throw host.failure();
    await host.whileRunning();
    const source = await sourceForAttempt(sources, rec, part, track, host.guard);
    const target = sources.target(source);
    const controller = new AbortController();
    host.inflight.set(index, controller);
    const watch: TransferWatch = { awaitingNetwork: true, receiving: false, waitingSince: performance.now(), longestRecoveredGapMs: 0 };
    const watched = host.watchdog.track(index, watch, host.ctx.counters.bytesFetched);
    rec.attemptCount++;
    const attempt = rec.attemptCount;
    const startedAt = Date.now();
    const from = rec.start + part.committed;
    const before = part.committed;
    const recordAttempt = (status: number | null, bytes: number, error: AttemptRecord['error']): AttemptRecord => {
      const a: AttemptRecord = { attempt, startedAt, durationMs: Date.now() - startedAt, rangeStart: from, rangeEnd: end, status, bytes, error };
      host.records.addAttempt(index, a);
      return a;
    };
    host.setChunk(rec, 'fetching');
    host.ctx.emit({ type: 'attempt-started', index, attempt, rangeStart: from, rangeEnd: end });
    sources.started(source);
    try {
      const result = await fetchRange({
        dispatcher: host.ctx.dispatcher,
        url: target.url,
        start: rec.start,
        end,
        pinned: target.pinned,
        onAccepted: ({ totalKnown }) => {
          if (source.role === 'primary') host.ctx.quirks.honoured();
          if (!totalKnown) host.confirmSizeOnce();
        },
        headers: o.headers,
        sink: part,
        signal: controller.signal,
        ...(host.ctx.limiter ? { limiter: host.ctx.limiter } : {}),
        retryAfterCapMs: o.retryAfterCapMs,
        watch,
        onBytes: (n) => {
          host.ctx.counters.bytesFetched += n;
          watched.fetchedThen = host.ctx.counters.bytesFetched;
          rec.bytes = part.committed;
          sources.received(source, n);
        },
      });
      recordAttempt(result.status, result.bytes, null);
      sources.succeeded(source, result.bytes, Date.now() - startedAt);
    } catch (err) {
      if (host.failure() || host.ctx.cancelSignal.aborted) throw host.failure() ?? host.ctx.cancelSignal.reason;
      rec.bytes = part.committed;
      if (controller.signal.reason === PAUSE) {
        rec.attemptCount--; // a pause is not a failed attempt
        continue;
      }
      const info = attemptInfo(err);
      const e = toEngineError(err);
      const serialized = serializeError(e);
      const record = recordAttempt(info.status, info.bytes, serialized);
      host.ctx.emit({ type: 'attempt-failed', index, attempt, status: info.status, bytes: info.bytes, durationMs: record.durationMs, error: serialized });
      // History is a convenience: a full disk must not turn into a second failure.
      await host
        .journal()
        ?.append({ t: 'attempt', index, attempt: record })
        .catch(() => undefined);
      if (e.code === 'E_DISK_FULL') {
        await host.ctx.waitForDiskSpace(e);
        continue;
      }
      // Another source can take the range at once; a mirror's failure is never the primary's link or quirks.
      // The switch counts as a failure of the chunk too: a range that fails on every source still runs out.
      const route = routeFailure(sources, source, e, track);
      const failedInRow = part.committed > before ? 1 : failures + 1;
      if (route === 'switch' && failedInRow <= o.retries) {
        failures = failedInRow;
        host.ctx.counters.retries++;
        host.setChunk(rec, 'retrying');
        host.ctx.emit({ type: 'retry-scheduled', index, attempt: attempt + 1, delayMs: 0, nextAt: Date.now(), reason: e.code });
        continue;
      }
      if (route === 'primary' && e instanceof HttpStatusError && isLinkRefusal(e.status)) {
        // The link worked at the probe and is refused now: it expired. Paused for a fresh one, nothing lost.
        await host.ctx.waitForNewLink(e);
        failures = 0;
        continue;
      }
      if (route === 'primary' && e.code === 'E_RANGE_IGNORED' && host.ctx.quirks.rangeIgnored()) throw new RangesAbandoned(RANGES_IGNORED_IN_A_ROW, e);
      if (route === 'primary' && e.code === 'E_CONTENT_ENCODING' && e.retryable) {
        const times = host.ctx.quirks.encodedAnswer();
        if (times !== null) {
          host.setChunk(rec, 'failed');
          throw encodingRefused(e, times);
        }
      }
      if (route === 'primary' && !e.retryable) {
        host.setChunk(rec, 'failed');
        throw chunkFailure(e, index, rec.start, rec.length);
      }
      // An attempt that committed bytes made progress: the backoff starts over, and the first try after it
      // goes out at once (a connection broke or stuck, the origin was answering); only failures without
      // progress back off.
      const progressed = part.committed > before;
      failures = progressed ? 1 : failures + 1;
      if (failures > o.retries) {
        if (e.code === 'E_CONNECT') {
          await host.ctx.waitUntilReachable(e);
          failures = 0;
          continue;
        }
        host.setChunk(rec, 'failed');
        throw new EngineError(
          'E_RETRIES_EXHAUSTED',
          `Chunk ${index} (bytes ${rec.start}-${end}) failed ${failures} times in a row; giving up. Its ${part.committed} committed bytes are kept: run the job again to resume.`,
          { cause: e, retryable: false, details: { chunk: index, attempts: rec.attemptCount } },
        );
      }
      const delayMs = e instanceof HttpStatusError && e.retryAfterMs !== undefined ? e.retryAfterMs : progressed ? 0 : backoffDelay(host.ctx.policy, failures);
      host.ctx.counters.retries++;
      rec.nextRetryAt = Date.now() + delayMs;
      host.setChunk(rec, 'retrying');
      host.ctx.emit({ type: 'retry-scheduled', index, attempt: attempt + 1, delayMs, nextAt: rec.nextRetryAt, reason: e.code });
      await retryDelay(host.ctx.cancelSignal, rec, delayMs);
      rec.nextRetryAt = null;
    } finally {
      sources.ended(source);
      noteAttempt(track, part, source);
      host.watchdog.untrack(index, watch);
      host.inflight.delete(index);
    }
  }
}

/** Waits out a retry delay that "Retry now" (rec.wake) can end early. */
async function retryDelay(signal: AbortSignal, rec: ChunkRecord, ms: number): Promise<void> {
  const delay = wakeableDelay(ms, signal);
  rec.wake = delay.wake;
  await delay.ended;
  rec.wake = null;
}

/** A chunk's permanent failure, naming the chunk (an upstream change or a usage error is the job's, as is). */
function chunkFailure(e: EngineError, index: number, start: number, length: number): EngineError {
  if (e instanceof UpstreamChangedError || e instanceof UsageError) return e;
  const code: ErrorCode = e.code;
  return new EngineError(code, `Chunk ${index} (bytes ${start}-${start + length - 1}): ${e.message}`, {
    cause: e,
    retryable: false,
    details: { ...e.details, chunk: index },
  });
}
