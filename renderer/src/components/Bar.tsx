// A thin labelled progress bar (role=progressbar so it is announced and testable).
export function Bar({ label, value, max, tone }: { label: string; value: number; max: number | null; tone: 'download' | 'extract' }) {
  const known = max !== null && max > 0;
  const ratio = known ? Math.min(1, Math.max(0, value / max)) : 0;
  return (
    <div
      className={`bar bar-${tone}${known ? '' : ' bar-unknown'}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={known ? Math.round(ratio * 100) : undefined}
    >
      <div className="bar-fill" style={{ width: `${(ratio * 100).toFixed(2)}%` }} />
    </div>
  );
}
