// What the desktop shell shows about the jobs: taskbar/dock progress, keep-awake while downloading (if
// the operator asked for it), a notification when a job finishes or fails. Decided here from the
// host's event stream so main.ts only applies the effects.
import type { EventMessage, JobView, Settings } from '../../shared/contract';

export interface DesktopEffects {
  /** 0..1 across the active jobs, or null for none (clears the bar). */
  setProgress(fraction: number | null): void;
  setKeepAwake(on: boolean): void;
  notify(title: string, body: string): void;
}

export interface JobSource {
  list(): JobView[];
  settings(): Settings;
}

const ACTIVE = new Set(['probing', 'downloading', 'verifying']);

export function overallProgress(jobs: JobView[]): number | null {
  const active = jobs.filter((j) => ACTIVE.has(j.state));
  if (active.length === 0) return null;
  let total = 0;
  let done = 0;
  for (const j of active) {
    if (j.progress.bytesTotal === null || j.progress.bytesTotal <= 0) continue;
    total += j.progress.bytesTotal;
    done += Math.min(j.progress.bytesConsumed, j.progress.bytesTotal);
  }
  return total > 0 ? done / total : 0;
}

function nameOf(url: string): string {
  try {
    const path = new URL(url).pathname;
    return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || url;
  } catch {
    return url;
  }
}

export class DesktopStatus {
  private readonly lastState = new Map<string, string>();
  private lastProgress: number | null | undefined = undefined;
  private keepAwake = false;

  constructor(
    private readonly source: JobSource,
    private readonly effects: DesktopEffects,
  ) {
    for (const j of source.list()) this.lastState.set(j.id, j.state);
    this.refresh();
  }

  onEvents(events: EventMessage[]): void {
    for (const e of events) {
      if (e.channel === 'jobRemoved') this.lastState.delete(e.payload.jobId);
      if (e.channel !== 'jobSnapshot') continue;
      const job = e.payload;
      const before = this.lastState.get(job.id);
      this.lastState.set(job.id, job.state);
      if (before === job.state || !this.source.settings().notify) continue;
      if (job.state === 'done') this.effects.notify('Snapshot ready', `${nameOf(job.url)} is unpacked in ${job.dest ?? job.output ?? ''}`);
      else if (job.state === 'failed') this.effects.notify('Snapshot failed', `${nameOf(job.url)}: ${job.error?.message ?? 'unknown error'}`);
    }
    this.refresh();
  }

  /** Settings changed (keep-awake toggled): apply at once. */
  refresh(): void {
    const jobs = this.source.list();
    const progress = overallProgress(jobs);
    // The taskbar needs no more than 0.5 % steps.
    const changed =
      progress === null || this.lastProgress === null || this.lastProgress === undefined ? progress !== this.lastProgress : Math.abs(progress - this.lastProgress) >= 0.005;
    if (changed) {
      this.lastProgress = progress;
      this.effects.setProgress(progress);
    }
    const awake = this.source.settings().keepAwake && progress !== null;
    if (awake !== this.keepAwake) {
      this.keepAwake = awake;
      this.effects.setKeepAwake(awake);
    }
  }
}
