// Payload schemas of the contract (zod). The host validates every incoming payload with these; the
// renderer only needs their inferred types (import type), so zod stays out of its bundle.
import { z } from 'zod';
import { HOST_ERROR_CODES } from './channels';

// ---- enums mirroring electron/engine/events.ts (held equal at compile time in electron/host/contract-conformance.ts)

export const jobStateSchema = z.enum(['probing', 'downloading', 'paused', 'verifying', 'done', 'failed', 'cancelled']);
export const pauseReasonSchema = z.enum(['user', 'suspend', 'offline', 'unreachable', 'disk-full', 'link-expired', 'error']);
export const chunkStateSchema = z.enum(['pending', 'fetching', 'staged', 'extracting', 'done', 'retrying', 'failed']);
export const transferModeSchema = z.enum(['ranged', 'single-stream']);
export const archiveFormatSchema = z.enum(['tar', 'gzip', 'lz4', 'zstd']);
export const formatOptionSchema = z.enum(['auto', 'tar', 'gzip', 'lz4', 'zstd']);
export const waitingOnSchema = z.enum(['network', 'extractor', 'none']);
export const resumeModeSchema = z.enum(['any-byte', 'block', 'frame', 'chunk', 'none']);

// ---- limits

export const MAX_URL_LENGTH = 8192;
export const MAX_PATH_LENGTH = 4096;
export const MAX_CHUNK_INDEX = 10_000_000;
export const MIN_CHUNK_SIZE = 1024 * 1024;
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024 * 1024;

// ---- primitives

export const jobIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'a job id is letters, digits, - and _');

export const httpUrlSchema = z
  .string()
  .min(1)
  .max(MAX_URL_LENGTH)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      return false;
    }
  }, 'an absolute http:// or https:// URL')
  // The command line refuses user:password@ for the same reason: the URL is stored with the job and shown.
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.username === '' && url.password === '';
    } catch {
      return true;
    }
  }, 'a URL without user:password@ (credentials in a URL are stored with the job and shown; use a presigned URL)');

/**
 * True for an absolute path on POSIX (`/x`) or Windows (`C:\x`, `\\server\share`). Written without
 * node:path so the renderer can run the same check.
 */
export function isAbsolutePath(value: string): boolean {
  return value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value) || /^\\\\[^\\/]+[\\/][^\\/]+/.test(value);
}

/**
 * Why an absolute path (see isAbsolutePath) cannot be used on the host's platform, or null: on POSIX a
 * Windows form (`C:\x`, `\\server\share`) is not absolute at all and would resolve against the host's
 * working directory; on Windows `/x` means "on the current drive", whichever that is.
 */
export function platformPathProblem(value: string, platform: string): string | null {
  const windowsForm = /^[A-Za-z]:[\\/]/.test(value) || /^\\\\[^\\/]+[\\/][^\\/]+/.test(value);
  if (platform === 'win32') return windowsForm ? null : 'the host runs Windows: give a path with a drive letter (C:\\...) or a \\\\server\\share path';
  return windowsForm ? `this is a Windows path, but the host runs ${platform}: give a path starting with /` : null;
}

/** Why a path the renderer sent is refused, or null when it is acceptable. */
export function pathProblem(value: string): string | null {
  if (value.length === 0) return 'the path is empty';
  if (value.length > MAX_PATH_LENGTH) return `the path is longer than ${MAX_PATH_LENGTH} characters`;
  if (/[\u0000-\u001f]/.test(value)) return 'the path contains control characters';
  if (!isAbsolutePath(value)) return 'the path must be absolute';
  const segments = value.split(/[\\/]+/);
  if (segments.some((s) => s === '..' || s === '.')) return 'the path must not contain . or .. segments';
  return null;
}

