// The writer's work taken off a member's critical path: small files created, filled, timed and closed
// whole, and large files' closes (with their mtime), a bounded number at once so that many small
// members cost no round trip each. Also the descriptors still open, so a stop closes every one.
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import type { EngineError } from '../../errors';

/** Background closes allowed at once before a new member waits (many small files stay fast). */
const MAX_PENDING_CLOSES = 64;
/** Small files written whole in the background at once (several batches of the creation pool), and their bytes held in memory. */
const MAX_PENDING_FILES = 512;
const MAX_PENDING_FILE_BYTES = 32 * 1024 * 1024;

const close = promisify(fs.close);
const futimes = promisify(fs.futimes);

export class BackgroundIo {
  /** Small files being created in the background, by folded name: a later member on that name waits. */
  private readonly pendingFiles = new Map<string, Promise<void>>();
  private pendingFileBytes = 0;
  private backgroundError: EngineError | null = null;
  private readonly pendingCloses = new Set<Promise<void>>();
  private closeError: unknown = null;
  /** Descriptors of files still being written: closed by abort() so a stopped extraction leaks none. */
  private readonly openFds = new Set<number>();
  /** Files reopened on resume (closed by abort() if the extraction stops). */
  private readonly openHandles = new Set<fs.promises.FileHandle>();

  constructor(
    /** A file was closed at `abs` (it is complete). */
    private readonly closed: (abs: string) => void,
    private readonly failure: (err: unknown) => EngineError,
    /** Sends the small files queued for creation (see CreationPool.flush): called before any wait on them. */
    private readonly beforeWait: () => void = () => undefined,
  ) {}

  /** The first failure of a small file written in the background, if any. */
  get error(): EngineError | null {
    return this.backgroundError;
  }

  /** The small file still being written on this folded name, if any: a later member on the name waits for it. */
  pendingWrite(folded: string): Promise<void> | undefined {
    const pending = this.pendingFiles.get(folded);
    if (pending) this.beforeWait();
    return pending;
  }

  /**
   * Runs `write` (a small file's whole creation, `size` bytes) off the member's path; resolves once few
   * enough are pending, in count and bytes. A failure goes through `failed`: the error it returns is
   * thrown by the next member, none means the failure was reported as a warning.
   */
  async write(folded: string, size: number, write: () => Promise<void>, failed: (err: unknown) => EngineError | null): Promise<void> {
    const job = write().catch((err) => {
      const e = failed(err);
      if (e) this.backgroundError ??= e;
    });
    const tracked = job.finally(() => {
      this.pendingFileBytes -= size;
      if (this.pendingFiles.get(folded) === tracked) this.pendingFiles.delete(folded);
    });
    this.pendingFiles.set(folded, tracked);
    this.pendingFileBytes += size;
    while (this.pendingFiles.size >= MAX_PENDING_FILES || this.pendingFileBytes > MAX_PENDING_FILE_BYTES) {
      this.beforeWait();
      await Promise.race(this.pendingFiles.values());
    }
  }

  /** Sinks' writes in flight: abort() lets them land before closing, so none can write into a reused descriptor. */
  private readonly writesInFlight = new Set<Promise<void>>();

  /** A sink's write in flight (it never rejects: the sink keeps its failure). */
  writing(p: Promise<void>): void {
    this.writesInFlight.add(p);
    void p.finally(() => this.writesInFlight.delete(p));
  }

  /** A descriptor (or a reopened file's handle) now being written through a sink. */
  opened(fd: number, handle: fs.promises.FileHandle | null): void {
    if (handle) this.openHandles.add(handle);
    else this.openFds.add(fd);
  }

  /** Closes a sink's file at once after a failed write, unless abort() closed it already. */
  async closeNow(fd: number, handle: fs.promises.FileHandle | null): Promise<void> {
    if (this.release(fd, handle)) await (handle ? handle.close() : close(fd)).catch(() => undefined);
  }

  /** Restores the mtime and closes off the member's path; resolves once few enough closes are pending. */
  async closeInBackground(fd: number, handle: fs.promises.FileHandle | null, mtime: number | null, abs: string): Promise<void> {
    if (!this.release(fd, handle)) return; // already closed by abort()
    const p = (async () => {
      try {
        if (mtime !== null) await futimes(fd, Date.now() / 1000, mtime);
      } finally {
        if (handle) await handle.close();
        else await close(fd);
      }
      this.closed(abs);
    })().catch((err) => {
      this.closeError ??= err;
    });
    this.pendingCloses.add(p);
    void p.finally(() => this.pendingCloses.delete(p));
    if (this.pendingCloses.size >= MAX_PENDING_CLOSES) await Promise.race(this.pendingCloses);
    if (this.closeError) throw this.failure(this.closeError);
  }

  /** Waits for the small files and the closes begun so far; throws the first failure of either. */
  async settle(): Promise<void> {
    this.beforeWait();
    await Promise.all([...this.pendingFiles.values()]);
    if (this.backgroundError) throw this.backgroundError;
    await Promise.all([...this.pendingCloses]);
    if (this.closeError) throw this.failure(this.closeError);
  }

  /** Closes every descriptor still open and waits for the background work (and `others`); errors are dropped. */
  async abort(others: Promise<void>[]): Promise<void> {
    await Promise.allSettled([...this.writesInFlight]);
    const open = [...this.openFds];
    this.openFds.clear();
    const handles = [...this.openHandles];
    this.openHandles.clear();
    this.beforeWait();
    await Promise.allSettled([...this.pendingFiles.values(), ...this.pendingCloses, ...others, ...open.map((fd) => close(fd)), ...handles.map((h) => h.close())]);
  }

  /** False when the file was closed already (by abort()). */
  private release(fd: number, handle: fs.promises.FileHandle | null): boolean {
    return handle ? this.openHandles.delete(handle) : this.openFds.delete(fd);
  }
}
