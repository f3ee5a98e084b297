// What the end of a job's run means for its model: done; cancelled (its staging goes); a full destination,
// which pauses the job as disk-full and waits for space (see disk-full-wait.ts) rather than failing it; or
// failed, the error kept.
import type { JobOutcome } from '../engine/runner/runner';
import type { LogLevel } from './job-log';
import type { JobModel } from './job-model';

type SettledError = Extract<JobOutcome, { ok: false }>['error'];

export interface SettleHost {
  log(level: LogLevel, text: string): void;
  /** Tells the windows about the error (the model keeps it too). */
  reportError(error: SettledError): void;
  discardStaging(): void;
  waitForDisk(error: SettledError): void;
}

export function applyOutcome(m: JobModel, outcome: JobOutcome, wasCancelled: boolean, host: SettleHost): void {
  if (outcome.ok) {
    m.setState('done');
  } else if (outcome.error.code === 'E_ABORTED' || wasCancelled) {
    m.setState('cancelled');
    host.discardStaging();
  } else if (outcome.error.code === 'E_DISK_FULL') {
    host.log('warn', `paused (disk-full): ${outcome.error.message} It continues by itself once the space is free.`);
    m.setState('paused', { pauseReason: 'disk-full', error: outcome.error });
    host.reportError(outcome.error);
    host.waitForDisk(outcome.error);
  } else {
    m.setState('failed', { error: outcome.error });
    host.reportError(outcome.error);
  }
  m.markStopped();
}
