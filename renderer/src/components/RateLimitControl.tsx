// Changes a job's rate limit while it runs (and for its later runs): applied at once on its connections.
import { useEffect, useState } from 'react';
import { useApp, useAction } from '../context';
import type { JobView } from '../store/model';
import { parseRateInput, rateText } from '../store/rate-input';

export function RateLimitControl({ job }: { job: JobView }) {
  const { api } = useApp();
  const run = useAction();
  const current = job.info.limitRate ?? null;
  const [text, setText] = useState(rateText(current));
  const [error, setError] = useState<string | null>(null);
  // A change made elsewhere (another tab, the other window) shows here too.
  useEffect(() => setText(rateText(current)), [current]);
  const parsed = parseRateInput(text);
  const apply = () => {
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setError(null);
    void run('Could not change the rate limit', () => api.setRateLimit({ jobId: job.info.id, limitRate: parsed.limitRate }));
  };
  const id = `rate-${job.info.id}`;
  return (
    <form
      className="panel rate-limit"
      aria-label="Change this job's rate limit"
      onSubmit={(e) => {
        e.preventDefault();
        apply();
      }}
    >
      <label htmlFor={id}>Limit this job (MiB/s, empty: none)</label>
      <input
        id={id}
        inputMode="decimal"
        value={text}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
        }}
      />
      <button type="submit" disabled={!('error' in parsed) && parsed.limitRate === current}>
        Apply
      </button>
      <span className="muted" role="status">
        {current ? `limited to ${rateText(current)} MiB/s` : 'no limit'}
      </span>
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
