// Every job, newest first: what it is, where it goes, its state and reason, both progress bars, rates,
// ETA, retries, skipped entries, and the actions that fit its state.
import { memo } from 'react';
import { useAction, useApp, useAppState } from '../context';
import type { JobView } from '../store/model';
import { etaMs, formatBytes, formatDuration, formatRate, stateLabel } from '../store/format';
import { Bar } from './Bar';
import { ErrorDetails } from './ErrorDetails';

export function JobList() {
  const order = useAppState((s) => s.order);
  const connection = useAppState((s) => s.connection);
  if (order.length === 0) {
    return <p className="empty">{connection === 'open' ? 'No snapshots yet. Use “Add snapshot” to start one.' : 'Connecting to the engine…'}</p>;
  }
  return (
    <ul className="job-list" aria-label="Jobs">
      {order.map((id) => (
        <JobRow key={id} id={id} />
      ))}
    </ul>
  );
}

const JobRow = memo(function JobRow({ id }: { id: string }) {
  const job = useAppState((s) => s.jobs[id]);
  const selected = useAppState((s) => s.selectedJobId === id);
  const { store, api, info } = useApp();
  const run = useAction();
  if (!job) return null;
  const total = job.progress.bytesTotal ?? job.probe?.size ?? null;
  const active = job.state === 'downloading' || job.state === 'probing' || job.state === 'verifying';
  const finished = job.state === 'done' || job.state === 'failed' || job.state === 'cancelled';
  const canReveal = info?.capabilities.revealInFolder ?? false;
  const where = job.info.dest ?? job.info.output ?? '';
  return (
    <li className={`job${selected ? ' selected' : ''} state-${job.state}`} aria-current={selected ? 'true' : undefined}>
      <div className="job-head">
        <button type="button" className="job-name" title={job.info.url} onClick={() => store.getState().selectJob(id)}>
          {job.name || job.info.url || id}
        </button>
        <span className={`pill pill-${job.state}`}>{stateLabel(job)}</span>
      </div>
      <div className="job-where muted" title={where}>
        {job.host} → {where}
      </div>
      <div className="job-bars">
        <Bar label="Downloaded" value={job.progress.bytesCommitted} max={total} tone="download" />
        <Bar label="Extracted" value={job.progress.bytesConsumed} max={total} tone="extract" />
      </div>
      <JobFigures job={job} total={total} />
      {job.error && job.state !== 'done' ? <ErrorDetails error={job.error} /> : null}
      <div className="job-actions">
        {job.state === 'paused' ? (
          <button type="button" onClick={() => run('Could not resume', () => api.resumeJob({ jobId: id }))}>
            Resume
          </button>
        ) : null}
        {active ? (
          <button type="button" onClick={() => run('Could not pause', () => api.pauseJob({ jobId: id }))}>
            Pause
          </button>
        ) : null}
        {!finished ? (
          <button type="button" className="danger" onClick={() => run('Could not cancel', () => api.cancelJob({ jobId: id }))}>
            Cancel
          </button>
        ) : null}
        <button
          type="button"
          disabled={!canReveal}
          title={canReveal ? 'Show the destination in the file manager' : 'Only the desktop app can open the file manager'}
          onClick={() => run('Could not open the folder', () => api.revealInFolder({ jobId: id }))}
        >
          Reveal
        </button>
        {finished ? (
          <button type="button" onClick={() => run('Could not remove the job', () => api.removeJob({ jobId: id }))}>
            Remove
          </button>
        ) : null}
      </div>
    </li>
  );
});

function JobFigures({ job, total }: { job: JobView; total: number | null }) {
  const eta = etaMs(job);
  return (
    <dl className="figures">
      <div className="span2">
        <dt>Downloaded</dt>
        <dd>
          {formatBytes(job.progress.bytesCommitted)} / {formatBytes(total)}
        </dd>
      </div>
      <div>
        <dt>Written</dt>
        <dd>{formatBytes(job.progress.bytesWritten)}</dd>
      </div>
      <div>
        <dt>ETA</dt>
        <dd>{job.state === 'done' ? 'done' : formatDuration(eta)}</dd>
      </div>
      <div>
        <dt>Download</dt>
        <dd>{formatRate(job.progress.downloadRate)}</dd>
      </div>
      <div>
        <dt>Extraction</dt>
        <dd>{formatRate(job.progress.extractRate)}</dd>
      </div>
      <div>
        <dt>Retries</dt>
        <dd>{job.progress.retries}</dd>
      </div>
      <div>
        <dt>Skipped</dt>
        <dd title="Archive entries skipped as unsafe (warnings while running)">{job.summary ? (job.summary.skippedTotal ?? job.summary.skipped.length) : Math.max(job.skipped, job.warningCount)}</dd>
      </div>
    </dl>
  );
}
