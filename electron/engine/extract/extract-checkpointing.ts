// When a running extraction makes a checkpoint: one is asked for, the decoder is asked for its next point
// (a deflate or lz4 block boundary, a member or frame start; plain tar is at one after every input), the
// tar stage's state is taken there unless a header sequence is half-read (then the next point is tried),
// and the checkpoint resolves once every file byte before it is fsynced. Extraction goes on meanwhile.
import { AbortedError, ArchiveError, type EngineError } from '../errors';
import type { DecoderPoint, ResumableDecoder } from '../decode/resumable-decoder';
import { EXTRACT_CHECKPOINT_VERSION, type ExtractCheckpoint, type TarResumeState } from './extract-checkpoint';
import type { ExtractFormat } from './extract-types';
import type { SafeWriter } from './safe-writer';
import type { TarStage } from './tar-stage';

/** The stages a checkpoint captures together, once they exist. */
export interface CheckpointedPipeline {
  format: ExtractFormat;
  decoder: ResumableDecoder;
  tar: TarStage;
  writer: SafeWriter;
  /** Absolute offset in the tar stream of the next byte handed to the tar stage. */
  tarIn: number;
}

export interface CheckpointHost {
  /** The stages, once the decoder and the tar stage exist; null before and for a streamed format. */
  pipeline(): CheckpointedPipeline | null;
  /** Runs `step` after the feeding queued before it (a point is taken between two inputs, never inside one). */
  exclusive(step: () => Promise<void>): Promise<void>;
  /** Taking or syncing a checkpoint failed: the extraction fails with it. */
  failed(err: unknown): void;
}

/** What the extraction is at when a checkpoint is asked for. */
export interface ExtractionStatus {
  failure: EngineError | null;
  ended: boolean;
  destroyed: boolean;
}

interface Pending {
  promise: Promise<ExtractCheckpoint | null>;
  resolve: (cp: ExtractCheckpoint | null) => void;
  reject: (err: Error) => void;
  /** Taken, and waiting only for its fsyncs (extraction goes on meanwhile). */
  captured: boolean;
}

export class ExtractCheckpointing {
  private pending: Pending | null = null;
  private unsupported: string | null = null;

  constructor(private readonly host: CheckpointHost) {}

  /** Why this extraction cannot be checkpointed; null when it can, or before the format is known. */
  get unsupportedReason(): string | null {
    return this.unsupported;
  }

  /** The checkpoint asked for: still waiting for a point to land on, or taken and waiting for its fsyncs. */
  get inProgress(): 'awaiting-point' | 'syncing' | null {
    const p = this.pending;
    return p ? (p.captured ? 'syncing' : 'awaiting-point') : null;
  }

  /** See Extractor.checkpoint(). */
  request(status: ExtractionStatus): Promise<ExtractCheckpoint | null> {
    if (this.pending) return this.pending.promise;
    if (status.failure) return Promise.reject(status.failure);
    if (this.unsupported || status.ended) return Promise.resolve(null);
    if (status.destroyed) return Promise.reject(new AbortedError('The extraction was stopped.'));
    let resolve!: (cp: ExtractCheckpoint | null) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<ExtractCheckpoint | null>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    this.pending = { promise, resolve, reject, captured: false };
    this.arm();
    return promise;
  }

  /** The format has no resumable decoder (or it was replaced): every checkpoint resolves null, said why. */
  markUnsupported(reason: string | null): void {
    this.unsupported = reason;
    this.arm();
  }

  /** Passes a checkpoint request on to where it can be met, once the pipeline exists. */
  arm(): void {
    if (!this.pending) return;
    if (this.unsupported) {
      this.settle(null);
    } else if (this.host.pipeline()) {
      // At a point already (plain tar, a block boundary the last input ended on): take it now.
      this.host.exclusive(() => this.seekPoint()).catch((err) => this.host.failed(err));
    }
  }

  /** The decoder reached a point (it was asked for one): the checkpoint is taken there if the tar stage can be. */
  async atPoint(point: DecoderPoint): Promise<void> {
    if (!this.pending || this.pending.captured) return;
    const p = this.host.pipeline()!;
    if (point.uncompressedOffset !== p.tarIn) {
      throw new ArchiveError('E_INTERNAL', `${p.format} decoder point at output byte ${point.uncompressedOffset}, but ${p.tarIn} bytes were handed on`);
    }
    const tar = await p.tar.capture(p.tarIn);
    if (!tar) {
      // Inside a long header sequence: the decoder's next point brings another chance.
      p.decoder.requestCheckpoint();
      return;
    }
    // The extraction may have been stopped while the state was taken: its fsyncs then fail with it, unheard.
    tar.durable.catch(() => undefined);
    if (!this.pending) return;
    this.whenDurable(this.build(point, tar.state), tar.durable);
  }

  /** The input ended: a checkpoint still asked for has no point to land on. */
  ended(): void {
    if (!this.pending?.captured) this.settle(null);
  }

  /** The extraction failed or was stopped: the checkpoint asked for rejects with it. */
  fail(err: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(err);
  }

  private async seekPoint(): Promise<void> {
    const decoder = this.host.pipeline()?.decoder;
    if (!decoder || !this.pending || this.pending.captured) return;
    const here = decoder.pointHere?.() ?? null;
    if (here) await this.atPoint(here);
    else decoder.requestCheckpoint();
  }

  /** The state is taken; extraction goes on while its files are fsynced, and the checkpoint resolves after. */
  private whenDurable(cp: ExtractCheckpoint, durable: Promise<void>): void {
    this.pending!.captured = true;
    durable.then(
      () => this.settle(cp),
      (err) => this.host.failed(err),
    );
  }

  private build(point: DecoderPoint, tar: TarResumeState): ExtractCheckpoint {
    const p = this.host.pipeline()!;
    const w = p.writer.state();
    return {
      version: EXTRACT_CHECKPOINT_VERSION,
      format: p.format,
      compressedOffset: point.compressedOffset,
      uncompressedOffset: p.tarIn,
      entries: w.entries,
      bytesWritten: w.bytesWritten,
      skipped: w.skipped,
      warnings: w.warnings,
      ...(w.skippedCounts ? { skippedCounts: w.skippedCounts } : {}),
      ...(w.warningCounts ? { warningCounts: w.warningCounts } : {}),
      decoder: { format: p.decoder.format, state: point.state },
      tar,
      dirMeta: w.dirMeta,
    };
  }

  private settle(cp: ExtractCheckpoint | null): void {
    const p = this.pending;
    this.pending = null;
    p?.resolve(cp);
  }
}
