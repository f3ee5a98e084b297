// A token bucket shared by every range of a job (--limit-rate). The bucket is small (a quarter second of
// tokens) so a burst never exceeds the limit by much and no request waits long enough to look idle.

import { sleep } from '../sleep';

export class RateLimiter {
  private tokens: number;
  private last = performance.now();
  private readonly capacity: number;

  constructor(private readonly bytesPerSecond: number) {
    this.capacity = Math.max(16 * 1024, bytesPerSecond / 4);
    this.tokens = this.capacity;
  }

  /** Resolves when `bytes` may pass. Large requests are paid in instalments, so they never wait forever. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    let owed = bytes;
    while (owed > 0) {
      this.refill();
      const pay = Math.min(owed, this.tokens);
      this.tokens -= pay;
      owed -= pay;
      if (owed <= 0) return;
      const waitMs = Math.max(1, (Math.min(owed, this.capacity) / this.bytesPerSecond) * 1000);
      await sleep(Math.min(waitMs, 250), signal);
    }
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }
}
