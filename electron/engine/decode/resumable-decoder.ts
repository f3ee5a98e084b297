// The seam between the extractor and a decompressor whose state can be written down. Plain tar, gzip, lz4
// and zstd each implement it; the extractor knows only this interface, and format detection picks the
// implementation. Feeding is synchronous, so the caller owns backpressure and decides exactly where the
// output stops: a checkpoint comes out inside the output sequence, between buffers, tied to the exact
// uncompressed offset it describes.

/** Where decoding can restart: feed the file from `compressedOffset` (inclusive) to a decoder built from `state`. */
export interface DecoderPoint {
  readonly kind: 'decoder-point';
  /** File offset of the next compressed byte to feed after a resume. */
  compressedOffset: number;
  /** Output bytes of the whole stream before this point. */
  uncompressedOffset: number;
  /** Plain JSON (buffers as base64): everything the decoder needs to continue from here, byte for byte. */
  state: unknown;
}

export type DecodedItem = Buffer | DecoderPoint;

export function isDecoderPoint(item: DecodedItem): item is DecoderPoint {
  return !Buffer.isBuffer(item);
}

/** How far into the stream a format can be resumed, for the window and the job's first message. */
export type ResumeGranularity = 'any-byte' | 'block' | 'frame' | 'none';

export interface ResumableDecoder {
  readonly format: string;
  readonly granularity: ResumeGranularity;
  /** Compressed bytes consumed so far, as an offset in the whole file (a resumed decoder counts from its point). */
  readonly position: number;
  /** Uncompressed size when the format states it (lz4 content size, zstd frame content size), else null. */
  readonly declaredContentSize: number | null;
  /** Asks for the next boundary where the whole state can be captured; it comes out as a DecoderPoint in push/finish. */
  requestCheckpoint(): void;
  /**
   * Optional: the point at the current position if the decoder is at one between inputs (plain tar always;
   * lz4 when the last input ended on a block boundary), else null. It consumes a pending request. Lets a
   * checkpoint be taken without waiting for more input, which a full window may not bring.
   */
  pointHere?(): DecoderPoint | null;
  /** Compressed bytes in (the file's next bytes, in order); decoded buffers and requested points out. */
  push(input: Buffer): DecodedItem[];
  /**
   * End of input: the rest of the output, or a coded ArchiveError: E_ARCHIVE_TRUNCATED (cut mid-frame),
   * E_ARCHIVE_CORRUPT (bad data or checksum, with the offset), E_TRAILING_GARBAGE (bytes after the last frame).
   */
  finish(): DecodedItem[];
  /** Releases native resources; the decoder is unusable after. */
  close(): void;
}

/** What a job may tune in its decoders. */
export interface DecoderOptions {
  /** Largest zstd window (history held in memory) a frame may ask for, bytes; default 128 MiB. */
  zstdMaxWindowBytes?: number;
}

/** Builds a decoder for a format, either fresh at the file's first byte or from a saved point's `state`. */
export interface DecoderFactory {
  readonly format: string;
  create(resume?: { compressedOffset: number; uncompressedOffset: number; state: unknown }): ResumableDecoder | Promise<ResumableDecoder>;
}
