// The extractor the job writes the downloaded (compressed) stream into, in order: format detection on
// the first bytes, then decompression, then the tar stage (tar-stream + framer) and the safe writer.
// Each stage is its own module; this file only wires them and turns failures into one coded error.
//
// Resume: a format with a resumable decoder (decode/registry.ts) can be checkpointed (`checkpoint()`): the
// decoder, the tar stage and the writer are captured together at one uncompressed offset once every byte
// before it is on disk and fsynced, and a new Extractor built with `resumeFrom` continues from there when
// fed the compressed bytes from `compressedOffset` on. Other formats are streamed and cannot be (see
// checkpointUnsupportedReason). When a checkpoint is taken is extract-checkpointing.ts's business; the
// extractor hands it each decoder point on the way to the tar stage.
import { Writable } from 'node:stream';
import { isCompressed, resumableDecoder, unresumableReason } from '../decode/registry';
import { isDecoderPoint, type DecodedItem, type DecoderOptions, type ResumableDecoder, type ResumeGranularity } from '../decode/resumable-decoder';
import { createDecompressor, type CompressedFormat, type Decompressor, type DecompressorFactory } from '../decode/decompress';
import { AbortedError, ArchiveError, EngineError, toEngineError } from '../errors';
import { extractCheckpointProblem, restoredDecoder, writerStateOf, type ExtractCheckpoint } from './extract-checkpoint';
import { ExtractCheckpointing } from './extract-checkpointing';
import type { ExtractFormat, SkippedEntry } from './extract-types';
import { DETECT_BYTES, detectWantedFormat } from '../decode/format-detect';
import { SafeWriter, type EntryWarning } from './safe-writer';
import { TarStage } from './tar-stage';
import { resolveLimits, type ExtractLimits } from './tar-limits';
import { writeOrWait } from './write-or-wait';

export type { SkippedEntry } from './extract-types';
export type { ExtractCheckpoint } from './extract-checkpoint';
export type { ExtractLimits } from './tar-limits';

export interface ExtractOptions {
  dest: string;
  format: 'auto' | ExtractFormat;
  /** Unsafe members (and stripped roots, masked modes) stop the extraction instead of being skipped. */
  strict?: boolean;
  limits?: Partial<ExtractLimits>;
  /** Every skipped or altered member, as it happens. `skipped: false` means extracted with a change. */
  onWarning?: (w: SkippedEntry & { skipped?: boolean }) => void;
  /** Replaces the decoders of compressed formats (they then cannot be checkpointed; plain tar still can). */
  decompressor?: DecompressorFactory;
  /** Why the decoder was replaced, said in place of the generic reason checkpoints are unavailable. */
  decompressorNote?: string;
  /** Once the format is known: it, and how finely the chosen decoder can be resumed ('none': not at all). */
  onFormat?: (format: ExtractFormat, granularity: ResumeGranularity) => void;
  /** Limits of the decoders (the zstd window), for ours and for a replacement alike. */
  decoderOptions?: DecoderOptions;
  /** Continue from a checkpoint: the job then writes the compressed bytes from cp.compressedOffset on. */
  resumeFrom?: ExtractCheckpoint;
  /** Keep files an earlier run of the job completed (no checkpoint to continue from; see SafeWriter). */
  reuseComplete?: boolean;
}

export interface ExtractResult {
  format: ExtractFormat;
  /** Members extracted (skipped ones not counted). */
  entries: number;
  bytesWritten: number;
  /** The first skipped members (see entry-tally.ts); skippedByCode counts all of them. */
  skipped: SkippedEntry[];
  skippedByCode: Record<string, number>;
  /** Members extracted with a change: root stripped, setuid/setgid/sticky dropped (the first of them). */
  warnings: SkippedEntry[];
  /** Files an earlier run had completed, verified and kept (counted in entries, not in bytesWritten). */
  reused: number;
}

export class Extractor extends Writable {
  private readonly options: ExtractOptions;
  private readonly limits: ExtractLimits;
  private readonly resumeFrom: ExtractCheckpoint | undefined;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private _bytesIn = 0;
  private format: ExtractFormat | null = null;
  private writer: SafeWriter | null = null;
  /** A streaming decoder (a format without a resumable one, or a replacement given in the options). */
  private stream: Decompressor | null = null;
  /** The resumable decoder, driven synchronously so output stops exactly at a checkpoint. */
  private decoder: ResumableDecoder | null = null;
  private tar: TarStage | null = null;
  private started = false;
  /** Absolute offset in the tar stream of the next byte handed to the tar stage. */
  private tarIn = 0;
  /** Feeding and capturing run one at a time, in order. */
  private work: Promise<void> = Promise.resolve();
  private readonly checkpoints = new ExtractCheckpointing({
    pipeline: () => (this.tar && this.decoder ? { format: this.format!, decoder: this.decoder, tar: this.tar, writer: this.writer!, tarIn: this.tarIn } : null),
    exclusive: (step) => this.exclusive(step),
    failed: (err) => this.destroy(this.fail(err)),
  });
  private failure: EngineError | null = null;
  private readonly finished: Promise<ExtractResult>;

