// The W slots of the ring buffer on disk: which chunk each holds and how far it is, and what the
// window is waiting on (the network with free slots, or the extractor with every slot full).
import type { JobView, WindowSlot } from '../store/model';
import { formatBytes } from '../store/format';

const WAITING: Record<string, string> = {
  network: 'Waiting on the network: slots are free while ranges download',
  extractor: 'Waiting on the extractor: every slot is full, downloads hold back',
  none: 'Idle',
};

export function ChunkWindow({ job, onPick }: { job: JobView; onPick: (index: number) => void }) {
  const w = job.window;
  // A stopped job reports an empty window; its configured slots are still worth showing.
  const capacity = w?.capacity || job.info.window || 0;
  const slots: WindowSlot[] =
    w && w.slots.length > 0 ? w.slots : Array.from({ length: capacity }, (_, slot) => ({ slot, chunk: null, state: 'free' as const, bytes: 0, length: 0 }));
  const waitingOn = w?.waitingOn ?? 'none';
  // Nothing is in flight while a job is paused or stopped, whatever the last window report said.
  const running = job.state === 'downloading' || job.state === 'probing' || job.state === 'verifying';
  return (
    <section className="panel" role="region" aria-label="Chunk window">
      <div className="panel-head">
        <h3>Chunk window</h3>
        <span className={`backpressure waiting-${waitingOn}`} aria-live="polite">
          {job.state === 'paused' ? 'Paused: committed chunks stay on disk' : running ? WAITING[waitingOn] : WAITING['none']}
        </span>
        <span className="muted">
          {w && running
            ? `${w.inFlight} in flight · ${w.staged} staged (${formatBytes(w.stagedBytes)}) · ${capacity} slots`
            : w && w.staged > 0
              ? `${w.staged} staged (${formatBytes(w.stagedBytes)}) · ${capacity} slots`
              : `${capacity} slots`}
        </span>
      </div>
      <ol className="slots">
        {slots.map((s) => {
          // A slot whose chunk waits to retry still reads "fetching" from the window; the map knows better.
          const reported = s.chunk !== null && job.grid.stateOf(s.chunk) === 'retrying' ? 'retrying' : s.state;
          // A paused job's partial chunk is kept, not being fetched.
          const state = !running && (reported === 'fetching' || reported === 'retrying') ? 'paused' : reported;
          return (
            <li key={s.slot} className={`slot slot-${state}`}>
              <span className="slot-name">Slot {s.slot + 1}</span>
              {s.chunk === null ? (
                <span className="slot-chunk muted">free</span>
              ) : (
                <button type="button" className="link slot-chunk" onClick={() => onPick(s.chunk!)} aria-label={`Chunk ${s.chunk}, ${state}`}>
                  #{s.chunk}
                </button>
              )}
              <span className="slot-state">{state === 'free' ? '' : state}</span>
              <span className="slot-bar" aria-hidden="true">
                <span className="slot-fill" style={{ width: `${s.length > 0 ? Math.min(100, (s.bytes / s.length) * 100) : 0}%` }} />
              </span>
              <span className="slot-bytes muted">{s.chunk === null ? '' : `${formatBytes(s.bytes)} / ${formatBytes(s.length)}`}</span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
