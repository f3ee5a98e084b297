// A gzip decoder (single- and multi-member) that can stop at a deflate block boundary and describe its
// whole state as a small JSON checkpoint, and that can be rebuilt from such a checkpoint to continue the
// output byte-for-byte. This is what lets an extraction resume mid-archive after the process dies.
//
// Feeding is synchronous (push/finish return what was decoded) so the caller owns backpressure.
// Checkpoints come out in the output sequence itself, between buffers, so each one is tied to an exact
// uncompressed offset: everything before the marker was produced before that point.
// One state machine (member header, deflate blocks, trailer, next member) around the inflater, ~680 lines in
// one file: its checkpoint is the state of every step at once, and splitting the steps would scatter it.
import { ArchiveError, type ErrorCode } from '../../errors';
import { matchingBitPositions, type BitPosition } from './bit-position';
import { crc32 } from './crc32';
import { parseGzipHeader } from './header';
import { nativeInflaterFactory, probeNativeInflater } from './native-inflater';
import { portableInflaterFactory } from './portable-inflater';
import { primeBytes } from './prime';
import { Z_BLOCK, Z_NO_FLUSH, type InflaterEngine, type InflaterFactory, type RawInflater } from './raw-inflater';

export const GZIP_CHECKPOINT_VERSION = 1;
const WINDOW_BYTES = 32 * 1024;

/**
 * Where decoding can restart. To resume, build a decoder with `resumeFrom` and feed the file's bytes
 * starting with the byte at `compressedOffset` (inclusive). Decoding restarts at bit `bitOffset` of that
 * byte (bits counted least significant first, as deflate does; 0 = the whole byte); the first output
 * byte is the stream's byte number `uncompressedOffset`.
 */
export interface GzipCheckpoint {
  version: typeof GZIP_CHECKPOINT_VERSION;
  /** 0-based index of the gzip member this point lies in. */
  memberIndex: number;
  /** File offset of that member's header. */
  memberStart: number;
  compressedOffset: number;
  bitOffset: number;
  /** Output bytes of the whole stream before this point. */
  uncompressedOffset: number;
  /** The member's last <= 32 KiB of output before this point, base64 (empty at a member start). */
  dictionary: string;
  /** CRC-32 and byte count of the member's output before this point, to verify its trailer. */
  crc: number;
  memberSize: number;
}

export type GunzipChunk = Buffer | GzipCheckpoint;

export function isCheckpoint(chunk: GunzipChunk): chunk is GzipCheckpoint {
  return !Buffer.isBuffer(chunk);
}

export interface CheckpointingGunzipOptions {
  resumeFrom?: GzipCheckpoint;
  /**
   * `auto` (default): Node's native inflater when it can be stepped block by block on this runtime,
   * else the portable one. Both write the same checkpoints.
   */
  engine?: 'auto' | InflaterEngine;
  /** Size of the buffers output is decoded into (default 1 MiB). */
  outputChunkBytes?: number;
}

export interface CheckpointingGunzipStats {
  engine: InflaterEngine;
  membersCompleted: number;
  checkpoints: number;
  /** Bit-position searches (native engine) and how many were inconclusive (retried at the next block). */
  bitSearches: number;
  bitSearchesInconclusive: number;
  /** Searches where several positions matched the next block, so more blocks were compared. */
  bitSearchExtensions: number;
  bitSearchMs: number;
  /** Zero bytes after the last member: ignored, as GNU gzip does. */
  trailingZeroBytes: number;
}

type Phase = 'header' | 'prime' | 'deflate' | 'trailer' | 'between-members' | 'trailing-zeros';

/** A boundary whose bit position is being determined: output after it is held until then. */
interface PendingBoundary {
  consumedAtBoundary: number;
  dictionary: Buffer;
  crc: number;
  memberSize: number;
  uncompressedOffset: number;
  compressed: Buffer[];
  compressedStart: number;
  compressedBytes: number;
  /** The last compressed piece is a view of the caller's current input: copy it before push returns. */
  borrowedTail: boolean;
  held: Buffer[];
  heldBytes: number;
  /** Positions that matched so far, when the first block after the boundary left several. */
  candidates: BitPosition[] | undefined;
  extensions: number;
}

/** Limits on what a pending boundary may hold before it is given up for a later one. */
const MAX_PENDING_COMPRESSED = 16 * 1024 * 1024;
const MAX_PENDING_OUTPUT = 64 * 1024 * 1024;
/**
 * When several positions reproduce the next block, the evidence is extended by this many more blocks.
 * Positions that still all match then decode identically: past a stored block they have all skipped to
 * the same byte, and one whose final-block flag differs would have ended the stream.
 */
