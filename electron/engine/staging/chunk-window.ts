// The ring buffer's admission control. A permit is taken BEFORE a range request is issued and given back only
// when the extractor has consumed the chunk, so a slow extractor stops new requests instead of leaving idle
// connections open, and staged disk stays at window x chunk size. A download written in place gives its
// slots back as chunks become durable, in any order ('any': a chunk takes whichever slot is free).
import type { WaitingOn, WindowSlot } from '../events';

type SlotState = WindowSlot['state'];

export class ChunkWindow {
  private readonly waiters: Array<() => void> = [];
  private readonly slots: WindowSlot[];
  /** The slot each admitted chunk holds. */
  private readonly slotOf = new Map<number, number>();

  constructor(
    readonly capacity: number,
    private readonly order: 'in-order' | 'any' = 'in-order',
  ) {
    this.slots = Array.from({ length: capacity }, (_, slot) => ({ slot, chunk: null, state: 'free' as SlotState, bytes: 0, length: 0 }));
  }

  /** Slots in use: chunks in flight, staged or being extracted. */
  get occupied(): number {
    return this.slots.filter((s) => s.chunk !== null).length;
  }

  get free(): number {
    return this.capacity - this.occupied;
  }

  /**
   * Waits for a free slot and assigns it to `chunk`. Chunks are admitted in order and at most `capacity` apart,
   * so `chunk % capacity` is always free when a permit is: the slot a chunk occupies never moves.
   */
  async acquire(chunk: number, length: number, signal?: AbortSignal): Promise<WindowSlot> {
    while (this.slotFor(chunk) === null) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal!.reason);
        };
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        if (signal?.aborted) return reject(signal.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(wake);
      });
    }
    const slot = this.slots[this.slotFor(chunk)!]!;
    Object.assign(slot, { chunk, state: 'fetching', bytes: 0, length });
    this.slotOf.set(chunk, slot.slot);
    return slot;
  }

  /** The slot `chunk` may take now, or null. */
  private slotFor(chunk: number): number | null {
    if (this.order === 'in-order') return this.slots[chunk % this.capacity]!.chunk === null ? chunk % this.capacity : null;
    return this.slots.find((s) => s.chunk === null)?.slot ?? null;
  }

  private held(chunk: number): WindowSlot | null {
    const i = this.slotOf.get(chunk);
    const slot = i === undefined ? undefined : this.slots[i];
    return slot && slot.chunk === chunk ? slot : null;
  }

  update(chunk: number, state: SlotState, bytes?: number): void {
    const slot = this.held(chunk);
    if (!slot) return;
    slot.state = state;
    if (bytes !== undefined) slot.bytes = bytes;
  }

  /** The extractor is done with `chunk`: its slot (and staging file) may be reused. */
  release(chunk: number): void {
    const slot = this.held(chunk);
    if (!slot) return;
    this.slotOf.delete(chunk);
    Object.assign(slot, { chunk: null, state: 'free', bytes: 0, length: 0 });
    for (const wake of this.waiters.splice(0)) wake();
  }

  snapshot(nextToConsume: number | null): { slots: WindowSlot[]; inFlight: number; staged: number; stagedBytes: number; waitingOn: WaitingOn } {
    const slots = this.slots.map((s) => ({ ...s }));
    const inFlight = slots.filter((s) => s.state === 'fetching').length;
    const stagedSlots = slots.filter((s) => s.state === 'staged' || s.state === 'extracting');
    const stagedBytes = slots.reduce((sum, s) => sum + (s.chunk === null ? 0 : s.bytes), 0);
    let waitingOn: WaitingOn = 'none';
    if (nextToConsume !== null) {
      const head = slots.find((s) => s.chunk === nextToConsume);
      if (head && (head.state === 'staged' || head.state === 'extracting') && this.free === 0) waitingOn = 'extractor';
      else if (!head || head.state === 'fetching') waitingOn = 'network';
    }
    return { slots, inFlight, staged: stagedSlots.length, stagedBytes, waitingOn };
  }
}
