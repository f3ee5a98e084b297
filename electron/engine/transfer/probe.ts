// Learns what the origin offers before anything is fetched: size, range support, validators, and the final
// URL after redirects. HEAD first; servers that refuse HEAD or omit Accept-Ranges get a `Range: bytes=0-0` GET.
import type { Dispatcher } from 'undici';
import { EngineError, HttpStatusError, ProtocolError, UsageError } from '../errors';
import { discardBody, header, mapTransportError, strongEtag, USER_AGENT } from './http';
import { parseRetryAfter } from './retry-policy';
import { redactUrl } from './redact';
import { isRedirect, nextHop } from './redirects';
import { headersFor, type HeaderSet } from './origin-headers';

export interface ProbeResult {
  url: string;
  finalUrl: string;
  size: number | null;
  rangeSupported: boolean;
  /** Strong ETag or null (what If-Range can carry). */
  etag: string | null;
  /** The ETag as sent, weak or strong, or null: compared weakly on every response (see response-checks.ts). */
  weakEtag: string | null;
  lastModified: string | null;
  contentType: string | null;
}

export interface ProbeOptions {
  dispatcher: Dispatcher;
  maxRedirects?: number;
  signal?: AbortSignal;
  /** The operator's headers, sent only on requests to their origin (a redirect elsewhere goes without them). */
  headers?: HeaderSet | null;
}

export function validateUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new UsageError(`"${redactUrl(text)}" is not a valid URL; give an absolute http:// or https:// URL.`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Unsupported scheme "${url.protocol}" in ${redactUrl(text)}; only http:// and https:// are supported.`);
  }
  if (url.username || url.password) {
    // Credentials in URLs leak into logs and the journal; presigned query strings are the supported form.
    throw new UsageError('Credentials in the URL are not supported; use a presigned URL instead.');
  }
  return url;
}

/** Issues `method` to `url`, following up to `maxRedirects` hops; https→http is refused. */
export async function requestFollowingRedirects(
  url: string,
  init: { method: 'HEAD' | 'GET'; headers: Record<string, string> },
  options: ProbeOptions,
): Promise<{ finalUrl: string; response: Dispatcher.ResponseData }> {
  const maxRedirects = options.maxRedirects ?? 10;
  let current = url;
  for (let hop = 0; ; hop++) {
    let response: Dispatcher.ResponseData;
    try {
      response = await options.dispatcher.request({
        origin: new URL(current).origin,
        path: pathOf(current),
        method: init.method,
        headers: { 'user-agent': USER_AGENT, ...headersFor(options.headers, current), ...init.headers },
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      throw mapTransportError(err, current);
    }
    if (!isRedirect(response.statusCode)) return { finalUrl: current, response };
    await response.body.dump();
    current = nextHop(url, current, response.statusCode, response.headers, hop, maxRedirects);
  }
}

export async function probe(url: string, options: ProbeOptions): Promise<ProbeResult> {
  validateUrl(url);
  const head = await requestFollowingRedirects(url, { method: 'HEAD', headers: {} }, options);
  await head.response.body.dump();
  const h = head.response.headers;
  const status = head.response.statusCode;
  if (status === 404 || status === 410 || status === 401 || status === 403) throw statusError(status, head.finalUrl, h);
  if (status >= 200 && status < 300) {
    const length = parseLength(header(h, 'content-length'));
    const acceptsBytes = /\bbytes\b/i.test(header(h, 'accept-ranges') ?? '');
    if (acceptsBytes && length !== null) {
      return {
        url,
        finalUrl: head.finalUrl,
        size: length,
        rangeSupported: true,
        etag: strongEtag(header(h, 'etag')),
        weakEtag: header(h, 'etag')?.trim() || null,
        lastModified: header(h, 'last-modified') ?? null,
        contentType: header(h, 'content-type') ?? null,
      };
    }
  } else if (status >= 500 || status === 429) {
    // A HEAD that fails server-side says little; the ranged GET below is the real test.
  }
  return probeWithRangeGet(url, options);
}

async function probeWithRangeGet(url: string, options: ProbeOptions): Promise<ProbeResult> {
  const { finalUrl, response } = await requestFollowingRedirects(url, { method: 'GET', headers: { range: 'bytes=0-0' } }, options);
  const h = response.headers;
  // Only the headers matter: never read a whole body that a Range-ignoring server might send.
  discardBody(response.body);
  const base = {
    url,
    finalUrl,
    etag: strongEtag(header(h, 'etag')),
    weakEtag: header(h, 'etag')?.trim() || null,
    lastModified: header(h, 'last-modified') ?? null,
    contentType: header(h, 'content-type') ?? null,
  };
  if (response.statusCode === 206) {
    const cr = parseContentRange(header(h, 'content-range'));
    if (!cr || cr.start !== 0 || cr.total === null) {
      throw new ProtocolError('E_CONTENT_RANGE', `${redactUrl(finalUrl)} answered a range probe with an unusable Content-Range "${header(h, 'content-range') ?? ''}".`);
    }
    return { ...base, size: cr.total, rangeSupported: true };
  }
  if (response.statusCode === 200) {
    return { ...base, size: parseLength(header(h, 'content-length')), rangeSupported: false };
  }
  if (response.statusCode === 416) {
    const cr = parseContentRange(header(h, 'content-range'));
    if (cr && cr.total === 0) return { ...base, size: 0, rangeSupported: true };
  }
  throw statusError(response.statusCode, finalUrl, h);
}

function statusError(status: number, url: string, h: Record<string, string | string[] | undefined>): EngineError {
  const hint =
    status === 404 || status === 410
      ? 'The snapshot is not at this URL; check it (snapshot URLs often rotate daily).'
      : status === 401 || status === 403
        ? 'Access was refused; a presigned URL may have expired, get a fresh one.'
        : status === 429 || status >= 500
          ? 'The server is busy or failing; try again later.'
          : 'Check the URL.';
  const retryAfterMs = parseRetryAfter(header(h, 'retry-after'), 5 * 60_000);
  return new HttpStatusError(status, `${redactUrl(url)} answered HTTP ${status}. ${hint}`, retryAfterMs === undefined ? {} : { retryAfterMs });
}

export function parseLength(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value.trim())) return null;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : null;
}

export interface ContentRange {
  start: number;
  end: number;
  total: number | null;
}

/** `bytes 0-99/1000`, `bytes 0-99/*`; `bytes *\/1000` (from a 416) gives start = end = -1. */
export function parseContentRange(value: string | undefined): ContentRange | null {
  if (!value) return null;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return null;
  const total = m[3] === '*' ? null : Number(m[3]);
  if (m[1] === undefined) return { start: -1, end: -1, total };
  return { start: Number(m[1]), end: Number(m[2]), total };
}

export function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}
