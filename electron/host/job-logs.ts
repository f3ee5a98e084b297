// Every job's log, by id: the ring the window reads and the job.log it is appended to (see job-log.ts).
import { LogFile, LogRing, type LogEntry, type LogLevel } from './job-log';

export class JobLogs {
  private readonly logs = new Map<string, { ring: LogRing; file: LogFile }>();

  constructor(
    /** Where a job's log file lives (the app's data folder: the state folder goes when the job completes). */
    private readonly dirOf: (id: string) => string,
    private readonly now: () => number,
  ) {}

  /** The job's entries, oldest first (bounded; job.log keeps more). */
  entries(id: string): LogEntry[] {
    return this.logs.get(id)?.ring.entries() ?? [];
  }

  log(id: string, level: LogLevel, text: string, at = this.now()): void {
    this.record(id, { at, level, text });
  }

  record(id: string, entry: LogEntry): void {
    const log = this.logOf(id);
    log.ring.push(entry);
    log.file.append(entry);
  }

  /** After a restart: the end of the job's log file back in its ring. */
  async restore(id: string): Promise<void> {
    const log = this.logOf(id);
    for (const entry of await log.file.tail()) log.ring.push(entry);
  }

  forget(id: string): void {
    this.logs.delete(id);
  }

  /** Resolves once every log line so far is on disk. */
  async flushed(): Promise<void> {
    await Promise.all([...this.logs.values()].map((l) => l.file.flushed()));
  }

  private logOf(id: string): { ring: LogRing; file: LogFile } {
    let log = this.logs.get(id);
    if (!log) this.logs.set(id, (log = { ring: new LogRing(), file: new LogFile(this.dirOf(id)) }));
    return log;
  }
}
