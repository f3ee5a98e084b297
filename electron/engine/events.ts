// The engine's typed events: the CLI, the progress coalescer and the UI are all built on these.
// Every event carries its job id and a wall-clock timestamp (ms since epoch).
import type { SerializedError } from './errors';

export type JobState = 'probing' | 'downloading' | 'paused' | 'verifying' | 'done' | 'failed' | 'cancelled';
/**
 * 'offline': the machine has no network (the host's watch says so); 'unreachable': the origin does not answer;
 * 'link-expired': the link was refused (401/403) after the job started: a fresh link of the same object continues it.
 */
export type PauseReason = 'user' | 'suspend' | 'offline' | 'unreachable' | 'disk-full' | 'link-expired' | 'error';
export type ChunkState = 'pending' | 'fetching' | 'staged' | 'extracting' | 'done' | 'retrying' | 'failed';
export type TransferMode = 'ranged' | 'single-stream';
export type ArchiveFormat = 'tar' | 'gzip' | 'lz4' | 'zstd';
/** What the window is waiting on: the network (slots free, ranges in flight) or the extractor (all slots full). */
export type WaitingOn = 'network' | 'extractor' | 'none';

interface Base {
  jobId: string;
  at: number;
}

export interface JobStateEvent extends Base {
  type: 'job-state';
  state: JobState;
  reason?: PauseReason;
  error?: SerializedError;
}

export interface ProbedEvent extends Base {
  type: 'probed';
  finalUrl: string;
  size: number | null;
  mode: TransferMode;
  etag: string | null;
  lastModified: string | null;
  chunkSize: number;
  chunkCount: number;
  format: ArchiveFormat | 'raw' | null;
}

/**
 * How far back a stop sends the job, from what its decoder does: `any-byte` (plain tar), `block` (lz4
 * blocks, zstd blocks inside a frame, deflate blocks), `frame` (frame starts only), `chunk` (a download
 * keeps every complete chunk), `none` (checkpoints off, a window of one slot, no range support: it
 * restarts from the beginning).
 */
export type ResumeMode = 'any-byte' | 'block' | 'frame' | 'chunk' | 'none';

/** The format found in the first bytes (or `raw` for a download), and where the job can resume. */
export interface DecodingEvent extends Base {
  type: 'decoding';
  format: ArchiveFormat | 'raw';
  resume: ResumeMode;
  /** Why it cannot resume mid-way, when `resume` is `none`. */
  reason: string | null;
}

export interface ChunkEvent extends Base {
  type: 'chunk';
  index: number;
  state: ChunkState;
  /** Bytes of the chunk committed to its staging file (or consumed, once extracting/done). */
  bytes: number;
  length: number;
}

export interface AttemptStartedEvent extends Base {
  type: 'attempt-started';
  index: number;
  attempt: number;
  rangeStart: number;
  rangeEnd: number;
}

export interface AttemptFailedEvent extends Base {
  type: 'attempt-failed';
  index: number;
  attempt: number;
  status: number | null;
  bytes: number;
  durationMs: number;
  error: SerializedError;
}

export interface RetryScheduledEvent extends Base {
  type: 'retry-scheduled';
  index: number;
  attempt: number;
  delayMs: number;
  nextAt: number;
  reason: string;
}

/**
 * The origin did not answer a probe (at the start, or while paused as unreachable): which host, what went
 * wrong, and when the next try goes out, so a window or terminal can say so while it happens.
 */
export interface ConnectRetryEvent extends Base {
  type: 'connect-retry';
  host: string;
  /** Failed tries so far in this wait (1 for the first). */
  attempt: number;
  /** The error's code (E_CONNECT, E_HTTP_STATUS, ...) and, in the operator's words, why (e.g. 'connection refused'). */
  code: string;
  reason: string;
  delayMs: number;
  nextAt: number;
  /** 'start': before the first byte (the job stays probing); 'unreachable': paused mid-job until the origin answers. */
  phase: 'start' | 'unreachable';
}

export interface WindowSlot {
  slot: number;
  chunk: number | null;
  state: 'free' | 'fetching' | 'staged' | 'extracting';
  bytes: number;
  length: number;
}

