// Jobs in a worker thread. The manager's thread only forwards commands and receives event batches, so
// its event loop stays free for IPC while the worker inflates and parses at full speed.
import { Worker } from 'node:worker_threads';
import type { SerializedError } from '../errors';
import { join } from 'node:path';
import type { AttemptRecord, PauseReason } from '../events';
import type { FromWorker, ToWorker, WorkerData } from './protocol';
import type { JobOptions, JobRunner, RunnerListeners } from './runner';

export interface WorkerRunnerOptions {
  /** Module exporting `Job`; defaults to the engine's electron/engine/job/job.js. */
  jobModule?: string;
  batchMs?: number;
}

export class WorkerRunner implements JobRunner {
  readonly kind = 'worker' as const;
  private worker: Worker | null = null;
  private listeners: RunnerListeners | null = null;
  private readonly running = new Set<string>();
  private readonly requests = new Map<number, (message: FromWorker) => void>();
  private nextRequest = 1;
  private readonly data: WorkerData;

  constructor(options: WorkerRunnerOptions = {}) {
    this.data = {
      jobModule: options.jobModule ?? join(__dirname, '..', 'job', 'job.js'),
      batchMs: options.batchMs ?? 25,
    };
  }

  setListeners(listeners: RunnerListeners): void {
    this.listeners = listeners;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(join(__dirname, 'job-worker.js'), { workerData: this.data });
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (err) => this.onWorkerGone(worker, err));
    worker.on('exit', (code) => this.onWorkerGone(worker, new Error(`the engine worker exited with code ${code}`)));
    this.worker = worker;
    this.updateRef();
    return worker;
  }

  /** The worker keeps the process alive only while a job runs in it (its sockets live in the worker). */
  private updateRef(): void {
    if (!this.worker) return;
    if (this.running.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private onMessage(message: FromWorker): void {
    switch (message.t) {
      case 'events':
        this.listeners?.events(message.events);
        break;
      case 'settled':
        this.running.delete(message.id);
        this.updateRef();
        this.listeners?.settled(message.id, message.outcome);
        break;
      case 'history':
      case 'replaced':
      case 'stopped-all': {
        const reply = this.requests.get(message.requestId);
        this.requests.delete(message.requestId);
        reply?.(message);
        break;
      }
    }
  }

  /** A crashed worker fails its jobs (they stay resumable: the journal is on disk) and is replaced on demand. */
  private onWorkerGone(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    for (const reply of this.requests.values()) reply({ t: 'history', requestId: 0, records: [] });
    this.requests.clear();
    const lost = [...this.running];
    this.running.clear();
    for (const id of lost) {
      this.listeners?.settled(id, {
        ok: false,
        error: { code: 'E_INTERNAL', message: 'The engine worker stopped; resume the job to continue.', retryable: true, causes: [{ message: err.message }] },
      });
    }
  }

  private send(message: ToWorker): void {
    this.ensureWorker().postMessage(message);
  }

  start(id: string, options: JobOptions): void {
    if (this.running.has(id)) return;
    this.running.add(id);
    this.send({ op: 'start', id, options });
    this.updateRef();
  }
  isRunning(id: string): boolean {
    return this.running.has(id);
  }
  pause(id: string, reason: PauseReason): void {
    if (this.running.has(id)) this.send({ op: 'pause', id, reason });
  }
  resume(id: string): void {
    if (this.running.has(id)) this.send({ op: 'resume', id });
  }
  cancel(id: string): void {
    if (this.running.has(id)) this.send({ op: 'cancel', id });
  }
  retryChunkNow(id: string, index: number): void {
    if (this.running.has(id)) this.send({ op: 'retryChunkNow', id, index });
  }
  setRateLimit(id: string, bytesPerSecond: number | null): void {
    if (this.running.has(id)) this.send({ op: 'setRateLimit', id, bytesPerSecond });
  }

  private request(message: ToWorker & { requestId: number }): Promise<FromWorker> {
    return new Promise((resolve) => {
      this.requests.set(message.requestId, resolve);
      this.send(message);
    });
  }

  async chunkHistory(id: string, index: number): Promise<AttemptRecord[]> {
    if (!this.running.has(id)) return [];
    const reply = await this.request({ op: 'history', id, index, requestId: this.nextRequest++ });
    return reply.t === 'history' ? reply.records : [];
  }

  async replaceUrl(id: string, url: string): Promise<SerializedError | null> {
    if (!this.running.has(id)) return { code: 'E_CONFLICT', message: 'The job is not running.', retryable: false, causes: [] };
    const reply = await this.request({ op: 'replaceUrl', id, url, requestId: this.nextRequest++ });
    return reply.t === 'replaced' ? reply.error : null;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.request({ op: 'stopAll', requestId: this.nextRequest++ });
    this.worker = null;
    await worker.terminate();
  }
}
