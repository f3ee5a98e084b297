// Every chunk of a job as one byte of state plus one byte of fetch fill, so a 100,000-chunk job costs
// ~200 KB and a batch touches only the cells it names. The canvas drains the dirty list once per frame.
import type { ChunkState } from './model';

export const CHUNK_STATES: readonly ChunkState[] = ['pending', 'fetching', 'staged', 'extracting', 'done', 'retrying', 'failed'];
export const STATE_CODE: Readonly<Record<ChunkState, number>> = {
  pending: 0,
  fetching: 1,
  staged: 2,
  extracting: 3,
  done: 4,
  retrying: 5,
  failed: 6,
};

export class ChunkGrid {
  count: number;
  states: Uint8Array;
  /** Fraction of the chunk held (0..255), meaningful while fetching or retrying. */
  fill: Uint8Array;
  /** How many chunks are in each state, indexed by state code. */
  readonly tally: number[];
  private marks: Uint8Array;
  private dirty: number[] = [];
  private allDirty = true;

  constructor(count: number) {
    this.count = count;
    this.states = new Uint8Array(count);
    this.fill = new Uint8Array(count);
    this.marks = new Uint8Array(count);
    this.tally = CHUNK_STATES.map((_, code) => (code === 0 ? count : 0));
  }

  stateOf(index: number): ChunkState {
    return CHUNK_STATES[this.states[index] ?? 0] ?? 'pending';
  }

  /** Grows the grid (a chunk event can name a chunk past a size the probe could not know). */
  ensure(count: number): void {
    if (count <= this.count) return;
    const grow = <T extends Uint8Array>(old: T): Uint8Array => {
      const next = new Uint8Array(count);
      next.set(old);
      return next;
    };
    this.states = grow(this.states);
    this.fill = grow(this.fill);
    this.marks = grow(this.marks);
    this.tally[0] = (this.tally[0] ?? 0) + (count - this.count);
    this.count = count;
    this.allDirty = true;
  }

  /** Returns whether the cell changed as it is drawn (state or visible fill). */
  set(index: number, state: ChunkState, bytes: number, length: number): boolean {
    if (!Number.isInteger(index) || index < 0) return false;
    if (index >= this.count) this.ensure(index + 1);
    const code = STATE_CODE[state];
    const fill = length > 0 ? Math.max(0, Math.min(255, Math.round((bytes / length) * 255))) : 0;
    const oldCode = this.states[index]!;
    if (oldCode === code && this.fill[index] === fill) return false;
    if (oldCode !== code) {
      this.tally[oldCode]!--;
      this.tally[code]!++;
      this.states[index] = code;
    }
    this.fill[index] = fill;
    this.markDirty(index);
    return true;
  }

  /** Marks everything done at once (a finished job need not list 100,000 chunks). */
  setAll(state: ChunkState): void {
    const code = STATE_CODE[state];
    this.states.fill(code);
    this.fill.fill(state === 'done' ? 255 : 0);
    for (let i = 0; i < this.tally.length; i++) this.tally[i] = i === code ? this.count : 0;
    this.allDirty = true;
  }

  private markDirty(index: number): void {
    if (this.allDirty || this.marks[index]) return;
    this.marks[index] = 1;
    this.dirty.push(index);
  }

  /** Cells changed since the last drain, or 'all' when the whole map must be drawn again. */
  drainDirty(): number[] | 'all' {
    if (this.allDirty) {
      this.allDirty = false;
      for (const i of this.dirty) this.marks[i] = 0;
      this.dirty = [];
      return 'all';
    }
    const out = this.dirty;
    for (const i of out) this.marks[i] = 0;
    this.dirty = [];
    return out;
  }

  invalidate(): void {
    this.allDirty = true;
  }
}