const MAX_EXTENSIONS = 2;
/**
 * Input given to one inflate call. zlib does not say where in a call's input it found corrupt data, so
 * this bounds how far before the damage the reported offset can be.
 */
const MAX_INPUT_PER_CALL = 64 * 1024;
/** After this many inconclusive searches in one member, wait for the next member start instead. */
const MAX_INCONCLUSIVE_PER_MEMBER = 16;

export class CheckpointingGunzip {
  readonly stats: CheckpointingGunzipStats;
  private readonly factory: InflaterFactory;
  private readonly outputChunkBytes: number;

  private phase: Phase = 'header';
  /** File offset of the next input byte. */
  private pos = 0;
  /** File byte just before `pos` (the boundary byte of a block that ends in it). */
  private previousByte = -1;

  private memberIndex = 0;
  private memberStart = 0;
  private crc = 0;
  private memberSize = 0;
  private total = 0;
  private resumedMemberStart: number | undefined;

  private header: Buffer[] = [];
  private headerBytes = 0;
  private trailer = Buffer.alloc(8);
  private trailerBytes = 0;

  private inflater: RawInflater | undefined;
  private primeByteOffset = 0;
  private out: Buffer;
  private outOffset = 0;
  /** Recent output of the current member, at least the last 32 KiB of it. */
  private window: Buffer[] = [];
  private windowBytes = 0;

  private checkpointRequested = false;
  private pending: PendingBoundary | undefined;
  private inconclusiveInMember = 0;
  private deferredError: ArchiveError | undefined;
  private failed: unknown;
  private finished = false;

  constructor(options: CheckpointingGunzipOptions = {}) {
    this.factory = chooseFactory(options.engine ?? 'auto');
    this.outputChunkBytes = Math.max(64 * 1024, options.outputChunkBytes ?? 1024 * 1024);
    this.out = Buffer.allocUnsafeSlow(this.outputChunkBytes);
    this.stats = {
      engine: this.factory.engine,
      membersCompleted: 0,
      checkpoints: 0,
      bitSearches: 0,
      bitSearchesInconclusive: 0,
      bitSearchExtensions: 0,
      bitSearchMs: 0,
      trailingZeroBytes: 0,
    };
    if (options.resumeFrom) this.restore(options.resumeFrom);
  }

  /** Asks for a checkpoint at the next member start or deflate block boundary, whichever comes first. */
  requestCheckpoint(): void {
    this.checkpointRequested = true;
  }

  /** File offset of the next byte this decoder expects. */
  get compressedPosition(): number {
    return this.pos;
  }

  /** Output bytes of the whole stream produced so far (including those held back for a checkpoint). */
  get uncompressedPosition(): number {
    return this.total;
  }

  /**
   * Decodes `input` (the next bytes of the file). Returns output buffers, with checkpoints between them
   * where requested. The input buffer may be reused by the caller once this returns; returned buffers
   * are never written again by this decoder.
   */
  push(input: Uint8Array): GunzipChunk[] {
    this.assertUsable();
    const result: GunzipChunk[] = [];
    try {
      this.consume(Buffer.from(input.buffer, input.byteOffset, input.byteLength), result);
    } catch (err) {
      this.fail(err);
    }
    return result;
  }

  /** End of input: throws E_ARCHIVE_TRUNCATED unless the last member (and its trailer) is complete. */
  finish(): GunzipChunk[] {
    this.assertUsable();
    this.finished = true;
    this.closeInflater();
    if (this.deferredError) throw this.deferredError;
    const complete = this.phase === 'between-members' || this.phase === 'trailing-zeros';
    if (!complete) {
      const where =
        this.phase === 'header'
          ? this.memberIndex === 0 && this.headerBytes === 0 && this.resumedMemberStart === undefined
            ? 'The input is empty'
            : 'The input ends inside a gzip header'
          : this.phase === 'trailer'
            ? 'The input ends inside a gzip trailer'
            : 'The input ends inside compressed data';
      const error = this.error('E_ARCHIVE_TRUNCATED', `${where} (gzip member ${this.memberIndex})`, this.pos);
      this.failed = error;
      throw error;
    }
    return [];
  }

  /** Frees the native inflater early (it is also freed by finish and on errors). */
  close(): void {
    this.closeInflater();
    this.finished = true;
  }

  // ---- input dispatch ------------------------------------------------------------------------

