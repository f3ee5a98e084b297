// The top bar's figure for all jobs at once: how many download and at what rate together, so an operator
// with several snapshots running sees the link's use without adding up the cards.
import { useAppState } from '../context';
import { formatRate } from '../store/format';
import { totalRate } from '../store/total-rate';

export function TotalThroughput() {
  // Two primitives, so the bar re-renders only when a figure changes.
  const running = useAppState((s) => totalRate(s.jobs).running);
  const rate = useAppState((s) => totalRate(s.jobs).bytesPerSecond);
  if (running === 0) return null;
  return (
    <span className="total-rate" role="status" aria-label="Total throughput">
      {running === 1 ? '1 job' : `${running} jobs`} downloading · {formatRate(rate)}
    </span>
  );
}
