// A ranged download-only job's sink: the output file itself, each range written at its offset by the run
// (see ranged-run.ts and output-syncer.ts), and the digests of the file computed from its complete prefix as
// it grows (see checksum/prefix-digests.ts). The job sees it as a StreamSink: its figures, its end
// (the last sync, then the digests) and, if the origin stops serving ranges, the single stream's writes.
import { promises as fsp } from 'node:fs';
import type { DigestKind } from '../checksum/checksum-text';
import { PrefixDigests } from '../checksum/prefix-digests';
import { EngineError } from '../errors';
import type { Journal } from '../staging/journal';
import { OutputFile, type FileIdentity } from '../staging/output-file';
import { baseRecord, contiguousBytes } from '../staging/output-record';
import { OutputSyncer, type SyncerHost } from './output-syncer';
import type { SinkResult, StreamSink } from './sinks';

export interface DirectOutputPlan {
  path: string;
  size: number;
  chunkSize: number;
  /** Durable bytes from each chunk's start, kept from an earlier run (verified against the file). */
  kept: ReadonlyMap<number, number>;
  kinds: readonly DigestKind[];
}

/** What the syncer needs of the ranged run that writes the output (the rest it takes from the plan). */
export type OutputRunView = Pick<SyncerHost, 'window' | 'records' | 'chunkCount' | 'setChunk' | 'emitWindow' | 'waitForDiskSpace'>;

export class DirectOutputSink implements StreamSink {
  private file: OutputFile | null = null;
  private digestSet: PrefixDigests | null = null;
  private syncer: OutputSyncer | null = null;
  /** Where the single stream writes next, once ranges are given up (see streamFrom). */
  private streamAt: number | null = null;
  private readonly keptBytes: number;

  constructor(readonly plan: DirectOutputPlan) {
    this.keptBytes = [...plan.kept.values()].reduce((a, b) => a + b, 0);
  }

  /**
   * Journals what this run keeps (synced: an earlier run's records must not outlive a file about to be
   * emptied), then opens the output and starts the digests (over the kept prefix first). Returns the run's
   * syncer; the job's end and its stop go through it.
   */
  async begin(journal: Journal, run: OutputRunView): Promise<OutputSyncer> {
    const p = this.plan;
    const before = p.kept.size > 0 ? await identityOf(p.path) : null;
    const lengthOf = (index: number) => Math.min(p.chunkSize, p.size - index * p.chunkSize);
    await journal.append(baseRecord(p.kept, lengthOf, before ?? { dev: 0, ino: 0 }));
    this.file = await OutputFile.open(p.path, p.size, p.kept.size > 0);
    if (p.kinds.length > 0) {
      this.digestSet = await PrefixDigests.start(p.path, p.kinds);
      this.digestSet.hashTo(contiguousBytes(p.kept, p.chunkSize, p.size));
    }
    this.syncer = new OutputSyncer({ ...run, file: this.file, digests: this.digestSet, journal, chunkSize: p.chunkSize, size: p.size, kept: p.kept });
    return this.syncer;
  }

  get digests(): PrefixDigests | null {
    return this.digestSet;
  }

  get consumed(): number {
    return this.keptBytes + (this.file?.written ?? 0);
  }

  get written(): number {
    return this.consumed;
  }

  /** The origin stopped serving ranges: the single stream writes from `offset` on (every byte before it is in). */
  streamFrom(offset: number): void {
    this.streamAt = offset;
  }

  async write(data: Buffer): Promise<void> {
    if (this.streamAt === null || !this.file) throw new EngineError('E_INTERNAL', 'a download written in place takes stream writes only after ranges were given up');
    await this.file.writeAt([data], this.streamAt);
    this.streamAt += data.length;
    this.digestSet?.hashTo(this.streamAt);
  }

  async finish(): Promise<SinkResult> {
    const file = this.file!;
    await file.datasync();
    const values = this.digestSet ? await this.digestSet.digest(this.plan.size) : {};
    await file.close();
    return {
      format: 'raw',
      entries: 0,
      bytesWritten: this.plan.size,
      skipped: [],
      skippedByCode: {},
      sha256: values.sha256 ?? null,
      ...(values.md5 ? { md5: values.md5 } : {}),
    };
  }

  /** The job stops: what is in the file is made durable and journaled (a restart fetches only the rest). */
  async abort(): Promise<void> {
    await this.syncer?.lastRound();
    await this.digestSet?.close();
    await this.file?.close();
  }
}

async function identityOf(path: string): Promise<FileIdentity | null> {
  const st = await fsp.stat(path).catch(() => null);
  return st ? { dev: st.dev, ino: st.ino } : null;
}
