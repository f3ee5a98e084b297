// Engine errors: a stable `code`, whether a retry can help, and the `cause` chain. Only the serialised
// form ({code, message, causes, retryable}) leaves the engine (CLI output, IPC).

export type ErrorCode =
  // usage and input
  | 'E_USAGE'
  | 'E_BAD_URL'
  | 'E_DEST_NOT_EMPTY'
  | 'E_DEST_NOT_WRITABLE'
  // network and HTTP
  | 'E_CONNECT'
  | 'E_IDLE_TIMEOUT'
  | 'E_STALLED'
  | 'E_SHORT_BODY'
  | 'E_HTTP_STATUS'
  | 'E_RANGE_IGNORED'
  | 'E_CONTENT_RANGE'
  | 'E_RANGE_NOT_SATISFIABLE'
  | 'E_REDIRECT'
  | 'E_CONTENT_ENCODING'
  | 'E_SIZE_MISMATCH'
  | 'E_TLS'
  | 'E_HEADERS_TOO_LARGE'
  | 'E_UPSTREAM_CHANGED'
  /** A signed link was refused (401/403) after the job started: a fresh link continues the job. */
  | 'E_LINK_EXPIRED'
  | 'E_RETRIES_EXHAUSTED'
  | 'E_PROBE'
  // archive
  | 'E_NOT_AN_ARCHIVE'
  | 'E_FORMAT_UNSUPPORTED'
  /** A zstd frame needs a larger window (memory) than the job allows (--zstd-max-window). */
  | 'E_WINDOW_TOO_LARGE'
  | 'E_ARCHIVE_TRUNCATED'
  | 'E_ARCHIVE_CORRUPT'
  | 'E_TRAILING_GARBAGE'
  | 'E_UNSAFE_ENTRY'
  | 'E_LIMIT_EXCEEDED'
  // integrity, disk, lifecycle
  | 'E_CHECKSUM_MISMATCH'
  | 'E_DISK_FULL'
  | 'E_IO'
  | 'E_JOURNAL'
  | 'E_STATE_UNREADABLE'
  | 'E_LOCKED'
  | 'E_ABORTED'
  | 'E_INTERNAL'
  // job manager (IPC host): no such job, or not in a state that allows the request
  | 'E_NOT_FOUND'
  | 'E_CONFLICT';

export interface EngineErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  /** Structured facts for the UI and the journal (status, offset, path, entry, ...). */
  details?: Record<string, unknown>;
}

export class EngineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: EngineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/** The operator's input is wrong: exit 2, nothing retried. */
export class UsageError extends EngineError {
  constructor(message: string, options: EngineErrorOptions = {}) {
    super('E_USAGE', message, options);
  }
}

/** A transport-level failure (refused, reset, DNS, idle): retryable by nature. */
export class NetworkError extends EngineError {
  constructor(code: 'E_CONNECT' | 'E_IDLE_TIMEOUT' | 'E_STALLED' | 'E_SHORT_BODY', message: string, options: EngineErrorOptions = {}) {
    super(code, message, { retryable: true, ...options });
  }
}

/** The origin answered with a status we cannot use. 5xx/408/429 are retryable, 4xx are not. */
export class HttpStatusError extends EngineError {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  constructor(status: number, message: string, options: EngineErrorOptions & { retryAfterMs?: number } = {}) {
    super('E_HTTP_STATUS', message, {
      retryable: status >= 500 || status === 408 || status === 429,
      ...options,
      details: { status, ...options.details },
    });
    this.status = status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The origin broke the range protocol (wrong Content-Range, 200 to a Range, bad redirect, 416). */
export class ProtocolError extends EngineError {}

/** The bytes at the origin are not the ones this job started with: never splice them. */
export class UpstreamChangedError extends EngineError {
  constructor(message: string, options: EngineErrorOptions = {}) {
    super('E_UPSTREAM_CHANGED', message, { retryable: false, ...options });
  }
}

/**
 * The job's link was refused after it started (an expired presigned URL): the job stops with everything kept,
 * and a fresh link of the same object continues it (re-run with it, Replace link, --refresh-url-command).
 */
export class LinkExpiredError extends EngineError {
  constructor(message: string, options: EngineErrorOptions = {}) {
    super('E_LINK_EXPIRED', message, { retryable: false, ...options });
  }
}

/** The archive is broken or hostile; `details.offset` names where it was found. */
export class ArchiveError extends EngineError {}

export class IntegrityError extends EngineError {
  constructor(message: string, options: EngineErrorOptions = {}) {
    super('E_CHECKSUM_MISMATCH', message, options);
  }
}

/** ENOSPC while staging or extracting: the job pauses as `disk-full`, nothing is lost. */
export class DiskFullError extends EngineError {
  constructor(path: string, bytesNeeded: number | undefined, options: EngineErrorOptions = {}) {
    super(
      'E_DISK_FULL',
      `The disk is full while writing ${path}` +
        (bytesNeeded ? `; about ${formatBytes(bytesNeeded)} more are needed` : '') +
        '. Free some space and resume: nothing written so far is lost.',
      { retryable: true, ...options, details: { path, bytesNeeded, ...options.details } },
    );
  }
}

export class AbortedError extends EngineError {
  constructor(message = 'Stopped by request', options: EngineErrorOptions = {}) {
    super('E_ABORTED', message, options);
  }
}

export interface SerializedCause {
  code?: string;
  message: string;
}

export interface SerializedError {
  code: string;
  message: string;
  retryable: boolean;
  causes: SerializedCause[];
  details?: Record<string, unknown>;
}

/** Wraps anything thrown into an EngineError, mapping well-known system errors to their codes. */
export function toEngineError(err: unknown, fallback: ErrorCode = 'E_INTERNAL'): EngineError {
  if (err instanceof EngineError) return err;
  const sys = err as NodeJS.ErrnoException | undefined;
  if (sys && sys.code === 'ENOSPC') return new DiskFullError(sys.path ?? 'the destination', undefined, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new EngineError(fallback, message, { cause: err });
}

/** The cause chain as plain data, outermost first (the error itself is not repeated). */
export function causeChain(err: unknown, max = 16): SerializedCause[] {
  const out: SerializedCause[] = [];
  let current = (err as { cause?: unknown } | undefined)?.cause;
  while (current !== undefined && current !== null && out.length < max) {
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      out.push({ ...(typeof code === 'string' ? { code } : {}), message: current.message });
      current = (current as { cause?: unknown }).cause;
    } else {
      out.push({ message: String(current) });
      break;
    }
  }
  return out;
}

export function serializeError(err: unknown): SerializedError {
  const e = toEngineError(err);
  const details = Object.keys(e.details).length > 0 ? jsonSafe(e.details) : undefined;
  return {
    code: e.code,
    message: e.message,
    retryable: e.retryable,
    causes: causeChain(e),
    ...(details ? { details } : {}),
  };
}

function jsonSafe(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function') continue;
    out[k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
