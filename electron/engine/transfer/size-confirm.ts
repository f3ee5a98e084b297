// A size from HEAD is only a claim: when the ranges' Content-Range totals are `*` nothing else confirms it,
// and a HEAD answered by another layer (a proxy, a stale cache) with a short Content-Length would end the
// download short with exit 0. The byte just past the claimed end settles it: 416 means the file ends there;
// a 206 means there is more.
import type { Dispatcher } from 'undici';
import { ProtocolError, toEngineError, UpstreamChangedError } from '../errors';
import { sleep } from '../sleep';
import { backoffDelay, type RetryPolicy } from './retry-policy';
import { discardBody, header, mapTransportError, safeHost, USER_AGENT } from './http';
import { parseContentRange, pathOf } from './probe';
import { headersFor, type HeaderSet } from './origin-headers';

export type SizeVerdict = 'confirmed' | 'unconfirmed';

/** Resolves 'confirmed' (416 at `size`) or 'unconfirmed' (the origin would not say); throws when the file is longer. */
export async function confirmSize(dispatcher: Dispatcher, url: string, size: number, signal?: AbortSignal, headers?: HeaderSet | null): Promise<SizeVerdict> {
  let response: Dispatcher.ResponseData;
  try {
    response = await dispatcher.request({
      origin: new URL(url).origin,
      path: pathOf(url),
      method: 'GET',
      headers: { 'user-agent': USER_AGENT, ...headersFor(headers, url), range: `bytes=${size}-${size}`, 'accept-encoding': 'identity' },
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    throw mapTransportError(err, url);
  }
  // Only the status and headers matter: whatever body comes is not read.
  discardBody(response.body);
  const host = safeHost(url);
  const cr = parseContentRange(header(response.headers, 'content-range'));
  if (response.statusCode === 416) {
    if (cr && cr.total !== null && cr.total !== size) {
      throw new UpstreamChangedError(`The file at ${host} is ${cr.total} bytes, not the ${size} its HEAD answer said; it changed or the HEAD answer is wrong. Restart the job.`, {
        details: { size: cr.total, pinnedSize: size },
      });
    }
    return 'confirmed';
  }
  if (response.statusCode === 206) {
    throw new ProtocolError(
      'E_SIZE_MISMATCH',
      `${host} said the file is ${size} bytes (HEAD Content-Length) but serves bytes past that, and its ranges give no total (Content-Range "${header(response.headers, 'content-range') ?? ''}"), ` +
        'so the real size cannot be known and the download would end short. Nothing was reported done. The HEAD answer is wrong (a proxy or cache in front of the server); download from the origin itself or another mirror.',
      { retryable: false, details: { headSize: size, contentRange: header(response.headers, 'content-range') ?? null } },
    );
  }
  return 'unconfirmed';
}

/** confirmSize, with a few retries for what a retry can fix (a reset, a 503); the rest is thrown. */
export async function confirmSizeWithRetries(
  dispatcher: Dispatcher,
  url: string,
  size: number,
  policy: RetryPolicy,
  signal: AbortSignal,
  headers?: HeaderSet | null,
): Promise<SizeVerdict> {
  for (let failures = 1; ; failures++) {
    try {
      return await confirmSize(dispatcher, url, size, signal, headers);
    } catch (err) {
      const e = toEngineError(err);
      if (!e.retryable || failures > 3 || signal.aborted) throw e;
      await sleep(backoffDelay(policy, failures), signal);
    }
  }
}

export function sizeUnconfirmedMessage(size: number): string {
  return `The server's ranges give no total size, and it would not answer a request past the end: the size from its HEAD answer (${size} bytes) cannot be confirmed. Pass --sha256 to have the result verified.`;
}
