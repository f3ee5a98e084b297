// One range silent mid-body while other ranges received data after its last byte: that connection is stuck
// (a known failure of object stores and proxies), not the network. The watchdog replaces it, resuming from its
// last committed byte, instead of letting it hold the head of the window for the whole idle timeout. (When the
// network itself is down nobody receives anything, and the idle timeout and offline handling apply.)
//
// How long to wait depends on what the silence costs: a range that holds the job up (the extractor waits for
// it, or it is the oldest in flight and the window is full, so no range after it can start) is replaced after
// `blockingStallMs`, a few times the longest silence any connection of this job has recovered from; any other
// after `peerStallMs`, a fifth of the idle timeout.
import { NetworkError } from '../errors';
import type { TransferWatch } from '../transfer/range-fetch';

/** Bytes other ranges must receive during one range's silence before it is called stalled. */
const STALL_EVIDENCE_BYTES = 64 * 1024;
/** ... and, for the early replacement of a range that holds the job up, at least this much (or a chunk). */
const BLOCKING_STALL_EVIDENCE_BYTES = 1024 * 1024;
/** How often the watchdog looks: a range the job waits for is replaced within a tenth of a second of its threshold. */
export const STALL_CHECK_MS = 100;
/** The shortest silence that replaces a range holding the job up, at first: a quarter second. */
export const BLOCKING_STALL_FLOOR_MS = 250;

/** A range being watched, and the job's byte count when it last received something. */
export interface WatchedRange {
  watch: TransferWatch;
  fetchedThen: number;
}

/** What the watchdog needs to know of the run at each look. */
export interface StallView {
  bytesFetched: number;
  /** The chunk the consumer waits for. */
  nextToConsume: number | null;
  windowFull: boolean;
  /** Every chunk is admitted and nothing reads them in order (a download written in place): the job's end waits for the ranges in flight. */
  allAdmitted?: boolean;
  /** Tears down the range of chunk `index` with `reason` (the chunk's attempt loop retries it). */
  abort(index: number, reason: NetworkError): void;
}

export class StallWatchdog {
  private readonly watches = new Map<number, WatchedRange>();
  /** The longest silence any connection of this job recovered from (see blockingStallMs). */
  private recoveredGapMs = 0;
  /** The least silence that replaces a range holding the job up; doubles with each such replacement. */
  private blockingFloorMs = BLOCKING_STALL_FLOOR_MS;
  /** Connections replaced (in the summary: a healthy origin's gaps must leave it at 0). */
  replacements = 0;

  constructor(
    private readonly idleTimeoutMs: number,
    private readonly chunkSize: number,
  ) {}

  /** Starts watching an attempt of chunk `index`. */
  track(index: number, watch: TransferWatch, bytesFetched: number): WatchedRange {
    const watched = { watch, fetchedThen: bytesFetched };
    this.watches.set(index, watched);
    return watched;
  }

  /** The attempt ended: what it recovered from informs later thresholds. */
  untrack(index: number, watch: TransferWatch): void {
    this.recoveredGapMs = Math.max(this.recoveredGapMs, watch.longestRecoveredGapMs);
    this.watches.delete(index);
  }

  look(now: number, view: StallView): void {
    const stallMs = peerStallMs(this.idleTimeoutMs);
    if (stallMs === null || this.watches.size === 0) return;
    const oldestInFlight = Math.min(...this.watches.keys());
    const blockingEvidence = Math.min(this.chunkSize, BLOCKING_STALL_EVIDENCE_BYTES);
    for (const [index, { watch: w, fetchedThen }] of this.watches) {
      this.recoveredGapMs = Math.max(this.recoveredGapMs, w.longestRecoveredGapMs);
      if (!w.receiving || !w.awaitingNetwork) continue;
      const silentMs = now - w.waitingSince;
      const othersSince = view.bytesFetched - fetchedThen;
      // Holding the job up, with the others having moved a chunk's worth (1 MiB at most) meanwhile: the link
      // works, this connection does not.
      const blocking = (index === view.nextToConsume || ((view.windowFull || view.allAdmitted === true) && index === oldestInFlight)) && othersSince >= blockingEvidence;
      // Other connections silent mid-body right now are evidence of a paced origin (nginx's limit_rate sends a
      // burst a second; the connections drift out of phase): their silences so far count like recovered ones.
      const pacedGapMs = Math.max(this.recoveredGapMs, othersSilentMs(this.watches, index, now));
      const thresholdMs = blocking ? blockingStallMs(stallMs, pacedGapMs, this.blockingFloorMs) : stallMs;
      if (silentMs < thresholdMs || othersSince < STALL_EVIDENCE_BYTES) continue;
      // Each early replacement doubles the next one's floor, so a link whose pauses are normal but rare
      // costs a few reconnects, never a stream of them.
      if (blocking && thresholdMs < stallMs) this.blockingFloorMs = Math.min(stallMs, this.blockingFloorMs * 2);
      w.awaitingNetwork = false; // once per attempt
      this.replacements++;
      view.abort(
        index,
        new NetworkError(
          'E_STALLED',
          `No data for ${(silentMs / 1000).toFixed(1)} s on chunk ${index}'s connection while other connections received ${othersSince} bytes${blocking ? ' and the job waited for it' : ''}; it is replaced by a new one that resumes from the last committed byte.`,
          { details: { silentMs: Math.round(silentMs), thresholdMs: Math.round(thresholdMs), othersReceived: othersSince, blocking } },
        ),
      );
    }
  }
}

/**
 * Silence after which one range is called stalled while others flow: a fifth of the idle timeout, 2 s at
 * least; null (no watchdog) when that would not come before the idle timeout itself.
 */
export function peerStallMs(idleTimeoutMs: number): number | null {
  const ms = Math.max(2_000, idleTimeoutMs / 5);
  return ms < idleTimeoutMs ? ms : null;
}

/** The longest silence in progress mid-body on any connection other than `index`'s. */
export function othersSilentMs(watches: ReadonlyMap<number, { watch: TransferWatch }>, index: number, now: number): number {
  let longest = 0;
  for (const [i, { watch: w }] of watches) {
    if (i !== index && w.receiving && w.awaitingNetwork) longest = Math.max(longest, now - w.waitingSince);
  }
  return longest;
}

/**
 * Silence after which a range that holds the job up is replaced: three times the longest silence a connection
 * of this job has recovered from (so a link with long but normal pauses is not cut), at least `floorMs`,
 * at most the ordinary `peerStallMs`.
 */
export function blockingStallMs(peerStall: number, recoveredGapMs: number, floorMs = BLOCKING_STALL_FLOOR_MS): number {
  return Math.min(peerStall, Math.max(floorMs, 3 * recoveredGapMs));
}
