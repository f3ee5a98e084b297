// What a checkpoint needs of the writer: every file completed and every directory whose entries changed
// since the last checkpoint, made durable before the checkpoint is kept. Recorded as the members are
// written, fsynced (or covered by one syncfs) in the background when asked.
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { bytePathFs as fsp } from '../byte-path-fs';
import { syncFileSystem } from '../filesystem-sync';
import { O_NOFOLLOW } from './file-modes';
import type { EngineError } from '../../errors';

/**
 * Files (and directories) fsynced at once when a checkpoint makes the work so far durable. Two: the
 * fsyncs share libuv's thread pool (4 threads) with the extraction's own writes, which go on meanwhile.
 */
const SYNC_CONCURRENCY = 2;
/** Paths to sync from which one syncfs is cheaper than a reopen + fsync of each. */
const SYNCFS_MIN_PATHS = 64;
/** Completed files awaiting fsync before they are synced in the background anyway (bounds memory). */
const MAX_UNSYNCED = 16384;

export class Durability {
  /** Files completed, and directories whose entries changed, since the last sync (absolute paths). */
  private unsyncedFiles: string[] = [];
  private unsyncedDirs = new Set<string>();
  /** Syncs under way: of what was recorded, and of members' own sinks (see FileSink.sync). */
  private readonly pendingSyncs = new Set<Promise<void>>();
  private syncError: unknown = null;
  private _stopped = false;

  constructor(
    private readonly root: string,
    private readonly platform: NodeJS.Platform,
    /** Off for formats that cannot be checkpointed: nothing is recorded. */
    private readonly enabled: boolean,
    private readonly failure: (err: unknown) => EngineError,
  ) {}

  /** A file was completed at `abs` (isFile), or an entry of its directory changed. */
  changed(abs: string, isFile: boolean): void {
    if (!this.enabled) return;
    if (isFile) this.unsyncedFiles.push(abs);
    this.unsyncedDirs.add(dirname(abs));
    if (this.unsyncedFiles.length >= MAX_UNSYNCED) this.startSync();
  }

  /** Syncs what was recorded until now; resolves when that and every sync before it are done. */
  syncCompleted(): Promise<void> {
    this.startSync();
    return Promise.all([...this.pendingSyncs]).then(() => {
      if (this.syncError) throw this.failure(this.syncError);
    });
  }

  /** A member's own fsync, awaited by `idle()` and by a stop. It must not reject. */
  track(sync: Promise<void>): void {
    this.pendingSyncs.add(sync);
    void sync.finally(() => this.pendingSyncs.delete(sync));
  }

  /** The extraction is stopping: descriptors are being closed and nothing will be resumed from here. */
  stop(): void {
    this._stopped = true;
  }

  get stopped(): boolean {
    return this._stopped;
  }

  /** The syncs under way now. */
  pending(): Promise<void>[] {
    return [...this.pendingSyncs];
  }

  /** Resolves once the syncs under way now are done (their failures are kept for syncCompleted). */
  idle(): Promise<unknown> {
    return Promise.all([...this.pendingSyncs]);
  }

  /** fsyncs the files and directories recorded so far, in the background (tracked in pendingSyncs). */
  private startSync(): void {
    const files = this.unsyncedFiles;
    const dirs = this.platform === 'win32' ? [] : [...this.unsyncedDirs];
    this.unsyncedFiles = [];
    this.unsyncedDirs = new Set();
    if (files.length === 0 && dirs.length === 0) return;
    const perFile = (): Promise<void> =>
      // Files first, then the directories naming them.
      syncPaths(files, this.platform === 'win32' ? 'r+' : 'r').then(() => syncPaths(dirs, 'r'));
    // Many files: one syncfs covers them all (see filesystem-sync.ts). Few: their own fsyncs, which do not
    // wait for what other programs have dirtied on the same file system. A writer told it runs on another
    // platform (tests) keeps the per-file path it would take there.
    const useSyncfs = files.length + dirs.length >= SYNCFS_MIN_PATHS && this.platform === process.platform;
    const whole = useSyncfs ? syncFileSystem(this.root) : Promise.resolve(false);
    const p = whole
      .then((done) => (done ? undefined : perFile()))
      .catch((err) => {
        this.syncError ??= err;
      });
    this.pendingSyncs.add(p);
    void p.finally(() => this.pendingSyncs.delete(p));
  }
}

/** fsyncs each path (opened without following links), a few at a time; a path gone since is fine. */
async function syncPaths(paths: string[], flags: 'r' | 'r+'): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const path = paths[next++]!;
      let handle: fs.promises.FileHandle;
      try {
        handle = await fsp.open(path, (flags === 'r' ? fs.constants.O_RDONLY : fs.constants.O_RDWR) | O_NOFOLLOW);
      } catch (err) {
        // Replaced by a later member (its own sync covers it), or removed: nothing of ours to sync.
        if (['ENOENT', 'ELOOP', 'EISDIR', 'EPERM', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '')) continue;
        throw err;
      }
      try {
        await handle.sync().catch((err: NodeJS.ErrnoException) => {
          // Some file systems cannot sync a directory: nothing more can be done there.
          if (err.code !== 'EINVAL' && err.code !== 'EPERM' && err.code !== 'EBADF') throw err;
        });
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SYNC_CONCURRENCY, paths.length) }, worker));
}
