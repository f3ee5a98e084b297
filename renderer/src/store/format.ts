// Numbers and errors in an operator's words. Pure functions, shared by every view.
import type { CounterSample, JobView, PauseReason, SerializedError } from './model';
import { counterEta, formatEta, type RateSample } from '../../../shared/eta';
import { connectingText } from '../../../shared/connecting';

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${formatBytes(bytesPerSecond)}/s` : '—';
}

/** A duration in the same words as an ETA (one formatter for the window and the CLI: shared/eta.ts). */
export function formatDuration(ms: number | null): string {
  return formatEta(ms);
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatTime(at: number): string {
  const d = new Date(at);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/**
 * Remaining time, from the received and consumed counters averaged over the last 20 s: 'stalled' when
 * neither moves, null when it cannot be told (not downloading, size unknown, too few samples yet).
 */
export function etaMs(job: JobView): number | 'stalled' | null {
  const total = job.progress.bytesTotal ?? job.probe?.size ?? null;
  if (total === null || job.state !== 'downloading') return null;
  const samples = (pick: (c: CounterSample) => number): RateSample[] => job.counters.map((c) => ({ at: c.at, bytes: pick(c) }));
  return counterEta(
    total,
    samples((c) => c.committed),
    samples((c) => c.consumed),
  );
}

export { formatEta };

export const PAUSE_REASONS: Record<PauseReason, string> = {
  user: 'by you',
  suspend: 'the computer went to sleep',
  offline: 'the network is offline',
  unreachable: 'the server does not answer',
  'disk-full': 'the disk is full',
  'link-expired': 'the link expired: replace it to continue',
  error: 'after an error',
};

/** While the origin does not answer: "Connecting to <host>: connection refused (attempt 3, next try in 8 s)". */
export function connectingLine(job: JobView, now: number): string | null {
  const waiting = job.state === 'probing' || (job.state === 'paused' && job.reason === 'unreachable');
  return waiting && job.connecting ? connectingText(job.connecting, now) : null;
}

/** Skipped archive entries: the engine's total once done, else the warnings that named a skipped entry (not every warning). */
export function skippedCount(job: Pick<JobView, 'summary' | 'skipped'>): number {
  return job.summary ? (job.summary.skippedTotal ?? job.summary.skipped.length) : job.skipped;
}

export function stateLabel(job: JobView): string {
  switch (job.state) {
    case 'probing':
      return job.connecting ? 'Connecting' : 'Checking the source';
    case 'downloading':
      return 'Downloading';
    case 'paused':
      return `Paused — ${PAUSE_REASONS[job.reason ?? 'user']}`;
    case 'verifying':
      return 'Verifying';
    case 'done':
      return 'Done';
    case 'failed':
      return 'Failed';
    case 'cancelled':
      return 'Cancelled';
  }
}

const CODE_WORDS: Record<string, string> = {
  E_USAGE: 'The request is not valid',
  E_VALIDATION: 'Some fields are not valid',
  E_BAD_URL: 'The URL is not a valid http(s) address',
  E_DEST_NOT_EMPTY: 'The destination folder is not empty',
  E_DEST_NOT_WRITABLE: 'The destination folder cannot be written',
  E_CONNECT: 'The server could not be reached',
  E_IDLE_TIMEOUT: 'The server stopped sending data',
  E_STALLED: 'One connection went silent while the others kept going; it was replaced',
  E_SHORT_BODY: 'The connection closed before the data was complete',
  E_HTTP_STATUS: 'The server answered with an error',
  E_RANGE_IGNORED: 'The server sent the whole file when asked for a part',
  E_CONTENT_RANGE: 'The server sent the wrong part of the file',
  E_RANGE_NOT_SATISFIABLE: 'The server says the requested part does not exist',
  E_REDIRECT: 'The server redirected somewhere it should not',
  E_CONTENT_ENCODING: 'The server (or a proxy) sent the file compressed',
  E_SIZE_MISMATCH: 'The server reported a wrong size for the file',
  E_TLS: 'The server’s certificate was refused',
  E_HEADERS_TOO_LARGE: 'The server sent oversized headers',
  E_UPSTREAM_CHANGED: 'The file changed on the server since the download started',
  E_RETRIES_EXHAUSTED: 'A part of the file kept failing after every retry',
  E_PROBE: 'The source could not be examined',
  E_NOT_AN_ARCHIVE: 'The file is not an archive',
  E_FORMAT_UNSUPPORTED: 'This archive format is not supported',
  E_WINDOW_TOO_LARGE: 'The archive needs more memory to unpack than allowed',
  E_ARCHIVE_TRUNCATED: 'The archive ends too early',
  E_ARCHIVE_CORRUPT: 'The archive is damaged',
  E_TRAILING_GARBAGE: 'There is unexpected data after the archive',
  E_UNSAFE_ENTRY: 'The archive contains an unsafe entry',
  E_LIMIT_EXCEEDED: 'The archive exceeds a safety limit',
  E_CHECKSUM_MISMATCH: 'The download does not match the expected SHA-256',
  E_DISK_FULL: 'The disk is full',
  E_IO: 'A file could not be read or written',
  E_JOURNAL: 'The resume journal is damaged',
  E_LOCKED: 'Another download is using this folder',
  E_ABORTED: 'Cancelled',
  E_NOT_FOUND: 'That job no longer exists',
  E_TRANSPORT: 'The connection to the engine was lost',
  E_INTERNAL: 'Something went wrong inside Snapshot Manager',
};

/** One sentence for the operator; the code and cause chain are shown separately on demand. */
export function errorHeadline(error: SerializedError): string {
  const status = typeof error.details?.['status'] === 'number' ? ` (HTTP ${String(error.details['status'])})` : '';
  return (CODE_WORDS[error.code] ?? error.message) + status;
}

/** Range of a chunk, inclusive, as the inspector and the hover tip show it. */
export function chunkRange(index: number, chunkSize: number, size: number | null): { start: number; end: number } {
  const start = index * chunkSize;
  const end = size === null ? start + chunkSize - 1 : Math.min(size, start + chunkSize) - 1;
  return { start, end };
}
