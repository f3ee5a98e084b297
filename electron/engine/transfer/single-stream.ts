// One GET for the whole file, for an origin without ranges (or one that stopped honouring them mid-job): the
// same checks as a range (no content coding, the pinned validators), then the body in order to the caller,
// after dropping the first `skip` bytes the job already has.
import type { Dispatcher } from 'undici';
import { EngineError, HttpStatusError, NetworkError, UpstreamChangedError } from '../errors';
import { discardBody, header, mapTransportError, safeHost, USER_AGENT } from './http';
import { parseLength, requestFollowingRedirects } from './probe';
import type { RateLimiter } from './rate-limiter';
import { redactUrl } from './redact';
import { contentCoding, seenIdentity, validatorChange, type PinnedIdentity } from './response-checks';
import type { HeaderSet } from './origin-headers';

export interface SingleStreamRequest {
  dispatcher: Dispatcher;
  url: string;
  pinned: PinnedIdentity & { size: number | null };
  /** Bytes at the start the caller already holds: read and dropped, not handed on. */
  skip: number;
  signal: AbortSignal;
  limiter?: RateLimiter | null;
  /** Every body byte received, skipped ones included (fetched-byte accounting). */
  onBytes: (n: number) => void;
  /** The bytes past `skip`, in order. */
  onData: (data: Buffer) => Promise<void>;
  /** The operator's headers, sent only on requests to their origin. */
  headers?: HeaderSet | null;
}

const NO_RESUME = 'This server does not serve ranges, so the stream cannot continue where it broke; run the job again to start over.';

/** Reads the whole file; returns the body's length. Every failure is coded and not retryable (no resume). */
export async function readSingleStream(req: SingleStreamRequest): Promise<number> {
  const { response } = await requestFollowingRedirects(
    req.url,
    { method: 'GET', headers: { 'accept-encoding': 'identity', 'user-agent': USER_AGENT } },
    { dispatcher: req.dispatcher, signal: req.signal, headers: req.headers ?? null },
  );
  const h = response.headers;
  const host = safeHost(req.url);
  if (response.statusCode !== 200) {
    discardBody(response.body);
    throw new HttpStatusError(response.statusCode, `${redactUrl(req.url)} answered HTTP ${response.statusCode} to the download request.`);
  }
  const coding = contentCoding(h);
  if (coding !== null) {
    discardBody(response.body);
    throw new EngineError(
      'E_CONTENT_ENCODING',
      `${host} sent the file with Content-Encoding: ${coding} although the request asked for identity; such a body is not the file, so nothing of it was kept. ` +
        'Download without the proxy that compresses it (or configure it not to compress this URL), or use another mirror.',
      { retryable: false, details: { contentEncoding: coding } },
    );
  }
  const change = validatorChange(req.pinned, seenIdentity(h));
  const expected = parseLength(header(h, 'content-length'));
  if (change || (req.skip > 0 && req.pinned.size !== null && expected !== null && expected !== req.pinned.size)) {
    discardBody(response.body);
    throw new UpstreamChangedError(
      `The file at ${host} changed since the download started (${change ?? `size ${req.pinned.size} → ${expected}`}). Nothing of the new file was mixed in; restart the job to download the new snapshot.`,
    );
  }
  let received = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      if (req.limiter) await req.limiter.take(chunk.length, req.signal);
      req.onBytes(chunk.length);
      const before = received;
      received += chunk.length;
      if (received <= req.skip) continue;
      await req.onData(before >= req.skip ? chunk : chunk.subarray(req.skip - before));
    }
  } catch (err) {
    discardBody(response.body);
    const e = err instanceof EngineError && !(err instanceof NetworkError) ? err : mapTransportError(err, req.url, received);
    if (e instanceof NetworkError) throw new EngineError(e.code, `${e.message.split(';')[0]}. ${NO_RESUME}`, { cause: e, retryable: false });
    throw e;
  }
  if ((expected !== null && received !== expected) || received < req.skip) {
    throw new NetworkError('E_SHORT_BODY', `The server sent ${received} of ${expected ?? 'at least ' + req.skip} bytes and closed the connection. ${NO_RESUME}`, {
      retryable: false,
    });
  }
  return received;
}
