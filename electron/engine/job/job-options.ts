// A job's options, their defaults, and the checks that turn bad input into a usage error before any I/O.
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors';
import { validateUrl } from '../transfer/probe';
import { DEFAULT_MAX_WINDOW, HARD_MAX_WINDOW } from '../decode/zstd/frame-header';
import { parseChecksumArg, type DigestKind } from '../checksum/checksum-text';
import { isHeaderSet, type HeaderSet } from '../transfer/origin-headers';
import type { ManifestPart } from '../parts/manifest';

/** The digests a job verifies, resumably (see checksum/digest-set.ts). */
export const JOB_DIGESTS: readonly DigestKind[] = ['sha256', 'md5'];

export type FormatOption = 'auto' | 'tar' | 'gzip' | 'lz4' | 'zstd';

export interface JobOptions {
  url: string;
  /** Extract into this folder (exactly one of dest / output). */
  dest?: string;
  /** Download only: write the exact bytes to this file. */
  output?: string;
  /** Staging files (the chunk window) and the job's state. */
  stateDir: string;
  chunkSize?: number;
  window?: number;
  concurrency?: number;
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  retries?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  retryAfterCapMs?: number;
  limitRate?: number;
  format?: FormatOption;
  /** Hex, or a pasted `sha256sum` / BSD line (see checksum/checksum-text.ts). */
  sha256?: string;
  /** Hex, or a pasted `md5sum` / BSD line. */
  md5?: string;
  /**
   * The operator's request headers (--header), sent only to `headers.origin`; kept in the state folder
   * owner-only (state/saved-headers.ts), never printed.
   */
  headers?: HeaderSet | null;
  /**
   * A snapshot in parts (a manifest's list): the runner runs engine/parts/parts-run.ts instead of one Job, each
   * part with these options into `dest`. Plain data, so it crosses the worker thread like the rest.
   */
  parts?: ManifestPart[];
  /**
   * Other URLs of the same file (--mirror): each probed for the same size (and identity), ranges spread over
   * them by throughput (see transfer/sources/). Kept owner-only with the state (state/saved-mirrors.ts).
   */
  mirrors?: string[];
  strict?: boolean;
  force?: boolean;
  /** Discard the state of an earlier run (e.g. after the upstream changed) and start again. */
  restart?: boolean;
  /**
   * Keep the state folder after the job completes (default: removed, since beside the target it would stay
   * in the operator's data holding the source URL; a re-run of a completed job is then a no-op).
   */
  keepState?: boolean;
  /**
   * Where a completed job leaves its completion record (see completion-record.ts), so that running it again
   * is a no-op rather than a refused non-empty destination; the app's data folder. None: no record.
   */
  completionDir?: string | null;
  /** Interval of progress and window events, ms. */
  progressIntervalMs?: number;
  /**
   * Extraction checkpoints (default on). Off: gzip is decoded by zlib's own stream, nothing is fsynced for
   * resume, and a stopped job extracts again from the start; for measuring what checkpoints cost, or for a
   * throwaway extraction on a machine that will not sleep.
   */
  checkpoints?: boolean;
  /**
   * Largest zstd window (bytes of history held in memory) a frame may ask for; default 128 MiB, what
   * `zstd --long=27` writes and `zstd -d` accepts. A frame over it is refused before it is decoded.
   */
  zstdMaxWindow?: number;
  /**
   * A link refused (401/403) after the job started: 'stop' ends the job with E_LINK_EXPIRED, its state kept
   * (the CLI: the operator re-runs with a fresh link); 'wait' pauses as link-expired until replaceUrl (the window).
   */
  onLinkExpired?: 'wait' | 'stop';
  /** A shell command printing a fresh link, run when the link expires (kept owner-only with the state). */
  refreshUrlCommand?: string | null;
  /**
   * The URL is a replacement for the one an earlier run of this job used: continue only if it serves the
   * same object, else refuse (the window's Replace link on a stopped job), never start over.
   */
  replacesLink?: boolean;
}

export interface ResolvedOptions {
  url: string;
  dest: string | null;
  output: string | null;
  stateDir: string;
  chunkSize: number;
  window: number;
  concurrency: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  retries: number;
  retryBaseMs: number;
  retryCapMs: number;
  retryAfterCapMs: number;
  limitRate: number | null;
  format: FormatOption;
  sha256: string | null;
  md5: string | null;
  headers: HeaderSet | null;
  mirrors: string[];
  strict: boolean;
  force: boolean;
  restart: boolean;
  progressIntervalMs: number;
  checkpoints: boolean;
  keepState: boolean;
  completionDir: string | null;
  zstdMaxWindow: number;
  onLinkExpired: 'wait' | 'stop';
  refreshUrlCommand: string | null;
  replacesLink: boolean;
}

export const DEFAULTS = {
  chunkSize: 64 * 1024 * 1024,
  window: 4,
  concurrency: 4,
  idleTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  retries: 8,
  retryBaseMs: 1_000,
  retryCapMs: 60_000,
  retryAfterCapMs: 5 * 60_000,
  progressIntervalMs: 250,
} as const;

/** zstd's smallest window (RFC 8878: windowLog 10). */
const MIN_ZSTD_WINDOW = 1024;

function positiveInt(value: number | undefined, fallback: number, what: string, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || !Number.isInteger(value) || value < min) {
    throw new UsageError(`${what} must be a whole number of at least ${min} (got ${value}).`);
  }
  return value;
}