  constructor(options: ExtractOptions) {
    super({ highWaterMark: 1024 * 1024 });
    this.options = options;
    this.limits = resolveLimits(options.limits);
    this.resumeFrom = options.resumeFrom;
    this.finished = new Promise<ExtractResult>((resolve, reject) => {
      this.once('finish', () => {
        this.checkpoints.ended();
        resolve(this.result());
      });
      this.once('error', reject);
      // destroy() without an error (the job was stopped): settles as aborted; after 'finish' this is a no-op.
      this.once('close', () => {
        const stopped = new AbortedError('The extraction was stopped before the end of the archive.');
        this.checkpoints.fail(this.failure ?? stopped);
        reject(stopped);
      });
    });
    // done() is the way to learn the outcome; a missing 'error' listener must not crash the process.
    this.finished.catch(() => undefined);
    this.on('error', () => undefined);
  }

  /** Compressed bytes accepted so far (by this extractor: a resumed one counts from its checkpoint). */
  get bytesIn(): number {
    return this._bytesIn;
  }

  /** Bytes written to files in the destination so far. */
  get bytesWritten(): number {
    return this.writer?.bytesWritten ?? 0;
  }

  get detectedFormat(): ExtractFormat | null {
    return this.format;
  }

  /**
   * Why this extraction cannot be checkpointed (known once the format is: one without a resumable decoder,
   * or a replaced decoder); null when it can, or before the format is known.
   */
  get checkpointUnsupportedReason(): string | null {
    return this.checkpoints.unsupportedReason;
  }

  /**
   * The checkpoint asked for, if any: still waiting for a point to land on (more input is needed, e.g. to
   * reach the next gzip or lz4 block boundary), or taken and waiting for its fsyncs.
   */
  get checkpointInProgress(): 'awaiting-point' | 'syncing' | null {
    return this.checkpoints.inProgress;
  }

  /** Uncompressed tar bytes examined so far, and the member being written (for resume checkpoints). */
  get tarPosition(): { offset: number; entry: { name: string; headerOffset: number; dataOffset: number; size: number } | null } {
    return { offset: this.tar?.tarOffset ?? 0, entry: this.tar?.currentEntry ?? null };
  }

  /** Resolves after end() once every file is written and closed; rejects with a coded EngineError. */
  done(): Promise<ExtractResult> {
    return this.finished;
  }

