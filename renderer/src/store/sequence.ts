// Applies a job's batches in sequence order exactly once. A batch ahead of a gap waits until the gap
// fills; a duplicate or stale batch is dropped. If too many wait (a batch was lost for good), the held
// ones are applied in order and the caller is told to fetch a full snapshot.

export interface Sequenced {
  seq: number;
}

export interface GateResult<T> {
  /** Batches to apply now, in order. */
  ready: T[];
  dropped: number;
  /** A gap could not be filled: the view may be missing changes until a full snapshot arrives. */
  resync: boolean;
}

export class SequenceGate<T extends Sequenced> {
  private last: number;
  private readonly held = new Map<number, T>();

  constructor(
    last = 0,
    private readonly maxHeld = 32,
  ) {
    this.last = last;
  }

  get lastSeq(): number {
    return this.last;
  }

  get heldCount(): number {
    return this.held.size;
  }

  offer(batch: T): GateResult<T> {
    const result: GateResult<T> = { ready: [], dropped: 0, resync: false };
    if (!Number.isFinite(batch.seq) || batch.seq <= this.last || this.held.has(batch.seq)) {
      result.dropped = 1;
      return result;
    }
    this.held.set(batch.seq, batch);
    this.drain(result.ready);
    if (this.held.size > this.maxHeld) {
      // The missing batch is not coming: skip the gap rather than freeze the view.
      const order = [...this.held.keys()].sort((a, b) => a - b);
      for (const seq of order) {
        result.ready.push(this.held.get(seq)!);
        this.held.delete(seq);
        this.last = seq;
      }
      result.resync = true;
    }
    return result;
  }

  /** A full snapshot at `seq` supersedes every batch up to it. */
  reset(seq: number): T[] {
    this.last = seq;
    for (const key of [...this.held.keys()]) if (key <= seq) this.held.delete(key);
    const ready: T[] = [];
    this.drain(ready);
    return ready;
  }

  private drain(into: T[]): void {
    for (;;) {
      const next = this.held.get(this.last + 1);
      if (!next) return;
      this.held.delete(this.last + 1);
      this.last += 1;
      into.push(next);
    }
  }
}
