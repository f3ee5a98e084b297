// Where the in-order byte stream goes: the extractor, or (download-only) the output file. Both hash what they
// are given when a checksum is expected, so the digest covers exactly the bytes that were used.
import { createHash, type Hash } from 'node:crypto';
import type { DigestKind } from '../checksum/checksum-text';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import type { Writable } from 'node:stream';
import { toEngineError } from '../errors';
import type { ArchiveFormat } from '../events';
import type { ExtractCheckpointData } from '../state/checkpoint-store';
import type { Extractor, ExtractOptions, ExtractResult } from '../extract/extractor';

export interface StreamSink {
  /** Bytes of the source consumed so far. */
  readonly consumed: number;
  /** Bytes written to the destination so far. */
  readonly written: number;
  write(data: Buffer): Promise<void>;
  finish(): Promise<SinkResult>;
  abort(err: Error): Promise<void>;
}

export interface SinkResult {
  format: ArchiveFormat | 'raw';
  entries: number;
  bytesWritten: number;
  skipped: ExtractResult['skipped'];
  skippedByCode: ExtractResult['skippedByCode'];
  sha256: string | null;
  /** MD5 of the bytes, when one was asked for (absent otherwise). */
  md5?: string | null;
  /** Files kept from an earlier run (extraction only). */
  reused?: number;
}

/** Which digests a sink computes: `true` is SHA-256 alone (the form callers used before MD5). */
export type InlineDigests = boolean | readonly DigestKind[];

/** Node's hashes (faster than hash-wasm, and these need no saved state: a restart hashes again from byte 0). */
class InlineHashes {
  private readonly hashes: Map<DigestKind, Hash>;

  constructor(which: InlineDigests) {
    const kinds: readonly DigestKind[] = which === true ? ['sha256'] : which === false ? [] : which;
    this.hashes = new Map(kinds.map((k) => [k, createHash(k)]));
  }

  get any(): boolean {
    return this.hashes.size > 0;
  }

  update(data: Buffer): void {
    for (const h of this.hashes.values()) h.update(data);
  }

  digests(): { sha256: string | null; md5?: string | null } {
    const sha256 = this.hashes.get('sha256')?.digest('hex') ?? null;
    const md5 = this.hashes.get('md5')?.digest('hex');
    return md5 === undefined ? { sha256 } : { sha256, md5 };
  }
}

export async function writeWithBackpressure(stream: Writable, data: Buffer): Promise<void> {
  if (stream.destroyed) throw (stream as unknown as { errored?: Error }).errored ?? new Error('the stream is closed');
  if (!stream.write(data)) await once(stream, 'drain');
}

/** The extractor's resume interface (see extractor.ts): checkpoints the job persists, and resume from one. */
interface Checkpointable {
  checkpoint(): Promise<ExtractCheckpointData | null>;
  readonly checkpointUnsupportedReason: string | null;
}

export class ExtractSink implements StreamSink {
  private readonly extractor: Extractor;
  private readonly hash: InlineHashes;
  private failure: Error | null = null;

  /** `inline`: the digests hashed here (single stream); ranged jobs hash from the chunk files, resumably. */
  constructor(options: Omit<ExtractOptions, 'resumeFrom'> & { resumeFrom?: ExtractCheckpointData }, inline: InlineDigests) {
    // The extraction code (tar, decoders, writer) is loaded by the first extraction, not by every start.
    const { Extractor } = require('../extract/extractor') as typeof import('../extract/extractor');
    // A saved checkpoint is opaque here: the extractor checks it (extractCheckpointProblem) before it trusts it.
    this.extractor = new Extractor(options as unknown as ExtractOptions);
    this.hash = new InlineHashes(inline);
    // The extractor reports archive errors through done(); keep an 'error' listener so none is unhandled.
    this.extractor.on('error', (err: Error) => {
      this.failure ??= err;
    });
  }

