// Download vs. extraction rate over the last minutes: when the download line runs above the
// extraction line the disk (or the decompressor) is the bottleneck, and the other way round.
import type { ThroughputSample } from '../store/model';
import { formatRate } from '../store/format';
import { SAMPLE_SPAN_MS } from '../store/job-reducer';

const W = 600;
const H = 120;

export function Throughput({ samples }: { samples: ThroughputSample[] }) {
  const last = samples[samples.length - 1];
  const end = last?.at ?? 0;
  // A young job fills the chart instead of hugging its right edge: at least a minute, at most the span kept.
  const span = Math.min(SAMPLE_SPAN_MS, Math.max(60_000, end - (samples[0]?.at ?? end)));
  const start = end - span;
  const highest = Math.max(0, ...samples.map((s) => Math.max(s.download, s.extract)));
  // The scale needs a non-zero top; the label says "—" until something has flowed (it read "peak 1 B/s").
  const peak = Math.max(1, highest);
  const x = (at: number) => ((at - start) / span) * W;
  const y = (v: number) => H - (v / peak) * (H - 8);
  const line = (pick: (s: ThroughputSample) => number) => samples.map((s) => `${x(s.at).toFixed(1)},${y(pick(s)).toFixed(1)}`).join(' ');
  const label = last ? `Download ${formatRate(last.download)}, extraction ${formatRate(last.extract)}, peak ${formatRate(highest)}` : 'No throughput yet';
  return (
    <section className="panel" aria-label="Throughput">
      <div className="panel-head">
        <h3>Throughput</h3>
        <ul className="legend">
          <li>
            <span className="swatch swatch-line-download" aria-hidden="true" /> download {formatRate(last?.download ?? 0)}
          </li>
          <li>
            <span className="swatch swatch-line-extract" aria-hidden="true" /> extraction {formatRate(last?.extract ?? 0)}
          </li>
          <li className="muted">
            peak {formatRate(highest)} · last {Math.round(span / 60_000)} min
          </li>
        </ul>
      </div>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={label}>
        {[0.25, 0.5, 0.75].map((f) => (
          <line key={f} className="chart-grid" x1={0} x2={W} y1={y(peak * f)} y2={y(peak * f)} />
        ))}
        {samples.length > 1 ? (
          <>
            <polyline className="chart-download" points={line((s) => s.download)} />
            <polyline className="chart-extract" points={line((s) => s.extract)} />
          </>
        ) : null}
      </svg>
    </section>
  );
}
