// What the window knows about a job, built only from the host's batches. Kept free of DOM and React
// so node's test runner exercises exactly the code the renderer runs.
import type { ChunkView, DecodingView, JobView as ContractJobView, SerializedError, WindowView } from '../../../shared/contract';

export type ChunkState = ChunkView['state'];
export type JobState = ContractJobView['state'];
export type PauseReason = NonNullable<ContractJobView['pauseReason']>;
export type WaitingOn = WindowView['waitingOn'];
export type WindowSlot = WindowView['slots'][number];
export type JobSummary = NonNullable<ContractJobView['summary']>;
/** One source of a job with mirrors: host (no query string), bytes, state. */
export type SourceInfo = NonNullable<ContractJobView['sources']>[number];
type Probe = NonNullable<ContractJobView['probe']>;
type TransferMode = Probe['mode'];
type ArchiveFormat = NonNullable<Probe['format']>;
import type { ChunkGrid } from './chunk-grid';
import type { ConnectingInfo } from '../../../shared/connecting';

export type { SerializedError };
/** The format found and where a stopped job continues. */
export type DecodingInfo = DecodingView;

/** What a job was asked to do: known from the moment it is added, kept across restarts. */
export interface JobInfo {
  id: string;
  url: string;
  dest?: string | null | undefined;
  output?: string | null | undefined;
  createdAt?: number | undefined;
  chunkSize?: number | null | undefined;
  window?: number | null | undefined;
  concurrency?: number | null | undefined;
  limitRate?: number | null | undefined;
  sha256?: string | null | undefined;
  /** Names of the job's request headers; the host never sends their values. */
  headerNames?: string[] | undefined;
  refreshCommand?: boolean | undefined;
  /** A snapshot in parts: each part's name, size, state and checksum verdict (from the job's snapshots). */
  parts?: PartView[] | undefined;
}

export type PartView = NonNullable<ContractJobView['parts']>[number];

export interface ChunkChange {
  index: number;
  state: ChunkState;
  bytes: number;
  length: number;
  /** Latest attempt number, when the host says. */
  attempt?: number;
  /** When a retrying chunk fires next (ms since epoch). */
  nextAt?: number | null;
  /** Code of the chunk's latest failed attempt. */
  errorCode?: string | null;
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
  format: ArchiveFormat | null;
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
  nextAt: number;
  delayMs?: number | undefined;
  reason?: string | undefined;
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
  state?: { state: JobState; reason?: PauseReason | undefined; error?: SerializedError | undefined; connecting?: ConnectingInfo | null | undefined };
  probe?: ProbeInfo;
  decoding?: DecodingInfo;
  chunks?: ChunkChange[];
  window?: WindowInfo;
  progress?: Partial<ProgressInfo>;
  attemptsStarted?: AttemptStart[];
  attemptsFailed?: AttemptFailure[];
  retries?: RetryInfo[];
  warnings?: WarningInfo[];
  warningCount?: number;
  /** The URL and its mirrors (a job with mirrors). */
  sources?: SourceInfo[];
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

/** The byte counters at one moment, for rates averaged over a window (the ETA). */
export interface CounterSample {
  at: number;
  committed: number;
  consumed: number;
}

export interface JobView {
  info: JobInfo;
  host: string;
  name: string;
  state: JobState;
  reason: PauseReason | null;
  error: SerializedError | null;
  /** The origin does not answer: the latest try and when the next goes out (null otherwise). */
  connecting: ConnectingInfo | null;
  /** The URL and its mirrors as the job uses them; empty for a job without mirrors. */
  sources: SourceInfo[];
  probe: ProbeInfo | null;
  decoding: DecodingInfo | null;
  grid: ChunkGrid;
  /** Bumped whenever a cell changes, so views that read the grid know to look again. */
  gridVersion: number;
  window: WindowInfo | null;
  progress: ProgressInfo;
  samples: ThroughputSample[];
  /** Counters of the last minute (see CounterSample). */
  counters: CounterSample[];
  attempts: Map<number, AttemptView[]>;
  nextRetry: Map<number, RetryInfo>;
  /** Latest failure code of chunks that failed at least once (for the hover tip). */
  lastErrorCode: Map<number, string>;
  detailVersion: number;
  warnings: WarningInfo[];
  /** Warnings the host counted (skipped entries and the like), including ones before we connected. */
  warningCount: number;
  skipped: number;
  summary: JobSummary | null;
  lastSeq: number;
  needsResync: boolean;
  /** When the state, progress and window we show were true: an older report of one is ignored. */
  stateAt: number;
  progressAt: number;
  windowAt: number;
  updatedAt: number;
}
