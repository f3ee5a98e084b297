// A finished job, also after a reload: how long it took, the average rate, what was extracted, every
// skipped entry with its reason, and the checksum.
import type { JobView } from '../store/model';
import { formatBytes, formatDuration, formatRate } from '../store/format';

export function JobSummary({ job }: { job: JobView }) {
  const s = job.summary;
  if (!s) return null;
  const bytes = s.bytesTotal ?? s.bytesFetched;
  // The engine's summary is of its last run: after a resume that run fetched (and wrote) only the rest.
  const resumed = s.bytesTotal !== null && s.bytesFetched < s.bytesTotal;
  const run = resumed ? ' (last run)' : '';
  const rate = s.elapsedMs > 0 ? s.bytesFetched / (s.elapsedMs / 1000) : 0;
  const downloadOnly = s.format === 'raw' || !!job.info.output;
  return (
    <section className="panel summary" role="region" aria-label="Summary">
      <div className="panel-head">
        <h3>Finished</h3>
        <span className="muted">{job.updatedAt ? new Date(job.updatedAt).toLocaleString() : ''}</span>
      </div>
      <dl className="summary-facts">
        <div>
          <dt>Duration{run}</dt>
          <dd>{formatDuration(s.elapsedMs)}</dd>
        </div>
        <div>
          <dt>Average rate{run}</dt>
          <dd>{formatRate(rate)}</dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>{formatBytes(bytes)}</dd>
        </div>
        <div>
          <dt>Received{run}</dt>
          <dd title="Bytes received over the network, retries included">{formatBytes(s.bytesFetched)}</dd>
        </div>
        {downloadOnly ? null : (
          <>
            <div>
              <dt>Entries</dt>
              <dd>{s.entries.toLocaleString('en-US')}</dd>
            </div>
            <div>
              <dt>Written{run}</dt>
              <dd>{formatBytes(s.bytesWritten)}</dd>
            </div>
            <div>
              <dt>Skipped</dt>
              <dd>{s.skippedTotal ?? s.skipped.length}</dd>
            </div>
          </>
        )}
        <div>
          <dt>Retries{run}</dt>
          <dd>{s.retries}</dd>
        </div>
        {s.stallReplacements === undefined ? null : (
          <div>
            <dt>Stalls replaced{run}</dt>
            <dd title="Connections that went silent while the others flowed and were replaced (a healthy origin's pauses are not counted)">{s.stallReplacements}</dd>
          </div>
        )}
        <div>
          <dt>Since added</dt>
          <dd title="From adding the job to its end, pauses and restarts included">{formatDuration(Math.max(0, job.updatedAt - (job.info.createdAt ?? job.updatedAt)))}</dd>
        </div>
        <div className="wide">
          <dt>SHA-256</dt>
          <dd className="hash">{s.sha256 ?? (job.info.sha256 ? job.info.sha256 : job.info.parts?.length ? 'per part: see Parts' : 'not computed (no checksum was given)')}</dd>
        </div>
      </dl>
      {s.skipped.length > 0 ? (
        <details className="skipped">
          <summary>
            {s.skipped.length} skipped {s.skipped.length === 1 ? 'entry' : 'entries'}
          </summary>
          <ul>
            {s.skipped.map((k, i) => (
              <li key={i}>
                <code className="path">{k.entry}</code> <code>{k.code}</code> {k.reason}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}
