// News of a chunk for whoever waits on it (the consumer reading a chunk while it arrives): its part opened,
// bytes flushed, or staged. A waiter also wakes after a quarter second, so a missed wake costs little.
export class ChunkNews {
  private readonly waiting = new Map<number, Array<() => void>>();

  announce(index: number): void {
    const waiting = this.waiting.get(index);
    if (!waiting) return;
    this.waiting.delete(index);
    for (const wake of waiting) wake();
  }

  /** News of chunk `index`, or a quarter second, whichever comes first; rejects when `staged` rejects (the run failed). */
  changed(index: number, staged: Promise<void> | undefined): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const news = new Promise<void>((resolve) => {
      const waiting = this.waiting.get(index) ?? [];
      waiting.push(resolve);
      this.waiting.set(index, waiting);
      timer = setTimeout(resolve, 250);
    });
    return Promise.race([news, staged ?? Promise.resolve()]).finally(() => clearTimeout(timer));
  }
}