export const absolutePathSchema = z.string().superRefine((value, ctx) => {
  const problem = pathProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const sha256Schema = z.string().regex(/^[0-9a-fA-F]{64}$/, '64 hexadecimal digits');
const chunkIndexSchema = z.number().int().min(0).max(MAX_CHUNK_INDEX);
const chunkSizeSchema = z.number().int().min(MIN_CHUNK_SIZE).max(MAX_CHUNK_SIZE);
const windowSchema = z.number().int().min(1).max(64);
const concurrencySchema = z.number().int().min(1).max(32);
const limitRateSchema = z.number().int().min(1024).max(Number.MAX_SAFE_INTEGER);
const retriesSchema = z.number().int().min(0).max(1000);
/** No byte for this long (ms) and a connection is given up and its range resumed: 1 s to 1 h. */
const idleTimeoutSchema = z.number().int().min(1_000).max(3_600_000);
/** Largest zstd window a frame may ask for, bytes: zstd's 1 KiB minimum to what the decoder addresses (2 GiB - 256 KiB). */
export const MAX_ZSTD_WINDOW = 2 * 1024 * 1024 * 1024 - 256 * 1024;
const zstdMaxWindowSchema = z.number().int().min(1024).max(MAX_ZSTD_WINDOW);
/** Request headers, one `Name: value` a line as --header takes them (the host checks each as the CLI does). */
export const MAX_HEADERS = 32;
const headerLinesSchema = z.array(z.string().min(1).max(8192)).max(MAX_HEADERS);
/** A command that prints a fresh URL when the link expires (--refresh-url-command). */
const refreshCommandSchema = z
  .string()
  .max(4096)
  .refine((v) => v.trim() !== '', 'a command, not blank');

// ---- errors

export const serializedCauseSchema = z.object({ code: z.string().optional(), message: z.string() });
export const serializedErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  causes: z.array(serializedCauseSchema),
  details: z.record(z.string(), z.unknown()).optional(),
});
export const hostErrorCodeSchema = z.enum(HOST_ERROR_CODES);

// ---- views (host → renderer)

export const progressViewSchema = z.object({
  bytesTotal: z.number().nullable(),
  bytesFetched: z.number(),
  bytesCommitted: z.number(),
  bytesConsumed: z.number(),
  bytesWritten: z.number(),
  downloadRate: z.number(),
  extractRate: z.number(),
  retries: z.number(),
});

export const probeViewSchema = z.object({
  finalUrl: z.string(),
  size: z.number().nullable(),
  mode: transferModeSchema,
  etag: z.string().nullable(),
  lastModified: z.string().nullable(),
  chunkSize: z.number(),
  chunkCount: z.number(),
  format: z.union([archiveFormatSchema, z.literal('raw')]).nullable(),
});

/** The format found in the archive's first bytes and where a stopped job continues (see shared/resume-words). */
export const decodingViewSchema = z.object({
  format: z.union([archiveFormatSchema, z.literal('raw')]),
  resume: resumeModeSchema,
  /** Why it cannot resume mid-way, when resume is none. */
  reason: z.string().max(500).nullable(),
});

/** One source of a job with mirrors: its URL without the query string, what it served, its state. */
export const sourceViewSchema = z.object({
  host: z.string().max(2000),
  role: z.enum(['primary', 'mirror']),
  state: z.enum(['active', 'benched', 'dropped']),
  bytes: z.number(),
  requests: z.number(),
  failures: z.number(),
  benchedUntil: z.number().nullable(),
  rate: z.number().nullable(),
  reason: z.string().max(2000).nullable(),
});

export const jobSummarySchema = z.object({
  bytesTotal: z.number().nullable(),
  bytesFetched: z.number(),
  bytesWritten: z.number(),
  retries: z.number(),
  /** Connections replaced by the stall watchdog (absent in job lists saved before). */
  stallReplacements: z.number().optional(),
  elapsedMs: z.number(),
  entries: z.number(),
  /** The first skipped members; skippedTotal and skippedByCode count all (absent in job lists saved before). */
  skipped: z.array(z.object({ entry: z.string(), code: z.string(), reason: z.string() })),
  skippedTotal: z.number().optional(),
  skippedByCode: z.record(z.string(), z.number()).optional(),
  sha256: z.string().nullable(),
  /** Computed when an MD5 was to be verified (absent otherwise, and in job lists saved before). */
  md5: z.string().nullable().optional(),
  mode: transferModeSchema,
  format: z.union([archiveFormatSchema, z.literal('raw')]).nullable(),
  /** Per source, for a job with mirrors (absent otherwise). */
  sources: z.array(sourceViewSchema).optional(),
});

