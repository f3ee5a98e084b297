// The streaming decompression stage: compressed bytes in, tar bytes out, with decoder failures turned into
// coded ArchiveErrors. Used when checkpoints are off: Node's own gunzip is the fastest gzip decoder; lz4
// and zstd are our resumable decoders behind a stream. Resumable decoding goes through decode/registry.ts.
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { ArchiveError } from '../errors';
import { resumableDecoder } from './registry';
import type { DecoderOptions } from './resumable-decoder';
import { streamDecoder } from './stream-adapter';
import type { ExtractFormat } from '../extract/extract-types';

export type CompressedFormat = Exclude<ExtractFormat, 'tar'>;

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

export type DecompressorFactory = (format: CompressedFormat, options?: DecoderOptions) => Decompressor;

/** Output buffers of 1 MiB: fewer thread-pool round trips and bigger file writes than zlib's 16 KiB default. */
const CHUNK_SIZE = 1024 * 1024;

export const createDecompressor: DecompressorFactory = (format, options = {}) => {
  if (format === 'gzip') return nodeDecoder('gzip', zlib.createGunzip({ chunkSize: CHUNK_SIZE }));
  // lz4 has no native decoder. Node 22's zstd stream ends at the first frame's end (pzstd's output, which
  // starts with a skippable frame, came out empty; frames back to back stopped after the first): ours,
  // behind a stream, for zstd too.
  return resumableStream(format, options);
};

// Raised while reading a member (frame) header. The first member's magic was checked by format detection,
// so a bad magic means bytes after a complete member; the other header faults count as trailing garbage
// only once a member is known to have ended.
const BAD_MAGIC: Record<string, RegExp> = { gzip: /incorrect header check/i };
const OTHER_HEADER_ERRORS = /unknown compression method|unknown header flags|header crc mismatch/i;

function nodeDecoder(format: CompressedFormat, stream: Transform): Decompressor {
  // zlib advances bytesWritten each time an output buffer fills, so inside one written chunk it lags:
  // offsets from it are lower bounds, exact to within one output buffer of input.
  const consumed = (): number => (stream as unknown as { bytesWritten: number }).bytesWritten ?? 0;
  let produced = 0;
  stream.on('data', (d: Buffer) => {
    produced += d.length;
  });
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
      if (BAD_MAGIC[format]?.test(msg) || (OTHER_HEADER_ERRORS.test(msg) && (at > 0 || produced > 0))) {
        // A member (frame) ended well, and what follows is not another one.
        return new ArchiveError('E_TRAILING_GARBAGE', `Unexpected data after the end of the ${format} stream, after byte ${at} (${msg}).`, {
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

/** A format Node cannot stream: our resumable decoder as a stream (its errors are already coded). */
function resumableStream(format: CompressedFormat, options: DecoderOptions): Decompressor {
  const factory = resumableDecoder(format, options);
  if (!factory) throw new ArchiveError('E_FORMAT_UNSUPPORTED', `No ${format} decoder in this build.`, { details: { offset: 0, format } });
  const d = streamDecoder(factory);
  return {
    format,
    stream: d.stream,
    consumed: d.consumed,
    toArchiveError: (err) =>
      err instanceof ArchiveError ? err : corrupt(format, `The ${format} data is corrupt near byte ${d.consumed()} (${String((err as Error)?.message ?? err)})`, d.consumed(), err),
    checkEnd() {
      const late = d.trailingError();
      if (late) throw late;
    },
  };
}