  private consume(input: Buffer, result: GunzipChunk[]): void {
    if (this.pending) this.retainForPending(input, result);
    let i = 0;
    while (i < input.length) {
      switch (this.phase) {
        case 'header':
          i = this.readHeader(input, i, result);
          break;
        case 'prime':
          i = this.prime(input, i, result);
          break;
        case 'deflate':
          i = this.inflate(input, i, result);
          break;
        case 'trailer':
          i = this.readTrailer(input, i);
          break;
        case 'between-members':
          if (input[i] === 0x1f) this.startMember();
          else if (input[i] === 0) this.phase = 'trailing-zeros';
          else i = this.garbage(input, i);
          break;
        case 'trailing-zeros': {
          const nonZero = firstNonZero(input, i);
          this.stats.trailingZeroBytes += nonZero - i;
          this.advance(input, i, nonZero);
          i = nonZero < input.length ? this.garbage(input, nonZero) : nonZero;
          break;
        }
      }
    }
    if (this.pending?.borrowedTail) {
      const p = this.pending;
      p.compressed[p.compressed.length - 1] = Buffer.from(p.compressed[p.compressed.length - 1]!);
      p.borrowedTail = false;
    }
  }

  private advance(input: Buffer, from: number, to: number): void {
    if (to > from) {
      this.pos += to - from;
      this.previousByte = input[to - 1]!;
    }
  }

  /** Non-gzip bytes after a complete member: the output is complete and verified, so report it after. */
  private garbage(input: Buffer, i: number): number {
    this.deferredError = this.error('E_TRAILING_GARBAGE', `Unexpected data after gzip member ${this.memberIndex - 1} (the output before it is complete and verified)`, this.pos, {
      outputComplete: true,
    });
    this.advance(input, i, input.length);
    return input.length;
  }

  // ---- header and trailer --------------------------------------------------------------------

  private startMember(): void {
    this.phase = 'header';
    this.memberStart = this.pos;
    this.header = [];
    this.headerBytes = 0;
  }

  private readHeader(input: Buffer, i: number, result: GunzipChunk[]): number {
    // Parse in place when the whole header is in this input, else accumulate (headers are small).
    let bytes: Buffer;
    if (this.headerBytes === 0) bytes = input.subarray(i);
    else bytes = Buffer.concat([...this.header, input.subarray(i)]);
    let info;
    try {
      info = parseGzipHeader(bytes, this.memberStart);
    } catch (err) {
      const error = this.reclassifyHeaderError(err);
      if (!(error instanceof ArchiveError) || error.code !== 'E_TRAILING_GARBAGE') throw error;
      this.deferredError = error;
      this.advance(input, i, input.length);
      return input.length;
    }
    if (!info) {
      this.header.push(Buffer.from(input.subarray(i)));
      this.headerBytes += input.length - i;
      this.advance(input, i, input.length);
      return input.length;
    }
    const used = info.length - this.headerBytes;
    this.advance(input, i, i + used);
    this.header = [];
    this.headerBytes = 0;
    this.crc = 0;
    this.memberSize = 0;
    this.window = [];
    this.windowBytes = 0;
    this.inconclusiveInMember = 0;
    if (this.checkpointRequested) this.emitCheckpoint(result, this.memberStartCheckpoint());
    this.inflater = this.factory.create();
    this.phase = 'deflate';
    return i + used;
  }

  private reclassifyHeaderError(err: unknown): unknown {
    if (!(err instanceof ArchiveError) || err.code !== 'E_NOT_AN_ARCHIVE') return err;
    if (this.resumedMemberStart === this.memberStart && this.memberStart > 0) {
      return new ArchiveError('E_ARCHIVE_CORRUPT', "No gzip member at the checkpoint's member start", { details: err.details, cause: err });
    }
    if (this.memberIndex > 0 || this.memberStart > 0) {
      return new ArchiveError('E_TRAILING_GARBAGE', `Unexpected data after gzip member ${this.memberIndex - 1}`, {
        details: { ...err.details, offset: this.memberStart, outputComplete: true },
        cause: err,
      });
    }
    return err;
  }

