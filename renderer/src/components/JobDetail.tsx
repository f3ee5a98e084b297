// The selected job: its window, its chunk map, its throughput and, once a chunk is picked, the inspector.
import { useApp, useAppState } from '../context';
import { formatBytes } from '../store/format';
import { decodingLine, formatName } from '../../../shared/resume-words';
import { ChunkInspector } from './ChunkInspector';
import { ChunkMap } from './ChunkMap';
import { ChunkWindow } from './ChunkWindow';
import { Throughput } from './Throughput';
import { ErrorDetails } from './ErrorDetails';
import { JobSummary } from './JobSummary';
import { JobLog } from './JobLog';
import { RateLimitControl } from './RateLimitControl';
import { canReplaceLink, ReplaceLinkControl } from './ReplaceLinkControl';
import { SourceList } from './SourceList';
import { SpaceShortfallNotice } from './SpaceShortfallNotice';
import { PartsView } from './PartsView';

export function JobDetail() {
  const { store } = useApp();
  const job = useAppState((s) => (s.selectedJobId ? s.jobs[s.selectedJobId] : undefined));
  const chunk = useAppState((s) => s.selectedChunk);
  if (!job) return <p className="empty">Select a job to see its chunks.</p>;
  const select = (index: number | null) => store.getState().selectChunk(index);
  const closeInspector = () => {
    select(null);
    // Back to the map the chunk was picked on, so the keyboard user is where they were.
    requestAnimationFrame(() => document.querySelector<HTMLCanvasElement>('.chunk-canvas')?.focus());
  };
  const p = job.probe;
  return (
    <div className="detail">
      <div className="detail-head">
        <h2 title={job.info.url}>{job.name}</h2>
        <span className="muted">
          {p
            ? `${formatBytes(p.size)} · ${p.chunkCount.toLocaleString('en-US')} chunks of ${formatBytes(p.chunkSize)} · ${p.mode === 'ranged' ? 'ranged' : 'single stream (no ranges)'}`
            : 'Examining the source…'}
          {p && !job.decoding ? ` · ${p.format ? formatName(p.format) : 'format detected from the first bytes'}` : null}
          {job.decoding ? (
            <>
              {' · '}
              <span className="decoding" data-testid="job-decoding">
                {decodingLine(job.decoding)}
              </span>
            </>
          ) : null}
        </span>
      </div>
      {job.info.headerNames?.length || job.info.refreshCommand ? (
        <p className="muted job-access" data-testid="job-access">
          {job.info.headerNames?.length ? `Request headers: ${job.info.headerNames.map((n) => `${n}: ••••`).join(', ')}` : null}
          {job.info.headerNames?.length && job.info.refreshCommand ? ' · ' : null}
          {job.info.refreshCommand ? 'A refresh command renews the link when it expires' : null}
        </p>
      ) : null}
      <SpaceShortfallNotice job={job} />
      {job.summary && job.state === 'done' ? <JobSummary job={job} /> : null}
      {job.error && job.state !== 'done' ? (
        <section className="panel detail-error" aria-label="Error">
          <ErrorDetails error={job.error} open context={{ job: job.name, url: job.info.url }} />
        </section>
      ) : null}
      {canReplaceLink(job) ? <ReplaceLinkControl job={job} /> : null}
      {job.state === 'done' || job.state === 'cancelled' || job.state === 'failed' ? null : <RateLimitControl job={job} />}
      <SourceList job={job} />
      <PartsView job={job} />
      <ChunkWindow job={job} onPick={select} />
      <ChunkMap job={job} />
      {chunk !== null && chunk < job.grid.count ? <ChunkInspector job={job} index={chunk} onClose={closeInspector} /> : null}
      <Throughput samples={job.samples} />
      <JobLog job={job} />
    </div>
  );
}
