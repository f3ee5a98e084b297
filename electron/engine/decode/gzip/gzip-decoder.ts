// gzip behind the decoder seam: the checkpointing gunzip (native inflater stepped block by block, or the
// portable one), its checkpoints handed out as decoder points whose state is the gzip checkpoint itself.
import { ArchiveError } from '../../errors';
import type { DecodedItem, DecoderFactory, ResumableDecoder } from '../resumable-decoder';
import { CheckpointingGunzip, isCheckpoint, type GzipCheckpoint } from './checkpointing-gunzip';

/** Output buffers of 1 MiB: fewer thread-pool round trips and bigger file writes than zlib's 16 KiB default. */
const CHUNK_SIZE = 1024 * 1024;

export class GzipDecoder implements ResumableDecoder {
  readonly format = 'gzip';
  readonly granularity = 'block' as const;
  /** ISIZE is the size modulo 2^32 of the last member only: not a declaration to rely on. */
  readonly declaredContentSize = null;
  private readonly decoder: CheckpointingGunzip;

  constructor(resumeFrom?: GzipCheckpoint) {
    this.decoder = new CheckpointingGunzip({ engine: 'auto', outputChunkBytes: CHUNK_SIZE, ...(resumeFrom ? { resumeFrom } : {}) });
  }

  get position(): number {
    return this.decoder.compressedPosition;
  }

  requestCheckpoint(): void {
    this.decoder.requestCheckpoint();
  }

  push(input: Buffer): DecodedItem[] {
    return this.decoder.push(input).map(toItem);
  }

  /**
   * End of input: the rest of the output, or a coded error (truncated, corrupt, trailing garbage).
   * Zero bytes after the last member are refused like any trailing data, as Node's gunzip does.
   */
  finish(): DecodedItem[] {
    const rest = this.decoder.finish().map(toItem);
    const zeros = this.decoder.stats.trailingZeroBytes;
    if (zeros > 0) {
      const at = this.decoder.compressedPosition - zeros;
      throw new ArchiveError('E_TRAILING_GARBAGE', `${zeros} unexpected bytes follow the end of the gzip stream, from byte ${at}.`, {
        details: { offset: at, format: 'gzip', trailingBytes: zeros },
      });
    }
    return rest;
  }

  close(): void {
    this.decoder.close();
  }
}

function toItem(chunk: Buffer | GzipCheckpoint): DecodedItem {
  if (!isCheckpoint(chunk)) return chunk;
  return { kind: 'decoder-point', compressedOffset: chunk.compressedOffset, uncompressedOffset: chunk.uncompressedOffset, state: chunk };
}

export const gzipDecoderFactory: DecoderFactory = {
  format: 'gzip',
  create(resume) {
    if (!resume) return new GzipDecoder();
    const cp = resume.state as GzipCheckpoint;
    if (!cp || typeof cp !== 'object' || cp.compressedOffset !== resume.compressedOffset || cp.uncompressedOffset !== resume.uncompressedOffset) {
      throw new ArchiveError('E_ARCHIVE_CORRUPT', "Unusable gzip checkpoint: its offsets are not the point's", { details: { offset: resume.compressedOffset } });
    }
    return new GzipDecoder(cp);
  },
};