export const jobOptionsViewSchema = z.object({
  chunkSize: z.number().nullable(),
  window: z.number().nullable(),
  concurrency: z.number().nullable(),
  limitRate: z.number().nullable(),
  retries: z.number().nullable(),
  /** Absent on jobs recorded before it was an option. */
  idleTimeoutMs: z.number().nullable().optional(),
  format: formatOptionSchema,
  sha256: z.string().nullable(),
  strict: z.boolean(),
  force: z.boolean(),
  /** The names of the job's request headers (lowercase); their values never leave the host. Absent: none. */
  headerNames: z.array(z.string()).optional(),
  /** The job has a refresh-URL command (the command itself is not sent back). */
  refreshCommand: z.boolean().optional(),
});

/** One part of a snapshot published in parts: its name, size (when the manifest says), where it is, its checksum's verdict. */
export const partStateSchema = z.enum(['waiting', 'downloading', 'verifying', 'done', 'failed']);
export const partViewSchema = z.object({
  index: z.number(),
  name: z.string(),
  size: z.number().nullable(),
  state: partStateSchema,
  /** 'ok' verified, 'mismatch' refused, null: no checksum given (or not verified yet). */
  checksum: z.enum(['ok', 'mismatch']).nullable(),
  hasChecksum: z.boolean(),
});

/** One job as the list shows it. */
/** The origin does not answer (at the start, or paused as unreachable): the latest try and the next one. */
export const connectingViewSchema = z.object({
  host: z.string(),
  attempt: z.number(),
  code: z.string(),
  reason: z.string(),
  nextAt: z.number(),
  phase: z.enum(['start', 'unreachable']),
});

export const jobViewSchema = z.object({
  id: z.string(),
  url: z.string(),
  /** Extraction folder, or null in download-only mode. */
  dest: z.string().nullable(),
  /** Download-only target file, or null when extracting. */
  output: z.string().nullable(),
  state: jobStateSchema,
  pauseReason: pauseReasonSchema.nullable(),
  error: serializedErrorSchema.nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  probe: probeViewSchema.nullable(),
  /** Once the format is known; absent in job lists saved before it was shown. */
  decoding: decodingViewSchema.nullable().optional(),
  progress: progressViewSchema,
  summary: jobSummarySchema.nullable(),
  options: jobOptionsViewSchema,
  warnings: z.number(),
  /** A snapshot in parts: the parts in order (absent for a job of one file). */
  parts: z.array(partViewSchema).optional(),
  /** Set while the origin does not answer; absent in job lists saved before. */
  connecting: connectingViewSchema.nullable().optional(),
  /** The URL and its mirrors as the job uses them (a job with mirrors; absent otherwise). */
  sources: z.array(sourceViewSchema).optional(),
});

export const chunkViewSchema = z.object({
  index: z.number(),
  state: chunkStateSchema,
  bytes: z.number(),
  length: z.number(),
  /** Attempt number of the latest attempt (0 before the first one). */
  attempt: z.number(),
  /** When a retrying chunk fires next (ms since epoch), else null. */
  nextAt: z.number().nullable(),
  /** Code of the latest failed attempt, else null. */
  errorCode: z.string().nullable(),
});

export const windowSlotSchema = z.object({
  slot: z.number(),
  chunk: z.number().nullable(),
  state: z.enum(['free', 'fetching', 'staged', 'extracting']),
  bytes: z.number(),
  length: z.number(),
});

export const windowViewSchema = z.object({
  capacity: z.number(),
  slots: z.array(windowSlotSchema),
  inFlight: z.number(),
  staged: z.number(),
  stagedBytes: z.number(),
  waitingOn: waitingOnSchema,
});

/** A job with its full chunk map and window: what a renderer that connects late needs. */
export const jobDetailSchema = jobViewSchema.extend({
  chunks: z.array(chunkViewSchema),
  window: windowViewSchema.nullable(),
  /** Sequence of the latest chunkBatch already folded into this snapshot: apply only later batches. */
  seq: z.number(),
});

export const attemptRecordSchema = z.object({
  attempt: z.number(),
  startedAt: z.number(),
  durationMs: z.number(),
  rangeStart: z.number(),
  rangeEnd: z.number(),
  status: z.number().nullable(),
  bytes: z.number(),
  error: serializedErrorSchema.nullable(),
});

/** One line of a job's log. */
export const logEntrySchema = z.object({ at: z.number(), level: z.enum(['info', 'warn', 'error']), text: z.string() });

