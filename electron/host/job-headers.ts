// The window's request headers for a new job: one `Name: value` a line, checked as the CLI checks --header
// (engine/transfer/origin-headers.ts), refused with a message on the headers field that names the header but
// never its value. The values go to the engine's options only: the engine keeps them owner-only in the job's
// state folder (state/saved-headers.ts); the job list and the window get the names.
import { headerSetFor, type HeaderSet } from '../engine/transfer/origin-headers';
import { UsageError } from '../engine/errors';
import { HostError } from './host-error';

/** The header set for `url`'s origin, or null for no (or only blank) lines; a bad line is a field error. */
export function requestHeaders(url: string, lines: readonly string[] | undefined): HeaderSet | null {
  const given = (lines ?? []).filter((l) => l.trim() !== '');
  if (given.length === 0) return null;
  try {
    return headerSetFor(url, given);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // The CLI's words name its flag; the form's field is "Request headers".
    const message = err.message.replace(/--header /g, 'Header ');
    throw new HostError('E_VALIDATION', `Invalid addJob request: headers: ${message}`, { issues: [{ path: 'headers', message }] });
  }
}

/** The stored copy of a job's engine options: without header values (the engine's state folder has them). */
export function withoutHeaderValues<T extends { headers?: HeaderSet | null }>(options: T): T {
  if (!options.headers) return options;
  const { headers: _dropped, ...rest } = options;
  return rest as T;
}
