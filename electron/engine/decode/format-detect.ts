// Recognises the archive format from its first bytes, and names what a non-archive looks like (an HTML
// error page served with 200 is the usual suspect).
import { ArchiveError } from '../errors';
import type { ExtractFormat } from '../extract/extract-types';

/** Bytes needed for a confident answer: one tar header block. */
export const DETECT_BYTES = 512;

export type Detection = { format: ExtractFormat } | { needMore: true };

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const LZ4 = [0x04, 0x22, 0x4d, 0x18];
const LZ4_LEGACY = [0x02, 0x21, 0x4c, 0x18];
/** Skippable frames (lz4 and zstd share them; pzstd writes one first) are looked past up to this far. */
const MAX_SKIPPED_BYTES = 1024 * 1024;

const UNSUPPORTED: Array<{ magic: number[]; name: string }> = [
  { magic: [0x42, 0x5a, 0x68], name: 'bzip2' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'xz' },
  { magic: [0x50, 0x4b, 0x03, 0x04], name: 'zip' },
  { magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], name: '7z' },
  { magic: [0x5d, 0x00, 0x00], name: 'lzma' },
];

function startsWith(buf: Buffer, magic: number[], at = 0): boolean {
  if (buf.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (buf[at + i] !== magic[i]) return false;
  return true;
}

function isSkippableFrame(buf: Buffer, at: number): boolean {
  return buf.length >= at + 4 && (buf[at]! & 0xf0) === 0x50 && buf[at + 1] === 0x2a && buf[at + 2] === 0x4d && buf[at + 3] === 0x18;
}

/**
 * The format behind skippable frames at the start: the offset of the first other frame, or needMore.
 * Throws when the skippable frames are cut short or run past MAX_SKIPPED_BYTES.
 */
function afterSkippableFrames(head: Buffer, final: boolean): Detection {
  let at = 0;
  while (isSkippableFrame(head, at)) {
    if (head.length < at + 8) return needMoreOrFail(final, at);
    at += 8 + head.readUInt32LE(at + 4);
    if (at > MAX_SKIPPED_BYTES) {
      throw new ArchiveError('E_FORMAT_UNSUPPORTED', `The data begins with skippable frames of more than ${MAX_SKIPPED_BYTES} bytes; no archive starts that way.`, {
        details: { offset: 0 },
      });
    }
  }
  if (head.length < at + 4) return needMoreOrFail(final, at);
  if (startsWith(head, LZ4, at) || startsWith(head, LZ4_LEGACY, at)) return { format: 'lz4' };
  if (startsWith(head, ZSTD, at)) return { format: 'zstd' };
  throw new ArchiveError('E_NOT_AN_ARCHIVE', `Skippable frames are followed by neither an lz4 nor a zstd frame (at byte ${at}).`, {
    details: { offset: at, looksLike: describeNonArchive(head.subarray(at)) },
  });
}

function needMoreOrFail(final: boolean, at: number): Detection {
  if (!final) return { needMore: true };
  throw new ArchiveError('E_ARCHIVE_TRUNCATED', `The data ends inside a skippable frame, before any archive (at byte ${at}).`, { details: { offset: at } });
}

/** A tar header block whose checksum is right (unsigned sum, as tar-stream checks it), or an all-zero block. */
export function isTarHeaderBlock(block: Buffer): boolean {
  if (block.length < 512) return false;
  if (isZeroBlock(block)) return true;
  return tarChecksumMatches(block);
}

const ZERO_BLOCK = Buffer.alloc(512);
export function isZeroBlock(block: Buffer, offset = 0): boolean {
  return block.compare(ZERO_BLOCK, 0, 512, offset, offset + 512) === 0;
}

/** The header checksum, summed as unsigned bytes or, as old tars did, signed ones (GNU tar takes either). */
export function tarChecksumMatches(block: Buffer, offset = 0): boolean {
  let sum = 8 * 32;
  let signed = 8 * 32;
  for (let i = 0; i < 512; i++) {
    if (i === 148) i = 156;
    const b = block[offset + i]!;
    sum += b;
    signed += b < 128 ? b : b - 256;
  }
  const recorded = parseOctalField(block, offset + 148, 8);
  return sum === recorded || signed === recorded;
}

function parseOctalField(buf: Buffer, start: number, length: number): number {
  let i = start;
  const end = start + length;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? -1 : v;
}

/** A short human description of data that is not an archive, for the error message. */
export function describeNonArchive(head: Buffer): string {
  for (const u of UNSUPPORTED) if (startsWith(head, u.magic)) return `${u.name} compressed data`;
  const text = head
    .subarray(0, 256)
    .toString('latin1')
    .replace(/^\uFEFF|^\u00ef\u00bb\u00bf/, '')
    .trimStart()
    .toLowerCase();
  if (text.startsWith('<!doctype html') || text.startsWith('<html') || /<(head|body|title)[\s>]/.test(text)) {
    const title = /<title[^>]*>([^<]{0,80})/i.exec(head.toString('utf8'))?.[1]?.trim();
    return `an HTML page${title ? ` ("${title}")` : ''}, perhaps an error page served with status 200`;
  }
  if (text.startsWith('<?xml')) return 'an XML document, perhaps an error from an object store';
  if (text.startsWith('{') || text.startsWith('[')) return 'JSON text, perhaps an API error';
  if (isMostlyText(head)) return `plain text beginning "${head.subarray(0, 40).toString('utf8').replace(/\s+/g, ' ').trim()}"`;
  return `unrecognised binary data beginning ${head.subarray(0, 8).toString('hex')}`;
}

function isMostlyText(head: Buffer): boolean {
  if (head.length === 0) return false;
  const sample = head.subarray(0, 256);
  let printable = 0;
  for (const c of sample) if (c === 9 || c === 10 || c === 13 || (c >= 0x20 && c < 0x7f) || c >= 0x80) printable++;
  return printable / sample.length > 0.95;
}

/**
 * Decides the format from the first bytes. `final` says no more bytes will come (short inputs). Throws a
 * coded ArchiveError for an empty body, a non-archive, or a format this build cannot unpack.
 */
export function detectFormat(head: Buffer, final: boolean): Detection {
  if (head.length === 0) {
    if (!final) return { needMore: true };
    throw new ArchiveError('E_NOT_AN_ARCHIVE', 'The download is empty (0 bytes): there is no archive to unpack.', {
      details: { offset: 0 },
    });
  }
  if (startsWith(head, GZIP)) return { format: 'gzip' };
  if (startsWith(head, ZSTD)) return { format: 'zstd' };
  if (startsWith(head, LZ4) || startsWith(head, LZ4_LEGACY)) return { format: 'lz4' };
  if (isSkippableFrame(head, 0)) return afterSkippableFrames(head, final);
  if (head.length < 4 && !final) return { needMore: true };
  for (const u of UNSUPPORTED) {
    if (startsWith(head, u.magic)) {
      throw new ArchiveError('E_FORMAT_UNSUPPORTED', `The data is ${u.name} compressed; only tar, gzip, lz4 and zstd archives are supported.`, {
        details: { offset: 0, detected: u.name },
      });
    }
  }
  if (head.length < DETECT_BYTES) {
    if (!final) return { needMore: true };
  } else if (isTarHeaderBlock(head)) {
    return { format: 'tar' };
  }
  throw new ArchiveError('E_NOT_AN_ARCHIVE', `The data is not an archive: it looks like ${describeNonArchive(head)}.`, {
    details: { offset: 0, looksLike: describeNonArchive(head) },
  });
}

/** detectFormat, held to the format asked for (`auto`: any); null while more bytes are needed. */
export function detectWantedFormat(head: Buffer, final: boolean, wanted: 'auto' | ExtractFormat): ExtractFormat | null {
  const detection = detectFormat(head, final);
  if ('needMore' in detection) {
    if (final) throw new ArchiveError('E_INTERNAL', 'format detection needs more bytes at the end of the stream');
    return null;
  }
  if (wanted !== 'auto' && wanted !== detection.format) {
    throw new ArchiveError('E_NOT_AN_ARCHIVE', `The data is a ${detection.format} archive, not ${wanted} as requested.`, {
      details: { offset: 0, expected: wanted, detected: detection.format },
    });
  }
  return detection.format;
}
