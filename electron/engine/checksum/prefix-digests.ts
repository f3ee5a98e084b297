// The digests of a file written out of order (a download written in place, see staging/output-file.ts):
// the bytes are hashed in order, from byte 0 as far as the file is complete, by reading them back while the
// download goes on, in a worker thread (prefix-digests-worker.ts) so that hashing never holds up the
// download's thread. Reading back costs a copy from the page cache; hashing from memory would cost the same
// copy to hand the bytes to the worker, on the download's thread.
//
// Node's hashes cannot save their state, so a restart hashes the kept bytes again, from the file, while the
// rest downloads: nothing is fetched again for them. hash-wasm's can (digest-set.ts, used by extraction's
// checkpoints), at a sixth of the speed: resumable that way, --sha256 took a 257 MiB download on loopback
// from 1.4 s to 2.3 s; this way, a restart at byte N costs a local read of N bytes at up to 1.3 GB/s.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EngineError } from '../errors';
import type { DigestKind } from './checksum-text';
import type { DigestValues } from './digest-set';

export interface DigestWorkerData {
  digestWorker: true;
  path: string;
  kinds: DigestKind[];
}

export type ToDigestWorker = { t: 'to'; offset: number } | { t: 'digest'; id: number; offset: number };

export type FromDigestWorker =
  | { t: 'ready' }
  | { t: 'at'; position: number }
  | { t: 'digest'; id: number; values: DigestValues }
  | { t: 'error'; message: string; code: string | null };

export class PrefixDigests {
  private failure: EngineError | null = null;
  private posted = 0;
  private hashed = 0;
  private closed = false;
  private result: { resolve: (v: DigestValues) => void; reject: (e: Error) => void } | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly path: string,
  ) {
    worker.on('message', (m: FromDigestWorker) => {
      if (m.t === 'error') this.fail(new EngineError('E_IO', `The checksum of ${path} could not be computed: ${m.message}`, { details: { code: m.code } }));
      else if (m.t === 'at') this.hashed = m.position;
      else if (m.t === 'digest') this.result?.resolve(m.values);
    });
    worker.on('error', (err) => this.fail(new EngineError('E_INTERNAL', `The checksum worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new EngineError('E_INTERNAL', `The checksum worker exited (code ${code}) before the checksum was computed.`));
    });
  }

  /** Digests of `kinds` over `path` from byte 0. */
  static async start(path: string, kinds: readonly DigestKind[]): Promise<PrefixDigests> {
    const data: DigestWorkerData = { digestWorker: true, path, kinds: [...kinds] };
    const worker = new Worker(join(__dirname, 'prefix-digests-worker.js'), { workerData: data });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: FromDigestWorker) => {
        worker.off('error', reject);
        if (m.t === 'ready') resolve();
        else reject(new EngineError('E_IO', `The checksum of ${path} could not be started: ${m.t === 'error' ? m.message : m.t}`));
      });
      worker.once('error', reject);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    return new PrefixDigests(worker, path);
  }

  /** Why the digests cannot go on, if they cannot. */
  get error(): EngineError | null {
    return this.failure;
  }

  /** Bytes from byte 0 hashed so far. */
  get position(): number {
    return this.hashed;
  }

  /** The file's bytes [0, offset) are written: they are hashed in the background. */
  hashTo(offset: number): void {
    if (offset <= this.posted || this.failure || this.closed) return;
    this.posted = offset;
    this.worker.postMessage({ t: 'to', offset } satisfies ToDigestWorker);
  }

  /** The digests of the file's first `size` bytes (every one written); the worker ends. */
  async digest(size: number): Promise<DigestValues> {
    if (this.failure) throw this.failure;
    const values = new Promise<DigestValues>((resolve, reject) => {
      this.result = { resolve, reject };
    });
    this.worker.postMessage({ t: 'digest', id: 1, offset: size } satisfies ToDigestWorker);
    try {
      return await values;
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.result?.reject(new EngineError('E_ABORTED', `The checksum of ${this.path} was stopped.`));
    await this.worker.terminate();
  }

  private fail(e: EngineError): void {
    this.failure ??= e;
    this.result?.reject(this.failure);
  }
}
