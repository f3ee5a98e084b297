// One chunk up close: its byte range, state, every attempt (time, HTTP status, bytes, duration, error
// code and cause chain), when it retries next, and "Retry now". The host's history is the source of
// truth; live attempt events keep it current between fetches.
import { useEffect, useRef, useState } from 'react';
import { asSerializedError, type AttemptRecordView } from '../../../shared/contract';
import { useAction, useApp } from '../context';
import { chunkRange, errorHeadline, formatBytes, formatMs, formatTime } from '../store/format';
import type { AttemptView, JobView, SerializedError } from '../store/model';
import { CauseChain, CopyDetails } from './ErrorDetails';

export function ChunkInspector({ job, index, onClose }: { job: JobView; index: number; onClose: () => void }) {
  const { api } = useApp();
  const run = useAction();
  const [history, setHistory] = useState<AttemptRecordView[] | null>(null);
  const [loadError, setLoadError] = useState<SerializedError | null>(null);
  const live = job.attempts.get(index);
  const liveKey = live ? live.map((a) => `${a.attempt}:${a.open ? 1 : 0}:${a.status ?? ''}`).join(',') : '';
  const state = job.grid.stateOf(index);
  const jobId = job.info.id;

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new attempt (liveKey) or chunk state is what asks for the history again.
  useEffect(() => {
    let current = true;
    api
      .getChunkHistory({ jobId, index })
      .then((h) => {
        if (current) {
          setHistory(h);
          setLoadError(null);
        }
      })
      .catch((err) => current && setLoadError(asSerializedError(err)));
    return () => {
      current = false;
    };
  }, [api, jobId, index, liveKey, state]);

  // Only a job that runs has an attempt under way: a failed or paused job's last one ended with it.
  const running = job.state === 'downloading' || job.state === 'probing' || job.state === 'verifying';
  const attempts = mergeAttempts(history ?? [], live ?? []).map((a) => (a.open && !running ? { ...a, open: false } : a));
  const heading = useRef<HTMLHeadingElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: focus moves to the heading when another chunk is shown.
  useEffect(() => heading.current?.focus(), [index]);
  const retry = job.nextRetry.get(index);
  const chunkSize = job.probe?.chunkSize ?? job.info.chunkSize ?? 0;
  const { start, end } = chunkRange(index, chunkSize, job.probe?.size ?? null);
  const now = useNow(retry ? 250 : 0);
  const latestFailed = [...attempts].reverse().find((a) => a.error);

  return (
    <section
      className="panel inspector"
      role="region"
      aria-label="Chunk inspector"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div className="panel-head">
        <h3 ref={heading} tabIndex={-1}>
          Chunk {index}
        </h3>
        <span className={`pill chunk-pill-${state}`}>{state}</span>
        <div className="spacer" />
        <button
          type="button"
          disabled={state !== 'retrying' && state !== 'failed' && !(job.state === 'failed' && state !== 'done')}
          title={
            state === 'retrying'
              ? 'Skip the wait and try this chunk again now'
              : job.state === 'failed'
                ? 'Resume the job: this chunk is fetched again from its last committed byte'
                : 'Only a chunk waiting to retry can be retried now'
          }
          onClick={() => run('Could not retry the chunk', () => api.retryChunkNow({ jobId, index }))}
        >
          Retry now
        </button>
        <button type="button" onClick={onClose} aria-label={`Close the inspector of chunk ${index}`}>
          ×
        </button>
      </div>
      <dl className="inspector-facts">
        <div>
          <dt>Range</dt>
          <dd>
            bytes {start.toLocaleString('en-US')}–{end.toLocaleString('en-US')} ({formatBytes(end - start + 1)})
          </dd>
        </div>
        <div>
          <dt>Held</dt>
          <dd>{formatBytes(Math.round(((job.grid.fill[index] ?? 0) / 255) * (end - start + 1)))}</dd>
        </div>
        <div>
          <dt>Next retry</dt>
          <dd>
            {retry && state === 'retrying' ? `${formatTime(retry.nextAt)} (in ${formatMs(Math.max(0, retry.nextAt - now))})${retry.reason ? ` · ${retry.reason}` : ''}` : '—'}
          </dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd>{attempts.length}</dd>
        </div>
      </dl>
      {latestFailed?.error ? (
        <div className="inspector-error">
          <p>
            <strong>Last failure:</strong> {errorHeadline(latestFailed.error)}
          </p>
          <CauseChain error={latestFailed.error} />
          <CopyDetails error={latestFailed.error} context={{ job: job.name, url: job.info.url, at: latestFailed.startedAt }} />
        </div>
      ) : null}
      {loadError ? <p className="field-error">History unavailable: {loadError.message}</p> : null}
      {attempts.length === 0 ? (
        <p className="muted">No attempt yet.</p>
      ) : (
        <table className="attempts">
          <caption className="sr-only">Attempts of chunk {index}</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Started</th>
              <th scope="col">HTTP</th>
              <th scope="col">Bytes</th>
              <th scope="col">Duration</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {attempts.map((a) => (
              <tr key={a.attempt} className={a.error ? 'failed' : ''}>
                <td>{a.attempt}</td>
                <td>{formatTime(a.startedAt)}</td>
                <td>{a.status ?? (a.open ? '…' : '—')}</td>
                <td>{formatBytes(a.bytes)}</td>
                <td>{a.open ? 'running' : formatMs(a.durationMs)}</td>
                <td>
                  {a.error ? (
                    <details>
                      <summary>
                        <code>{a.error.code}</code> {a.error.message}
                      </summary>
                      <CauseChain error={a.error} />
                    </details>
                  ) : a.open ? (
                    ''
                  ) : (
                    'ok'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The host's records, completed by live ones it did not have yet (by attempt number). */
function mergeAttempts(history: AttemptRecordView[], live: AttemptView[]): AttemptView[] {
  const byAttempt = new Map<number, AttemptView>();
  for (const a of live) byAttempt.set(a.attempt, a);
  for (const h of history) {
    const seen = byAttempt.get(h.attempt);
    byAttempt.set(h.attempt, { ...h, open: (seen?.open ?? false) && h.error === null });
  }
  return [...byAttempt.values()].sort((a, b) => a.attempt - b.attempt);
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (everyMs <= 0) return;
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
