// The whole app's throughput for the top bar: the download rates of the jobs that are downloading now,
// added up (a paused or finished job's last rate is not traffic).
import type { JobView } from './model';

export function totalRate(jobs: Record<string, Pick<JobView, 'state' | 'progress'>>): { running: number; bytesPerSecond: number } {
  let running = 0;
  let bytesPerSecond = 0;
  for (const job of Object.values(jobs)) {
    if (job.state !== 'downloading') continue;
    running++;
    bytesPerSecond += Math.max(0, job.progress.downloadRate);
  }
  return { running, bytesPerSecond };
}