  get consumed(): number {
    return this.extractor.bytesIn;
  }

  get written(): number {
    return this.extractor.bytesWritten;
  }

  async write(data: Buffer): Promise<void> {
    if (this.failure) throw await this.settledError();
    this.hash.update(data);
    try {
      await writeWithBackpressure(this.extractor, data);
    } catch {
      throw await this.settledError();
    }
  }

  /** True when the extractor can hand out checkpoints (the API exists and the format allows it). */
  get canCheckpoint(): boolean {
    const c = this.extractor as unknown as Partial<Checkpointable>;
    return typeof c.checkpoint === 'function' && !c.checkpointUnsupportedReason;
  }

  get checkpointUnsupportedReason(): string | null {
    const c = this.extractor as unknown as Partial<Checkpointable>;
    if (typeof c.checkpoint !== 'function') return 'this build cannot checkpoint extraction';
    return c.checkpointUnsupportedReason ?? null;
  }

  /**
   * The checkpoint asked for cannot come without more input: it still waits for a point (a block boundary)
   * and the extractor has examined every byte it was given. A consumer waiting for that checkpoint would wait
   * for itself.
   */
  get checkpointNeedsInput(): boolean {
    return this.extractor.checkpointInProgress === 'awaiting-point' && this.extractor.writableLength === 0;
  }

  /** The next point extraction can resume from, once durable; null when the format cannot be checkpointed. */
  async checkpoint(): Promise<ExtractCheckpointData | null> {
    if (!this.canCheckpoint) return null;
    return (this.extractor as unknown as Checkpointable).checkpoint();
  }

  async finish(): Promise<SinkResult> {
    this.extractor.end();
    const result = await this.extractor.done();
    return { ...result, ...this.hash.digests() };
  }

  async abort(err: Error): Promise<void> {
    this.extractor.destroy(err);
    await this.extractor.done().catch(() => undefined);
  }

  /** The extractor's own error (with its code and offset) is more useful than a generic write failure. */
  private async settledError(): Promise<Error> {
    try {
      await this.extractor.done();
    } catch (err) {
      return err as Error;
    }
    return this.failure ?? new Error('the extractor stopped');
  }
}

/** Download-only from one stream: appends it to the output file; `consumed` equals the file's committed length. */
export class OutputFileSink implements StreamSink {
  private position: number;

  private constructor(
    private readonly path: string,
    private readonly handle: fsp.FileHandle,
    start: number,
    private readonly hash: InlineHashes,
  ) {
    this.position = start;
  }

  /** Opens `path`, keeping its first `keep` bytes (already verified by the caller) and hashing them again if needed. */
  static async open(path: string, keep: number, digests: InlineDigests): Promise<OutputFileSink> {
    const handle = await fsp.open(path, keep > 0 ? 'r+' : 'w');
    await handle.truncate(keep);
    const hash = new InlineHashes(digests);
    if (hash.any && keep > 0) {
      const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
      for (let pos = 0; pos < keep; ) {
        const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, keep - pos), pos);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
    }
    return new OutputFileSink(path, handle, keep, hash);
  }

  get consumed(): number {
    return this.position;
  }

  get written(): number {
    return this.position;
  }

  async write(data: Buffer): Promise<void> {
    try {
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten } = await this.handle.write(data, offset, data.length - offset, this.position + offset);
        offset += bytesWritten;
      }
    } catch (err) {
      throw toEngineError(Object.assign(err as Error, { path: this.path }), 'E_IO');
    }
    this.hash.update(data);
    this.position += data.length;
  }

  async finish(): Promise<SinkResult> {
    await this.handle.sync();
    await this.handle.close();
    return { format: 'raw', entries: 0, bytesWritten: this.position, skipped: [], skippedByCode: {}, ...this.hash.digests() };
  }

  async abort(): Promise<void> {
    await this.handle.sync().catch(() => undefined);
    await this.handle.close().catch(() => undefined);
  }
}
