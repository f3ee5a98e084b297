// The extractor the job writes the downloaded (compressed) stream into, in order: format detection on
// the first bytes, then decompression, then the tar stage (tar-stream + framer) and the safe writer.
// Each stage is its own module; this file only wires them and turns failures into one coded error.
import { Writable } from 'node:stream';
import { createDecompressor, type Decompressor, type DecompressorFactory } from './decompress';
import { AbortedError, ArchiveError, EngineError, toEngineError } from './errors';
import type { ExtractFormat, SkippedEntry } from './extract-types';
import { DETECT_BYTES, detectFormat } from './format-detect';
import { SafeWriter, type EntryWarning } from './safe-writer';
import { TarStage } from './tar-stage';
import { resolveLimits, type ExtractLimits } from './tar-limits';

export type { SkippedEntry } from './extract-types';
export type { ExtractLimits } from './tar-limits';

export interface ExtractOptions {
  dest: string;
  format: 'auto' | ExtractFormat;
  /** Unsafe members (and stripped roots, masked modes) stop the extraction instead of being skipped. */
  strict?: boolean;
  limits?: Partial<ExtractLimits>;
  /** Every skipped or altered member, as it happens. `skipped: false` means extracted with a change. */
  onWarning?: (w: SkippedEntry & { skipped?: boolean }) => void;
  /** Replaces Node's streaming decoders (a checkpointing gunzip for resumable extraction). */
  decompressor?: DecompressorFactory;
}

export interface ExtractResult {
  format: ExtractFormat;
  /** Members extracted (skipped ones not counted). */
  entries: number;
  bytesWritten: number;
  skipped: SkippedEntry[];
  /** Members extracted with a change: root stripped, setuid/setgid/sticky dropped. */
  warnings: SkippedEntry[];
}

export class Extractor extends Writable {
  private readonly options: ExtractOptions;
  private readonly limits: ExtractLimits;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private _bytesIn = 0;
  private format: ExtractFormat | null = null;
  private writer: SafeWriter | null = null;
  private decoder: Decompressor | null = null;
  private tar: TarStage | null = null;
  /** Where compressed bytes go once the pipeline is built: the decoder, or the tar stage for plain tar. */
  private input: Writable | null = null;
  private failure: EngineError | null = null;
  private readonly finished: Promise<ExtractResult>;

  constructor(options: ExtractOptions) {
    super({ highWaterMark: 1024 * 1024 });
    this.options = options;
    this.limits = resolveLimits(options.limits);
    this.finished = new Promise<ExtractResult>((resolve, reject) => {
      this.once('finish', () => resolve(this.result()));
      this.once('error', reject);
      // destroy() without an error (the job was stopped): settles as aborted; after 'finish' this is a no-op.
      this.once('close', () => reject(new AbortedError('The extraction was stopped before the end of the archive.')));
    });
    // done() is the way to learn the outcome; a missing 'error' listener must not crash the process.
    this.finished.catch(() => undefined);
    this.on('error', () => undefined);
  }

  /** Compressed bytes accepted so far. */
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

  /** Uncompressed tar bytes examined so far, and the member being written (for resume checkpoints). */
  get tarPosition(): { offset: number; entry: { name: string; headerOffset: number; dataOffset: number; size: number } | null } {
    return { offset: this.tar?.tarOffset ?? 0, entry: this.tar?.currentEntry ?? null };
  }

  /** Resolves after end() once every file is written and closed; rejects with a coded EngineError. */
  done(): Promise<ExtractResult> {
    return this.finished;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._bytesIn += chunk.length;
    if (this.input) {
      this.forward(chunk, cb);
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes < DETECT_BYTES) {
      cb();
      return;
    }
    this.start(false).then(
      () => this.forward(Buffer.concat(this.head.splice(0)), cb),
      (err) => cb(this.fail(err)),
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    const begin = this.input ? Promise.resolve() : this.start(true).then(() => this.writeHead());
    begin
      .then(() => this.endPipeline())
      .then(
        () => cb(),
        (err) => cb(this.fail(err)),
      );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const e = err ? this.fail(err) : null;
    this.decoder?.stream.destroy();
    if (this.tar && !this.tar.destroyed) this.tar.destroy();
    const abort = this.writer ? this.writer.abort() : Promise.resolve();
    void abort.then(() => cb(e));
  }

  private result(): ExtractResult {
    const w = this.writer!;
    return { format: this.format!, entries: w.entries, bytesWritten: w.bytesWritten, skipped: [...w.skipped], warnings: [...w.warnings] };
  }

  /** Decides the format and builds decoder → tar stage → writer. */
  private async start(final: boolean): Promise<void> {
    const head = Buffer.concat(this.head);
    this.head.splice(0, this.head.length, head);
    const detection = detectFormat(head, final);
    if ('needMore' in detection) throw new ArchiveError('E_INTERNAL', 'format detection needs more bytes at the end of the stream');
    const wanted = this.options.format;
    if (wanted !== 'auto' && wanted !== detection.format) {
      throw new ArchiveError('E_NOT_AN_ARCHIVE', `The data is a ${detection.format} archive, not ${wanted} as requested.`, {
        details: { offset: 0, expected: wanted, detected: detection.format },
      });
    }
    this.format = detection.format;
    const decoder = detection.format === 'tar' ? null : (this.options.decompressor ?? createDecompressor)(detection.format);
    this.writer = await SafeWriter.open({
      dest: this.options.dest,
      limits: this.limits,
      strict: this.options.strict ?? false,
      onWarning: (w: EntryWarning) => this.options.onWarning?.(w),
    });
    const tar = new TarStage(this.writer, this.limits);
    tar.on('error', (err) => this.destroy(this.fail(err)));
    this.tar = tar;
    if (decoder) {
      this.decoder = decoder;
      decoder.stream.on('error', (err) => this.destroy(this.fail(decoder.toArchiveError(err, this._bytesIn))));
      decoder.stream.pipe(tar);
      this.input = decoder.stream;
    } else {
      this.input = tar;
    }
  }

  private writeHead(): Promise<void> {
    const head = Buffer.concat(this.head.splice(0));
    if (head.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.forward(head, (err) => (err ? reject(err) : resolve())));
  }

  private forward(chunk: Buffer, cb: (err?: Error | null) => void): void {
    const input = this.input!;
    if (input.write(chunk)) {
      cb();
      return;
    }
    // Wait for room downstream; a failure destroys this stream, which drops the pending callback.
    input.once('drain', () => cb());
  }

  /** Ends the input and waits for the tar stage to flush every file; then checks for unread input. */
  private endPipeline(): Promise<void> {
    const tar = this.tar!;
    const decoder = this.decoder;
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
      this.input!.end();
    });
  }

  /** Records the first failure (later ones are consequences) and returns it. */
  private fail(err: unknown): EngineError {
    if (!this.failure) this.failure = toEngineError(err, 'E_INTERNAL');
    return this.failure;
  }
}
