// Skipped and altered archive members, bounded: a count per code and the first SAMPLE_LIMIT members. An
// archive of millions of devices or FIFOs (each skipped) once kept every one in memory, in every checkpoint
// and in the `done` line (2 million: 1.9 GiB RSS, 224 MB checkpoints). Each member is still reported as it
// happens (a warning event); only the record kept afterwards is bounded.
import type { SkippedEntry } from './extract-types';

export const SAMPLE_LIMIT = 1_000;

export class EntryTally {
  readonly sample: SkippedEntry[] = [];
  private readonly counts = new Map<string, number>();
  private _total = 0;

  constructor(private readonly limit = SAMPLE_LIMIT) {}

  get total(): number {
    return this._total;
  }

  add(entry: SkippedEntry): void {
    this._total++;
    this.counts.set(entry.code, (this.counts.get(entry.code) ?? 0) + 1);
    if (this.sample.length < this.limit) this.sample.push(entry);
  }

  /** Counts per code, as plain data (a checkpoint, a summary). */
  byCode(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /**
   * Continues a tally saved with a checkpoint. A checkpoint written before counts were kept holds every
   * member in its list: the counts are then taken from that list.
   */
  restore(sample: SkippedEntry[], counts: Record<string, number> | undefined): void {
    if (counts && typeof counts === 'object') {
      for (const [code, n] of Object.entries(counts)) {
        if (Number.isSafeInteger(n) && n > 0) {
          this.counts.set(code, n);
          this._total += n;
        }
      }
      for (const e of sample) if (this.sample.length < this.limit) this.sample.push(e);
      return;
    }
    for (const e of sample) this.add(e);
  }
}
