// A zstd decoder (RFC 8878) whose whole state is ours, so it can stop at any block boundary inside a
// frame and be rebuilt from a checkpoint: window history, entropy tables, repeat offsets and checksum
// state are plain data. Frames back to back and skippable frames anywhere between them (pzstd's output)
// are one stream. Input is framed here: a block is decoded once all its bytes are in.
import { ArchiveError, EngineError } from '../../errors';
import type { DecodedItem, DecoderPoint, ResumableDecoder, ResumeGranularity } from '../resumable-decoder';
import { BlockState, type SavedBlockState } from './block-state';
import { ZstdFault } from './fault';
import { DEFAULT_MAX_WINDOW, HARD_MAX_WINDOW, ZSTD_MAGIC, frameHeaderSize, isSkippableMagic, parseFrameHeader, windowTooLarge, type FrameHeader } from './frame-header';

export interface ZstdDecoderOptions {
  /** Largest window a frame may ask for; default 128 MiB (`zstd --long=27`). The job's --zstd-max-window. */
  maxWindowBytes?: number;
}

type Phase = 'magic' | 'skip' | 'header' | 'block' | 'checksum' | 'garbage';

/** The saved form of a point; `frame` and `block` are present inside a frame. */
export interface ZstdPointState {
  v: 1;
  phase: 'magic' | 'block' | 'checksum';
  framesDone: number;
  declaredContentSize: number | null;
  frame: null | { header: FrameHeader; produced: number; startOffset: number };
  block: SavedBlockState | null;
}

const MAGIC_BYTES = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from([0x50, 0x2a, 0x4d, 0x18])];

export class ZstdDecoder implements ResumableDecoder {
  readonly format = 'zstd';
  readonly granularity: ResumeGranularity = 'block';
  private readonly maxWindow: number;
  private readonly bs = new BlockState();
  private phase: Phase = 'magic';
  /** Unparsed input; buf[0] is at file offset `base`, the next byte to parse at `at`. */
  private buf: Buffer = Buffer.alloc(0);
  private at = 0;
  private base: number;
  private totalIn: number;
  private outTotal: number;
  private framesDone = 0;
  private sawSkippable = false;
  private declared: number | null = null;
  private frame: { header: FrameHeader; produced: number; startOffset: number } | null = null;
  private skipLeft = 0;
  private wantPoint = false;
  /** Output offset of the last point handed out (a resumed decoder starts at its own). */
  private lastPointOut = -1;
  private deferred: unknown = null;
  private garbage: ArchiveError | null = null;
  private out: DecodedItem[] = [];
  private closed = false;

  constructor(options: ZstdDecoderOptions = {}, resume?: { compressedOffset: number; uncompressedOffset: number; state: unknown }) {
    this.maxWindow = options.maxWindowBytes ?? DEFAULT_MAX_WINDOW;
    this.base = resume?.compressedOffset ?? 0;
    this.totalIn = this.base;
    this.outTotal = resume?.uncompressedOffset ?? 0;
    this.lastPointOut = resume ? resume.uncompressedOffset : -1;
    if (resume) this.restore(resume.state as ZstdPointState);
  }

  get position(): number {
    return this.base + this.at;
  }

  get declaredContentSize(): number | null {
    return this.declared;
  }

  requestCheckpoint(): void {
    this.wantPoint = true;
  }

  /**
   * The point at the current position when the parser stands at a unit boundary (a frame start, a block
   * header or the checksum): always so between inputs, except inside a skippable frame or a frame header.
   * Bytes already fed past it are simply fed again after a resume. Consumes a pending request.
   */
  pointHere(): DecoderPoint | null {
    if (this.closed || this.deferred) return null;
    if (this.phase === 'skip' || this.phase === 'header' || this.phase === 'garbage') return null;
    // Nothing decoded since the last point: the same point again would not move the checkpoint on.
    if (this.outTotal <= this.lastPointOut) return null;
    this.flushOutput();
    if (this.out.length > 0) return null;
    this.wantPoint = false;
    return this.point();
  }

  push(input: Buffer): DecodedItem[] {
    this.check();
    this.totalIn += input.length;
    if (this.at < this.buf.length) {
      this.buf = Buffer.concat([this.buf.subarray(this.at), input]);
    } else {
      this.buf = input;
    }
    this.base += this.at;
    this.at = 0;
    this.run();
    return this.drain();
  }

