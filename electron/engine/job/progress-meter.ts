// Download and extraction rates from the job's counters, sampled at each progress tick, and the one thing a
// late tick tells: the process was frozen (laptop sleep, SIGSTOP).
export class ProgressMeter {
  readonly rates = { download: 0, extract: 0 };
  private last = { at: 0, fetched: 0, consumed: 0 };

  /** The first sample: rates are measured from here. */
  start(now: number): void {
    this.last = { at: now, fetched: 0, consumed: 0 };
  }

  /**
   * Takes a sample; returns how long the process was frozen when the tick came far later than `frozenAfterMs`
   * (connections are then likely dead), else 0.
   */
  sample(now: number, fetched: number, consumed: number, frozenAfterMs: number): number {
    const dt = (now - this.last.at) / 1000;
    if (dt > 0) {
      // Exponentially weighted, so one slow tick does not make the rate jump around.
      const alpha = 0.3;
      this.rates.download = alpha * ((fetched - this.last.fetched) / dt) + (1 - alpha) * this.rates.download;
      this.rates.extract = alpha * (Math.max(0, consumed - this.last.consumed) / dt) + (1 - alpha) * this.rates.extract;
    }
    const frozenMs = this.last.at > 0 && now - this.last.at > frozenAfterMs ? now - this.last.at : 0;
    this.last = { at: now, fetched, consumed };
    return frozenMs;
  }
}
