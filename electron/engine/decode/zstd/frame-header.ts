// Zstandard frame and skippable-frame headers (RFC 8878 3.1.1.1 and 3.1.2).
import { ArchiveError, formatBytes } from '../../errors';

export const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50..0x184D2A5F, then a 4-byte size. */
export function isSkippableMagic(m: number): boolean {
  return (m & 0xfffffff0) >>> 0 === 0x184d2a50;
}

/** 128 MiB: what `zstd --long=27` needs, and the reference decoder's default limit. */
export const DEFAULT_MAX_WINDOW = 128 * 1024 * 1024;
/** Beyond this offsets and the buffer no longer fit the decoder's 32-bit arithmetic. */
export const HARD_MAX_WINDOW = 2 * 1024 * 1024 * 1024 - 256 * 1024;

export interface FrameHeader {
  /** The history the frame can reference: the window, or the content size when that is smaller. */
  windowSize: number;
  /** Largest block, compressed or not: min(declared window, 128 KiB) (RFC 8878 3.1.1.2.4). */
  blockMax: number;
  contentSize: number | null;
  checksum: boolean;
  singleSegment: boolean;
  /** Bytes of the header after the magic number. */
  size: number;
}

/** The header's size after the magic, from its first byte (the Frame_Header_Descriptor). */
export function frameHeaderSize(fhd: number): number {
  const single = (fhd >>> 5) & 1;
  const fcsFlag = fhd >>> 6;
  const did = [0, 1, 2, 4][fhd & 3]!;
  const fcs = fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag]!;
  return 1 + (single ? 0 : 1) + did + fcs;
}

/** Parses a frame header at src[p..] (after the magic); `offset` is its file offset, for errors. */
export function parseFrameHeader(src: Uint8Array, p: number, offset: number, maxWindowBytes: number): FrameHeader {
  const fhd = src[p]!;
  const size = frameHeaderSize(fhd);
  if (fhd & 0x08) {
    throw new ArchiveError('E_ARCHIVE_CORRUPT', `zstd frame header at byte ${offset} has its reserved bit set: the data is corrupt.`, {
      details: { offset, format: 'zstd' },
    });
  }
  const single = (fhd & 0x20) !== 0;
  let q = p + 1;
  let windowSize = 0;
  if (!single) {
    const wd = src[q++]!;
    const base = 2 ** (10 + (wd >>> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  const didBytes = [0, 1, 2, 4][fhd & 3]!;
  let dictId = 0;
  for (let i = 0; i < didBytes; i++) dictId += src[q + i]! * 2 ** (8 * i);
  q += didBytes;
  if (dictId !== 0) {
    throw new ArchiveError(
      'E_FORMAT_UNSUPPORTED',
      `The zstd frame at byte ${offset} needs dictionary ${dictId}; archives compressed with a dictionary cannot be unpacked without it.`,
      { details: { offset, format: 'zstd', dictionaryId: dictId } },
    );
  }
  const fcsBytes = size - (q - p);
  let contentSize: number | null = null;
  if (fcsBytes > 0) {
    let v = 0;
    for (let i = 0; i < fcsBytes; i++) v += src[q + i]! * 2 ** (8 * i);
    contentSize = fcsBytes === 2 ? v + 256 : v;
  }
  if (single) windowSize = contentSize ?? 0;
  const blockMax = Math.min(windowSize, 128 * 1024);
  const limit = Math.min(maxWindowBytes, HARD_MAX_WINDOW);
  // A stated content size smaller than the window bounds what the frame can reference, and the memory.
  if (contentSize !== null && contentSize < windowSize) windowSize = contentSize;
  if (windowSize > limit) throw windowTooLarge(windowSize, limit, offset);
  return { windowSize, blockMax, contentSize, checksum: (fhd & 0x04) !== 0, singleSegment: single, size };
}

/** The option that raises the limit, as the command line spells it (the app passes the same number). */
export const MAX_WINDOW_FLAG = '--zstd-max-window';

/**
 * A frame whose window is over the limit: refused before any of its memory is taken, with what it needs
 * and how to allow it. Also raised on resume when the limit was lowered since the checkpoint.
 */
export function windowTooLarge(windowSize: number, limit: number, offset: number): ArchiveError {
  const mib = Math.ceil(windowSize / (1024 * 1024));
  const memory = windowSize + Math.min(Math.max(windowSize, 1024 * 1024), 32 * 1024 * 1024);
  const fix =
    windowSize <= HARD_MAX_WINDOW
      ? ` Allow it with ${MAX_WINDOW_FLAG} ${mib}M (zstd -d needs --memory=${mib}MB for the same).`
      : ` That is beyond the ${formatBytes(HARD_MAX_WINDOW)} this decoder supports.`;
  return new ArchiveError(
    'E_WINDOW_TOO_LARGE',
    `The zstd frame at byte ${offset} needs a ${formatBytes(windowSize)} window, about ${formatBytes(memory)} of memory to unpack; ` + `the limit is ${formatBytes(limit)}.${fix}`,
    { details: { offset, format: 'zstd', windowBytes: windowSize, maxWindowBytes: limit, memoryBytes: memory, option: MAX_WINDOW_FLAG } },
  );
}
