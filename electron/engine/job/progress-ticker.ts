// A running job's two timers: the progress tick (figures for the window, and the sign of a frozen process)
// and the stall watchdog's looks. Neither may keep a process alive.
import { NetworkError } from '../errors';
import type { ResolvedOptions } from './job-options';
import type { JobTransfer } from './job-transfer';
import { ProgressMeter } from './progress-meter';
import type { JobCounters, JobEventInput } from './run-context';
import { STALL_CHECK_MS } from './stall-watchdog';

export interface TickerHost {
  readonly options: ResolvedOptions;
  readonly counters: JobCounters;
  readonly transfer: JobTransfer;
  /** The file's size as probed now (null when the origin did not say). */
  size(): number | null;
  emit(event: JobEventInput): void;
  /** After each tick's progress event (the sources' counts, see job-sources.ts). */
  onTick?(): void;
}

export class ProgressTicker {
  private readonly meter = new ProgressMeter();
  private ticker: NodeJS.Timeout | null = null;
  private stallWatch: NodeJS.Timeout | null = null;

  constructor(private readonly host: TickerHost) {}

  start(): void {
    const o = this.host.options;
    this.ticker = setInterval(() => this.tick(), o.progressIntervalMs);
    this.ticker.unref();
    // The watchdog looks more often than progress is reported. A long gap between looks is a frozen process
    // (the tick's business).
    let lastLook = performance.now();
    this.stallWatch = setInterval(
      () => {
        const now = performance.now();
        if (now - lastLook < Math.max(o.idleTimeoutMs, 5_000)) this.host.transfer.ranged?.lookForStalls(now);
        lastLook = now;
      },
      Math.min(STALL_CHECK_MS, o.progressIntervalMs),
    );
    this.stallWatch.unref();
    this.meter.start(performance.now());
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    if (this.stallWatch) clearInterval(this.stallWatch);
    this.ticker = null;
    this.stallWatch = null;
  }

  tick(): void {
    const { options, counters, transfer } = this.host;
    const now = performance.now();
    const consumed = transfer.consumed;
    const frozenMs = this.meter.sample(now, counters.bytesFetched, consumed, Math.max(options.idleTimeoutMs, 5_000));
    // A tick far later than scheduled means the process was frozen (laptop sleep, SIGSTOP): connections are
    // likely dead, so tear the in-flight ranges down now rather than waiting out the idle timeout again.
    if (frozenMs > 0) {
      transfer.interrupt(new NetworkError('E_IDLE_TIMEOUT', `The process was suspended for ${Math.round(frozenMs / 1000)} s; resuming the range from its last committed byte.`));
    }
    transfer.ranged?.reportFetching();
    // Bytes received and kept: whole staged chunks and the received prefix of those still arriving (a resumed
    // range keeps its prefix), so the figure moves with the download rather than a chunk at a time.
    this.host.emit({
      type: 'progress',
      bytesTotal: this.host.size(),
      bytesFetched: counters.bytesFetched,
      bytesCommitted: transfer.committed,
      bytesConsumed: consumed,
      bytesWritten: transfer.sink.written,
      downloadRate: this.meter.rates.download,
      extractRate: this.meter.rates.extract,
      retries: counters.retries,
    });
    this.host.onTick?.();
  }
}
