// A 401/403 on a range after the probe succeeded: the link worked and now does not, which for a presigned URL
// means it expired (S3, R2, GCS and Azure each say so in their own words in a small error body). Any such
// refusal pauses the job for a fresh link; the provider's words only make the message precise.
import { header } from './http';

/** The error body is read up to this much: enough for any provider's XML or JSON error, never a file. */
export const REFUSAL_BODY_MAX = 8 * 1024;

const PATTERNS: Array<{ test: RegExp; says: string }> = [
  // Cloudflare R2 (S3 API): <Code>ExpiredRequest</Code>
  { test: /<Code>\s*ExpiredRequest\s*<\/Code>/i, says: 'R2: ExpiredRequest' },
  // GCS: <Code>ExpiredToken</Code> or a JSON error naming it
  { test: /ExpiredToken/i, says: 'GCS: ExpiredToken' },
  // Azure: AuthenticationFailed ... Signed expiry time [...] must be after signed start time / current time
  { test: /AuthenticationFailed[\s\S]*Signed expiry time/i, says: 'Azure: AuthenticationFailed (signed expiry time passed)' },
  // S3: <Code>AccessDenied</Code><Message>Request has expired</Message> (X-Amz-Expires passed)
  { test: /Request has expired/i, says: 'S3: Request has expired' },
  { test: /<Code>\s*AccessDenied\s*<\/Code>/i, says: 'S3: AccessDenied' },
];

/** What the provider said of the refusal, from its error body (or null when it names nothing known). */
export function refusalReason(body: string): string | null {
  for (const p of PATTERNS) if (p.test.test(body)) return p.says;
  return null;
}

export function isLinkRefusal(status: number | null | undefined): boolean {
  return status === 401 || status === 403;
}

/** Whether the URL is a presigned one (its expiry in the query): named in the message, never shown. */
export function looksPresigned(url: string): boolean {
  try {
    const q = new URL(url).searchParams;
    return ['X-Amz-Expires', 'X-Amz-Signature', 'X-Goog-Expires', 'X-Goog-Signature', 'se', 'sig', 'Expires', 'Signature'].some((k) => q.has(k));
  } catch {
    return false;
  }
}

/** Reads at most REFUSAL_BODY_MAX bytes of an error body as text; the rest is dropped with the connection. */
export async function readRefusalBody(
  body: AsyncIterable<Buffer> & { destroy(err?: Error): void; on(e: 'error', f: () => void): unknown },
  headers: Record<string, string | string[] | undefined>,
): Promise<string> {
  body.on('error', () => undefined);
  const declared = Number(header(headers, 'content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > REFUSAL_BODY_MAX) {
    body.destroy();
    return '';
  }
  const pieces: Buffer[] = [];
  let n = 0;
  try {
    for await (const piece of body) {
      pieces.push(piece);
      n += piece.length;
      if (n >= REFUSAL_BODY_MAX) break;
    }
  } catch {
    // A body cut short says what it says so far.
  }
  body.destroy();
  return Buffer.concat(pieces).subarray(0, REFUSAL_BODY_MAX).toString('utf8');
}