export const settingsSchema = z.object({
  /** Folder offered first by the destination dialog, and accepted as a parent of typed destinations. */
  defaultDest: absolutePathSchema.nullable(),
  chunkSize: chunkSizeSchema,
  window: windowSchema,
  concurrency: concurrencySchema,
  /** Bytes per second for each job, or null for unlimited. */
  limitRate: limitRateSchema.nullable(),
  retries: retriesSchema,
  idleTimeoutMs: idleTimeoutSchema,
  /** Keep the machine awake while a job downloads (Electron only). */
  keepAwake: z.boolean(),
  /** Show a system notification when a job finishes or fails (Electron only). */
  notify: z.boolean(),
});

export const DEFAULT_SETTINGS: z.output<typeof settingsSchema> = {
  defaultDest: null,
  chunkSize: 64 * 1024 * 1024,
  window: 4,
  concurrency: 4,
  limitRate: null,
  retries: 8,
  idleTimeoutMs: 30_000,
  keepAwake: false,
  notify: true,
};

// ---- requests (renderer → host): strict, so unknown fields are refused

const emptyRequest = z.strictObject({});
const jobRef = z.strictObject({ jobId: jobIdSchema });
const chunkRef = z.strictObject({ jobId: jobIdSchema, index: chunkIndexSchema });

export const addJobRequestSchema = z
  .strictObject({
    url: httpUrlSchema,
    dest: absolutePathSchema.optional(),
    output: absolutePathSchema.optional(),
    sha256: sha256Schema.optional(),
    /** Other URLs of the same file (the engine probes each and drops one that is another file). */
    mirrors: z.array(httpUrlSchema).max(16).optional(),
    format: formatOptionSchema.optional(),
    chunkSize: chunkSizeSchema.optional(),
    window: windowSchema.optional(),
    concurrency: concurrencySchema.optional(),
    limitRate: limitRateSchema.optional(),
    retries: retriesSchema.optional(),
    idleTimeoutMs: idleTimeoutSchema.optional(),
    zstdMaxWindow: zstdMaxWindowSchema.optional(),
    strict: z.boolean().optional(),
    force: z.boolean().optional(),
    headers: headerLinesSchema.optional(),
    refreshUrlCommand: refreshCommandSchema.optional(),
  })
  .refine((r) => (r.dest === undefined) !== (r.output === undefined), {
    message: 'exactly one of dest (extract) or output (download only) is required',
    path: ['dest'],
  })
  // The engine refuses this at start (every range in flight needs a window slot): said on the field instead of a job that fails at once.
  .refine((r) => r.concurrency === undefined || r.window === undefined || r.concurrency <= r.window, {
    message: 'parallel connections cannot exceed the window (chunks on disk): every range in flight needs a window slot',
    path: ['concurrency'],
  });

/** A snapshot in parts: its manifest (an http(s) URL, or the manifest's text pasted) into one folder. */
export const MAX_MANIFEST_TEXT = 1024 * 1024;
export const addManifestJobRequestSchema = z.strictObject({
  manifest: z
    .string()
    .max(MAX_MANIFEST_TEXT)
    .refine((v) => v.trim() !== '', 'a manifest URL or the manifest’s text'),
  dest: absolutePathSchema,
  chunkSize: chunkSizeSchema.optional(),
  window: windowSchema.optional(),
  concurrency: concurrencySchema.optional(),
  limitRate: limitRateSchema.optional(),
  force: z.boolean().optional(),
});

export const setSettingsRequestSchema = settingsSchema.partial().strict();

export const chooseDestinationRequestSchema = z.strictObject({
  title: z.string().max(200).optional(),
  defaultPath: absolutePathSchema.optional(),
});

/** Whether a destination can be used as asked, before a job is created; with the free space there. */
export const checkDestinationRequestSchema = z.strictObject({
  path: absolutePathSchema,
  downloadOnly: z.boolean().optional(),
  force: z.boolean().optional(),
});
export const destinationReportSchema = z.object({
  problem: z.object({ code: z.enum(['E_DEST_NOT_EMPTY', 'E_DEST_NOT_WRITABLE']), message: z.string() }).nullable(),
  freeBytes: z.number().nullable(),
});

export const infoSchema = z.object({
  version: z.string(),
  transport: z.enum(['electron', 'websocket']),
  platform: z.string(),
  /** What this host can do besides the job calls (no native dialogs over the WebSocket). */
  capabilities: z.object({ chooseDestination: z.boolean(), revealInFolder: z.boolean() }),
});

