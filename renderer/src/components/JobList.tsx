// Every job, newest first: what it is, where it goes, its state and reason, both progress bars, rates,
// ETA, retries, skipped entries, and the actions that fit its state (each named after its job).
import { memo, useState } from 'react';
import { useAction, useApp, useAppState } from '../context';
import type { JobView } from '../store/model';
import { connectingLine, etaMs, formatBytes, formatEta, formatRate, skippedCount, stateLabel } from '../store/format';
import { useNow } from './use-now';
import { isDownloadOnly, jobActions } from '../store/job-actions';
import { Bar } from './Bar';
import { ErrorDetails } from './ErrorDetails';

export function JobList() {
  const order = useAppState((s) => s.order);
  const connection = useAppState((s) => s.connection);
  if (order.length === 0) {
    return <p className="empty">{connection === 'open' ? 'No snapshots yet. Use “Add snapshot” to start one.' : 'Connecting to the engine…'}</p>;
  }
  return (
    <>
      <ClearFinished />
      <ul className={`job-list${connection === 'open' ? '' : ' stale'}`} aria-label="Jobs">
        {order.map((id) => (
          <JobRow key={id} id={id} />
        ))}
      </ul>
    </>
  );
}

/** Finished jobs pile up: one button takes the done and cancelled ones off the list (their files stay). */
function ClearFinished() {
  const { api } = useApp();
  const run = useAction();
  const finished = useAppState((s) => s.order.filter((id) => s.jobs[id]?.state === 'done' || s.jobs[id]?.state === 'cancelled').join(','));
  const ids = finished ? finished.split(',') : [];
  if (ids.length < 2) return null;
  return (
    <div className="list-actions">
      <button
        type="button"
        title="Remove the finished and cancelled jobs from the list; their files stay where they are"
        onClick={() => run('Could not remove the finished jobs', () => Promise.all(ids.map((jobId) => api.removeJob({ jobId }))))}
      >
        Remove finished ({ids.length})
      </button>
    </div>
  );
}

const JobRow = memo(function JobRow({ id }: { id: string }) {
  const job = useAppState((s) => s.jobs[id]);
  const selected = useAppState((s) => s.selectedJobId === id);
  const { store, api, info } = useApp();
  const run = useAction();
  const [confirmCancel, setConfirmCancel] = useState(false);
  if (!job) return null;
  const total = job.progress.bytesTotal ?? job.probe?.size ?? null;
  const actions = jobActions(job);
  const downloadOnly = isDownloadOnly(job);
  const canReveal = info?.capabilities.revealInFolder ?? false;
  const where = job.info.dest ?? job.info.output ?? '';
  const name = job.name || job.info.url || id;
  const cancel = (deleteFiles: boolean) => {
    setConfirmCancel(false);
    void run('Could not cancel', () => api.cancelJob({ jobId: id, ...(deleteFiles ? { deleteFiles: true } : {}) }));
  };
  return (
    <li className={`job${selected ? ' selected' : ''} state-${job.state}`} aria-current={selected ? 'true' : undefined}>
      <div className="job-head">
        <button type="button" className="job-name" title={job.info.url} onClick={() => store.getState().selectJob(id)}>
          {name}
        </button>
        <span className={`pill pill-${job.state}`}>{stateLabel(job)}</span>
      </div>
      <div className="job-where muted" title={where}>
        {job.host} → {where}
      </div>
      {job.connecting ? <ConnectingNote job={job} /> : null}
      <div className="job-bars">
        <Bar label="Downloaded" value={job.progress.bytesCommitted} max={total} tone="download" />
        {downloadOnly ? null : <Bar label="Extracted" value={job.progress.bytesConsumed} max={total} tone="extract" />}
      </div>
      <JobFigures job={job} total={total} downloadOnly={downloadOnly} />
      {job.error && job.state !== 'done' && job.state !== 'cancelled' ? <ErrorDetails error={job.error} /> : null}
      {confirmCancel ? (
        <div className="confirm" role="group" aria-label={`Cancel ${name}?`}>
          <p>
            Cancel <strong>{name}</strong>? Its staged chunks are deleted; it cannot be resumed.
          </p>
          <div className="job-actions">
            <button type="button" className="danger" onClick={() => cancel(false)}>
              Cancel and keep the files
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => cancel(true)}
              title={downloadOnly ? 'Delete the partial output file' : 'Delete what was extracted (only if the folder was empty when the job started)'}
            >
              Cancel and delete the {downloadOnly ? 'partial file' : 'extracted files'}
            </button>
            <button type="button" autoFocus onClick={() => setConfirmCancel(false)}>
              Keep the job
            </button>
          </div>
        </div>
      ) : null}
      <div className="job-actions">
        {actions.resume ? (
          <button type="button" aria-label={`Resume ${name}`} onClick={() => run('Could not resume', () => api.resumeJob({ jobId: id }))}>
            Resume
          </button>
        ) : null}
        {actions.pause ? (
          <button type="button" aria-label={`Pause ${name}`} onClick={() => run('Could not pause', () => api.pauseJob({ jobId: id }))}>
            Pause
          </button>
        ) : null}
        <button
          type="button"
          aria-label={`Reveal ${name}`}
          disabled={!canReveal}
          title={canReveal ? 'Show the destination in the file manager' : 'Only the desktop app can open the file manager'}
          onClick={() => run('Could not open the folder', () => api.revealInFolder({ jobId: id }))}
        >
          Reveal
        </button>
        {actions.cancel && !confirmCancel ? (
          <button type="button" className="danger cancel" aria-label={`Cancel ${name}`} onClick={() => setConfirmCancel(true)}>
            Cancel…
          </button>
        ) : null}
        {actions.remove ? (
          <button
            type="button"
            aria-label={`Remove ${name}`}
            title="Remove from the list; the downloaded or extracted files stay where they are"
            onClick={() => run('Could not remove the job', () => api.removeJob({ jobId: id }))}
          >
            Remove
          </button>
        ) : null}
      </div>
    </li>
  );
});

function JobFigures({ job, total, downloadOnly }: { job: JobView; total: number | null; downloadOnly: boolean }) {
  const eta = job.state === 'done' ? 'done' : formatEta(etaMs(job));
  // A paused, failed or finished job moves nothing: its last rates would read as if it still did.
  const moving = job.state === 'downloading' || job.state === 'verifying';
  const rate = (bytesPerSecond: number) => (moving ? formatRate(bytesPerSecond) : '—');
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
        <dd className={eta === 'stalled' ? 'stalled' : undefined}>{eta}</dd>
      </div>
      <div>
        <dt>Download</dt>
        <dd>{rate(job.progress.downloadRate)}</dd>
      </div>
      {downloadOnly ? null : (
        <div>
          <dt>Extraction</dt>
          <dd>{rate(job.progress.extractRate)}</dd>
        </div>
      )}
      <div>
        <dt>Retries</dt>
        <dd>{job.progress.retries}</dd>
      </div>
      {downloadOnly ? null : (
        <div>
          <dt>Skipped</dt>
          <dd title="Archive entries skipped as unsafe (other warnings are in the job's log)">{skippedCount(job)}</dd>
        </div>
      )}
    </dl>
  );
}

/** The origin does not answer: what the last try met and when the next one goes out, counting down. */
function ConnectingNote({ job }: { job: JobView }) {
  const now = useNow(1000);
  const line = connectingLine(job, now);
  if (!line) return null;
  return (
    <div className="job-connecting" role="status">
      {line}
    </div>
  );
}
