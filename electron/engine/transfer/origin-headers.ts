// Request headers the operator gives (`--header 'Authorization: Bearer …'`): checked before any I/O, sent only
// to the origin they were given for (never to the host a redirect leads to), and never shown: in any text
// they appear as `Name: …`. Plain data, so the job's options still cross a worker thread as they are.
import { UsageError } from '../errors';

export interface HeaderSet {
  /** The origin (scheme://host:port) the headers were given for. */
  origin: string;
  /** Lowercase names and their values, in the order given. */
  entries: Array<[string, string]>;
}

/** Header names the engine owns: overriding them would break ranges, validators or the connection. */
const REFUSED: Record<string, string> = {
  host: 'the host comes from the URL',
  range: 'the engine asks for the ranges itself',
  'if-range': 'the engine sends the validator it pinned',
  'content-length': 'requests carry no body',
  'accept-encoding': 'the file must arrive as it is (identity), or ranges would not be its bytes',
  connection: 'connections are managed by the engine',
  'keep-alive': 'connections are managed by the engine',
  'transfer-encoding': 'requests carry no body',
  te: 'connections are managed by the engine',
  upgrade: 'connections are managed by the engine',
  expect: 'requests carry no body',
  trailer: 'requests carry no body',
  'proxy-connection': 'connections are managed by the engine',
};

// RFC 9110 §5.6.2: a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `Name: value` as given on the command line, checked; the value never appears in a message. */
export function parseHeaderArg(text: string): [string, string] {
  const colon = text.indexOf(':');
  const rawName = colon < 0 ? text : text.slice(0, colon);
  const shownName = /^[\x21-\x7e]{1,64}$/.test(rawName.trim()) ? rawName.trim() : '(unprintable)';
  if (colon < 0) throw new UsageError(`--header "${shownName}" has no ':'; give it as 'Name: value'.`);
  const name = rawName.trim();
  if (!TOKEN.test(name) || rawName !== rawName.trimStart() || /\s$/.test(rawName)) {
    throw new UsageError(`--header name "${shownName}: …" is not a valid header name (letters, digits and !#$%&'*+-.^_\`|~ only, no spaces before the ':').`);
  }
  const value = text.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) throw new UsageError(`--header ${name}: … holds a line break or NUL, which would split the request; refused.`);
  if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) throw new UsageError(`--header ${name}: … holds control characters; refused.`);
  const lower = name.toLowerCase();
  const why = REFUSED[lower];
  if (why) throw new UsageError(`--header ${name} cannot be set: ${why}.`);
  return [lower, value];
}

/** The header set for `url`'s origin from `--header` arguments (null when none); a name given twice is refused. */
export function headerSetFor(url: string, args: readonly string[]): HeaderSet | null {
  if (args.length === 0) return null;
  const entries: Array<[string, string]> = [];
  for (const arg of args) {
    const [name, value] = parseHeaderArg(arg);
    if (entries.some(([n]) => n === name)) throw new UsageError(`--header ${name} is given twice; give each header once.`);
    entries.push([name, value]);
  }
  return { origin: new URL(url).origin, entries };
}

/** The same headers, for another URL's origin (a manifest's parts: each part's own host). */
export function rescope(set: HeaderSet | null | undefined, url: string): HeaderSet | null {
  return set && set.entries.length > 0 ? { origin: new URL(url).origin, entries: set.entries.map(([n, v]) => [n, v]) } : null;
}

/** The headers to send with a request to `url`: all of them on their origin, none anywhere else. */
export function headersFor(set: HeaderSet | null | undefined, url: string): Record<string, string> {
  if (!set || set.entries.length === 0) return {};
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return {};
  }
  if (origin !== set.origin) return {};
  return Object.fromEntries(set.entries);
}

/** What may be shown of a header set: names only. */
export function describeHeaders(set: HeaderSet | null | undefined): string {
  return set && set.entries.length > 0 ? set.entries.map(([n]) => `${n}: …`).join(', ') : 'none';
}

/** Checks a header set that came from outside the command line (a saved file, the window's contract). */
export function isHeaderSet(v: unknown): v is HeaderSet {
  const s = v as HeaderSet;
  if (!s || typeof s.origin !== 'string' || !Array.isArray(s.entries)) return false;
  return s.entries.every(
    (e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string' && TOKEN.test(e[0]) && !REFUSED[e[0]] && !/[\r\n\0]/.test(e[1]),
  );
}
