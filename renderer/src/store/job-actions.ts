// Which actions a job's state allows, decided in one place for the list, the tests and the keyboard.
import type { JobView, SerializedError } from './model';

/** Failures a new run cannot get past without the operator changing something (restart, checksum, URL). */
const NOT_RESUMABLE = new Set([
  'E_UPSTREAM_CHANGED',
  'E_CHECKSUM_MISMATCH',
  'E_BAD_URL',
  'E_USAGE',
  'E_NOT_AN_ARCHIVE',
  'E_FORMAT_UNSUPPORTED',
  'E_WINDOW_TOO_LARGE',
  'E_ARCHIVE_CORRUPT',
  'E_ARCHIVE_TRUNCATED',
  'E_TRAILING_GARBAGE',
  'E_UNSAFE_ENTRY',
  'E_LIMIT_EXCEEDED',
]);

/** A failed job resumes from its journal unless its error says a new run would fail the same way. */
export function canResumeFailed(error: SerializedError | null): boolean {
  return error === null || !NOT_RESUMABLE.has(error.code);
}

export interface JobActions {
  resume: boolean;
  pause: boolean;
  cancel: boolean;
  remove: boolean;
}

export function jobActions(job: Pick<JobView, 'state' | 'error'>): JobActions {
  const active = job.state === 'downloading' || job.state === 'probing' || job.state === 'verifying';
  const finished = job.state === 'done' || job.state === 'failed' || job.state === 'cancelled';
  return {
    resume: job.state === 'paused' || (job.state === 'failed' && canResumeFailed(job.error)),
    pause: active,
    cancel: !finished || job.state === 'failed',
    remove: finished,
  };
}

/** True for a download-only job (no extraction figures apply). */
export function isDownloadOnly(job: Pick<JobView, 'info' | 'probe'>): boolean {
  return !!job.info.output || job.probe?.format === 'raw';
}