export const requestSchemas = {
  getInfo: emptyRequest,
  listJobs: emptyRequest,
  getJob: jobRef,
  addJob: addJobRequestSchema,
  addManifestJob: addManifestJobRequestSchema,
  pauseJob: jobRef,
  resumeJob: jobRef,
  cancelJob: z.strictObject({ jobId: jobIdSchema, deleteFiles: z.boolean().optional() }),
  removeJob: jobRef,
  retryChunkNow: chunkRef,
  /** A running (or stopped) job's rate limit, bytes/s; null: unlimited. Kept for its later runs. */
  setRateLimit: z.strictObject({ jobId: jobIdSchema, limitRate: limitRateSchema.nullable() }),
  /** A fresh link to the same file for a job paused as link-expired or failed (the engine checks it is the same object). */
  replaceLink: z.strictObject({
    jobId: jobIdSchema,
    url: z
      .string()
      .min(1)
      .max(8192)
      .regex(/^https?:\/\//i, 'an http:// or https:// URL'),
  }),
  getChunkHistory: chunkRef,
  getJobLog: jobRef,
  getSettings: emptyRequest,
  setSettings: setSettingsRequestSchema,
  chooseDestination: chooseDestinationRequestSchema,
  checkDestination: checkDestinationRequestSchema,
  revealInFolder: jobRef,
};

export const responseSchemas = {
  getInfo: infoSchema,
  listJobs: z.array(jobViewSchema),
  getJob: jobDetailSchema,
  addJob: jobViewSchema,
  addManifestJob: jobViewSchema,
  pauseJob: jobViewSchema,
  resumeJob: jobViewSchema,
  cancelJob: jobViewSchema,
  removeJob: z.object({ jobId: z.string() }),
  retryChunkNow: z.object({ jobId: z.string(), index: z.number(), retried: z.boolean() }),
  setRateLimit: jobViewSchema,
  replaceLink: jobViewSchema,
  getChunkHistory: z.array(attemptRecordSchema),
  getJobLog: z.array(logEntrySchema),
  getSettings: settingsSchema,
  setSettings: settingsSchema,
  /** `path` is null when the operator closed the dialog. */
  chooseDestination: z.object({ path: z.string().nullable() }),
  checkDestination: destinationReportSchema,
  revealInFolder: z.object({ revealed: z.boolean() }),
};

// ---- events (host → renderer)

const attemptStartedSchema = z.object({
  type: z.literal('attempt-started'),
  jobId: z.string(),
  at: z.number(),
  index: z.number(),
  attempt: z.number(),
  rangeStart: z.number(),
  rangeEnd: z.number(),
});
const attemptFailedSchema = z.object({
  type: z.literal('attempt-failed'),
  jobId: z.string(),
  at: z.number(),
  index: z.number(),
  attempt: z.number(),
  status: z.number().nullable(),
  bytes: z.number(),
  durationMs: z.number(),
  error: serializedErrorSchema,
});
const retryScheduledSchema = z.object({
  type: z.literal('retry-scheduled'),
  jobId: z.string(),
  at: z.number(),
  index: z.number(),
  attempt: z.number(),
  delayMs: z.number(),
  nextAt: z.number(),
  reason: z.string(),
});
export const attemptEventSchema = z.discriminatedUnion('type', [attemptStartedSchema, attemptFailedSchema, retryScheduledSchema]);

export const eventSchemas = {
  /** The whole job view: on add, restore, and every job-state transition (sent at once). */
  jobSnapshot: jobViewSchema,
  jobRemoved: z.object({ jobId: z.string() }),
  /** Chunks changed since the previous batch (their latest state) and the latest counters. */
  chunkBatch: z.object({
    jobId: z.string(),
    seq: z.number(),
    at: z.number(),
    chunks: z.array(chunkViewSchema),
    progress: progressViewSchema,
  }),
  windowOccupancy: windowViewSchema.extend({ jobId: z.string(), at: z.number() }),
  attempt: attemptEventSchema,
  jobError: z.object({ jobId: z.string(), at: z.number(), error: serializedErrorSchema }),
};

// ---- wire envelopes (WebSocket; Electron carries the same objects through ipcRenderer.invoke/send)

export const MAX_MESSAGE_BYTES = 1024 * 1024;

export const invokeEnvelopeSchema = z.strictObject({
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  channel: z.string().max(64),
  payload: z.unknown().optional(),
});
