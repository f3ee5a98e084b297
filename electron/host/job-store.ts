// The job list and the settings on disk (jobs.json, settings.json in the data directory): read once at
// start, written atomically (the previous copy kept) in order, a running job's progress at most every
// few seconds and a state change at once.
import { join } from 'node:path';
import { readJsonWithFallback, writeFileAtomic } from '../engine/state/atomic-file';
import type { JobOptions } from '../engine/runner/runner';
import type { JobRecord } from './job-model';
import type { Settings } from '../../shared/contract';
import { DEFAULT_SETTINGS, settingsSchema } from '../../shared/schemas';

/** What the jobs file holds per job besides its record. */
export interface StoredExtras {
  engineOptions?: JobOptions;
  /** The job ran (or waited for the network, the disk, a wake-up) when the process stopped: it resumes on start. */
  resumeOnStart?: boolean;
}

export type StoredJob = JobRecord & StoredExtras;

interface JobsFile {
  version: 1;
  jobs: StoredJob[];
}

function isJobsFile(value: unknown): value is JobsFile {
  return !!value && typeof value === 'object' && (value as JobsFile).version === 1 && Array.isArray((value as JobsFile).jobs);
}

export interface StoreContents {
  /** The list as it is now, when a write of it runs. */
  jobs(): StoredJob[];
  settings(): Settings;
}

export class JobStore {
  private saveChain: Promise<void> = Promise.resolve();
  private saveTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly dataDir: string,
    private readonly saveIntervalMs: number,
    private readonly contents: StoreContents,
  ) {}

  private get jobsPath(): string {
    return join(this.dataDir, 'jobs.json');
  }
  private get settingsPath(): string {
    return join(this.dataDir, 'settings.json');
  }

  /** The settings (defaults where missing or invalid) and the stored jobs (those without options are dropped). */
  async load(): Promise<{ settings: Settings; jobs: Array<StoredJob & { engineOptions: JobOptions }> }> {
    const stored = await readJsonWithFallback(this.settingsPath, (v): v is unknown => v !== null && typeof v === 'object');
    const parsed = settingsSchema.safeParse({ ...DEFAULT_SETTINGS, ...(stored as object | null) });
    const settings = parsed.success ? parsed.data : { ...DEFAULT_SETTINGS };
    const file = await readJsonWithFallback(this.jobsPath, isJobsFile);
    const jobs = (file?.jobs ?? []).filter((j): j is StoredJob & { engineOptions: JobOptions } => !!j.engineOptions && typeof j.id === 'string');
    return { settings, jobs };
  }

  /** Writes the job list after the save interval (`soon`: at once), one timer for many changes. */
  schedule(soon = false): void {
    if (this.stopped) return;
    const delay = soon ? 0 : this.saveIntervalMs;
    if (this.saveTimer && !soon) return;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.save('jobs').catch(() => undefined);
    }, delay);
    this.saveTimer.unref();
  }

  /** Writes run one after another, so an older snapshot never lands after a newer one. */
  save(what: 'jobs' | 'settings'): Promise<void> {
    const write = async (): Promise<void> => {
      if (what === 'settings') {
        await writeFileAtomic(this.settingsPath, JSON.stringify(this.contents.settings(), null, 2), { keepPrevious: true });
        return;
      }
      const file: JobsFile = { version: 1, jobs: this.contents.jobs() };
      await writeFileAtomic(this.jobsPath, JSON.stringify(file), { keepPrevious: true });
    };
    const next = this.saveChain.then(write, write);
    this.saveChain = next.catch(() => undefined);
    return next;
  }

  /** No more scheduled writes (closing); save() still writes. */
  stop(): void {
    this.stopped = true;
    if (this.saveTimer) clearTimeout(this.saveTimer);
  }

  /** Resolves once every write queued so far is done. */
  idle(): Promise<void> {
    return this.saveChain;
  }
}
