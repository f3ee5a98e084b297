// Small files created on a few threads at once. On a small-file tree the time goes into the kernel's file
// creation (openat with O_CREAT), one file after the other in GNU tar and in a single-threaded writer;
// several threads creating at once finish the same files in a fraction of the time (see docs/design.md,
// "Small files"). Files go out in batches (one message, their bytes in one transferred buffer) to the
// thread with the least work, so a file costs no message of its own; until a thread is ready, a batch is
// created in the event loop as before, so a job pays no thread start before its first files land.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { osPath } from '../byte-names';
import type { CreationBatch, CreationFile, CreationReply, CreationResult } from './creation-protocol';
import { createBatch } from './create-whole';

/**
 * A batch goes out once it holds this many files or bytes, when the writer is about to wait on one of its
 * files (flush()), or after FLUSH_AFTER_MS (an archive that stalls mid-way still gets its files written).
 */
const BATCH_FILES = 64;
const BATCH_BYTES = 2 * 1024 * 1024;
const FLUSH_AFTER_MS = 20;
/** Buffers handed back by the threads and kept for later batches (a batch holds at most one small file more than BATCH_BYTES). */
const SPARE_BUFFERS = 8;
const BUFFER_BYTES = BATCH_BYTES + 256 * 1024;

export type CreationOutcome = 'created' | 'existing-directory';

interface Waiting {
  resolve: (outcome: CreationOutcome) => void;
  reject: (err: Error) => void;
}

interface Pending {
  file: Omit<CreationFile, 'start' | 'end'>;
  data: Buffer[];
  size: number;
  waiting: Waiting;
}

interface PoolThread {
  worker: Worker;
  /** Started and listening: until then batches are created in the event loop (a thread takes tens of ms to start). */
  ready: boolean;
  batches: Map<number, Waiting[]>;
}

export class CreationPool {
  private readonly threads: PoolThread[] = [];
  private queued: Pending[] = [];
  private queuedBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private nextBatch = 1;
  private readonly spare: ArrayBuffer[] = [];
  private closed = false;

  constructor(
    /** Threads at most (started as work comes). */
    private readonly size: number,
    private readonly flags: number,
  ) {}

  /** Creates `path` exclusively with `data`, its mode and mtime, replacing what was there (see creation-worker.ts). */
  create(path: string, mode: number, mtime: number, data: Buffer[]): Promise<CreationOutcome> {
    if (this.closed) return Promise.reject(new Error('the file creation threads were stopped'));
    return new Promise<CreationOutcome>((resolve, reject) => {
      let size = 0;
      for (const b of data) size += b.length;
      this.queued.push({ file: { path: osPath(path), mode, mtime }, data, size, waiting: { resolve, reject } });
      this.queuedBytes += size;
      if (this.queued.length >= BATCH_FILES || this.queuedBytes >= BATCH_BYTES) this.flush();
      else if (!this.flushTimer) {
        this.flushTimer = setTimeout(() => this.flush(), FLUSH_AFTER_MS);
      }
    });
  }

  /** Sends what is queued now (a caller about to wait on it must not wait for the end of the turn). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.queued.length === 0 || this.closed) return;
    const queued = this.queued;
    this.queued = [];
    const data = this.buffer(this.queuedBytes);
    this.queuedBytes = 0;
    const bytes = new Uint8Array(data);
    const files: CreationFile[] = [];
    let at = 0;
    for (const q of queued) {
      const start = at;
      for (const b of q.data) {
        bytes.set(b, at);
        at += b.length;
      }
      files.push({ ...q.file, start, end: at });
    }
    const batch: CreationBatch = { id: this.nextBatch++, flags: this.flags, files, data };
    const thread = this.leastBusy();
    if (!thread) {
      createBatch(batch).forEach((r, i) => settle(queued[i]!.waiting, r));
      this.keepSpare(data);
      return;
    }
    thread.batches.set(
      batch.id,
      queued.map((q) => q.waiting),
    );
    // Held while it has work: a caller waiting only on these files must keep the process alive.
    if (thread.batches.size === 1) thread.worker.ref();
    thread.worker.postMessage(batch, [data]);
  }

  /** Stops the threads once the batches sent have been answered (pending creations are waited for by the caller). */
  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
    for (const t of threads) this.failAll(t, new Error('the file creation threads were stopped'));
  }

  private buffer(bytes: number): ArrayBuffer {
    if (bytes > BUFFER_BYTES) return new ArrayBuffer(bytes);
    return this.spare.pop() ?? new ArrayBuffer(BUFFER_BYTES);
  }

  /** The ready thread with the least work (a thread is started when all are busy and there is room); null: none is ready yet. */
  private leastBusy(): PoolThread | null {
    let best: PoolThread | null = null;
    for (const t of this.threads) if (t.ready && (!best || t.batches.size < best.batches.size)) best = t;
    const starting = this.threads.some((t) => !t.ready);
    if ((!best || best.batches.size > 0) && !starting && this.threads.length < this.size) this.start();
    return best;
  }

  private start(): void {
    const worker = new Worker(join(__dirname, 'creation-worker.js'));
    // An idle thread never keeps a process alive (see flush(): one with work does).
    worker.unref();
    const thread: PoolThread = { worker, ready: false, batches: new Map() };
    worker.on('online', () => {
      thread.ready = true;
    });
    worker.on('message', (reply: CreationReply) => this.answered(thread, reply));
    worker.on('error', (err) => this.lost(thread, err));
    worker.on('exit', (code) => this.lost(thread, new Error(`a file creation thread exited (code ${code})`)));
    this.threads.push(thread);
  }

  private answered(thread: PoolThread, reply: CreationReply): void {
    const waiting = thread.batches.get(reply.id);
    if (!waiting) return;
    thread.batches.delete(reply.id);
    if (thread.batches.size === 0) thread.worker.unref();
    this.keepSpare(reply.data);
    reply.results.forEach((r, i) => settle(waiting[i]!, r));
  }

  private keepSpare(data: ArrayBuffer): void {
    if (data.byteLength === BUFFER_BYTES && this.spare.length < SPARE_BUFFERS) this.spare.push(data);
  }

  private lost(thread: PoolThread, err: Error): void {
    const i = this.threads.indexOf(thread);
    if (i >= 0) this.threads.splice(i, 1);
    this.failAll(thread, err);
  }

  private failAll(thread: PoolThread, err: Error): void {
    for (const waiting of thread.batches.values()) for (const w of waiting) w.reject(err);
    thread.batches.clear();
  }
}

function settle(w: Waiting, r: CreationResult): void {
  if ('ok' in r) w.resolve('created');
  else if ('skip' in r) w.resolve('existing-directory');
  else w.reject(Object.assign(new Error(r.error.message), r.error));
}
