// "Not enough space" in figures, at the top of the job's detail: the engine checked before fetching and the
// destination's filesystem cannot hold what the job needs. The job waits and starts by itself once there is room.
import { formatBytes } from '../store/format';
import type { JobView } from '../store/model';
import { spaceShortfall } from '../store/space-shortfall';

export function SpaceShortfallNotice({ job }: { job: JobView }) {
  const s = spaceShortfall(job);
  if (!s) return null;
  return (
    <section className="panel space-shortfall" role="alert" aria-label="Not enough space">
      <strong>Not enough space on {s.path}</strong>
      <p>
        This job needs about {formatBytes(s.needed)}; {formatBytes(s.free)} is free. Free {formatBytes(s.short)} more (or remove the job and choose another destination): it starts
        by itself once there is room.
      </p>
    </section>
  );
}
