// The gzip member header (RFC 1952), parsed by hand because the deflate data behind it is handed to a
// raw inflater. Parsing is restartable: it is given everything buffered so far and says how many bytes
// the header takes once it is complete.
import { ArchiveError } from '../../errors';
import { crc32 } from './crc32';

const FTEXT = 1;
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;
const RESERVED = 0xe0;

/** A header longer than this (a huge FNAME, FCOMMENT or FEXTRA) is treated as corrupt. */
export const MAX_HEADER_BYTES = 1 << 20;

export interface GzipHeaderInfo {
  /** Bytes the header occupies, the deflate data starts right after. */
  length: number;
  name?: string;
  comment?: string;
  mtime: number;
  os: number;
  text: boolean;
}

/** The first two bytes of every member. */
export function hasGzipMagic(bytes: Uint8Array, at = 0): boolean {
  return bytes[at] === 0x1f && bytes[at + 1] === 0x8b;
}

/**
 * Parses a header at the start of `bytes`, which holds the member's first bytes (`memberStart` is their
 * offset in the file, for error messages). Returns undefined while more bytes are needed.
 */
export function parseGzipHeader(bytes: Uint8Array, memberStart: number): GzipHeaderInfo | undefined {
  const fail = (code: 'E_ARCHIVE_CORRUPT' | 'E_NOT_AN_ARCHIVE', message: string, at: number): never => {
    throw new ArchiveError(code, message, { details: { offset: memberStart + at, memberStart } });
  };
  if (bytes.length >= 1 && bytes[0] !== 0x1f) fail('E_NOT_AN_ARCHIVE', 'Not gzip data (bad magic bytes)', 0);
  if (bytes.length >= 2 && bytes[1] !== 0x8b) fail('E_NOT_AN_ARCHIVE', 'Not gzip data (bad magic bytes)', 1);
  if (bytes.length >= 3 && bytes[2] !== 8) fail('E_ARCHIVE_CORRUPT', `Unknown gzip compression method ${bytes[2]}`, 2);
  if (bytes.length >= 4 && (bytes[3]! & RESERVED) !== 0) fail('E_ARCHIVE_CORRUPT', 'Reserved gzip header flags are set', 3);
  if (bytes.length < 10) return undefined;
  const flags = bytes[3]!;
  let at = 10;
  if (flags & FEXTRA) {
    if (bytes.length < at + 2) return undefined;
    at += 2 + (bytes[at]! | (bytes[at + 1]! << 8));
  }
  let name: string | undefined;
  let comment: string | undefined;
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    if (bytes.length < at) return undefined;
    const end = indexOfZero(bytes, at);
    if (end < 0) {
      if (bytes.length > MAX_HEADER_BYTES) fail('E_ARCHIVE_CORRUPT', 'Gzip header name or comment is unreasonably long', bytes.length);
      return undefined;
    }
    // ISO 8859-1 per RFC 1952.
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString('latin1');
    if (flag === FNAME) name = text;
    else comment = text;
    at = end + 1;
  }
  if (flags & FHCRC) {
    if (bytes.length < at + 2) return undefined;
    const expected = bytes[at]! | (bytes[at + 1]! << 8);
    const actual = crc32(bytes.subarray(0, at), 0) & 0xffff;
    if (actual !== expected) fail('E_ARCHIVE_CORRUPT', 'Gzip header checksum (FHCRC) mismatch', at);
    at += 2;
  }
  if (bytes.length < at) {
    if (at > MAX_HEADER_BYTES) fail('E_ARCHIVE_CORRUPT', 'Gzip header extra field is unreasonably long', 10);
    return undefined;
  }
  const mtime = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
  return {
    length: at,
    mtime,
    os: bytes[9]!,
    text: (flags & FTEXT) !== 0,
    ...(name !== undefined ? { name } : {}),
    ...(comment !== undefined ? { comment } : {}),
  };
}

function indexOfZero(bytes: Uint8Array, from: number): number {
  return bytes.indexOf(0, from);
}
