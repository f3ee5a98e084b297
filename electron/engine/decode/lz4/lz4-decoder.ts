// The lz4 decoder of a resumable extraction: frames (independent or linked blocks, block and content
// checksums, content size), legacy frames and skippable frames, back to back. Every block boundary is a
// point where the whole state can be written down: the frame's facts, the running content checksum and,
// with linked blocks, the last 64 KiB of output. A block's checksum is verified before it is decoded, so
// output that fails it is never emitted.
// Blocks are decoded into an OutputArena (arena.ts), after the history they may reach into.
// One state machine (frame header, block header, block, checksum, skippable, legacy) over one input buffer:
// its ~430 lines stay in one file because every state shares the position, the frame and the checkpoint.
import { ArchiveError, type ErrorCode } from '../../errors';
import type { DecodedItem, DecoderFactory, DecoderPoint, ResumableDecoder } from '../resumable-decoder';
import { OutputArena } from './arena';
import { BlockError, decodeBlock } from './block';
import {
  LEGACY_COMPRESSED_BOUND,
  LZ4_LEGACY_MAGIC,
  LZ4_MAGIC,
  LZ4_STATE_VERSION,
  descriptorLength,
  isSkippableMagic,
  legacyFrame,
  lz4StateProblem,
  parseDescriptor,
  type Lz4Frame,
  type Lz4State,
} from './frame';
import { XxHash32, xxhash32 } from './xxhash32';

type Phase = 'magic' | 'skip-size' | 'skip' | 'descriptor' | 'block-size' | 'block-data' | 'content-checksum' | 'legacy-size' | 'garbage';

function u32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

export class Lz4Decoder implements ResumableDecoder {
  readonly format = 'lz4';
  readonly granularity = 'block' as const;

  private phase: Phase = 'magic';
  /** File offset of the next input byte. */
  private pos = 0;
  /** Output bytes of the whole stream. */
  private total = 0;
  private framesDone = 0;

  /** Small fields (magic, sizes, descriptor, checksums) gathered across inputs. */
  private readonly small = new Uint8Array(32);
  private smallLen = 0;
  private smallNeed = 4;
  private smallStart = 0;
  private skipLeft = 0;

  private frame: Lz4Frame | null = null;
  private frameOutput = 0;
  private hash: XxHash32 | null = null;

  /** The current block: where its size field is, its compressed size, whether stored, its data gathered so far. */
  private blockStart = 0;
  private blockSize = 0;
  private blockStored = false;
  private blockNeed = 0;
  private blockBuf: Buffer | null = null;
  private blockLen = 0;

  private readonly arena = new OutputArena();

  private requested = false;
  private deferred: ArchiveError | null = null;
  private failed: unknown = undefined;
  private ended = false;

  constructor(resume?: { compressedOffset: number; uncompressedOffset: number; state: unknown }) {
    if (resume) this.restore(resume.compressedOffset, resume.uncompressedOffset, resume.state as Lz4State);
  }

  get position(): number {
    return this.pos;
  }

  /** The content size the current frame declares (the last frame's, between frames), or null. */
  get declaredContentSize(): number | null {
    return this.frame?.contentSize ?? this.lastContentSize;
  }

  private lastContentSize: number | null = null;

  requestCheckpoint(): void {
    this.requested = true;
  }

  push(input: Buffer): DecodedItem[] {
    this.assertUsable();
    const result: DecodedItem[] = [];
    try {
      this.consume(input, result);
      this.arena.flush(result);
    } catch (err) {
      this.failed = err;
      throw err;
    }
    return result;
  }

