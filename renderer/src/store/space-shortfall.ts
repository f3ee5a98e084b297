// A job the engine refused to start for want of space (its check up front, once the size is known, before a
// byte is fetched): which filesystem, how much is free and how much the job needs, from the refusal's
// details. The window says it in figures, with what to free, instead of a generic "disk full".
import type { JobView } from './model';

export interface SpaceShortfall {
  path: string;
  free: number;
  needed: number;
  /** Bytes to free for the job to start. */
  short: number;
}

export function spaceShortfall(job: Pick<JobView, 'state' | 'reason' | 'error'>): SpaceShortfall | null {
  if (job.state !== 'paused' || job.reason !== 'disk-full' || job.error?.code !== 'E_DISK_FULL') return null;
  const d = job.error.details ?? {};
  const { path, free, needed } = d as { path?: unknown; free?: unknown; needed?: unknown };
  if (typeof path !== 'string' || typeof free !== 'number' || typeof needed !== 'number' || needed <= free) return null;
  return { path, free, needed, short: needed - free };
}
