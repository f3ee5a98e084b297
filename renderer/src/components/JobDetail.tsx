// The selected job: its window, its chunk map, its throughput and, once a chunk is picked, the inspector.
import { useApp, useAppState } from '../context';
import { formatBytes } from '../store/format';
import { ChunkInspector } from './ChunkInspector';
import { ChunkMap } from './ChunkMap';
import { ChunkWindow } from './ChunkWindow';
import { Throughput } from './Throughput';

const FORMAT_NAMES: Record<string, string> = { tar: 'tar', gzip: 'tar.gz', lz4: 'tar.lz4', zstd: 'tar.zst', raw: 'raw file' };

export function JobDetail() {
  const { store } = useApp();
  const job = useAppState((s) => (s.selectedJobId ? s.jobs[s.selectedJobId] : undefined));
  const chunk = useAppState((s) => s.selectedChunk);
  if (!job) return <p className="empty">Select a job to see its chunks.</p>;
  const select = (index: number | null) => store.getState().selectChunk(index);
  const p = job.probe;
  return (
    <div className="detail">
      <div className="detail-head">
        <h2 title={job.info.url}>{job.name}</h2>
        <span className="muted">
          {p ? `${formatBytes(p.size)} · ${p.chunkCount.toLocaleString('en-US')} chunks of ${formatBytes(p.chunkSize)} · ${p.format ? `${FORMAT_NAMES[p.format]}` : 'format detected from the first bytes'} · ${p.mode === 'ranged' ? 'ranged' : 'single stream (no ranges)'}` : 'Examining the source…'}
        </span>
      </div>
      <ChunkWindow job={job} onPick={select} />
      <ChunkMap job={job} />
      {chunk !== null && chunk < job.grid.count ? <ChunkInspector job={job} index={chunk} onClose={() => select(null)} /> : null}
      <Throughput samples={job.samples} />
    </div>
  );
}
