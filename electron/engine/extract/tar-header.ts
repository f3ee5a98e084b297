// Decodes one 512-byte tar header the way GNU tar reads it: numeric fields as octal (leading spaces
// skipped, a NUL or space ends the digits, so a field of leading NULs is 0) or base-256 (first byte 0x80;
// 0xff is negative, refused), the ustar prefix only under the POSIX magic, names kept as bytes (see
// byte-names.ts), and the old GNU sparse map of a type `S` header.
import { decodeNameBytes } from './byte-names';

export const BLOCK = 512;

export interface RawHeader {
  /** Name from the header alone (ustar prefix applied), decoded losslessly. */
  name: string;
  linkname: string;
  /** Typeflag byte (0 for a NUL typeflag). */
  typeflag: number;
  /** null: the field is not a number (GNU tar reports it); the caller decides what that costs. */
  size: number | null;
  /** The size field holds white space only: GNU tar skips such a member ("blanks in header"). */
  sizeBlank: boolean;
  mode: number | null;
  mtime: number | null;
  /** `ustar  ` magic (GNU and old GNU formats): their prefix area holds atime, ctime and the sparse map. */
  gnu: boolean;
  /** Old GNU sparse (type `S`): the header's map entries, whether extension blocks follow, and the real size. */
  oldSparse: { regions: Array<[number, number]>; extended: boolean; realSize: number } | null;
}

const USTAR_POSIX = Buffer.from('ustar\0', 'latin1');
const USTAR_GNU = Buffer.from('ustar  \0', 'latin1');

export function decodeHeader(block: Buffer, off: number): RawHeader {
  const gnu = block.compare(USTAR_GNU, 0, 8, off + 257, off + 265) === 0;
  const posix = !gnu && block.compare(USTAR_POSIX, 0, 6, off + 257, off + 263) === 0;
  let nameBytes = cbytes(block, off, 100);
  if (posix && block[off + 345] !== 0) nameBytes = Buffer.concat([cbytes(block, off + 345, 155), SLASH, nameBytes]);
  const typeflag = block[off + 156]!;
  const header: RawHeader = {
    name: decodeNameBytes(nameBytes),
    linkname: decodeNameBytes(cbytes(block, off + 157, 100)),
    typeflag,
    size: numericField(block, off + 124, 12),
    sizeBlank: isBlank(block, off + 124, 12),
    mode: numericField(block, off + 100, 8),
    mtime: numericField(block, off + 136, 12),
    gnu,
    oldSparse: null,
  };
  if (typeflag === 0x53 /* S */) {
    const regions: Array<[number, number]> = [];
    if (!readSparseEntries(block, off + 386, 4, regions)) header.size = null;
    const realSize = numericField(block, off + 483, 12);
    header.oldSparse = { regions, extended: block[off + 482] !== 0, realSize: realSize ?? -1 };
  }
  return header;
}

/**
 * Reads `count` (offset, numbytes) pairs of 12-byte fields at `at` into `out`, stopping at the first empty
 * one. False when a field is not a number.
 */
export function readSparseEntries(block: Buffer, at: number, count: number, out: Array<[number, number]>): boolean {
  for (let k = 0; k < count; k++) {
    const p = at + k * 24;
    if (block[p] === 0) break;
    const offset = numericField(block, p, 12);
    const numbytes = numericField(block, p + 12, 12);
    if (offset === null || numbytes === null) return false;
    out.push([offset, numbytes]);
  }
  return true;
}

/**
 * A numeric header field as GNU tar reads it: base-256 when the high bit of the first byte is set, else
 * octal after leading spaces, ended by a NUL or a space (nothing at all reads as 0, like Python and bsdtar).
 * null when it holds anything else, is negative, or does not fit a safe integer.
 */
export function numericField(block: Buffer, at: number, len: number): number | null {
  const first = block[at]!;
  if (first & 0x80) {
    if (first & 0x40) return null; // base-256 negative
    let v = first & 0x3f;
    for (let i = 1; i < len; i++) {
      v = v * 256 + block[at + i]!;
      if (v > Number.MAX_SAFE_INTEGER) return null;
    }
    return v;
  }
  let i = at;
  const end = at + len;
  while (i < end && isSpace(block[i]!)) i++;
  if (i === end) return null;
  let v = 0;
  for (; i < end; i++) {
    const c = block[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  if (v > Number.MAX_SAFE_INTEGER) return null;
  // The digits must end at the field's end, a NUL or white space (GNU tar looks no further).
  if (i < end && block[i] !== 0 && !isSpace(block[i]!)) return null;
  return v;
}

function isBlank(block: Buffer, at: number, len: number): boolean {
  for (let i = at; i < at + len; i++) if (!isSpace(block[i]!)) return false;
  return true;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function cbytes(block: Buffer, off: number, len: number): Buffer {
  let end = block.indexOf(0, off);
  if (end < 0 || end > off + len) end = off + len;
  return block.subarray(off, end);
}
const SLASH = Buffer.from('/');