  finish(): DecodedItem[] {
    this.assertUsable();
    this.ended = true;
    if (this.deferred) throw this.deferred;
    const result: DecodedItem[] = [];
    if (this.phase === 'legacy-size' && this.smallLen === 0) {
      // A legacy frame has no end mark: it ends with the input.
      this.endFrame();
    }
    if (this.phase === 'magic' && this.framesDone > 0) {
      if (this.smallLen === 0) {
        this.arena.flush(result);
        return result;
      }
      throw this.error('E_TRAILING_GARBAGE', `${this.smallLen} unexpected bytes follow the end of the lz4 stream`, this.smallStart, { trailingBytes: this.smallLen });
    }
    const where =
      this.phase === 'block-data'
        ? `inside the block at byte ${this.blockStart}`
        : this.phase === 'magic'
          ? 'before the first lz4 frame'
          : this.phase === 'skip' || this.phase === 'skip-size'
            ? 'inside a skippable frame'
            : this.phase === 'content-checksum'
              ? 'inside the content checksum'
              : this.phase === 'descriptor'
                ? 'inside a frame descriptor'
                : 'inside a block size field';
    const e = this.error('E_ARCHIVE_TRUNCATED', `The lz4 stream ends early, ${where}: the download is incomplete`, this.pos, {
      ...(this.frame ? { frameStart: this.frame.start } : {}),
    });
    this.failed = e;
    throw e;
  }

  close(): void {
    this.ended = true;
    this.arena.release();
    this.blockBuf = null;
  }

  // ---- input ---------------------------------------------------------------------------------

  private consume(input: Uint8Array, result: DecodedItem[]): void {
    let i = 0;
    const n = input.length;
    if (this.requested) this.maybePoint(result);
    while (i < n) {
      switch (this.phase) {
        case 'block-data':
          i = this.blockData(input, i, result);
          break;
        case 'skip': {
          const k = Math.min(this.skipLeft, n - i);
          this.skipLeft -= k;
          this.pos += k;
          i += k;
          if (this.skipLeft === 0) this.expect('magic', 4);
          break;
        }
        case 'garbage':
          this.pos += n - i;
          i = n;
          break;
        default: {
          const k = Math.min(this.smallNeed - this.smallLen, n - i);
          if (this.smallLen === 0) this.smallStart = this.pos;
          this.small.set(input.subarray(i, i + k), this.smallLen);
          this.smallLen += k;
          this.pos += k;
          i += k;
          if (this.smallLen === this.smallNeed) this.field();
        }
      }
      if (this.requested) this.maybePoint(result);
    }
  }

  private expect(phase: Phase, bytes: number): void {
    this.phase = phase;
    this.smallLen = 0;
    this.smallNeed = bytes;
  }

  /** A small field is complete: act on it. */
  private field(): void {
    const s = this.small;
    switch (this.phase) {
      case 'magic':
        this.magic(u32(s, 0));
        break;
      case 'skip-size':
        this.skipLeft = u32(s, 0);
        if (this.skipLeft === 0) this.expect('magic', 4);
        else this.phase = 'skip';
        break;
      case 'descriptor':
        if (this.smallNeed === 2) {
          // FLG says how long the rest is.
          this.smallNeed = descriptorLength(s[0]!);
          return;
        }
        this.startFrame(parseDescriptor(s.subarray(0, this.smallLen), this.smallStart - 4));
        break;
      case 'block-size':
        this.blockSizeField(u32(s, 0));
        break;
      case 'legacy-size':
        this.legacySizeField(u32(s, 0));
        break;
      case 'content-checksum': {
        const expected = u32(s, 0);
        const actual = this.hash!.digest();
        if (expected !== actual) {
          throw this.error('E_ARCHIVE_CORRUPT', `The lz4 content checksum of the frame at byte ${this.frame!.start} does not match: the data is corrupt`, this.smallStart, {
            frameStart: this.frame!.start,
            expected,
            actual,
          });
        }
        this.endFrame();
        break;
      }
      default:
        throw new Error(`lz4: no field in phase ${this.phase}`);
    }
  }

  private magic(m: number): void {
    const at = this.smallStart;
    if (m === LZ4_MAGIC) {
      this.expect('descriptor', 2);
    } else if (m === LZ4_LEGACY_MAGIC) {
      this.startFrame(legacyFrame(at));
    } else if (isSkippableMagic(m)) {
      this.expect('skip-size', 4);
    } else if (this.framesDone === 0) {
      throw this.error('E_NOT_AN_ARCHIVE', `No lz4 frame at byte ${at} (magic ${m.toString(16).padStart(8, '0')})`, at);
    } else {
      // Complete frames came before: their output stands; the garbage is reported at the end.
      this.deferred = this.error('E_TRAILING_GARBAGE', `Unexpected data after the end of the lz4 stream, from byte ${at}`, at, { outputComplete: true });
      this.phase = 'garbage'; // the rest of the input is swallowed there
    }
  }