export interface WindowEvent extends Base {
  type: 'window';
  capacity: number;
  slots: WindowSlot[];
  inFlight: number;
  staged: number;
  stagedBytes: number;
  waitingOn: WaitingOn;
}

export interface ProgressEvent extends Base {
  type: 'progress';
  bytesTotal: number | null;
  /** Network payload bytes received, retries included. */
  bytesFetched: number;
  /**
   * Bytes of the source received and kept: chunks consumed or staged, plus the received prefix of each chunk
   * still arriving (what a resume keeps). The window's "Downloaded" and the CLI's first figure.
   */
  bytesCommitted: number;
  /** Bytes of the source consumed by the extractor (or written, in download-only mode). */
  bytesConsumed: number;
  /** Bytes written into the destination (uncompressed). */
  bytesWritten: number;
  downloadRate: number;
  extractRate: number;
  retries: number;
}

export interface WarningEvent extends Base {
  type: 'warning';
  code: string;
  message: string;
  entry?: string;
}

/** One source of the file (the URL or a --mirror) as the job uses it: its host, what it served, its state. */
export interface SourceSummary {
  /** The URL without its query string (see transfer/redact.ts). */
  host: string;
  role: 'primary' | 'mirror';
  /** benched: failing, tried again at `benchedUntil`; dropped: not this file (size, ETag) or refused for good. */
  state: 'active' | 'benched' | 'dropped';
  bytes: number;
  requests: number;
  failures: number;
  benchedUntil: number | null;
  /** Measured throughput of one connection to it (bytes/s), null before a range completed. */
  rate: number | null;
  /** Why it is dropped or benched. */
  reason: string | null;
}

/** The sources of a job with mirrors, when one changes state and with the progress ticks. */
export interface SourcesEvent extends Base {
  type: 'sources';
  sources: SourceSummary[];
}

export interface JobSummary {
  bytesTotal: number | null;
  bytesFetched: number;
  bytesWritten: number;
  retries: number;
  /** Connections replaced by the stall watchdog (silent while the others flowed); absent in records saved before. */
  stallReplacements?: number;
  elapsedMs: number;
  entries: number;
  /** The first skipped members (at most SAMPLE_LIMIT, see entry-tally.ts)... */
  skipped: Array<{ entry: string; code: string; reason: string }>;
  /** ...and how many there were in all, per code. */
  skippedTotal: number;
  skippedByCode: Record<string, number>;
  sha256: string | null;
  /** Computed when an MD5 was to be verified (--md5, a manifest, a sidecar). */
  md5?: string | null;
  mode: TransferMode;
  format: ArchiveFormat | 'raw' | null;
  /** Per source, for a job with mirrors (absent otherwise). */
  sources?: SourceSummary[];
}

export interface DoneEvent extends Base, JobSummary {
  type: 'done';
}

export interface ErrorEvent extends Base {
  type: 'error';
  error: SerializedError;
}

/** A part of a snapshot published in parts (engine/parts/parts-run.ts): where it is, and its checksum's verdict. */
export type PartState = 'waiting' | 'downloading' | 'verifying' | 'done' | 'failed';
export interface PartStateEvent extends Base {
  type: 'part-state';
  index: number;
  state: PartState;
  /** 'ok' once a part with a checksum verified; 'mismatch' when it did not; null: none given, or not yet. */
  checksum: 'ok' | 'mismatch' | null;
}

export type EngineEvent =
  | JobStateEvent
  | PartStateEvent
  | ProbedEvent
  | DecodingEvent
  | ChunkEvent
  | AttemptStartedEvent
  | AttemptFailedEvent
  | RetryScheduledEvent
  | ConnectRetryEvent
  | WindowEvent
  | ProgressEvent
  | WarningEvent
  | SourcesEvent
  | DoneEvent
  | ErrorEvent;

export type EngineEventType = EngineEvent['type'];

/** One attempt of one chunk, as kept for the inspector (the last ~20 per chunk). */
export interface AttemptRecord {
  attempt: number;
  startedAt: number;
  durationMs: number;
  rangeStart: number;
  rangeEnd: number;
  status: number | null;
  bytes: number;
  error: SerializedError | null;
}
