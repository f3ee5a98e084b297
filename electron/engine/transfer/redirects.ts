// The redirect rules every request of a job follows, the probe's and each range's alike: a Location is
// required, hops are capped, https never falls back to http, and a hop may not carry credentials (the command
// line refuses them for the same reason: they would be pinned in the job's state and printed).
import { ProtocolError } from '../errors';
import { header } from './http';
import { redactUrl } from './redact';

export const REDIRECT_STATUSES = [301, 302, 303, 307, 308];
export const MAX_REDIRECTS = 10;

export function isRedirect(status: number): boolean {
  return REDIRECT_STATUSES.includes(status);
}

/** Where a 3xx from `current` sends us (hop number `hop`, 0-based), or a coded, non-retryable refusal. */
export function nextHop(start: string, current: string, status: number, headers: Record<string, string | string[] | undefined>, hop: number, maxRedirects = MAX_REDIRECTS): string {
  const location = header(headers, 'location');
  const here = redactUrl(current);
  if (!location) throw new ProtocolError('E_REDIRECT', `${here} answered ${status} without a Location header.`);
  if (hop >= maxRedirects) {
    throw new ProtocolError('E_REDIRECT', `More than ${maxRedirects} redirects starting at ${redactUrl(start)}; the URL is probably wrong.`);
  }
  let next: URL;
  try {
    next = new URL(location, current);
  } catch (err) {
    throw new ProtocolError('E_REDIRECT', `${here} redirects to an invalid Location; the server is misconfigured.`, { cause: err });
  }
  if (new URL(current).protocol === 'https:' && next.protocol === 'http:') {
    throw new ProtocolError('E_REDIRECT', `${here} redirects from https to plain http (${redactUrl(next.href)}); refused, since the download would no longer be protected.`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new ProtocolError('E_REDIRECT', `${here} redirects to unsupported scheme ${next.protocol}.`);
  }
  if (next.username || next.password) {
    throw new ProtocolError(
      'E_REDIRECT',
      `${here} redirects to a URL with credentials in it (${redactUrl(next.href)}); refused, since they would be stored in the job's state and shown in its output. Ask for a presigned URL, or give the final URL without credentials.`,
    );
  }
  return next.href;
}
