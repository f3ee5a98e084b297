// Folds a stream of engine events into batches: a chunk, progress, window or sources event supersedes the
// queued one with the same key (only the latest state matters), every other event is kept. The order
// of what survives is the order of emission, so a consumer that applies a batch in order ends in the
// same state as one that saw every event.
import type { EngineEvent } from '../events';

function supersedeKey(e: EngineEvent): string | null {
  switch (e.type) {
    case 'chunk':
      return `${e.jobId}\u0000c${e.index}`;
    case 'progress':
      return `${e.jobId}\u0000p`;
    case 'window':
      return `${e.jobId}\u0000w`;
    case 'sources':
      return `${e.jobId}\u0000s`;
    default:
      return null;
  }
}

export class EventFolder {
  private queue: Array<EngineEvent | null> = [];
  private slotOf = new Map<string, number>();
  private live = 0;

  get size(): number {
    return this.live;
  }

  push(e: EngineEvent): void {
    const key = supersedeKey(e);
    if (key !== null) {
      const previous = this.slotOf.get(key);
      if (previous !== undefined) {
        this.queue[previous] = null;
        this.live--;
      }
      this.slotOf.set(key, this.queue.length);
    }
    this.queue.push(e);
    this.live++;
  }

  take(): EngineEvent[] {
    const out = this.queue.filter((e): e is EngineEvent => e !== null);
    this.queue = [];
    this.slotOf.clear();
    this.live = 0;
    return out;
  }
}
