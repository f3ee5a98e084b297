// Checks every response of a job makes before a byte of its body is used: the body is the file's own bytes
// (no Content-Encoding), and the file is still the one pinned at the start (validators). Weak ETags cannot go
// in If-Range (RFC 9110 §13.1.5), but they can be compared (weak comparison, §8.8.3.2): an origin that only
// weakens its tags (Cloudflare, nginx when it compresses) still gets its change noticed.
import { EngineError, ProtocolError } from '../errors';
import { header } from './http';
import { redactUrl } from './redact';

type Headers = Record<string, string | string[] | undefined>;

/** What a job pins of the file's identity. `weakEtag` is the ETag as sent (strong or weak); absent in old state. */
export interface PinnedIdentity {
  etag: string | null;
  weakEtag?: string | null;
  lastModified: string | null;
}

/** What one response says of the file. */
export interface SeenIdentity {
  /** The ETag as sent, `W/` included. */
  etag: string | null;
  lastModified: string | null;
}

export function seenIdentity(headers: Headers): SeenIdentity {
  return { etag: header(headers, 'etag')?.trim() || null, lastModified: header(headers, 'last-modified')?.trim() || null };
}

/** The opaque tag of an entity tag: weak comparison ignores the `W/` prefix. */
export function opaqueTag(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

/** The first difference between what was pinned and what a response (or a new probe) says, or null. */
export function validatorChange(pinned: PinnedIdentity, seen: SeenIdentity): string | null {
  const pinnedTag = pinned.weakEtag ?? pinned.etag;
  if (pinnedTag && seen.etag && opaqueTag(pinnedTag) !== opaqueTag(seen.etag)) return `ETag ${pinnedTag} → ${seen.etag}`;
  if (pinned.lastModified && seen.lastModified && pinned.lastModified !== seen.lastModified) {
    return `Last-Modified ${pinned.lastModified} → ${seen.lastModified}`;
  }
  return null;
}

/** A new probe against the pinned one: the size, then the validators (weakly compared). */
export function identityChange(
  pinned: PinnedIdentity & { size: number | null },
  now: { size: number | null; weakEtag: string | null; lastModified: string | null },
): string | null {
  if (pinned.size !== now.size) return `size ${pinned.size ?? 'unknown'} → ${now.size ?? 'unknown'}`;
  return validatorChange(pinned, { etag: now.weakEtag, lastModified: now.lastModified });
}

export const NO_VALIDATOR_MESSAGE =
  'The server sends no ETag and no Last-Modified for this file: a change of the file during the download (or between runs) cannot be detected, and the result could mix two versions. Pass --sha256 <published checksum> to have the result verified.';

/** Nothing pinned that could reveal a change: no ETag of either kind, no Last-Modified. */
export function hasNoValidator(pinned: PinnedIdentity): boolean {
  return !(pinned.weakEtag ?? pinned.etag) && !pinned.lastModified;
}

/**
 * Refuses a body in any coding but identity: its bytes are not the file's, and a decoded length would not match
 * the range. Retryable once (an edge that ignored `Accept-Encoding: identity` now and then); a proxy that
 * compresses everything keeps doing it, which the job's caller counts (see OriginQuirks).
 */
export function checkContentEncoding(headers: Headers, url: string): void {
  const coding = contentCoding(headers);
  if (coding === null) return;
  throw new ProtocolError(
    'E_CONTENT_ENCODING',
    `${redactUrl(url)} answered with Content-Encoding: ${coding} although the request asked for identity; the body was discarded, since its bytes are not the file's.`,
    { retryable: true, details: { contentEncoding: coding } },
  );
}

/** The response's content coding, or null for none / identity. */
export function contentCoding(headers: Headers): string | null {
  const raw = header(headers, 'content-encoding');
  if (raw === undefined) return null;
  const codings = raw
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  return codings.length === 0 ? null : codings.join(', ');
}

/** The final word after a proxy kept encoding every answer: what is wrong and what to do. */
export function encodingRefused(cause: EngineError, times: number): EngineError {
  const coding = String(cause.details['contentEncoding'] ?? 'a coding');
  return new EngineError(
    'E_CONTENT_ENCODING',
    `The server (or a proxy in between) answered ${times} requests in a row with Content-Encoding: ${coding}, ignoring Accept-Encoding: identity; ` +
      'such a body is not the file, so nothing of it was kept. Download without that proxy (or configure it not to compress this URL), or use another mirror.',
    { cause, retryable: false, details: { contentEncoding: coding, times } },
  );
}
