// The live progress line on a terminal.
import { formatBytes } from '../engine/errors';
import type { EngineEvent } from '../engine/events';
import { formatRate } from '../engine/units';
import { RateWindow, counterEta, formatEta } from '../../shared/eta';

/** The live line on a TTY: downloaded (received and kept, as the window counts it), %, rates, ETA, window, retries. */
export class ProgressLine {
  private last: Extract<EngineEvent, { type: 'progress' }> | null = null;
  private window = '';
  private state = '';
  private readonly committedRate = new RateWindow();
  private readonly consumedRate = new RateWindow();

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(e: EngineEvent): void {
    if (e.type === 'progress') {
      this.last = e;
      this.committedRate.add(e.at, e.bytesCommitted);
      this.consumedRate.add(e.at, e.bytesConsumed);
    } else if (e.type === 'window') this.window = `window ${e.slots.filter((s) => s.chunk !== null).length}/${e.capacity}${e.waitingOn === 'extractor' ? ' (extractor busy)' : ''}`;
    else if (e.type === 'job-state') this.state = e.state === 'paused' ? `paused (${e.reason})` : e.state === 'downloading' ? '' : e.state;
    else return;
    this.render();
  }

  private render(): void {
    const p = this.last;
    if (!p) return;
    const total = p.bytesTotal;
    const pct = total ? ` (${((p.bytesCommitted / total) * 100).toFixed(1)}%)` : '';
    const eta = counterEta(total, this.committedRate.all(), this.consumedRate.all());
    const etaText = total ? `  ETA ${formatEta(eta)}` : '';
    const text = `${formatBytes(p.bytesCommitted)}${total ? ` / ${formatBytes(total)}` : ''}${pct}  ↓ ${formatRate(p.downloadRate)}  ⇣ ${formatRate(p.extractRate)}${etaText}  ${this.window}  retries ${p.retries}${this.state ? `  ${this.state}` : ''}`;
    this.out.write(`\r\x1b[2K${text.slice(0, Math.max(20, (this.out.columns || 120) - 1))}`);
  }

  end(): void {
    if (this.last) this.out.write('\n');
  }
}
