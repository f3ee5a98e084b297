// A restart in the state the jobs were in: what ran when the previous process stopped resumes from its
// journal, what the operator paused stays paused. A clean stop records what ran (close); after a crash the
// list still reads running, which says the same.
import type { JobModel } from './job-model';

export interface RestartHost {
  model(id: string): JobModel | undefined;
  isRunning(id: string): boolean;
  /** A new run of the job from its journal, its log saying why. */
  resume(id: string, why: string): void;
}

export class RestoredJobs {
  /** Jobs that were running when the previous process stopped; startAll() resumes them. */
  private readonly resumeOnStart = new Set<string>();

  has(id: string): boolean {
    return this.resumeOnStart.has(id);
  }

  /** A job read from the list: recorded as paused until startAll(), which resumes it if it was interrupted. */
  restore(model: JobModel, resumeOnStart: boolean | undefined): void {
    const interrupted = resumeOnStart === true || (!model.isTerminal && model.state !== 'paused') || (model.state === 'paused' && model.pauseReason !== 'user');
    if (interrupted && !model.isTerminal) this.resumeOnStart.add(model.id);
    if (!model.isTerminal && model.state !== 'paused') model.setState('paused', { pauseReason: 'user' });
    model.markStopped();
  }

  /**
   * The process stops: a job that runs (or waits for space), unless the operator paused it, resumes when the
   * next process starts; what runs is recorded as paused first, so that the runner's shutdown does not read
   * as a failure or a cancel.
   */
  stopping(m: JobModel, o: { running: boolean; waitingForSpace: boolean; held: boolean }): void {
    const userPaused = m.state === 'paused' && m.pauseReason === 'user' && !o.held;
    if (!m.isTerminal && !userPaused && (o.running || o.waitingForSpace)) this.resumeOnStart.add(m.id);
    if (o.running && !m.isTerminal) {
      m.setState('paused', { pauseReason: m.state === 'paused' ? m.pauseReason : 'user' });
      m.markStopped();
    }
  }

  /** Resumes the jobs that were interrupted; returns their ids. */
  startAll(host: RestartHost): string[] {
    const started: string[] = [];
    for (const id of this.resumeOnStart) {
      const m = host.model(id);
      if (!m || m.isTerminal || host.isRunning(id)) continue;
      host.resume(id, 'resumed: it was running when the previous process stopped');
      started.push(id);
    }
    this.resumeOnStart.clear();
    return started;
  }
}
