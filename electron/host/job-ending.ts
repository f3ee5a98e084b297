// How a job ends for good: a cancel (its run stopped, its staging gone, and what it wrote if asked, once the
// run has stopped writing; see cancelled-files.ts) and a remove (forgotten, its staging freed, the
// destination never touched).
import type { JobModel } from './job-model';
import { CancelledFiles } from './cancelled-files';
import { JobConflictError } from './job-errors';
import type { JobLogs } from './job-logs';
import type { JobRuns } from './job-runs';
import type { JobStore } from './job-store';
import type { JobTable } from './job-table';

export interface EndingHost {
  readonly jobs: JobTable;
  readonly runs: JobRuns;
  readonly store: JobStore;
  readonly logs: JobLogs;
  stateDirOf(id: string): string;
  /** The pauses and waits the app made for the job end with the operator's word. */
  takeOver(id: string): void;
}

export class JobEnding {
  private readonly files = new CancelledFiles();

  constructor(private readonly host: EndingHost) {}

  cancel(m: JobModel, deleteFiles: boolean): void {
    const { id } = m;
    const h = this.host;
    if (m.state === 'done' || m.state === 'cancelled') throw new JobConflictError(`The job is already ${m.state}`, id);
    h.takeOver(id);
    if (deleteFiles) this.files.deleteWith(id);
    h.logs.log(id, 'info', `cancel asked by the operator${deleteFiles ? ', deleting what it wrote' : ', keeping what it wrote'}`);
    if (h.runs.isRunning(id)) {
      h.runs.cancel(id);
    } else {
      m.setState('cancelled');
      m.markStopped();
      void this.discardStaging(id);
      h.store.schedule(true);
    }
  }

  async remove(m: JobModel): Promise<void> {
    const { id } = m;
    const h = this.host;
    // A job reports its terminal state a moment before its run settles: wait for that, not the caller.
    if (h.runs.isRunning(id) && m.isTerminal) await h.runs.settledOrTimeout(id, 10_000);
    if (h.runs.isRunning(id)) throw new JobConflictError('The job is running; cancel or pause it first', id);
    h.jobs.delete(id);
    h.takeOver(id);
    h.logs.forget(id);
    await this.discardStaging(id);
    await h.store.save('jobs');
  }

  /** The job's staging goes, and what it wrote when its cancel asked for that. */
  async discardStaging(id: string): Promise<void> {
    await this.files.discard(id, this.host.jobs.findOptions(id), this.host.stateDirOf(id));
  }
}
