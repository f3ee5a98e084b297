// The job's log (state changes, failed attempts, retries, warnings, the error with its causes), read from
// the host while open and copyable in one piece for a report. The same lines are in the job's job.log in the app's data folder (logs/<job id>/), which outlives the job's state folder.
import { useEffect, useState } from 'react';
import { asSerializedError, type LogEntryView } from '../../../shared/contract';
import { useApp } from '../context';
import { copyText } from '../copy';
import type { JobView } from '../store/model';

const REFRESH_MS = 2000;

export function logText(entries: LogEntryView[]): string {
  return entries.map((e) => `${new Date(e.at).toISOString()} ${e.level.padEnd(5)} ${e.text}`).join('\n');
}

export function JobLog({ job }: { job: JobView }) {
  const { api } = useApp();
  const [open, setOpen] = useState(false);
  const [entries, setEntries] = useState<LogEntryView[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  const jobId = job.info.id;

  // biome-ignore lint/correctness/useExhaustiveDependencies: a change of the job's state loads the log again at once, not at the next tick.
  useEffect(() => {
    if (!open) return;
    let live = true;
    const load = () =>
      api.getJobLog({ jobId }).then(
        (list) => live && (setEntries(list), setProblem(null)),
        (err) => live && setProblem(asSerializedError(err).message),
      );
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api, jobId, open, job.state]);

  return (
    <section className="panel" role="region" aria-label="Job log">
      <details onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
        <summary>
          <h3 style={{ display: 'inline' }}>Log</h3> <span className="muted">events of this job, also in job.log in the app's data folder</span>
        </summary>
        {problem ? <p className="field-error">Log unavailable: {problem}</p> : null}
        {entries === null ? (
          <p className="muted">Loading…</p>
        ) : (
          <>
            <div className="form-actions">
              <button type="button" onClick={() => void copyText(logText(entries)).then(setCopied)}>
                Copy log
              </button>
              {copied === null ? null : (
                <span role="status" className="muted">
                  {copied ? 'Copied.' : 'Could not copy: select the lines instead.'}
                </span>
              )}
              <span className="muted">{entries.length} lines</span>
            </div>
            <pre className="log-lines" aria-label="Log lines" tabIndex={0}>
              {entries.length === 0 ? 'Nothing logged yet.' : logText(entries)}
            </pre>
          </>
        )}
      </details>
    </section>
  );
}
