// The decompression stage: compressed bytes in, tar bytes out, with decoder failures turned into coded
// ArchiveErrors. Kept behind a small interface so a checkpointing gunzip (resumable extraction) can
// replace Node's streaming one without touching detection, tar parsing or writing.
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { ArchiveError } from './errors';

export type CompressedFormat = 'gzip' | 'zstd';

export interface Decompressor {
  readonly format: CompressedFormat;
  /** Compressed bytes in, decompressed bytes out; honours backpressure both ways. */
  readonly stream: Transform;
  /** Compressed bytes the decoder has consumed so far (offsets in errors, trailing-garbage check). */
  consumed(): number;
  /** A decoder failure as a coded ArchiveError; `totalIn` is every compressed byte written so far. */
  toArchiveError(err: unknown, totalIn: number): ArchiveError;
  /** Called after the decoder has ended: throws E_TRAILING_GARBAGE when input was left unconsumed. */
  checkEnd(totalIn: number): void;
}

export type DecompressorFactory = (format: CompressedFormat) => Decompressor;

/** Output buffers of 256 KiB: fewer callbacks and bigger file writes than zlib's 16 KiB default. */
const CHUNK_SIZE = 256 * 1024;

type ZstdFactory = (options?: { chunkSize?: number }) => Transform;

/** `zlib.createZstdDecompress` exists from Node 22.15 / 23.8; Electron's Node has it, Node 20 does not. */
export function zstdDecoder(): ZstdFactory | null {
  const f = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
  return typeof f === 'function' ? f : null;
}

export const createDecompressor: DecompressorFactory = (format) => {
  if (format === 'gzip') return nodeDecoder('gzip', zlib.createGunzip({ chunkSize: CHUNK_SIZE }));
  const zstd = zstdDecoder();
  if (!zstd) {
    throw new ArchiveError(
      'E_FORMAT_UNSUPPORTED',
      `This archive is zstd-compressed, and the running Node (${process.versions.node}) has no zstd decoder ` +
        '(it needs Node 22.15 or later). Use the desktop app, or a .tar.gz / .tar of the snapshot.',
      { details: { offset: 0, format: 'zstd', node: process.versions.node } },
    );
  }
  return nodeDecoder('zstd', zstd({ chunkSize: CHUNK_SIZE }));
};

// zlib messages raised while reading a member header: seen after a complete member, they mean the bytes
// that follow are not another member.
const GZIP_HEADER_ERRORS = /incorrect header check|unknown compression method|unknown header flags|header crc mismatch/i;
const ZSTD_FRAME_ERRORS = /unknown frame descriptor|prefix unknown/i;

function nodeDecoder(format: CompressedFormat, stream: Transform): Decompressor {
  const consumed = (): number => (stream as unknown as { bytesWritten: number }).bytesWritten ?? 0;
  return {
    format,
    stream,
    consumed,
    toArchiveError(err, totalIn) {
      const e = err as NodeJS.ErrnoException;
      const msg = String(e?.message ?? err);
      const at = consumed();
      if (/unexpected end of file/i.test(msg) || e?.code === 'Z_BUF_ERROR') {
        return new ArchiveError('E_ARCHIVE_TRUNCATED', `The ${format} stream ends early, at byte ${totalIn}: the download is incomplete.`, {
          cause: err,
          details: { offset: totalIn, format },
        });
      }
      if (format === 'gzip' && /incorrect data check/i.test(msg)) {
        return corrupt(format, `gzip CRC-32 mismatch in the member ending near byte ${at}: the data is corrupt`, at, err);
      }
      if (format === 'gzip' && /incorrect length check/i.test(msg)) {
        return corrupt(format, `gzip length (ISIZE) mismatch in the member ending near byte ${at}: the data is corrupt`, at, err);
      }
      const isHeaderError = format === 'gzip' ? GZIP_HEADER_ERRORS.test(msg) : ZSTD_FRAME_ERRORS.test(msg);
      if (isHeaderError && at > 0) {
        return new ArchiveError('E_TRAILING_GARBAGE', `Unexpected data after the end of the ${format} stream, at byte ${at} (${msg}).`, {
          cause: err,
          details: { offset: at, format },
        });
      }
      return corrupt(format, `The ${format} data is corrupt near byte ${at} (${msg})`, at, err);
    },
    checkEnd(totalIn) {
      const at = consumed();
      if (at < totalIn) {
        throw new ArchiveError('E_TRAILING_GARBAGE', `${totalIn - at} unexpected bytes follow the end of the ${format} stream, from byte ${at}.`, {
          details: { offset: at, format, trailingBytes: totalIn - at },
        });
      }
    },
  };
}

function corrupt(format: CompressedFormat, message: string, offset: number, cause: unknown): ArchiveError {
  return new ArchiveError('E_ARCHIVE_CORRUPT', message + '.', { cause, details: { offset, format } });
}
