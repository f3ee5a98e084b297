// One ranged GET for the rest of a chunk, verified before a byte is kept: 206, the exact Content-Range, the
// pinned validators. The body goes to a sink that commits bytes in order, so a failure at any point leaves a
// prefix that the next attempt continues from (If-Range guards that the prefix and the rest are one file).
import type { Dispatcher } from 'undici';
import { HttpStatusError, NetworkError, ProtocolError, UpstreamChangedError } from '../errors';
import { discardBody, header, mapTransportError, safeHost, USER_AGENT } from './http';
import { parseContentRange, parseLength, pathOf } from './probe';
import type { RateLimiter } from './rate-limiter';
import { parseRetryAfter } from './retry-policy';
import { isRedirect, nextHop } from './redirects';
import { checkContentEncoding, seenIdentity, validatorChange } from './response-checks';
import { headersFor, type HeaderSet } from './origin-headers';
import { isLinkRefusal, readRefusalBody, refusalReason } from './link-refusal';

/** Where a range's bytes go; `committed` is how many of the range's bytes it already holds. */
export interface RangeSink {
  readonly committed: number;
  write(data: Buffer): Promise<void>;
}

export interface Validators {
  size: number;
  /** Strong ETag (sent in If-Range). */
  etag: string | null;
  /** The ETag as the probe saw it, weak or strong (compared weakly, never sent). */
  weakEtag?: string | null;
  lastModified: string | null;
}

export interface RangeRequest {
  dispatcher: Dispatcher;
  url: string;
  /** First byte of the whole range (the chunk), before what the sink already holds. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
  pinned: Validators;
  sink: RangeSink;
  signal?: AbortSignal;
  limiter?: RateLimiter;
  retryAfterCapMs?: number;
  /** Called with each piece of payload as it is committed (progress, fetched-byte accounting). */
  onBytes?: (n: number) => void;
  /** The response passed every check and its body is about to be read; `totalKnown`: its Content-Range named the size. */
  onAccepted?: (info: { totalKnown: boolean }) => void;
  /** Kept current for the job's stall watchdog: when a byte last arrived, and whether we are waiting for one. */
  watch?: TransferWatch;
  /** The operator's headers, sent only on requests to their origin (not after a redirect to another one). */
  headers?: HeaderSet | null;
}

export interface TransferWatch {
  /** True while the silence is the network's: false while our side (rate limit, disk) holds the body. */
  awaitingNetwork: boolean;
  /** A body byte has arrived (a slow first byte is the idle timeout's business, not a stall). */
  receiving: boolean;
  /** performance.now() since which we have been waiting on the network (request start, or after our own hold). */
  waitingSince: number;
  /** The longest wait for the network this attempt recovered from (the request's first byte included). */
  longestRecoveredGapMs: number;
}

export interface RangeResult {
  status: number;
  /** Payload bytes received by this attempt. */
  bytes: number;
}

/** Fetches bytes [start + sink.committed, end] into the sink. Throws a coded EngineError; `status` and bytes ride along. */
export async function fetchRange(req: RangeRequest): Promise<RangeResult> {
  const from = req.start + req.sink.committed;
  if (from > req.end) return { status: 0, bytes: 0 };
  const watch = req.watch;
  const expected = req.end - from + 1;
  const own: Record<string, string> = { range: `bytes=${from}-${req.end}`, 'accept-encoding': 'identity' };
  const validator = req.pinned.etag ?? req.pinned.lastModified;
  if (validator) own['if-range'] = validator;

  // A redirect mid-download is followed like the probe's (same rules); the answer at its end is checked
  // against the pinned validators like any other, so a move to another file is still caught.
  let response: Dispatcher.ResponseData;
  let url = req.url;
  for (let hop = 0; ; hop++) {
    try {
      response = await req.dispatcher.request({
        origin: new URL(url).origin,
        path: pathOf(url),
        method: 'GET',
        headers: { 'user-agent': USER_AGENT, ...headersFor(req.headers, url), ...own },
        ...(req.signal ? { signal: req.signal } : {}),
      });
    } catch (err) {
      throw withStatus(mapTransportError(err, url, req.sink.committed), null, 0);
    }
    if (!isRedirect(response.statusCode)) break;
    discardBody(response.body);
    try {
      url = nextHop(req.url, url, response.statusCode, response.headers, hop);
    } catch (err) {
      throw withStatus(err as Error, response.statusCode, 0);
    }
  }

  const status = response.statusCode;
  const h = response.headers;
  let totalKnown: boolean;
  try {
    totalKnown = checkResponse(req, url, status, h, from, expected);
  } catch (err) {
    if (isLinkRefusal(status) && err instanceof HttpStatusError) {
      // A small error body says why (an expired signature, in the provider's words); never more than 8 KiB.
      const reason = refusalReason(await readRefusalBody(response.body as never, h));
      const message = reason ? err.message.replace(/ answered HTTP (\d+) /, ` answered HTTP $1 (${reason}) `) : err.message;
      throw withStatus(new HttpStatusError(status, message, { details: { linkRefusal: reason } }), status, 0);
    }
    // Not a byte of a refused body is read: the connection goes with it (undici destroys the socket).
    discardBody(response.body);
    throw withStatus(err as Error, status, 0);
  }
  req.onAccepted?.({ totalKnown });

  let bytes = 0;
  try {
    for await (const piece of response.body as AsyncIterable<Buffer>) {
      if (watch) {
        const now = performance.now();
        if (watch.awaitingNetwork) watch.longestRecoveredGapMs = Math.max(watch.longestRecoveredGapMs, now - watch.waitingSince);
        watch.awaitingNetwork = false;
        watch.receiving = true;
      }
      if (bytes + piece.length > expected) {
        throw new ProtocolError('E_CONTENT_RANGE', `${safeHost(url)} sent more bytes than the range it announced.`, { retryable: true });
      }
      if (req.limiter) await req.limiter.take(piece.length, req.signal);
      await req.sink.write(piece);
      bytes += piece.length;
      req.onBytes?.(piece.length);
      if (watch) {
        watch.awaitingNetwork = true;
        watch.waitingSince = performance.now();
      }
    }
  } catch (err) {
    discardBody(response.body);
    throw withStatus(mapTransportError(err, url, req.sink.committed), status, bytes);
  }
  if (bytes < expected) {
    throw withStatus(
      new NetworkError('E_SHORT_BODY', `The body from ${safeHost(url)} ended after ${bytes} of ${expected} bytes; the range will resume from byte ${from + bytes}.`, {
        details: { received: bytes, expected },
      }),
      status,
      bytes,
    );
  }
  return { status, bytes };
}

