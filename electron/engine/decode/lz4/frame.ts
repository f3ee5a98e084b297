// The lz4 frame format's fixed parts: magic numbers, the frame descriptor (FLG, BD, content size, dict ID,
// header checksum), and the decoder's saved state with its consistency check.
import { ArchiveError } from '../../errors';
import { xxhash32, type XxHash32State } from './xxhash32';

export const LZ4_MAGIC = 0x184d2204;
export const LZ4_LEGACY_MAGIC = 0x184c2102;
export const DICTIONARY_BYTES = 64 * 1024;
/** A legacy frame's blocks decode to 8 MiB; a size above the bound of such a block is the next frame's magic. */
export const LEGACY_BLOCK_BYTES = 8 * 1024 * 1024;
export const LEGACY_COMPRESSED_BOUND = LEGACY_BLOCK_BYTES + Math.floor(LEGACY_BLOCK_BYTES / 255) + 16;

export function isSkippableMagic(m: number): boolean {
  return (m & 0xfffffff0) >>> 0 === 0x184d2a50;
}

/** What the frame descriptor says (and, for a legacy frame, what the format fixes). */
export interface Lz4Frame {
  legacy: boolean;
  /** File offset of the frame's magic. */
  start: number;
  independent: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
  /** The declared uncompressed size of the frame, or null. */
  contentSize: number | null;
  /** Largest decoded block. */
  blockMax: number;
}

/** Bytes of the descriptor after the magic, known from its first byte (FLG). */
export function descriptorLength(flg: number): number {
  return 2 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1;
}

/** Parses and verifies a whole descriptor (`d` holds FLG .. HC). `start` is the frame's magic offset. */
export function parseDescriptor(d: Uint8Array, start: number): Lz4Frame {
  const flg = d[0]!;
  const bd = d[1]!;
  const at = start + 4;
  const corrupt = (message: string, offset: number, details: Record<string, unknown> = {}) =>
    new ArchiveError('E_ARCHIVE_CORRUPT', `lz4 frame at byte ${start}: ${message}.`, { details: { offset, format: 'lz4', frameStart: start, ...details } });
  if (flg >> 6 !== 1) throw corrupt(`unknown frame version ${flg >> 6}`, at);
  if (flg & 0x02) throw corrupt('a reserved bit of the frame flags is set', at);
  if (bd & 0x8f) throw corrupt('a reserved bit of the block descriptor is set', at + 1);
  const sizeId = (bd >> 4) & 7;
  if (sizeId < 4) throw corrupt(`block size id ${sizeId} is not one of 4..7`, at + 1);
  const length = descriptorLength(flg);
  const expected = (xxhash32(d, 0, 0, length - 1) >>> 8) & 0xff;
  if (d[length - 1] !== expected) {
    throw corrupt('the frame descriptor checksum does not match', at + length - 1, { expected, actual: d[length - 1] });
  }
  let contentSize: number | null = null;
  if (flg & 0x08) {
    const big = Buffer.from(d.buffer, d.byteOffset, d.byteLength).readBigUInt64LE(2);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`the declared content size ${big} is implausible`, at + 2);
    contentSize = Number(big);
  }
  if (flg & 0x01) {
    throw new ArchiveError('E_FORMAT_UNSUPPORTED', `lz4 frame at byte ${start} needs an external dictionary (dict ID set), which a snapshot cannot supply.`, {
      details: { offset: at, format: 'lz4', frameStart: start },
    });
  }
  return {
    legacy: false,
    start,
    independent: (flg & 0x20) !== 0,
    blockChecksum: (flg & 0x10) !== 0,
    contentChecksum: (flg & 0x04) !== 0,
    contentSize,
    blockMax: 1 << (8 + 2 * sizeId),
  };
}

export function legacyFrame(start: number): Lz4Frame {
  return { legacy: true, start, independent: true, blockChecksum: false, contentChecksum: false, contentSize: null, blockMax: LEGACY_BLOCK_BYTES };
}

export const LZ4_STATE_VERSION = 1;

/**
 * The decoder's state at a point (plain JSON). `at: 'frame-start'`: the next bytes are a frame's magic
 * (or a skippable frame); `at: 'block'`: the next bytes are a block's size field inside `frame`.
 */
export interface Lz4State {
  version: typeof LZ4_STATE_VERSION;
  at: 'frame-start' | 'block';
  /** Frames (skippable ones not counted) completed before this point. */
  framesDone: number;
  frame: Lz4Frame | null;
  /** Output bytes of the current frame before this point. */
  frameOutput: number;
  /** The running content checksum (frames that have one). */
  hash: XxHash32State | null;
  /** Linked blocks: base64 of the frame's last <= 64 KiB of output (the next block's dictionary). */
  dictionary: string;
}

/** Why a saved state cannot be used, or undefined when it is consistent. */
export function lz4StateProblem(s: Lz4State, compressedOffset: number): string | undefined {
  const isCount = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!s || typeof s !== 'object') return 'not an object';
  if (s.version !== LZ4_STATE_VERSION) return `unknown version ${String(s.version)}`;
  if (!isCount(s.framesDone) || !isCount(s.frameOutput)) return 'bad counters';
  if (s.at === 'frame-start') return s.frame === null && s.frameOutput === 0 ? undefined : 'a frame start inside a frame';
  if (s.at !== 'block') return `unknown point ${String(s.at)}`;
  const f = s.frame;
  if (!f || typeof f !== 'object' || !isCount(f.start) || f.start >= compressedOffset) return 'no frame';
  if (![DICTIONARY_BYTES, 4 * DICTIONARY_BYTES, 16 * DICTIONARY_BYTES, 64 * DICTIONARY_BYTES, LEGACY_BLOCK_BYTES].includes(f.blockMax)) return 'bad block size';
  if (f.legacy && (!f.independent || f.blockChecksum || f.contentChecksum || f.contentSize !== null)) return 'inconsistent legacy frame';
  if (f.contentSize !== null && (!isCount(f.contentSize) || s.frameOutput > f.contentSize)) return 'output past the content size';
  if (f.contentChecksum !== (s.hash !== null && typeof s.hash === 'object')) return 'the checksum state does not match the frame';
  if (s.hash && s.hash.total !== s.frameOutput) return 'the checksum state does not cover the frame output';
  if (typeof s.dictionary !== 'string') return 'bad dictionary';
  const dictionaryBytes = Buffer.byteLength(s.dictionary, 'base64');
  const wanted = f.independent ? 0 : Math.min(DICTIONARY_BYTES, s.frameOutput);
  if (dictionaryBytes !== wanted) return `dictionary of ${dictionaryBytes} bytes, not ${wanted}`;
  return undefined;
}

/**
 * The content size the first lz4 frame of `head` declares (after any skippable frames), when its descriptor
 * is in `head` and its checksum holds; else null. For the free-space check before a download.
 */
export function declaredContentSizeOf(head: Buffer): number | null {
  let at = 0;
  while (at + 8 <= head.length && isSkippableMagic(head.readUInt32LE(at))) at += 8 + head.readUInt32LE(at + 4);
  if (at + 7 > head.length || head.readUInt32LE(at) !== LZ4_MAGIC) return null;
  const length = descriptorLength(head[at + 4]!);
  if (at + 4 + length > head.length) return null;
  try {
    return parseDescriptor(head.subarray(at + 4, at + 4 + length), at).contentSize;
  } catch {
    return null; // a hint only
  }
}
