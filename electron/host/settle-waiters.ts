// Who waits for a job's run to settle: a job reports its terminal state a moment before its run ends, and
// removing it must wait for that end (bounded: a run that never settles does not hold the caller forever).
export class SettleWaiters {
  private readonly waiters = new Map<string, Array<() => void>>();

  /** Resolves once the job's run settles, or after `ms`. */
  settledOrTimeout(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      const list = this.waiters.get(id) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.waiters.set(id, list);
    });
  }

  /** The job's run settled: its waiters go on after the settlement has been applied. */
  settled(id: string): void {
    const waiters = this.waiters.get(id) ?? [];
    this.waiters.delete(id);
    queueMicrotask(() => waiters.forEach((w) => w()));
  }
}
