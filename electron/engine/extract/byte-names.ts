// Tar names are bytes, not text: GNU tar writes them as it finds them on disk (KOI8-R, CP866, Latin-1...)
// and extracts the same bytes back. The engine carries names as strings, so a name is decoded losslessly:
// valid UTF-8 as itself, every other byte b as the lone surrogate U+DC00+b (Python's "surrogateescape").
// A valid UTF-8 sequence never decodes to a lone surrogate, so the mapping is one to one, two different
// byte names never become one string, and the exact bytes come back at the file system (`osPath`).

const ESCAPE_BASE = 0xdc00;

/** Decodes name bytes losslessly (see above). */
export function decodeNameBytes(buf: Buffer): string {
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const n = utf8SequenceLength(buf, i);
    if (n > 0) {
      out += buf.toString('utf8', i, i + n);
      i += n;
    } else {
      out += String.fromCharCode(ESCAPE_BASE + buf[i]!);
      i++;
    }
  }
  return out;
}

/** True when `name` holds escaped (non-UTF-8) bytes. */
export function hasRawBytes(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= ESCAPE_BASE + 0x80 && c <= ESCAPE_BASE + 0xff && !isPairedLow(name, i)) return true;
  }
  return false;
}

/** The bytes a decoded name stands for. */
export function encodeNameBytes(name: string): Buffer {
  if (!hasRawBytes(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= ESCAPE_BASE + 0x80 && c <= ESCAPE_BASE + 0xff && !isPairedLow(name, i)) {
      if (i > start) parts.push(Buffer.from(name.slice(start, i), 'utf8'));
      parts.push(Buffer.of(c - ESCAPE_BASE));
      start = i + 1;
    }
  }
  if (start < name.length) parts.push(Buffer.from(name.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** Byte length of a decoded name (what the file system's length limits count). */
export function nameByteLength(name: string): number {
  return hasRawBytes(name) ? encodeNameBytes(name).length : Buffer.byteLength(name);
}

/** The path to hand to `fs`: the string itself, or its exact bytes when it holds non-UTF-8 ones. */
export function osPath(path: string): string | Buffer {
  return hasRawBytes(path) ? encodeNameBytes(path) : path;
}

function isPairedLow(s: string, i: number): boolean {
  if (i === 0) return false;
  const prev = s.charCodeAt(i - 1);
  return prev >= 0xd800 && prev <= 0xdbff;
}

const isUtf8: (buf: Buffer) => boolean = (require('node:buffer') as { isUtf8?: (b: Buffer) => boolean }).isUtf8 ?? ((buf) => utf8Valid(buf));

function utf8Valid(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; ) {
    const n = utf8SequenceLength(buf, i);
    if (n === 0) return false;
    i += n;
  }
  return true;
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629: no overlongs, no surrogates), or 0. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
