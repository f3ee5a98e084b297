// A snapshot published in parts: the manifest that lists them, in the shapes providers use. A CSV with a
// header row naming a URL column (BNB Chain: `filename,URL,md5,size`), a plain list of URLs (optionally
// `URL md5:<hex> sha256:<hex> size:<bytes>`, # comments), or a JSON list of {url, md5?, sha256?, size?}. The
// parts come back in order, checked; anything wrong is a usage error naming the line (or JSON entry).
import { UsageError } from '../errors';
import { parseChecksumArg } from '../checksum/checksum-text';
import { validateUrl } from '../transfer/probe';
import { redactUrl } from '../transfer/redact';
import { parseCsv } from './csv';

export interface ManifestPart {
  /** 0-based position in the manifest. */
  index: number;
  url: string;
  /** The name the manifest gives (informational: the archive's members decide what is written). */
  name: string | null;
  md5: string | null;
  sha256: string | null;
  /** Bytes, when the manifest says (exactly when `sizeExact`; a "512G" is only an estimate). */
  size: number | null;
  sizeExact: boolean;
  /** Where it is in the manifest, for messages: "line 4" or "entry 3". */
  where: string;
}

export type ManifestShape = 'csv' | 'list' | 'json';

export interface ParseOptions {
  /** The manifest's own URL: relative part URLs are resolved against it. */
  base?: string | null;
  /** How the manifest is named in messages (a path or a redacted URL). */
  source?: string;
}

const URL_COLUMNS = ['url', 'link', 'download', 'download_url', 'download url', 'href', 'uri'];
const NAME_COLUMNS = ['filename', 'file', 'name', 'file name', 'file_name'];
const MD5_COLUMNS = ['md5', 'md5sum', 'md5 checksum', 'md5_checksum', 'checksum (md5)'];
const SHA256_COLUMNS = ['sha256', 'sha-256', 'sha256sum', 'sha256 checksum', 'sha256_checksum'];
const SIZE_COLUMNS = ['size', 'bytes', 'length', 'size_bytes', 'size (bytes)', 'filesize'];

interface RawPart {
  url: string;
  name?: string | null;
  md5?: string | null;
  sha256?: string | null;
  size?: string | number | null;
  where: string;
}

export function detectShape(text: string): ManifestShape {
  const t = text.replace(/^\uFEFF/, '').trimStart();
  if (t.startsWith('[') || t.startsWith('{')) return 'json';
  const first = t.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '';
  // A one-column CSV is its header alone: "url".
  return first.includes(',') || URL_COLUMNS.includes(first.trim().replace(/^"|"$/g, '').toLowerCase()) ? 'csv' : 'list';
}

export function parseManifest(text: string, options: ParseOptions = {}): ManifestPart[] {
  const source = options.source ?? 'the manifest';
  const body = text.replace(/^\uFEFF/, '');
  const shape = detectShape(body);
  const raw = shape === 'json' ? jsonParts(body, source) : shape === 'csv' ? csvParts(body, source) : listParts(body, source);
  if (raw.length === 0) throw new UsageError(`${source} lists no parts.`);
  const seen = new Map<string, string>();
  return raw.map((r, index) => {
    const part = checkPart(r, index, options.base ?? null, source);
    const earlier = seen.get(part.url);
    if (earlier) throw new UsageError(`${source}, ${r.where}: ${redactUrl(part.url)} is listed twice (also ${earlier}); each part must be listed once.`);
    seen.set(part.url, r.where);
    return part;
  });
}

function checkPart(r: RawPart, index: number, base: string | null, source: string): ManifestPart {
  const at = `${source}, ${r.where}`;
  const text = r.url.trim();
  if (text === '') throw new UsageError(`${at}: the URL is empty.`);
  let url: string;
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) url = text;
  else if (base) url = new URL(text, base).href;
  else throw new UsageError(`${at}: "${redactUrl(text)}" is a relative URL, and a manifest read from a file has no URL to resolve it against; give absolute URLs.`);
  try {
    validateUrl(url);
  } catch (err) {
    throw new UsageError(`${at}: ${(err as Error).message}`, { cause: err });
  }
  const digest = (value: string | null | undefined, kind: 'md5' | 'sha256') => {
    if (value === undefined || value === null || String(value).trim() === '') return null;
    return parseChecksumArg(String(value), kind, `${at}: the ${kind === 'md5' ? 'MD5' : 'SHA-256'}`);
  };
  const { size, exact } = sizeOf(r.size, at);
  return { index, url, name: r.name?.trim() || null, md5: digest(r.md5, 'md5'), sha256: digest(r.sha256, 'sha256'), size, sizeExact: exact, where: r.where };
}

