// What the window knows about a job, built only from the host's batches. Kept free of DOM and React
// so node's test runner exercises exactly the code the renderer runs.
import type {
  ArchiveFormat,
  ChunkState,
  JobState,
  JobSummary,
  PauseReason,
  TransferMode,
  WaitingOn,
  WindowSlot,
} from '../../../electron/engine/events';
import type { SerializedError } from '../../../electron/engine/errors';
import type { ChunkGrid } from './chunk-grid';

export type { ChunkState, JobState, PauseReason, WaitingOn, WindowSlot, SerializedError, JobSummary };

/** What a job was asked to do: known from the moment it is added, kept across restarts. */
export interface JobInfo {
  id: string;
  url: string;
  dest?: string | undefined;
  output?: string | undefined;
  createdAt?: number | undefined;
  chunkSize?: number | undefined;
  window?: number | undefined;
  concurrency?: number | undefined;
}

export interface ChunkChange {
  index: number;
  state: ChunkState;
  bytes: number;
  length: number;
}

export interface WindowInfo {
  capacity: number;
  slots: WindowSlot[];
  inFlight: number;
  staged: number;
  stagedBytes: number;
  waitingOn: WaitingOn;
}

export interface ProgressInfo {
  bytesTotal: number | null;
  bytesFetched: number;
  bytesCommitted: number;
  bytesConsumed: number;
  bytesWritten: number;
  downloadRate: number;
  extractRate: number;
  retries: number;
}

export interface ProbeInfo {
  finalUrl: string;
  size: number | null;
  mode: TransferMode;
  chunkSize: number;
  chunkCount: number;
  format: ArchiveFormat | 'raw' | null;
}

export interface AttemptStart {
  index: number;
  attempt: number;
  at: number;
  rangeStart: number;
  rangeEnd: number;
}

export interface AttemptFailure {
  index: number;
  attempt: number;
  at: number;
  status: number | null;
  bytes: number;
  durationMs: number;
  error: SerializedError;
}

export interface RetryInfo {
  index: number;
  attempt: number;
  delayMs: number;
  nextAt: number;
  reason: string;
}

export interface WarningInfo {
  at: number;
  code: string;
  message: string;
  entry?: string | undefined;
}

/** One batch of changes to one job, in the host's order (`seq` counts up by one per job). */
export interface JobDelta {
  jobId: string;
  seq: number;
  at: number;
  info?: Partial<JobInfo>;
  state?: { state: JobState; reason?: PauseReason | undefined; error?: SerializedError | undefined };
  probe?: ProbeInfo;
  chunks?: ChunkChange[];
  window?: WindowInfo;
  progress?: Partial<ProgressInfo>;
  attemptsStarted?: AttemptStart[];
  attemptsFailed?: AttemptFailure[];
  retries?: RetryInfo[];
  warnings?: WarningInfo[];
  done?: JobSummary;
  error?: SerializedError;
}

/** An attempt as the inspector shows it; `open` until it fails or its chunk is staged. */
export interface AttemptView {
  attempt: number;
  startedAt: number;
  rangeStart: number;
  rangeEnd: number;
  status: number | null;
  bytes: number;
  durationMs: number;
  error: SerializedError | null;
  open: boolean;
}

export interface ThroughputSample {
  at: number;
  download: number;
  extract: number;
}

export interface JobView {
  info: JobInfo;
  host: string;
  name: string;
  state: JobState;
  reason: PauseReason | null;
  error: SerializedError | null;
  probe: ProbeInfo | null;
  grid: ChunkGrid;
  /** Bumped whenever a cell changes, so views that read the grid know to look again. */
  gridVersion: number;
  window: WindowInfo | null;
  progress: ProgressInfo;
  samples: ThroughputSample[];
  attempts: Map<number, AttemptView[]>;
  nextRetry: Map<number, RetryInfo>;
  detailVersion: number;
  warnings: WarningInfo[];
  skipped: number;
  summary: JobSummary | null;
  lastSeq: number;
  needsResync: boolean;
  updatedAt: number;
}