  private readTrailer(input: Buffer, i: number): number {
    const n = Math.min(8 - this.trailerBytes, input.length - i);
    input.copy(this.trailer, this.trailerBytes, i, i + n);
    this.trailerBytes += n;
    this.advance(input, i, i + n);
    if (this.trailerBytes < 8) return i + n;
    const trailerStart = this.pos - 8;
    const expectedCrc = this.trailer.readUInt32LE(0);
    const expectedSize = this.trailer.readUInt32LE(4);
    if (expectedCrc !== this.crc >>> 0) {
      throw this.error('E_ARCHIVE_CORRUPT', `CRC-32 mismatch in gzip member ${this.memberIndex}`, trailerStart, {
        expected: expectedCrc,
        actual: this.crc >>> 0,
      });
    }
    if (expectedSize !== this.memberSize % 2 ** 32) {
      throw this.error('E_ARCHIVE_CORRUPT', `Size mismatch (ISIZE) in gzip member ${this.memberIndex}`, trailerStart + 4, {
        expected: expectedSize,
        actual: this.memberSize % 2 ** 32,
      });
    }
    this.stats.membersCompleted++;
    this.memberIndex++;
    this.phase = 'between-members';
    return i + n;
  }

  // ---- deflate data --------------------------------------------------------------------------

  /** Resuming mid-block: the checkpoint's byte is replaced by empty blocks plus its unused bits. */
  private prime(input: Buffer, i: number, result: GunzipChunk[]): number {
    const inflater = this.inflater!;
    const prime = primeBytes(this.primeByteOffset, input[i]!);
    let off = 0;
    while (off < prime.length) {
      this.ensureOutputRoom();
      const stop = inflater.write(Z_NO_FLUSH, prime, off, prime.length - off, this.out, this.outOffset, this.out.length - this.outOffset);
      off += inflater.consumed;
      this.takeOutput(inflater.produced, result);
      if (stop === 'end') throw this.error('E_ARCHIVE_CORRUPT', 'Deflate stream ends at the checkpoint', this.pos);
    }
    this.advance(input, i, i + 1);
    this.phase = 'deflate';
    return i + 1;
  }

  private inflate(input: Buffer, i: number, result: GunzipChunk[]): number {
    const inflater = this.inflater!;
    while (i < input.length) {
      this.ensureOutputRoom();
      const flush = this.pending || (this.checkpointRequested && this.inconclusiveInMember < MAX_INCONCLUSIVE_PER_MEMBER) ? Z_BLOCK : Z_NO_FLUSH;
      const callStart = this.pos;
      let stop;
      try {
        const length = Math.min(input.length - i, MAX_INPUT_PER_CALL);
        stop = inflater.write(flush, input, i, length, this.out, this.outOffset, this.out.length - this.outOffset);
      } catch (err) {
        throw this.error('E_ARCHIVE_CORRUPT', `Corrupt deflate data in gzip member ${this.memberIndex}: ${(err as Error).message}`, callStart, {
          // zlib does not say where in the call's input it stopped: the damage is within this run.
          runBytes: MAX_INPUT_PER_CALL,
          cause: err,
        });
      }
      this.advance(input, i, i + inflater.consumed);
      i += inflater.consumed;
      this.takeOutput(inflater.produced, result);
      if (stop === 'boundary') this.atBoundary(input, i, result);
      else if (stop === 'end') {
        this.endOfDeflate(result);
        return i;
      }
    }
    return i;
  }

  private ensureOutputRoom(): void {
    if (this.outOffset === this.out.length) {
      this.out = Buffer.allocUnsafeSlow(this.outputChunkBytes);
      this.outOffset = 0;
    }
  }

  private takeOutput(produced: number, result: GunzipChunk[]): void {
    if (produced === 0) return;
    const chunk = this.out.subarray(this.outOffset, this.outOffset + produced);
    this.outOffset += produced;
    this.crc = crc32(chunk, this.crc);
    this.memberSize += produced;
    this.total += produced;
    this.window.push(chunk);
    this.windowBytes += produced;
    while (this.windowBytes - this.window[0]!.length >= WINDOW_BYTES) this.windowBytes -= this.window.shift()!.length;
    const pending = this.pending;
    if (pending) {
      pending.held.push(chunk);
      pending.heldBytes += produced;
      if (pending.heldBytes > MAX_PENDING_OUTPUT) this.giveUpPending(result);
    } else {
      result.push(chunk);
    }
  }