  finish(): DecodedItem[] {
    this.check();
    if (this.garbage) throw this.garbage;
    const left = this.buf.length - this.at;
    if (this.phase === 'magic' && left === 0 && this.framesDone > 0) {
      this.flushOutput();
      return this.drain();
    }
    this.flushOutput();
    const items = this.drain();
    this.fail(this.endError(left));
    return items;
  }

  close(): void {
    this.closed = true;
    this.buf = Buffer.alloc(0);
  }

  private check(): void {
    if (this.closed) throw new Error('zstd decoder used after close()');
    if (this.deferred) throw this.deferred;
  }

  private drain(): DecodedItem[] {
    const items = this.out;
    this.out = [];
    if (this.deferred && items.length === 0) throw this.deferred;
    return items;
  }

  /** An error found mid-push: the output before it is handed out first, the error on the next call. */
  private fail(err: unknown): void {
    this.deferred = err;
    if (this.out.length === 0) throw err;
  }

  private run(): void {
    try {
      while (this.step()) {
        /* each step consumes one unit */
      }
    } catch (err) {
      this.flushOutput();
      this.fail(err instanceof ZstdFault ? this.corrupt(err.message, this.position, err) : err);
      return;
    }
    this.flushOutput();
  }

  private avail(): number {
    return this.buf.length - this.at;
  }

