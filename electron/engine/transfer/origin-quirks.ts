// How an origin misbehaves across the whole job, not one attempt: a CDN edge answers a Range with 200 now and
// then (a cache miss), which one retry of that range fixes; an origin that keeps doing it, with no range
// honoured in between, does not serve ranges at all, and the job goes on as one stream. A proxy that keeps
// compressing despite `Accept-Encoding: identity` will not stop either: after a few in a row the job fails.
import { EngineError } from '../errors';

/** Ranged 200s in a row (no 206 between them, over all connections) that mean "this origin ignores ranges". */
export const RANGES_IGNORED_IN_A_ROW = 4;
/** Encoded answers in a row after which retrying is pointless. */
export const ENCODED_IN_A_ROW = 3;

export class OriginQuirks {
  private ignored = 0;
  private encoded = 0;

  /** A response passed every check: the streaks start over. */
  honoured(): void {
    this.ignored = 0;
    this.encoded = 0;
  }

  /** A 200 to a Range request; true once the origin has ignored ranges often enough to give them up. */
  rangeIgnored(): boolean {
    this.ignored++;
    return this.ignored >= RANGES_IGNORED_IN_A_ROW;
  }

  /** An encoded answer; the count in a row once it is time to give up, else null. */
  encodedAnswer(): number | null {
    this.encoded++;
    return this.encoded >= ENCODED_IN_A_ROW ? this.encoded : null;
  }
}

/** Thrown through the ranged machinery to stop it: the job continues as one stream (see Job.execute). */
export class RangesAbandoned extends EngineError {
  constructor(times: number, cause: unknown) {
    super(
      'E_RANGE_IGNORED',
      `The server answered ${times} range requests in a row with the whole file (HTTP 200) although its probe offered ranges; ranges are given up and the rest is read as one stream (which cannot continue where it breaks).`,
      { cause, retryable: false, details: { times } },
    );
  }
}
