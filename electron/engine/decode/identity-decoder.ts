// Plain tar: nothing to decode. The output is the input, and every byte boundary is a point (the offset
// is the state), so a checkpoint asked for between inputs is taken at once.
import { ArchiveError } from '../errors';
import type { DecodedItem, DecoderFactory, DecoderPoint, ResumableDecoder } from './resumable-decoder';

export class IdentityDecoder implements ResumableDecoder {
  readonly format = 'tar';
  readonly granularity = 'any-byte' as const;
  readonly declaredContentSize = null;
  private pos: number;
  private requested = false;

  constructor(start = 0) {
    this.pos = start;
  }

  get position(): number {
    return this.pos;
  }

  requestCheckpoint(): void {
    this.requested = true;
  }

  pointHere(): DecoderPoint {
    this.requested = false;
    return { kind: 'decoder-point', compressedOffset: this.pos, uncompressedOffset: this.pos, state: null };
  }

  push(input: Buffer): DecodedItem[] {
    this.pos += input.length;
    return this.requested ? [input, this.pointHere()] : [input];
  }

  finish(): DecodedItem[] {
    return [];
  }

  close(): void {}
}

export const identityDecoderFactory: DecoderFactory = {
  format: 'tar',
  create(resume) {
    if (resume && resume.compressedOffset !== resume.uncompressedOffset) {
      throw new ArchiveError('E_ARCHIVE_CORRUPT', 'Unusable plain tar checkpoint: its two offsets differ', { details: { offset: resume.compressedOffset } });
    }
    return new IdentityDecoder(resume?.compressedOffset ?? 0);
  },
};
