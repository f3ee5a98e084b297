// The parts of a snapshot published in parts, in the job's detail: each part's name, size, where it is
// (waiting, downloading, verifying, done, failed) and its checksum's verdict. The chunk map below is the part
// that runs now.
import { formatBytes } from '../store/format';
import type { JobView, PartView } from '../store/model';

const STATE_WORDS: Record<PartView['state'], string> = {
  waiting: 'waiting',
  downloading: 'downloading',
  verifying: 'verifying',
  done: 'done',
  failed: 'failed',
};

function checksumWord(p: PartView): string {
  if (p.checksum === 'ok') return 'verified';
  if (p.checksum === 'mismatch') return 'does not match';
  return p.hasChecksum ? 'not yet verified' : 'none given';
}

export function PartsView({ job }: { job: JobView }) {
  const parts = job.info.parts;
  if (!parts || parts.length === 0) return null;
  const done = parts.filter((p) => p.state === 'done').length;
  return (
    <section className="panel parts" aria-label="Parts">
      <div className="panel-head">
        <h3>Parts</h3>
        <span className="muted">
          {done} of {parts.length} done
        </span>
      </div>
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Part</th>
            <th scope="col">Size</th>
            <th scope="col">State</th>
            <th scope="col">Checksum</th>
          </tr>
        </thead>
        <tbody>
          {parts.map((p) => (
            <tr key={p.index} className={`part part-${p.state}`}>
              <td>{p.index + 1}</td>
              <td>{p.name}</td>
              <td>{p.size === null ? '—' : formatBytes(p.size)}</td>
              <td>
                <span className={`pill part-pill-${p.state}`}>{STATE_WORDS[p.state]}</span>
              </td>
              <td>{checksumWord(p)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
