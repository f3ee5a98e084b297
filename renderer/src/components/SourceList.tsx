// The URL and its mirrors of a job that has mirrors: each host with the bytes it served and its state, so a
// dying or wrong mirror is seen as benched or dropped, with the reason.
import type { JobView } from '../store/model';
import { sourceRows } from '../store/source-rows';
import { useNow } from './use-now';

export function SourceList({ job }: { job: JobView }) {
  const now = useNow(1000);
  if (job.sources.length < 2) return null;
  const rows = sourceRows(job.sources, now);
  return (
    <section className="panel sources" aria-label="Sources">
      <div className="panel-head">
        <h3>Sources</h3>
      </div>
      <ul className="source-list" data-testid="job-sources">
        {rows.map((r) => (
          <li key={r.key} className={`source source-${r.state}`} title={r.reason ?? undefined}>
            <span className="source-role muted">{r.role}</span> <span className="source-host">{r.host}</span> <span className="source-bytes">{r.bytes}</span>{' '}
            <span className="source-state">{r.stateText}</span>
            <span className="source-detail muted"> · {r.detail}</span>
            {r.reason ? <p className="source-reason muted">{r.reason}</p> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
