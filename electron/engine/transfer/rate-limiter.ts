// A token bucket shared by every range of a job (--limit-rate). The bucket is small (a quarter second of
// tokens) so a burst never exceeds the limit by much and no request waits long enough to look idle.
// The rate can change while the job runs (null: unlimited); a waiting range sees the new rate within 250 ms.

import { sleep } from '../sleep';

export class RateLimiter {
  private tokens = 0;
  private last = performance.now();
  private capacity = 0;
  private bytesPerSecond: number | null = null;

  constructor(bytesPerSecond: number | null) {
    this.setRate(bytesPerSecond);
  }

  get rate(): number | null {
    return this.bytesPerSecond;
  }

  setRate(bytesPerSecond: number | null): void {
    this.refill();
    this.bytesPerSecond = bytesPerSecond !== null && bytesPerSecond > 0 ? bytesPerSecond : null;
    this.capacity = this.bytesPerSecond === null ? 0 : Math.max(16 * 1024, this.bytesPerSecond / 4);
    // A new limit starts from a full bucket of its own size: no burst beyond it, no debt from the old one.
    this.tokens = this.capacity;
  }

  /** Resolves when `bytes` may pass. Large requests are paid in instalments, so they never wait forever. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    let owed = bytes;
    while (owed > 0) {
      const rate = this.bytesPerSecond;
      if (rate === null) return;
      this.refill();
      const pay = Math.min(owed, this.tokens);
      this.tokens -= pay;
      owed -= pay;
      if (owed <= 0) return;
      const waitMs = Math.max(1, (Math.min(owed, this.capacity) / rate) * 1000);
      await sleep(Math.min(waitMs, 250), signal);
    }
  }

  private refill(): void {
    const now = performance.now();
    if (this.bytesPerSecond !== null) this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }
}