/** Throws unless the response may be committed; returns whether its Content-Range named the file's size. */
function checkResponse(req: RangeRequest, url: string, status: number, h: Record<string, string | string[] | undefined>, from: number, expected: number): boolean {
  const host = safeHost(url);
  const seen = seenIdentity(h);
  const change = validatorChange(req.pinned, seen);
  if (change && (status === 200 || status === 206)) {
    throw new UpstreamChangedError(
      `The file at ${host} changed since the download started (${change}). Nothing of the new file was mixed in; restart the job to download the new snapshot.`,
      { details: { status, pinnedEtag: req.pinned.weakEtag ?? req.pinned.etag, etag: seen.etag, pinnedLastModified: req.pinned.lastModified, lastModified: seen.lastModified } },
    );
  }
  if (status === 206) {
    checkContentEncoding(h, url);
    const cr = parseContentRange(header(h, 'content-range'));
    if (!cr || cr.start !== from || cr.end !== req.end || (cr.total !== null && cr.total !== req.pinned.size)) {
      if (cr && cr.total !== null && cr.total !== req.pinned.size) {
        throw new UpstreamChangedError(`The file at ${host} is now ${cr.total} bytes, not ${req.pinned.size}; it changed since the download started. Restart the job.`, {
          details: { status, size: cr.total, pinnedSize: req.pinned.size },
        });
      }
      throw new ProtocolError(
        'E_CONTENT_RANGE',
        `${host} answered bytes ${from}-${req.end} with Content-Range "${header(h, 'content-range') ?? '(none)'}"; the response was discarded.`,
        { retryable: true, details: { status, asked: `${from}-${req.end}`, got: header(h, 'content-range') ?? null } },
      );
    }
    const length = parseLength(header(h, 'content-length'));
    if (length !== null && length !== expected) {
      throw new ProtocolError('E_CONTENT_RANGE', `${host} announced ${length} bytes for a ${expected}-byte range; the response was discarded.`, {
        retryable: true,
        details: { status, length, expected },
      });
    }
    return cr.total !== null;
  }
  if (status === 200) {
    // The probe found ranges: a CDN edge does this now and then (a cache miss). This attempt fails, its body
    // unread; the job gives ranges up only if it keeps happening (see OriginQuirks).
    throw new ProtocolError('E_RANGE_IGNORED', `${host} answered a Range request with the whole file (HTTP 200); the body was not read, and the range will be retried.`, {
      retryable: true,
      details: { status },
    });
  }
  if (status === 416) {
    const cr = parseContentRange(header(h, 'content-range'));
    if (cr && cr.total !== null && cr.total !== req.pinned.size) {
      throw new UpstreamChangedError(`The file at ${host} is now ${cr.total} bytes, not ${req.pinned.size}; it changed since the download started. Restart the job.`, {
        details: { status, size: cr.total, pinnedSize: req.pinned.size },
      });
    }
    throw new ProtocolError('E_RANGE_NOT_SATISFIABLE', `${host} refused bytes ${from}-${req.end} of a ${req.pinned.size}-byte file (HTTP 416).`, {
      retryable: true,
      details: { status },
    });
  }
  const retryAfterMs = parseRetryAfter(header(h, 'retry-after'), req.retryAfterCapMs ?? 5 * 60_000);
  const asError = new HttpStatusError(status, '', retryAfterMs === undefined ? {} : { retryAfterMs });
  // The message must agree with `retryable`: only statuses a retry can fix say they will be retried.
  const hint =
    status === 404 || status === 410
      ? 'The snapshot is gone from this URL (mirrors rotate snapshots); the state is kept, resume when the URL is valid again or restart with a new one.'
      : status === 401 || status === 403
        ? 'Access was refused mid-download; a presigned URL may have expired. The state is kept for a later resume.'
        : asError.retryable
          ? 'It will be retried.'
          : 'A retry would get the same answer, so the job stops; the state is kept, run it again once the server answers ranges normally.';
  throw new HttpStatusError(status, `${host} answered HTTP ${status} for bytes ${from}-${req.end}. ${hint}`, retryAfterMs === undefined ? {} : { retryAfterMs });
}

/** Attaches what the inspector shows (HTTP status, bytes of this attempt) to an error. */
export function withStatus<E extends Error>(err: E, status: number | null, bytes: number): E {
  Object.assign(err, { attemptStatus: status, attemptBytes: bytes });
  return err;
}

export function attemptInfo(err: unknown): { status: number | null; bytes: number } {
  const e = err as { attemptStatus?: number | null; attemptBytes?: number };
  return { status: e?.attemptStatus ?? null, bytes: e?.attemptBytes ?? 0 };
}