  /**
   * Resolves with the next point the extraction can be resumed from, once every file byte before it is
   * fsynced (durable): the decoder's next point (a deflate or lz4 block boundary, a member or frame start),
   * for plain tar the end of the input accepted so far. Resolves null when the format cannot be checkpointed (see
   * checkpointUnsupportedReason) or when the archive ends first. Extraction goes on while the caller
   * persists it. Calls while one is pending share it; rejects if the extraction fails or is stopped first.
   */
  checkpoint(): Promise<ExtractCheckpoint | null> {
    return this.checkpoints.request({ failure: this.failure, ended: this.writableFinished, destroyed: this.destroyed });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._bytesIn += chunk.length;
    if (this.started) {
      this.feed(chunk).then(
        () => cb(),
        (err) => cb(this.fail(err)),
      );
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    let format: ExtractFormat | null;
    try {
      format = this.headBytes < DETECT_BYTES && !this.resumeFrom ? null : this.chooseFormat(false);
    } catch (err) {
      cb(this.fail(err));
      return;
    }
    if (format === null) {
      cb();
      return;
    }
    this.start(format)
      .then(() => this.feedHead())
      .then(
        () => cb(),
        (err) => cb(this.fail(err)),
      );
  }

  override _final(cb: (err?: Error | null) => void): void {
    const begin = this.started
      ? Promise.resolve()
      : Promise.resolve()
          .then(() => this.start(this.chooseFormat(true)!))
          .then(() => this.feedHead());
    begin
      .then(() => this.endPipeline())
      .then(
        () => cb(),
        (err) => cb(this.fail(err)),
      );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const e = err ? this.fail(err) : null;
    this.stream?.stream.destroy();
    this.decoder?.close();
    if (this.tar && !this.tar.destroyed) this.tar.destroy();
    const abort = this.writer ? this.writer.abort() : Promise.resolve();
    void abort.then(() => cb(e));
  }

  private result(): ExtractResult {
    const w = this.writer!;
    return {
      format: this.format!,
      entries: w.entries,
      bytesWritten: w.bytesWritten,
      skipped: [...w.skipped.sample],
      skippedByCode: w.skipped.byCode(),
      warnings: [...w.warnings.sample],
      reused: w.reused,
    };
  }

  /** The checkpoint's format, or the one detected in the head; null while detection needs more bytes. */
  private chooseFormat(final: boolean): ExtractFormat | null {
    const resume = this.resumeFrom;
    if (resume) {
      const problem = extractCheckpointProblem(resume);
      if (problem) throw new EngineError('E_JOURNAL', `The extraction checkpoint cannot be used: ${problem}.`, { details: { offset: resume.compressedOffset } });
      return resume.format;
    }
    const head = Buffer.concat(this.head);
    this.head.splice(0, this.head.length, head);
    return detectWantedFormat(head, final, this.options.format);
  }

  /** Builds decoder → tar stage → writer for the format. */
  private async start(format: ExtractFormat): Promise<void> {
    this.started = true;
    this.format = format;
    const resume = this.resumeFrom;
    const custom = isCompressed(format) ? this.options.decompressor : undefined;
    const decoderOptions = this.options.decoderOptions ?? {};
    const factory = custom ? null : resumableDecoder(format, decoderOptions);
    if (factory) {
      this.decoder = await restoredDecoder(factory, resume);
    } else {
      this.checkpoints.markUnsupported(custom ? (this.options.decompressorNote ?? 'a replacement decoder is in use') : unresumableReason(format));
      this.stream = (custom ?? createDecompressor)(format as CompressedFormat, decoderOptions);
    }
    this.options.onFormat?.(format, this.decoder?.granularity ?? 'none');
    this.writer = await SafeWriter.open({
      dest: this.options.dest,
      limits: this.limits,
      strict: this.options.strict ?? false,
      onWarning: (w: EntryWarning) => this.options.onWarning?.(w),
      trackDurability: this.checkpoints.unsupportedReason === null,
      reuseComplete: !resume && (this.options.reuseComplete ?? false),
      ...(resume ? { resumeFrom: writerStateOf(resume) } : {}),
    });
    const tar = new TarStage(this.writer, this.limits, resume?.tar);
    tar.on('error', (err) => this.destroy(this.fail(err)));
    this.tar = tar;
    this.tarIn = resume ? resume.uncompressedOffset : 0;
    const stream = this.stream;
    if (stream) {
      stream.stream.on('error', (err) => this.destroy(this.fail(stream.toArchiveError(err, this._bytesIn))));
      stream.stream.pipe(tar);
    }
    await tar.start();
    this.checkpoints.arm();
  }

  private feedHead(): Promise<void> {
    const head = Buffer.concat(this.head.splice(0));
    return head.length === 0 ? Promise.resolve() : this.feed(head);
  }

  private feed(chunk: Buffer): Promise<void> {
    return this.exclusive(async () => {
      if (this.decoder) await this.deliver(this.decoder.push(chunk));
      else await writeOrWait(this.stream!.stream, chunk);
    });
  }

  /** Hands decoded output to the tar stage in order, stopping at each point to capture it. */
  private async deliver(items: DecodedItem[]): Promise<void> {
    for (const item of items) {
      if (isDecoderPoint(item)) await this.checkpoints.atPoint(item);
      else await this.toTar(item);
    }
  }

  private toTar(buf: Buffer): Promise<void> {
    this.tarIn += buf.length;
    return writeOrWait(this.tar!, buf);
  }

  /** Runs `step` after every step queued before it. */
  private exclusive(step: () => Promise<void>): Promise<void> {
    const run = this.work.then(step);
    this.work = run.catch(() => undefined);
    return run;
  }

  /** Ends the input and waits for the tar stage to flush every file; then checks for unread input. */
  private async endPipeline(): Promise<void> {
    let late: EngineError | null = null;
    await this.exclusive(async () => {
      if (!this.decoder) return;
      let rest: DecodedItem[] = [];
      try {
        rest = this.decoder.finish();
      } catch (err) {
        // Trailing data after complete members: the archive before it is whole, so finish it first.
        if (!(err instanceof EngineError) || err.code !== 'E_TRAILING_GARBAGE') throw err;
        late = err;
      }
      await this.deliver(rest);
    });
    try {
      await this.endStages();
    } catch (err) {
      throw late ?? err;
    }
    if (late) throw late;
  }

  private endStages(): Promise<void> {
    const tar = this.tar!;
    const decoder = this.stream;
    return new Promise<void>((resolve, reject) => {
      let decoderEnded = decoder === null;
      let tarFinished = false;
      const settle = () => {
        if (!decoderEnded || !tarFinished) return;
        try {
          decoder?.checkEnd(this._bytesIn);
          resolve();
        } catch (err) {
          reject(err);
        }
      };
      decoder?.stream.once('end', () => {
        decoderEnded = true;
        settle();
      });
      tar.once('finish', () => {
        tarFinished = true;
        settle();
      });
      tar.once('error', reject);
      decoder?.stream.once('error', (err) => reject(decoder.toArchiveError(err, this._bytesIn)));
      (decoder ? decoder.stream : tar).end();
    });
  }

  /** Records the first failure (later ones are consequences) and returns it. */
  private fail(err: unknown): EngineError {
    if (!this.failure) {
      this.failure = toEngineError(err, 'E_INTERNAL');
      // A fault found inside a member (its sparse map, say) is located by that member's header in the tar stream.
      if (this.failure instanceof ArchiveError && typeof this.failure.details.offset !== 'number') {
        const at = this.tarPosition;
        this.failure.details.offset = at.entry?.headerOffset ?? at.offset;
        this.failure.details.offsetIn = 'tar stream';
      }
    }
    this.checkpoints.fail(this.failure);
    return this.failure;
  }
}
