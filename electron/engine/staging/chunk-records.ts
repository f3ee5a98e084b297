// What the engine remembers of each chunk it has touched: state, committed bytes, and the last attempts (for
// the inspector). Chunks that completed without a failure are forgotten, so 100,000-chunk jobs stay small.
import type { AttemptRecord, ChunkState } from '../events';

export const ATTEMPT_HISTORY = 20;

export interface ChunkRecord {
  index: number;
  start: number;
  length: number;
  state: ChunkState;
  bytes: number;
  attempts: AttemptRecord[];
  attemptCount: number;
  nextRetryAt: number | null;
  /** Ends a retry wait early ("Retry now"). */
  wake: (() => void) | null;
}

export class ChunkRecords {
  private readonly records = new Map<number, ChunkRecord>();

  constructor(
    private readonly chunkSize: number,
    private readonly size: number,
  ) {}

  get(index: number): ChunkRecord {
    let rec = this.records.get(index);
    if (!rec) {
      const start = index * this.chunkSize;
      rec = {
        index,
        start,
        length: Math.min(this.chunkSize, this.size - start),
        state: 'pending',
        bytes: 0,
        attempts: [],
        attemptCount: 0,
        nextRetryAt: null,
        wake: null,
      };
      this.records.set(index, rec);
    }
    return rec;
  }

  peek(index: number): ChunkRecord | undefined {
    return this.records.get(index);
  }

  addAttempt(index: number, attempt: AttemptRecord): void {
    const rec = this.get(index);
    rec.attempts.push(attempt);
    if (rec.attempts.length > ATTEMPT_HISTORY) rec.attempts.splice(0, rec.attempts.length - ATTEMPT_HISTORY);
  }

  /** A consumed chunk keeps its record only if something went wrong with it. */
  settle(index: number): void {
    const rec = this.records.get(index);
    if (rec && rec.attempts.every((a) => a.error === null)) this.records.delete(index);
  }

  active(): ChunkRecord[] {
    return [...this.records.values()];
  }

  /** Bytes the window holds for good: whole chunks staged or being read, the received prefix of those arriving. */
  bytesInWindow(): number {
    let n = 0;
    for (const r of this.records.values()) {
      if (r.state === 'staged' || r.state === 'extracting') n += r.length;
      else if (r.state === 'fetching' || r.state === 'retrying') n += r.bytes;
    }
    return n;
  }
}
