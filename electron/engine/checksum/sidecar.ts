// Checksums published beside the file: `<url>.sha256`, `<url>.sha256sum`, `<url>.md5`, and `SHA256SUMS` /
// `MD5SUMS` in the same folder. Each is one small GET, bounded in size and time; a missing one (404 or any
// answer that is not a checksum file) is simply none, and a lookup never fails the job.
import type { Dispatcher } from 'undici';
import { discardBody } from '../transfer/http';
import { requestFollowingRedirects } from '../transfer/probe';
import type { HeaderSet } from '../transfer/origin-headers';
import { redactUrl } from '../transfer/redact';
import type { DigestKind } from './checksum-text';
import { digestFor } from './sums-list';

export interface SidecarChecksums {
  sha256?: string;
  md5?: string;
  /** Where each came from (URLs without their query string), for the operator. */
  source: string;
}

export interface SidecarOptions {
  dispatcher: Dispatcher;
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** A checksum file larger than this is not one (default 64 KiB). */
  maxBytes?: number;
  headers?: HeaderSet | null;
  signal?: AbortSignal;
}

export const SIDECAR_MAX_BYTES = 64 * 1024;
export const SIDECAR_TIMEOUT_MS = 5_000;

interface Candidate {
  url: string;
  kind: DigestKind;
  perFile: boolean;
}

/** The checksum files to look at for `url`, most specific first. */
export function sidecarCandidates(url: string): Candidate[] {
  const u = new URL(url);
  const withSuffix = (suffix: string) => {
    const c = new URL(u.href);
    c.pathname = `${u.pathname}${suffix}`;
    return c.href;
  };
  const sibling = (name: string) => {
    const c = new URL(u.href);
    c.pathname = u.pathname.replace(/[^/]*$/, name);
    return c.href;
  };
  return [
    { url: withSuffix('.sha256'), kind: 'sha256', perFile: true },
    { url: withSuffix('.sha256sum'), kind: 'sha256', perFile: true },
    { url: sibling('SHA256SUMS'), kind: 'sha256', perFile: false },
    { url: withSuffix('.md5'), kind: 'md5', perFile: true },
    { url: sibling('MD5SUMS'), kind: 'md5', perFile: false },
  ];
}

/** The file name a checksum list would give for `url` (its last path segment, decoded). */
export function fileNameOf(url: string): string {
  const last = new URL(url).pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** Looks up every candidate (at once: they are tiny); null when none of them gives a checksum for the file. */
export async function lookupSidecar(url: string, options: SidecarOptions): Promise<SidecarChecksums | null> {
  const name = fileNameOf(url);
  if (name === '') return null;
  const candidates = sidecarCandidates(url);
  const texts = await Promise.all(candidates.map((c) => fetchSmall(c.url, options)));
  const found: Partial<Record<DigestKind, { hex: string; from: string }>> = {};
  candidates.forEach((c, i) => {
    const text = texts[i];
    if (text === null || text === undefined || found[c.kind]) return;
    const hex = digestFor(text, c.kind, name, c.perFile);
    if (hex) found[c.kind] = { hex, from: redactUrl(c.url) };
  });
  if (!found.sha256 && !found.md5) return null;
  const sources = [...new Set([found.sha256?.from, found.md5?.from].filter((s): s is string => !!s))];
  return {
    ...(found.sha256 ? { sha256: found.sha256.hex } : {}),
    ...(found.md5 ? { md5: found.md5.hex } : {}),
    source: sources.join(', '),
  };
}

/** The body of a small 2xx answer as text, or null (not there, too large, too slow, not text). */
async function fetchSmall(url: string, options: SidecarOptions): Promise<string | null> {
  const max = options.maxBytes ?? SIDECAR_MAX_BYTES;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? SIDECAR_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Dispatcher.ResponseData;
  try {
    ({ response } = await requestFollowingRedirects(
      url,
      { method: 'GET', headers: { 'accept-encoding': 'identity' } },
      { dispatcher: options.dispatcher, signal, headers: options.headers ?? null },
    ));
  } catch {
    return null;
  }
  const length = Number(response.headers['content-length'] ?? NaN);
  if (response.statusCode < 200 || response.statusCode > 299 || length > max) {
    discardBody(response.body);
    return null;
  }
  const pieces: Buffer[] = [];
  let got = 0;
  try {
    for await (const piece of response.body as AsyncIterable<Buffer>) {
      got += piece.length;
      if (got > max) {
        discardBody(response.body);
        return null;
      }
      pieces.push(piece);
    }
  } catch {
    return null;
  }
  const body = Buffer.concat(pieces);
  // A checksum file is text: a binary answer (an HTML error page is text, and simply holds no checksum line).
  if (body.includes(0)) return null;
  return body.toString('utf8');
}