  private startFrame(frame: Lz4Frame): void {
    this.frame = frame;
    this.frameOutput = 0;
    this.hash = frame.contentChecksum ? new XxHash32() : null;
    // A frame never reaches into the previous one's output.
    this.arena.startFrame();
    this.expect(frame.legacy ? 'legacy-size' : 'block-size', 4);
  }

  private endFrame(): void {
    this.framesDone++;
    this.lastContentSize = this.frame!.contentSize;
    this.frame = null;
    this.hash = null;
    this.expect('magic', 4);
  }

  private blockSizeField(v: number): void {
    const frame = this.frame!;
    this.blockStart = this.smallStart;
    if (v === 0) {
      if (frame.contentSize !== null && this.frameOutput !== frame.contentSize) {
        throw this.error('E_ARCHIVE_CORRUPT', `The lz4 frame at byte ${frame.start} holds ${this.frameOutput} bytes, not the ${frame.contentSize} it declares`, this.blockStart, {
          frameStart: frame.start,
          expected: frame.contentSize,
          actual: this.frameOutput,
        });
      }
      if (frame.contentChecksum) this.expect('content-checksum', 4);
      else this.endFrame();
      return;
    }
    const size = v & 0x7fffffff;
    if (size > frame.blockMax) {
      throw this.error('E_ARCHIVE_CORRUPT', `lz4 block at byte ${this.blockStart} claims ${size} bytes, more than the frame's ${frame.blockMax}`, this.blockStart);
    }
    this.startBlock(size, v >>> 31 === 1, frame.blockChecksum ? 4 : 0);
  }

  private legacySizeField(v: number): void {
    if (v > LEGACY_COMPRESSED_BOUND) {
      // No end mark in the legacy format: a value no block can have is the next frame's magic.
      this.endFrame();
      this.smallStart = this.pos - 4;
      this.magic(v);
      return;
    }
    this.blockStart = this.smallStart;
    if (v === 0) throw this.error('E_ARCHIVE_CORRUPT', `Empty lz4 legacy block at byte ${this.blockStart}`, this.blockStart);
    this.startBlock(v, false, 0);
  }

  private startBlock(size: number, stored: boolean, checksumBytes: number): void {
    this.blockSize = size;
    this.blockStored = stored;
    this.blockNeed = size + checksumBytes;
    this.blockLen = 0;
    this.phase = 'block-data';
  }

  private blockData(input: Uint8Array, i: number, result: DecodedItem[]): number {
    const available = input.length - i;
    if (this.blockLen === 0 && available >= this.blockNeed) {
      // The whole block is in this input: decode it in place.
      this.pos += this.blockNeed;
      this.decodeCurrent(input, i, result);
      return i + this.blockNeed;
    }
    if (!this.blockBuf || this.blockBuf.length < this.blockNeed) this.blockBuf = Buffer.allocUnsafeSlow(Math.max(this.blockNeed, this.frame!.blockMax + 4));
    const k = Math.min(this.blockNeed - this.blockLen, available);
    this.blockBuf.set(input.subarray(i, i + k), this.blockLen);
    this.blockLen += k;
    this.pos += k;
    if (this.blockLen === this.blockNeed) this.decodeCurrent(this.blockBuf, 0, result);
    return i + k;
  }

