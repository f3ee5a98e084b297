// The engine's events, as the runner delivers them, applied to the jobs' models: logged where a line is due,
// and the job list's save scheduled (soon for a state change, the rest with the next periodic save).
import type { EngineEvent } from '../engine/events';
import { logEntryFor, type LogEntry } from './job-log';
import type { JobModel } from './job-model';

export interface EventsHost {
  model(id: string): JobModel | undefined;
  record(id: string, entry: LogEntry): void;
  schedule(soon: boolean): void;
}

/** A full destination is a pause, not a failure (the run's settlement decides): the window must not flash "Failed". */
function isDiskFull(e: EngineEvent): boolean {
  return (e.type === 'job-state' && e.state === 'failed' && e.error?.code === 'E_DISK_FULL') || (e.type === 'error' && e.error.code === 'E_DISK_FULL');
}

export function applyEngineEvents(events: EngineEvent[], host: EventsHost): void {
  for (const e of events) {
    const m = host.model(e.jobId);
    if (!m || isDiskFull(e)) continue;
    m.apply(e);
    const entry = logEntryFor(e);
    if (entry) host.record(e.jobId, entry);
    host.schedule(e.type === 'job-state' || e.type === 'done');
  }
}
