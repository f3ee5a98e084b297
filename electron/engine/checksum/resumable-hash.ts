// SHA-256 of the downloaded stream that survives a restart: Node's crypto hash cannot be saved, hash-wasm's
// can (a 116-byte state), so the state is stored with each extraction checkpoint. It reads the staged chunk
// files behind the extractor, which keeps hashing off the path of the bytes into the extractor.
import { promises as fsp } from 'node:fs';
import { createSHA256, type IHasher } from 'hash-wasm';

export class ResumableSha256 {
  private constructor(
    private readonly hasher: IHasher,
    private _position: number,
  ) {}

  static async create(saved?: { state: string; position: number } | null): Promise<ResumableSha256> {
    const hasher = await createSHA256();
    hasher.init();
    if (saved) hasher.load(Buffer.from(saved.state, 'base64'));
    return new ResumableSha256(hasher, saved?.position ?? 0);
  }

  /** Bytes of the stream hashed so far. */
  get position(): number {
    return this._position;
  }

  /** Hashes the stream up to byte `to`, reading it from the chunk files (`pathOf(index)`). */
  async advanceTo(to: number, chunkSize: number, pathOf: (index: number) => string): Promise<void> {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    while (this._position < to) {
      const index = Math.floor(this._position / chunkSize);
      const offsetInChunk = this._position - index * chunkSize;
      const want = Math.min(to - this._position, chunkSize - offsetInChunk, buf.length);
      const handle = await fsp.open(pathOf(index), 'r');
      try {
        const { bytesRead } = await handle.read(buf, 0, want, offsetInChunk);
        if (bytesRead === 0) throw new Error(`chunk file ${pathOf(index)} ends before byte ${offsetInChunk}`);
        this.hasher.update(buf.subarray(0, bytesRead));
        this._position += bytesRead;
      } finally {
        await handle.close();
      }
    }
  }

  /** Hashes bytes that follow `position` directly (a stream that is not staged in chunk files). */
  update(data: Buffer): void {
    this.hasher.update(data);
    this._position += data.length;
  }

  save(): { state: string; position: number } {
    return { state: Buffer.from(this.hasher.save()).toString('base64'), position: this._position };
  }

  digest(): string {
    return this.hasher.digest('hex');
  }
}