  private u32(p: number): number {
    const b = this.buf;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** Decodes one unit (magic, header, block, checksum, skipped bytes); false when more input is needed. */
  private step(): boolean {
    switch (this.phase) {
      case 'magic': {
        if (this.avail() < 4) return false;
        const m = this.u32(this.at);
        if (m === ZSTD_MAGIC) {
          this.at += 4;
          this.phase = 'header';
        } else if (isSkippableMagic(m)) {
          if (this.avail() < 8) return false;
          this.skipLeft = this.u32(this.at + 4);
          this.at += 8;
          this.sawSkippable = true;
          this.phase = 'skip';
        } else if (this.framesDone > 0) {
          // The frames before stand: the rest of the input is swallowed and the garbage reported by finish().
          this.garbage = new ArchiveError(
            'E_TRAILING_GARBAGE',
            `The bytes after the last zstd frame, from byte ${this.position}, are not a zstd frame: the file has trailing data.`,
            { details: { offset: this.position, format: 'zstd', outputComplete: true } },
          );
          this.phase = 'garbage';
        } else {
          throw this.corrupt('The data does not start with a zstd frame', this.position);
        }
        return true;
      }
      case 'skip': {
        const n = Math.min(this.skipLeft, this.avail());
        this.at += n;
        this.skipLeft -= n;
        if (this.skipLeft > 0) return false;
        this.phase = 'magic';
        this.boundary();
        return true;
      }
      case 'header': {
        if (this.avail() < 1) return false;
        const size = frameHeaderSize(this.buf[this.at]!);
        if (this.avail() < size) return false;
        const header = parseFrameHeader(this.buf, this.at, this.position - 4, this.maxWindow);
        if (this.framesDone === 0 && !this.sawSkippable) this.declared = header.contentSize;
        this.frame = { header, produced: 0, startOffset: this.position - 4 };
        this.bs.startFrame(header.windowSize, header.contentSize, header.checksum);
        this.at += size;
        this.phase = 'block';
        this.boundary();
        return true;
      }
      case 'block':
        return this.block();
      case 'garbage':
        this.at = this.buf.length;
        return false;
      case 'checksum': {
        if (this.avail() < 4) return false;
        const want = this.u32(this.at);
        const got = Number(this.bs.xxh!.digest() & 0xffffffffn);
        if (want !== got) {
          throw this.corrupt(`zstd content checksum mismatch for the frame at byte ${this.frame!.startOffset} (stored ${hex(want)}, computed ${hex(got)})`, this.position);
        }
        this.at += 4;
        this.endFrame();
        return true;
      }
    }
  }

  private block(): boolean {
    if (this.avail() < 3) return false;
    const b = this.buf;
    const p = this.at;
    const hdr = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
    const last = hdr & 1;
    const type = (hdr >>> 1) & 3;
    const size = hdr >>> 3;
    const frame = this.frame!;
    const blockMax = frame.header.blockMax;
    if (type === 3) throw this.corrupt('zstd block has the reserved type', this.position);
    if (size > blockMax) throw this.corrupt(`zstd block of ${size} bytes is over the frame's block limit of ${blockMax}`, this.position);
    const contentLen = type === 1 ? 1 : size;
    if (this.avail() < 3 + contentLen) return false;
    const blockOffset = this.position;
    const bs = this.bs;
    bs.win.reserve(() => this.flushOutput());
    let produced: number;
    try {
      if (type === 0) {
        bs.raw(b, p + 3, size);
        produced = size;
      } else if (type === 1) {
        bs.rle(b[p + 3]!, size);
        produced = size;
      } else {
        produced = bs.compressed(b, p + 3, p + 3 + size);
      }
    } catch (err) {
      if (err instanceof ZstdFault) throw this.corrupt(`${err.message} (zstd block at byte ${blockOffset})`, blockOffset, err);
      throw err;
    }
    frame.produced += produced;
    this.outTotal += produced;
    const cs = frame.header.contentSize;
    if (cs !== null && frame.produced > cs) throw this.corrupt(`zstd frame decodes to more than its declared ${cs} bytes`, blockOffset);
    this.at += 3 + contentLen;
    if (!last) {
      this.boundary();
    } else if (frame.header.checksum) {
      this.phase = 'checksum';
      this.boundary();
    } else {
      this.endFrame();
    }
    return true;
  }

  private endFrame(): void {
    const frame = this.frame!;
    const cs = frame.header.contentSize;
    if (cs !== null && frame.produced !== cs) {
      throw this.corrupt(`zstd frame at byte ${frame.startOffset} decodes to ${frame.produced} bytes, not its declared ${cs}`, this.position);
    }
    this.flushOutput();
    this.frame = null;
    this.framesDone++;
    this.phase = 'magic';
    this.boundary();
  }

  /** A place where the whole state can be written down; a requested point is emitted here. */
  private boundary(): void {
    if (!this.wantPoint) return;
    this.wantPoint = false;
    this.flushOutput();
    this.out.push(this.point());
  }

  private point(): DecoderPoint {
    this.lastPointOut = this.outTotal;
    return { kind: 'decoder-point', compressedOffset: this.position, uncompressedOffset: this.outTotal, state: this.save() };
  }

  private flushOutput(): void {
    const chunk = this.bs.win.take();
    if (chunk) this.out.push(chunk);
  }

  private save(): ZstdPointState {
    const inFrame = this.phase === 'block' || this.phase === 'checksum';
    return {
      v: 1,
      phase: this.phase as ZstdPointState['phase'],
      framesDone: this.framesDone,
      declaredContentSize: this.declared,
      frame: inFrame ? { ...this.frame!, header: { ...this.frame!.header } } : null,
      block: inFrame ? this.bs.save() : null,
    };
  }

  private restore(s: ZstdPointState): void {
    if (!s || s.v !== 1) throw new EngineError('E_INTERNAL', 'The saved zstd decoder state is not of a known version.');
    this.phase = s.phase;
    this.framesDone = s.framesDone;
    this.declared = s.declaredContentSize;
    this.sawSkippable = true;
    if (s.frame && s.block) {
      const h = s.frame.header;
      // The limit may have been lowered since the checkpoint: the frame is refused as it would be from its start.
      const limit = Math.min(this.maxWindow, HARD_MAX_WINDOW);
      if (h.windowSize > limit) throw windowTooLarge(h.windowSize, limit, s.frame.startOffset);
      this.frame = { header: { ...h }, produced: s.frame.produced, startOffset: s.frame.startOffset };
      this.bs.startFrame(h.windowSize, h.contentSize, h.checksum);
      this.bs.restore(s.block);
    }
  }

  private endError(left: number): ArchiveError {
    const at = this.totalIn;
    if (this.phase === 'magic' && this.framesDone > 0) {
      const tail = this.buf.subarray(this.at);
      if (!MAGIC_BYTES.some((m) => m.subarray(0, tail.length).equals(tail))) {
        return new ArchiveError('E_TRAILING_GARBAGE', `${left} bytes after the last zstd frame at byte ${this.position} are not a zstd frame.`, {
          details: { offset: this.position, format: 'zstd' },
        });
      }
    }
    const what = this.frame ? `inside the zstd frame that starts at byte ${this.frame.startOffset}` : 'before a complete zstd frame';
    return new ArchiveError('E_ARCHIVE_TRUNCATED', `The zstd stream ends early, at byte ${at}, ${what}: the download is incomplete.`, {
      details: { offset: at, format: 'zstd' },
    });
  }

  private corrupt(message: string, offset: number, cause?: unknown): ArchiveError {
    return new ArchiveError('E_ARCHIVE_CORRUPT', `${message}: the data is corrupt.`, {
      ...(cause ? { cause } : {}),
      details: { offset, format: 'zstd' },
    });
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