  /** The block's bytes (and checksum) are src[s, s + blockNeed): verify, decode, hand out. */
  private decodeCurrent(src: Uint8Array, s: number, result: DecodedItem[]): void {
    const frame = this.frame!;
    const size = this.blockSize;
    const dataAt = this.blockStart + 4;
    if (frame.blockChecksum) {
      const expected = u32(src, s + size);
      const actual = xxhash32(src, 0, s, s + size);
      if (expected !== actual) {
        throw this.error('E_ARCHIVE_CORRUPT', `The checksum of the lz4 block at byte ${this.blockStart} does not match: the data is corrupt`, this.blockStart, {
          frameStart: frame.start,
          expected,
          actual,
        });
      }
    }
    this.arena.ensure(this.blockStored ? size : frame.blockMax, !frame.independent, result);
    const arena = this.arena.buf!;
    const at = this.arena.pos;
    let produced: number;
    if (this.blockStored) {
      arena.set(src.subarray(s, s + size), at);
      produced = size;
    } else {
      try {
        produced = decodeBlock(src, s, s + size, arena, at, frame.blockMax, frame.independent ? at : this.arena.historyStart);
      } catch (err) {
        if (!(err instanceof BlockError)) throw err;
        throw this.error('E_ARCHIVE_CORRUPT', `Corrupt lz4 block at byte ${this.blockStart}: ${err.message}`, dataAt + err.at, {
          blockStart: this.blockStart,
          frameStart: frame.start,
        });
      }
    }
    if (frame.contentSize !== null && this.frameOutput + produced > frame.contentSize) {
      throw this.error('E_ARCHIVE_CORRUPT', `The lz4 frame at byte ${frame.start} decodes to more than the ${frame.contentSize} bytes it declares`, this.blockStart, {
        frameStart: frame.start,
      });
    }
    this.hash?.update(arena, at, at + produced);
    this.arena.pos += produced;
    this.frameOutput += produced;
    this.total += produced;
    this.expect(frame.legacy ? 'legacy-size' : 'block-size', 4);
  }

  // ---- points --------------------------------------------------------------------------------

  /** Between inputs: the point here, when the last input ended on a block or frame boundary. */
  pointHere(): DecoderPoint | null {
    if (this.failed !== undefined || this.ended || this.deferred || !this.atPoint()) return null;
    this.requested = false;
    return this.point();
  }

  private maybePoint(result: DecodedItem[]): void {
    if (!this.atPoint()) return;
    this.arena.flush(result);
    this.requested = false;
    result.push(this.point());
  }

  private atPoint(): boolean {
    return this.smallLen === 0 && (this.phase === 'block-size' || this.phase === 'legacy-size' || this.phase === 'magic');
  }

  private point(): DecoderPoint {
    const frame = this.phase === 'magic' ? null : this.frame!;
    const state: Lz4State = {
      version: LZ4_STATE_VERSION,
      at: frame ? 'block' : 'frame-start',
      framesDone: this.framesDone,
      frame: frame ? { ...frame } : null,
      frameOutput: frame ? this.frameOutput : 0,
      hash: frame && this.hash ? this.hash.save() : null,
      dictionary: frame && !frame.independent ? this.arena.dictionary().toString('base64') : '',
    };
    return { kind: 'decoder-point', compressedOffset: this.pos, uncompressedOffset: this.total, state };
  }

  private restore(compressedOffset: number, uncompressedOffset: number, state: Lz4State): void {
    const problem = lz4StateProblem(state, compressedOffset);
    if (problem) throw new ArchiveError('E_ARCHIVE_CORRUPT', `Unusable lz4 checkpoint: ${problem}`, { details: { offset: compressedOffset, format: 'lz4' } });
    this.pos = compressedOffset;
    this.total = uncompressedOffset;
    this.framesDone = state.framesDone;
    if (state.at === 'frame-start') return;
    const frame = { ...state.frame! };
    this.frame = frame;
    this.frameOutput = state.frameOutput;
    this.hash = state.hash ? XxHash32.restore(state.hash) : null;
    this.arena.restore(Buffer.from(state.dictionary, 'base64'), frame.blockMax);
    this.expect(frame.legacy ? 'legacy-size' : 'block-size', 4);
  }

  // ---- errors --------------------------------------------------------------------------------

  private error(code: ErrorCode, message: string, offset: number, details: Record<string, unknown> = {}): ArchiveError {
    return new ArchiveError(code, `${message}.`, { details: { offset, format: 'lz4', ...details } });
  }

  private assertUsable(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.ended) throw new Error('Lz4Decoder: used after finish() or close()');
  }
}

export const lz4DecoderFactory: DecoderFactory = {
  format: 'lz4',
  create: (resume) => new Lz4Decoder(resume),
};