function sizeOf(value: string | number | null | undefined, at: string): { size: number | null; exact: boolean } {
  if (value === undefined || value === null || String(value).trim() === '') return { size: null, exact: false };
  const t = String(value).trim().replace(/_/g, '');
  if (/^\d+$/.test(t) && Number.isSafeInteger(Number(t))) return { size: Number(t), exact: true };
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT])i?B?$/i.exec(t);
  if (m) return { size: Math.ceil(Number(m[1]) * 1024 ** ('KMGT'.indexOf(m[2]!.toUpperCase()) + 1)), exact: false };
  throw new UsageError(`${at}: the size "${String(value).slice(0, 40)}" is not a number of bytes.`);
}

function csvParts(text: string, source: string): RawPart[] {
  let records;
  try {
    records = parseCsv(
      text
        .split(/\r?\n/)
        .map((l) => (l.trim().startsWith('#') ? '' : l))
        .join('\n'),
    );
  } catch (err) {
    throw new UsageError(`${source}: ${(err as Error).message}.`);
  }
  const header = records[0]!;
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const col = (candidates: string[]) => names.findIndex((n) => candidates.includes(n));
  const urlCol = col(URL_COLUMNS);
  if (urlCol < 0) {
    const looksLikeData = header.fields.some((f) => /^https?:\/\//i.test(f.trim()));
    throw new UsageError(
      `${source}, line ${header.line}: ${looksLikeData ? 'the first row is data, not a header' : `no column of the header (${header.fields.join(', ').slice(0, 120)}) names the URL`}; the first row must name the columns, with one of ${URL_COLUMNS.slice(0, 3).join(', ')} for the URL (and optionally filename, md5, sha256, size).`,
    );
  }
  const nameCol = col(NAME_COLUMNS);
  const md5Col = col(MD5_COLUMNS);
  const shaCol = col(SHA256_COLUMNS);
  const sizeCol = col(SIZE_COLUMNS);
  const cell = (fields: string[], i: number) => (i >= 0 ? (fields[i] ?? null) : null);
  return records.slice(1).map((r) => {
    if (r.fields.length > names.length)
      throw new UsageError(`${source}, line ${r.line}: ${r.fields.length} fields, but the header names ${names.length} columns (quote a field that holds a comma).`);
    return {
      url: cell(r.fields, urlCol) ?? '',
      name: cell(r.fields, nameCol),
      md5: cell(r.fields, md5Col),
      sha256: cell(r.fields, shaCol),
      size: cell(r.fields, sizeCol),
      where: `line ${r.line}`,
    };
  });
}

function listParts(text: string, source: string): RawPart[] {
  const out: RawPart[] = [];
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const [url, ...rest] = line.split(/\s+/);
    const part: RawPart = { url: url!, where: `line ${i + 1}` };
    for (const token of rest) {
      const m = /^(md5|sha256|size|name)[:=](.*)$/i.exec(token);
      if (!m) throw new UsageError(`${source}, line ${i + 1}: "${token.slice(0, 60)}" is not md5:<hex>, sha256:<hex>, size:<bytes> or name:<file>.`);
      const key = m[1]!.toLowerCase() as 'md5' | 'sha256' | 'size' | 'name';
      part[key] = m[2]!;
    }
    out.push(part);
  });
  return out;
}

function jsonParts(text: string, source: string): RawPart[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source} is not valid JSON (${(err as Error).message}).`);
  }
  const list = Array.isArray(value)
    ? value
    : ((value as Record<string, unknown>)?.parts ?? (value as Record<string, unknown>)?.files ?? (value as Record<string, unknown>)?.archives);
  if (!Array.isArray(list)) throw new UsageError(`${source}: the JSON must be a list of {url, md5?, sha256?, size?} (or an object with such a list under "parts").`);
  return list.map((entry, i) => {
    const where = `entry ${i + 1}`;
    const e = entry as Record<string, unknown>;
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw new UsageError(`${source}, ${where}: not an object with a "url".`);
    const str = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : e[k] === undefined || e[k] === null ? null : String(e[k]));
    const url = str('url') ?? str('link') ?? str('download');
    if (url === null) throw new UsageError(`${source}, ${where}: no "url".`);
    const size = typeof e.size === 'number' ? e.size : str('size');
    return { url, name: str('name') ?? str('filename') ?? str('file'), md5: str('md5'), sha256: str('sha256'), size, where };
  });
}
