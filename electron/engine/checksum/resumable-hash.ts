// SHA-256 of the downloaded stream that survives a restart, in the shape the job has always used
// (`{state, position}` in each checkpoint's `sha256`): a view of the digest set with SHA-256 alone.
import { ResumableDigests } from './digest-set';

export class ResumableSha256 {
  private constructor(private readonly set: ResumableDigests) {}

  static async create(saved?: { state: string; position: number } | null): Promise<ResumableSha256> {
    return new ResumableSha256(await ResumableDigests.create(['sha256'], saved ? { sha256: saved } : null));
  }

  /** Bytes of the stream hashed so far. */
  get position(): number {
    return this.set.position;
  }

  /** Hashes the stream up to byte `to`, reading it from the chunk files (`pathOf(index)`). */
  advanceTo(to: number, chunkSize: number, pathOf: (index: number) => string): Promise<void> {
    return this.set.advanceTo(to, chunkSize, pathOf);
  }

  /** Hashes bytes that follow `position` directly (a stream that is not staged in chunk files). */
  update(data: Buffer): void {
    this.set.update(data);
  }

  save(): { state: string; position: number } {
    return this.set.save().sha256!;
  }

  digest(): string {
    return this.set.digest().sha256!;
  }
}