  private endOfDeflate(result: GunzipChunk[]): void {
    if (this.pending) this.giveUpPending(result); // the boundary was after the last block
    this.closeInflater();
    this.phase = 'trailer';
    this.trailerBytes = 0;
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  private atBoundary(input: Buffer, i: number, result: GunzipChunk[]): void {
    const inflater = this.inflater!;
    if (inflater.exactBitPosition) {
      // After the final block comes the trailer, not another block: nothing to resume there.
      if (!this.checkpointRequested || inflater.afterFinalBlock) return;
      const unused = inflater.unusedBits;
      this.emitCheckpoint(result, this.midMemberCheckpoint(unused === 0 ? this.pos : this.pos - 1, (8 - unused) % 8, this.windowTail()));
      return;
    }
    if (this.pending) {
      const pending = this.pending;
      const found = this.searchBitPosition(pending);
      if (found === 'extend') return; // keep holding output until the next boundary
      this.pending = undefined;
      if (found) {
        this.emitCheckpoint(result, {
          version: GZIP_CHECKPOINT_VERSION,
          memberIndex: this.memberIndex,
          memberStart: this.memberStart,
          compressedOffset: found.compressedOffset,
          bitOffset: found.bitOffset,
          uncompressedOffset: pending.uncompressedOffset,
          dictionary: pending.dictionary.toString('base64'),
          crc: pending.crc >>> 0,
          memberSize: pending.memberSize,
        });
      } else {
        this.inconclusiveInMember++;
      }
      for (const chunk of pending.held) result.push(chunk);
    }
    if (this.checkpointRequested && this.inconclusiveInMember < MAX_INCONCLUSIVE_PER_MEMBER) this.startPending(input, i);
  }

  /** Remembers this boundary; its bit position is searched for at the next boundary. */
  private startPending(input: Buffer, i: number): void {
    // Byte pos-1 may hold the first bits of the next block: keep it with the bytes that follow.
    const boundaryByte = i > 0 ? input[i - 1]! : this.previousByte;
    if (boundaryByte < 0) return;
    const tail = input.subarray(i);
    this.pending = {
      consumedAtBoundary: this.pos,
      dictionary: this.windowTail(),
      crc: this.crc,
      memberSize: this.memberSize,
      uncompressedOffset: this.total,
      compressed: i > 0 ? [input.subarray(i - 1)] : [Buffer.from([boundaryByte]), tail],
      compressedStart: this.pos - 1,
      compressedBytes: tail.length + 1,
      borrowedTail: true,
      held: [],
      heldBytes: 0,
      candidates: undefined,
      extensions: 0,
    };
  }

  private retainForPending(input: Buffer, result: GunzipChunk[]): void {
    const pending = this.pending!;
    pending.compressed.push(input);
    pending.compressedBytes += input.length;
    pending.borrowedTail = true;
    // A block this long is unusual: give this boundary up rather than hold more.
    if (pending.compressedBytes > MAX_PENDING_COMPRESSED) this.giveUpPending(result);
  }

  private giveUpPending(result: GunzipChunk[]): void {
    const pending = this.pending!;
    this.pending = undefined;
    this.inconclusiveInMember++;
    this.stats.bitSearchesInconclusive++;
    for (const chunk of pending.held) result.push(chunk);
  }

  private searchBitPosition(pending: PendingBoundary): BitPosition | 'extend' | undefined {
    const started = performance.now();
    this.stats.bitSearches++;
    const matches = matchingBitPositions(
      this.factory,
      {
        dictionary: pending.dictionary,
        consumedAtBoundary: pending.consumedAtBoundary,
        compressed: pending.compressed,
        compressedStart: pending.compressedStart,
        consumedAtNextBoundary: this.pos,
        output: pending.held,
      },
      pending.candidates,
    );
    this.stats.bitSearchMs += performance.now() - started;
    if (matches.length === 1 || (matches.length > 1 && pending.extensions >= MAX_EXTENSIONS)) return matches[0];
    if (matches.length > 1) {
      pending.candidates = matches;
      pending.extensions++;
      this.stats.bitSearchExtensions++;
      return 'extend';
    }
    this.stats.bitSearchesInconclusive++;
    return undefined;
  }

  private emitCheckpoint(result: GunzipChunk[], checkpoint: GzipCheckpoint): void {
    this.checkpointRequested = false;
    this.stats.checkpoints++;
    result.push(checkpoint);
  }

  private memberStartCheckpoint(): GzipCheckpoint {
    return {
      version: GZIP_CHECKPOINT_VERSION,
      memberIndex: this.memberIndex,
      memberStart: this.memberStart,
      compressedOffset: this.memberStart,
      bitOffset: 0,
      uncompressedOffset: this.total,
      dictionary: '',
      crc: 0,
      memberSize: 0,
    };
  }

  private midMemberCheckpoint(compressedOffset: number, bitOffset: number, dictionary: Buffer): GzipCheckpoint {
    return {
      version: GZIP_CHECKPOINT_VERSION,
      memberIndex: this.memberIndex,
      memberStart: this.memberStart,
      compressedOffset,
      bitOffset,
      uncompressedOffset: this.total,
      dictionary: dictionary.toString('base64'),
      crc: this.crc >>> 0,
      memberSize: this.memberSize,
    };
  }

  /** A copy of the member's last <= 32 KiB of output. */
  private windowTail(): Buffer {
    const all = this.window.length === 1 ? this.window[0]! : Buffer.concat(this.window);
    return Buffer.from(all.subarray(Math.max(0, all.length - WINDOW_BYTES)));
  }

  private restore(checkpoint: GzipCheckpoint): void {
    const problem = checkpointProblem(checkpoint);
    if (problem) throw new ArchiveError('E_ARCHIVE_CORRUPT', `Unusable gzip checkpoint: ${problem}`, { details: { offset: checkpoint.compressedOffset } });
    this.memberIndex = checkpoint.memberIndex;
    this.memberStart = checkpoint.memberStart;
    this.pos = checkpoint.compressedOffset;
    this.total = checkpoint.uncompressedOffset;
    if (checkpoint.compressedOffset === checkpoint.memberStart && checkpoint.memberSize === 0) {
      this.resumedMemberStart = checkpoint.memberStart;
      this.phase = 'header';
      return;
    }
    const dictionary = Buffer.from(checkpoint.dictionary, 'base64');
    this.crc = checkpoint.crc;
    this.memberSize = checkpoint.memberSize;
    this.window = dictionary.length > 0 ? [dictionary] : [];
    this.windowBytes = dictionary.length;
    this.inflater = this.factory.create(dictionary);
    this.primeByteOffset = checkpoint.bitOffset;
    this.phase = checkpoint.bitOffset === 0 ? 'deflate' : 'prime';
  }

  // ---- errors and lifecycle ------------------------------------------------------------------

  private error(code: ErrorCode, message: string, offset: number, details: Record<string, unknown> = {}): ArchiveError {
    const { cause, ...rest } = details;
    return new ArchiveError(code, message, {
      details: { offset, memberIndex: this.memberIndex, ...rest },
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  private fail(err: unknown): never {
    this.failed = err;
    this.closeInflater();
    throw err;
  }

  private assertUsable(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.finished) throw new Error('CheckpointingGunzip: used after finish() or close()');
    if (this.deferredError) throw this.deferredError;
  }

  private closeInflater(): void {
    this.inflater?.close();
    this.inflater = undefined;
  }
}

function chooseFactory(engine: 'auto' | InflaterEngine): InflaterFactory {
  if (engine === 'portable') return portableInflaterFactory;
  const probe = probeNativeInflater();
  if (probe.ok) return nativeInflaterFactory;
  if (engine === 'native') throw new Error(`The native inflater cannot be stepped on this runtime: ${probe.reason}`);
  return portableInflaterFactory;
}

/** Why a checkpoint cannot be used, or undefined if it is consistent. */
export function checkpointProblem(c: GzipCheckpoint): string | undefined {
  const isCount = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!c || typeof c !== 'object') return 'not an object';
  if (c.version !== GZIP_CHECKPOINT_VERSION) return `unknown version ${String(c.version)}`;
  for (const key of ['memberIndex', 'memberStart', 'compressedOffset', 'uncompressedOffset', 'memberSize', 'crc'] as const) {
    if (!isCount(c[key])) return `bad ${key}`;
  }
  if (!Number.isInteger(c.bitOffset) || c.bitOffset < 0 || c.bitOffset > 7) return 'bad bitOffset';
  if (c.crc > 0xffffffff) return 'bad crc';
  if (c.compressedOffset < c.memberStart) return 'compressedOffset before memberStart';
  if (c.memberSize > c.uncompressedOffset) return 'memberSize larger than uncompressedOffset';
  if (typeof c.dictionary !== 'string') return 'bad dictionary';
  const dictionaryBytes = Buffer.from(c.dictionary, 'base64').length;
  if (dictionaryBytes > WINDOW_BYTES || dictionaryBytes !== Math.min(WINDOW_BYTES, c.memberSize)) return 'dictionary size does not match memberSize';
  if (c.compressedOffset === c.memberStart && (c.memberSize !== 0 || c.bitOffset !== 0)) return 'inconsistent member start';
  return undefined;
}

function firstNonZero(input: Buffer, from: number): number {
  for (let i = from; i < input.length; i++) if (input[i] !== 0) return i;
  return input.length;
}