export function resolveOptions(o: JobOptions): ResolvedOptions {
  validateUrl(o.url);
  if ((o.dest ? 1 : 0) + (o.output ? 1 : 0) !== 1) {
    throw new UsageError('Give exactly one of --dest <folder> (download and extract) or --output <file> (download only).');
  }
  if (!o.stateDir) throw new UsageError('A state directory is required.');
  const window = positiveInt(o.window, DEFAULTS.window, '--window');
  const concurrency = positiveInt(o.concurrency, Math.min(DEFAULTS.concurrency, window), '--concurrency');
  if (concurrency > window) {
    throw new UsageError(`--concurrency (${concurrency}) cannot exceed --window (${window}): every range in flight needs a window slot. Raise --window or lower --concurrency.`);
  }
  const chunkSize = positiveInt(o.chunkSize, DEFAULTS.chunkSize, '--chunk-size', 4096);
  const sha256 = o.sha256 ? parseChecksumArg(o.sha256, 'sha256') : null;
  const md5 = o.md5 ? parseChecksumArg(o.md5, 'md5') : null;
  if (o.headers && !isHeaderSet(o.headers)) throw new UsageError('The request headers are malformed (see --header).');
  const mirrors = resolveMirrors(o.url, o.mirrors);
  const format = o.format ?? 'auto';
  if (!['auto', 'tar', 'gzip', 'lz4', 'zstd'].includes(format)) {
    throw new UsageError(`--format must be one of auto, tar, gzip, lz4, zstd (got "${format}").`);
  }
  if (o.output && o.format && o.format !== 'auto') {
    throw new UsageError('--format applies to extraction; --output downloads the bytes as they are. Drop one of them.');
  }
  if (o.output && o.checkpoints === false) {
    throw new UsageError('--no-checkpoints applies to extraction; --output resumes from its chunks on disk. Drop --no-checkpoints.');
  }
  if (o.output && o.zstdMaxWindow !== undefined) {
    throw new UsageError('--zstd-max-window applies to extraction; --output downloads the bytes as they are. Drop --zstd-max-window.');
  }
  const zstdMaxWindow = o.zstdMaxWindow ?? DEFAULT_MAX_WINDOW;
  if (!Number.isInteger(zstdMaxWindow) || zstdMaxWindow < MIN_ZSTD_WINDOW || zstdMaxWindow > HARD_MAX_WINDOW) {
    throw new UsageError(
      `--zstd-max-window must be from 1K (the smallest zstd window) to ${HARD_MAX_WINDOW / (1024 * 1024)}M, what the decoder can address (got ${o.zstdMaxWindow}).`,
    );
  }
  if (o.limitRate !== undefined && (!Number.isFinite(o.limitRate) || o.limitRate < 1024)) {
    throw new UsageError(`--limit-rate must be at least 1K bytes/s (got ${o.limitRate}).`);
  }
  if (o.onLinkExpired !== undefined && o.onLinkExpired !== 'wait' && o.onLinkExpired !== 'stop')
    throw new UsageError(`onLinkExpired must be 'wait' or 'stop' (got "${String(o.onLinkExpired)}").`);
  if (o.refreshUrlCommand !== undefined && o.refreshUrlCommand !== null && (typeof o.refreshUrlCommand !== 'string' || o.refreshUrlCommand.trim() === '')) {
    throw new UsageError('--refresh-url-command needs a command (it prints the new URL on its first line).');
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));
  return {
    url: o.url,
    dest: o.dest ? abs(o.dest) : null,
    output: o.output ? abs(o.output) : null,
    stateDir: abs(o.stateDir),
    chunkSize,
    window,
    concurrency,
    idleTimeoutMs: positiveInt(o.idleTimeoutMs, DEFAULTS.idleTimeoutMs, '--idle-timeout', 10),
    connectTimeoutMs: positiveInt(o.connectTimeoutMs, DEFAULTS.connectTimeoutMs, 'connect timeout', 10),
    retries: positiveInt(o.retries, DEFAULTS.retries, '--retries', 0),
    retryBaseMs: positiveInt(o.retryBaseMs, DEFAULTS.retryBaseMs, 'retry base delay', 0),
    retryCapMs: positiveInt(o.retryCapMs, DEFAULTS.retryCapMs, 'retry delay cap', 0),
    retryAfterCapMs: positiveInt(o.retryAfterCapMs, DEFAULTS.retryAfterCapMs, 'Retry-After cap', 0),
    limitRate: o.limitRate ?? null,
    format,
    sha256,
    md5,
    headers: o.headers && o.headers.entries.length > 0 ? o.headers : null,
    mirrors,
    strict: o.strict ?? false,
    force: o.force ?? false,
    restart: o.restart ?? false,
    progressIntervalMs: positiveInt(o.progressIntervalMs, DEFAULTS.progressIntervalMs, 'progress interval', 10),
    checkpoints: o.checkpoints ?? true,
    keepState: o.keepState ?? false,
    completionDir: o.completionDir ?? null,
    zstdMaxWindow,
    onLinkExpired: o.onLinkExpired ?? 'stop',
    refreshUrlCommand: o.refreshUrlCommand?.trim() || null,
    replacesLink: o.replacesLink ?? false,
  };
}

/** Each mirror a valid URL (named, redacted, when not); the URL itself and repeats left out. */
function resolveMirrors(url: string, given: string[] | undefined): string[] {
  const out: string[] = [];
  for (const m of given ?? []) {
    if (typeof m !== 'string') throw new UsageError('--mirror takes a URL.');
    const text = m.trim();
    try {
      validateUrl(text);
    } catch (err) {
      throw new UsageError(`--mirror: ${(err as Error).message}`, { cause: err });
    }
    if (text !== url && !out.includes(text)) out.push(text);
  }
  return out;
}
