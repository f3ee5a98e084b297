// The jobs a manager knows: each job's model beside the engine options its runs get, added and forgotten
// together so that neither outlives the other, and the rows of the job list as it is saved.
import type { JobOptions } from '../engine/runner/runner';
import { JobNotFoundError } from './job-errors';
import { JobModel, type JobRecord, type ModelChanges } from './job-model';
import type { StoredJob } from './job-store';
import { withoutHeaderValues } from './job-headers';

export class JobTable {
  private readonly models = new Map<string, JobModel>();
  private readonly options = new Map<string, JobOptions>();

  constructor(
    private readonly changes: ModelChanges,
    private readonly now: () => number,
  ) {}

  add(record: JobRecord, options: JobOptions): JobModel {
    const model = new JobModel(record, this.changes, this.now);
    this.models.set(record.id, model);
    this.options.set(record.id, options);
    return model;
  }

  delete(id: string): void {
    this.models.delete(id);
    this.options.delete(id);
  }

  has(id: string): boolean {
    return this.models.has(id);
  }

  find(id: string): JobModel | undefined {
    return this.models.get(id);
  }

  model(id: string): JobModel {
    const m = this.models.get(id);
    if (!m) throw new JobNotFoundError(id);
    return m;
  }

  values(): IterableIterator<JobModel> {
    return this.models.values();
  }

  /** Undefined once the job is forgotten. */
  findOptions(id: string): JobOptions | undefined {
    return this.options.get(id);
  }

  optionsOf(id: string): JobOptions {
    const options = this.options.get(id);
    if (!options) throw new JobNotFoundError(id);
    return options;
  }

  /** A job's rate limit, on its model and in the options of its later runs (null: unlimited). */
  setLimitRate(id: string, limitRate: number | null): void {
    const options = this.options.get(id);
    if (options) {
      if (limitRate === null) delete options.limitRate;
      else options.limitRate = limitRate;
    }
    this.model(id).setLimitRate(limitRate);
  }

  /** The job list as saved; `resumesOnStart`: a job that ran when the process stopped. */
  rows(stateDirOf: (id: string) => string, resumesOnStart: (id: string) => boolean): StoredJob[] {
    return [...this.models.values()].map((m) => ({
      ...m.record(),
      engineOptions: withoutHeaderValues(this.options.get(m.id) ?? { url: m.record().url, stateDir: stateDirOf(m.id) }),
      ...(resumesOnStart(m.id) ? { resumeOnStart: true } : {}),
    }));
  }
}
