// A finished job, also after a reload: how long it took, the average rate, what was extracted, every
// skipped entry with its reason, and the checksum.
import type { JobView } from '../store/model';
import { formatBytes, formatDuration, formatRate } from '../store/format';

export function JobSummary({ job }: { job: JobView }) {
  const s = job.summary;
  if (!s) return null;
  const bytes = s.bytesTotal ?? s.bytesFetched;
  const rate = s.elapsedMs > 0 ? bytes / (s.elapsedMs / 1000) : 0;
  const downloadOnly = s.format === 'raw' || !!job.info.output;
  return (
    <section className="panel summary" role="region" aria-label="Summary">
      <div className="panel-head">
        <h3>Finished</h3>
        <span className="muted">{job.updatedAt ? new Date(job.updatedAt).toLocaleString() : ''}</span>
      </div>
      <dl className="summary-facts">
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(s.elapsedMs)}</dd>
        </div>
        <div>
          <dt>Average rate</dt>
          <dd>{formatRate(rate)}</dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>{formatBytes(bytes)}</dd>
        </div>
        <div>
          <dt>Received</dt>
          <dd title="Bytes received over the network, retries included">{formatBytes(s.bytesFetched)}</dd>
        </div>
        {downloadOnly ? null : (
          <>
            <div>
              <dt>Entries</dt>
              <dd>{s.entries.toLocaleString('en-US')}</dd>
            </div>
            <div>
              <dt>Written</dt>
              <dd>{formatBytes(s.bytesWritten)}</dd>
            </div>
            <div>
              <dt>Skipped</dt>
              <dd>{s.skipped.length}</dd>
            </div>
          </>
        )}
        <div>
          <dt>Retries</dt>
          <dd>{s.retries}</dd>
        </div>
        <div className="wide">
          <dt>SHA-256</dt>
          <dd className="hash">{s.sha256 ?? (job.info.sha256 ? job.info.sha256 : 'not computed (no checksum was given)')}</dd>
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
