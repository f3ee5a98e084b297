// Writes archive members into the destination without ever leaving it: every parent component is a real
// directory (checked with lstat, never followed), files are created with O_CREAT|O_EXCL|O_NOFOLLOW after
// unlinking whatever was there, links are checked before they are made, modes are masked, owners ignored.
// An unsafe member is reported and skipped, or, in strict mode, stops the extraction.
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { ArchiveError, DiskFullError, EngineError } from '../errors';
import { EntryTally } from './entry-tally';
import type { EntryHeader, EntryWarningCode, SkippedEntry } from './extract-types';
import { bytePathFs, openFd } from './byte-path-fs';
import { syncFileSystem } from './filesystem-sync';
import { checkSymlinkTarget, containedPath, foldKey, sanitizeEntryPath } from './safe-path';
import type { ExtractLimits } from './tar-limits';

const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
// O_NOFOLLOW does not exist on Windows; there O_EXCL already refuses an existing link.
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

const writev = promisify(fs.writev);
// Paths may hold non-UTF-8 bytes from the archive (see extract/byte-names.ts).
const fsp = bytePathFs;

/** Mode bits kept: permissions only. setuid, setgid and sticky are dropped, like GNU tar for a non-root user. */
const PERMISSION_BITS = 0o777;
/** Background closes allowed at once before a new member waits (many small files stay fast). */
const MAX_PENDING_CLOSES = 64;
/** Small files written whole in the background at once, and their bytes held in memory. */
const MAX_PENDING_FILES = 64;
const MAX_PENDING_FILE_BYTES = 32 * 1024 * 1024;
/**
 * Files (and directories) fsynced at once when a checkpoint makes the work so far durable. Two: the
 * fsyncs share libuv's thread pool (4 threads) with the extraction's own writes, which go on meanwhile.
 */
const SYNC_CONCURRENCY = 2;
/** Paths to sync from which one syncfs is cheaper than a reopen + fsync of each. */
const SYNCFS_MIN_PATHS = 64;
/** Completed files awaiting fsync before they are synced in the background anyway (bounds memory). */
const MAX_UNSYNCED = 16384;

export interface EntryWarning extends SkippedEntry {
  /** True when the member was not extracted; false when it was extracted with a change (root stripped, mode masked). */
  skipped: boolean;
}

export interface SafeWriterOptions {
  dest: string;
  limits: ExtractLimits;
  strict?: boolean;
  platform?: NodeJS.Platform;
  onWarning?: (w: EntryWarning) => void;
  /**
   * Remember every file and directory changed since the last `syncCompleted()`, so a checkpoint can make
   * them durable. Off for formats that cannot be checkpointed.
   */
  trackDurability?: boolean;
  /** The state saved with a checkpoint, when this writer continues an extraction after a restart. */
  resumeFrom?: WriterState;
  /**
   * An earlier run of this job extracted into this (then empty) destination and there is no checkpoint to
   * continue from: a regular file already there with the member's size and modification time (stamped only
   * after its last byte was written) is complete, and is kept instead of written again.
   */
  reuseComplete?: boolean;
}

/** What a checkpoint keeps of the writer: counters, reports, and directory metadata still to apply. */
export interface WriterState {
  entries: number;
  bytesWritten: number;
  /** The first skipped (and altered) members, and counts per code of all of them (see entry-tally.ts). */
  skipped: SkippedEntry[];
  warnings: SkippedEntry[];
  skippedCounts?: Record<string, number>;
  warningCounts?: Record<string, number>;
  /** Directory members' relative path, mode and mtime, applied at the very end. */
  dirMeta: Array<[string, number, number]>;
}

/** The data side of one regular file being written. Writes are sequential; `end` closes in the background. */
export interface FileSink {
  readonly path: string;
  /** The file's path relative to the destination, '/'-separated, as the writer resolved it. */
  readonly key: string;
  write(buffers: Buffer[]): Promise<void>;
  /** Moves where the next write lands (a sparse file skips its holes). */
  seek(position: number): void;
  /** Sets the file's length (a sparse file ending in a hole). */
  truncate(size: number): Promise<void>;
  /** Makes the bytes written so far durable (a resume checkpoint needs it). */
  sync(): Promise<void>;
  end(): Promise<void>;
}

type SeenType = 'file' | 'directory' | 'symlink';

/** Thrown internally to skip a member; turned into a warning (or a fatal error in strict mode). */
class Skip {
  constructor(
    readonly code: EntryWarningCode,
    readonly reason: string,
  ) {}
}

export class SafeWriter {
  private readonly root: string;
  private readonly limits: ExtractLimits;
  private readonly strict: boolean;
  private readonly platform: NodeJS.Platform;
  private readonly onWarning: ((w: EntryWarning) => void) | undefined;
  private readonly umask = currentUmask();
  /** Relative paths verified (or created) as real directories during this run. */
  private readonly dirs = new Set<string>();
  /** Case- and normalisation-folded names already seen, with their type (kept small: archives hold millions). */
  private readonly seen = new Map<string, SeenType>();
  /** Regular files this archive wrote: the only valid hardlink targets. */
  private readonly written = new Set<string>();
  /** Modes and mtimes of directory members, applied at the end (children would change them). */
  private readonly dirMeta = new Map<string, { mode: number; mtime: number }>();
  private readonly pendingCloses = new Set<Promise<void>>();
  /** abort() has begun: no more fsyncs (see sinkFor.sync). */
  private aborted = false;
  /** Descriptors of files still being written: closed by abort() so a stopped extraction leaks none. */
  private readonly openFds = new Set<number>();
  private closeError: unknown = null;
  /** Small files being created in the background, by folded name: a later member on that name waits. */
  private readonly pendingFiles = new Map<string, Promise<void>>();
  private pendingFileBytes = 0;
  private backgroundError: EngineError | null = null;
  private freeBytes = Number.POSITIVE_INFINITY;
  private _bytesWritten = 0;
  private _entries = 0;
  readonly skipped = new EntryTally();
  readonly warnings = new EntryTally();
  /** Continuing after a restart: files written before it are valid hardlink targets (see checkHardlinkTarget). */
  private readonly resumed: boolean;
  private readonly trackDurability: boolean;
  private readonly reuseComplete: boolean;
  private _reused = 0;
  /** Files completed, and directories whose entries changed, since the last sync (absolute paths). */
  private unsyncedFiles: string[] = [];
  private unsyncedDirs = new Set<string>();
  private readonly pendingSyncs = new Set<Promise<void>>();
  private syncError: unknown = null;
  /** A file reopened on resume (closed by abort() if the extraction stops). */
  private readonly openHandles = new Set<fs.promises.FileHandle>();

  private constructor(root: string, options: SafeWriterOptions) {
    this.root = root;
    this.limits = options.limits;
    this.strict = options.strict ?? false;
    this.platform = options.platform ?? process.platform;
    this.onWarning = options.onWarning;
    this.trackDurability = options.trackDurability ?? false;
    this.reuseComplete = options.reuseComplete ?? false;
    const r = options.resumeFrom;
    this.resumed = r !== undefined;
    if (r) {
      this._entries = r.entries;
      this._bytesWritten = r.bytesWritten;
      this.skipped.restore(r.skipped, r.skippedCounts);
      this.warnings.restore(r.warnings, r.warningCounts);
      for (const [key, mode, mtime] of r.dirMeta) this.dirMeta.set(key, { mode, mtime });
    }
  }

  /** Creates the destination if needed and resolves it once: all later checks are relative to its real path. */
  static async open(options: SafeWriterOptions): Promise<SafeWriter> {
    try {
      await fsp.mkdir(options.dest, { recursive: true });
      const root = await fsp.realpath(options.dest);
      const st = await fsp.stat(root);
      if (!st.isDirectory()) throw new Error(`${options.dest} is not a directory`);
      const writer = new SafeWriter(root, options);
      await writer.refreshFreeSpace();
      return writer;
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw new EngineError('E_DEST_NOT_WRITABLE', `Cannot use ${options.dest} as the destination: ${(err as Error).message}`, {
        cause: err,
        details: { path: options.dest },
      });
    }
  }

  get destination(): string {
    return this.root;
  }

  /** Bytes of file data written into the destination. */
  get bytesWritten(): number {
    return this._bytesWritten;
  }

  /** Files found complete from an earlier run and kept (see reuseComplete). */
  get reused(): number {
    return this._reused;
  }

  /** Members extracted (skipped ones not counted). */
  get entries(): number {
    return this._entries;
  }

  /**
   * Creates one member. With `wholeData` (a regular file's complete content, small), the file is written
   * in the background and null is returned: many small files then cost no round trips each. Else returns a sink when file data must follow, else null (directory, link, or a skipped
   * member, whose data the caller drains). Throws on I/O failure, or for an unsafe member in strict mode.
   */
  async begin(entry: EntryHeader, wholeData: Buffer[] | null = null): Promise<FileSink | null> {
    if (this.backgroundError) throw this.backgroundError;
    try {
      const sink = await this.create(entry, wholeData);
      this._entries++;
      return sink;
    } catch (err) {
      if (err instanceof Skip) {
        this.report(entry, err.code, err.reason, true);
        return null;
      }
      throw this.ioError(err, entry.name);
    }
  }

  /**
   * Reopens a regular file this extraction was writing before a restart, truncated to `offset`, to write
   * the rest of its data (resume). Links are not followed; the file must exist and be regular.
   */
  async resumeFile(entry: EntryHeader, offset: number, expectedKey?: string): Promise<FileSink> {
    const unsafe = (reason: string) =>
      new ArchiveError('E_UNSAFE_ENTRY', `Cannot resume "${entry.name}": ${reason}.`, { details: { entry: entry.name, offset: entry.offset } });
    // Resolved again exactly as when it was begun (its warnings were reported then, and saved).
    const verdict = sanitizeEntryPath(entry.name, this.limits, this.platform);
    if (!verdict.ok) throw unsafe(verdict.reason);
    const parts = verdict.parts;
    if (entry.type !== 'file') throw new ArchiveError('E_INTERNAL', `resumeFile needs a regular file, got ${entry.type}`);
    if (expectedKey !== undefined && parts.join('/') !== expectedKey) throw unsafe(`it resolves to ${parts.join('/')}, not ${expectedKey} as saved`);
    let abs: string;
    try {
      abs = this.absolute(parts);
    } catch (err) {
      throw unsafe((err as Skip).reason);
    }
    try {
      await this.ensureParents(parts, false);
    } catch (err) {
      if (err instanceof Skip) throw unsafe(err.reason);
      throw this.ioError(err, entry.name, abs);
    }
    let fd = await fsp.open(abs, fs.constants.O_RDWR | O_NOFOLLOW).catch((err) => {
      throw this.ioError(err, entry.name, abs);
    });
    try {
      const st = await fd.stat();
      if (!st.isFile()) throw unsafe('it is no longer a regular file');
      if (st.size < offset) throw unsafe(`it holds ${st.size} bytes, fewer than the ${offset} saved as written`);
      if (st.nlink > 1) {
        // Another name shares this file: a later hardlink member written before the crash (made again
        // on resume), or a link made from outside. Either way it must not change: continue in a copy.
        const copy = await this.copyPrefix(fd, abs, offset, entry);
        await fd.close();
        fd = copy;
      } else {
        await fd.truncate(offset);
      }
    } catch (err) {
      await fd.close().catch(() => undefined);
      throw this.ioError(err, entry.name, abs);
    }
    const key = parts.join('/');
    this.written.add(key);
    this.remember(parts, 'file');
    this.openHandles.add(fd);
    return this.sinkFor(fd.fd, abs, key, entry, offset, fd);
  }

  /** A new file holding the first `length` bytes of `from`, renamed over `abs` (which it unlinks from other names). */
  private async copyPrefix(from: fs.promises.FileHandle, abs: string, length: number, entry: EntryHeader): Promise<fs.promises.FileHandle> {
    const temp = `${abs}.resume-${process.pid}-${Date.now()}`;
    const to = await fsp.open(temp, CREATE_FLAGS, entry.mode & PERMISSION_BITS);
    try {
      const buf = Buffer.allocUnsafe(Math.min(length, 1024 * 1024) || 1);
      for (let at = 0; at < length; ) {
        const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, length - at), at);
        if (bytesRead === 0) throw new Error(`the file ended at byte ${at} while copying ${length}`);
        await to.write(buf, 0, bytesRead, at);
        at += bytesRead;
      }
      await fsp.rename(temp, abs);
      return to;
    } catch (err) {
      await to.close().catch(() => undefined);
      await fsp.unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  /** Waits for the members begun so far to be fully written, timed and closed (background work included). */
  async settle(): Promise<void> {
    await Promise.all([...this.pendingFiles.values()]);
    if (this.backgroundError) throw this.backgroundError;
    await this.drainCloses();
  }

  /**
   * Makes the members completed so far durable: fsyncs the files completed and the directories changed
   * since the last call, as recorded at the moment of the call (call it when settled, see settle()); work
   * begun afterwards may go on meanwhile. (The member still being written is synced through its sink.)
   */
  syncCompleted(): Promise<void> {
    this.startSync();
    return Promise.all([...this.pendingSyncs]).then(() => {
      if (this.syncError) throw this.ioError(this.syncError, 'a file');
    });
  }

  /** The state a checkpoint keeps (see WriterState); call when settled. */
  state(): WriterState {
    return {
      entries: this._entries,
      bytesWritten: this._bytesWritten,
      skipped: [...this.skipped.sample],
      warnings: [...this.warnings.sample],
      skippedCounts: this.skipped.byCode(),
      warningCounts: this.warnings.byCode(),
      dirMeta: [...this.dirMeta].map(([key, m]) => [key, m.mode, m.mtime]),
    };
  }

  /** Waits for background closes, then applies directory modes and mtimes, deepest first. */
  async finish(): Promise<void> {
    await this.settle();
    await Promise.all([...this.pendingSyncs]);
    const keys = [...this.dirMeta.keys()].sort((a, b) => depth(b) - depth(a));
    for (const key of keys) {
      const meta = this.dirMeta.get(key)!;
      const parts = key.split('/');
      const abs = this.absolute(parts);
      // After a resume these directories were made by an earlier run: a parent replaced by a link since
      // would send chmod/utimes outside the destination. Every component is checked (lstat, never followed).
      const problem = await this.ensureParents(parts, false).then(
        () => null,
        (err) => {
          if (err instanceof Skip) return err.reason;
          throw this.ioError(err, key);
        },
      );
      if (problem !== null) {
        const w: SkippedEntry = { entry: key, code: 'THROUGH_LINK', reason: `its mode and time were not applied: ${problem}` };
        this.warnings.add(w);
        this.onWarning?.({ ...w, skipped: false });
        continue;
      }
      try {
        const st = await fsp.lstat(abs);
        if (!st.isDirectory()) continue;
        await fsp.chmod(abs, meta.mode);
        await fsp.utimes(abs, meta.mtime, meta.mtime);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw this.ioError(err, key);
      }
    }
  }

  /** Stops: waits for files being closed so no descriptor leaks. Errors are dropped (a failure is already being reported). */
  async abort(): Promise<void> {
    this.aborted = true;
    await Promise.allSettled([...this.pendingSyncs]);
    const open = [...this.openFds];
    this.openFds.clear();
    const handles = [...this.openHandles];
    this.openHandles.clear();
    await Promise.allSettled([
      ...this.pendingFiles.values(),
      ...this.pendingCloses,
      ...this.pendingSyncs,
      ...open.map((fd) => promisify(fs.close)(fd)),
      ...handles.map((h) => h.close()),
    ]);
  }

  // --- durability ----------------------------------------------------------------------------------

  private changed(abs: string, isFile: boolean): void {
    if (!this.trackDurability) return;
    if (isFile) this.unsyncedFiles.push(abs);
    this.unsyncedDirs.add(dirname(abs));
    if (this.unsyncedFiles.length >= MAX_UNSYNCED) this.startSync();
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

  // --- members -------------------------------------------------------------------------------------

  private async create(entry: EntryHeader, wholeData: Buffer[] | null): Promise<FileSink | null> {
    if (entry.type === 'other') {
      throw new Skip('UNSUPPORTED_TYPE', `${entry.rawType} members are not extracted`);
    }
    const parts = this.checkedParts(entry);
    if (parts.length === 0) {
      if (entry.type === 'directory') return null; // `./`: the destination itself, whose mode we leave alone
      throw new Skip('BAD_NAME', 'the member names the destination itself');
    }
    const type: SeenType = entry.type === 'directory' ? 'directory' : entry.type === 'symlink' ? 'symlink' : 'file';
    this.checkCollisions(parts, type);
    if (entry.type === 'symlink') {
      const problem = checkSymlinkTarget(parts, entry.linkname ?? '', this.limits.maxPathBytes);
      if (problem) throw new Skip(problem.code, problem.reason);
    }
    let hardlinkTarget: string | null = null;
    if (entry.type === 'hardlink') hardlinkTarget = await this.checkHardlinkTarget(entry, parts);
    if ((entry.type === 'file' || entry.type === 'directory') && entry.mode & 0o7000) {
      this.report(entry, 'MODE_MASKED', `setuid/setgid/sticky bits (${(entry.mode & 0o7000).toString(8)}) were dropped`, false);
    }
    await this.ensureParents(parts, true);
    const abs = this.absolute(parts);
    const key = parts.join('/');
    await this.pendingFiles.get(foldKey(parts));
    let sink: FileSink | null = null;
    switch (entry.type) {
      case 'directory':
        await this.makeDirectory(abs, key, entry);
        break;
      case 'symlink':
        await this.replaceWith(abs, key, entry, () => fsp.symlink(entry.linkname!, abs));
        await lutimesIfPossible(abs, entry.mtime);
        break;
      case 'hardlink':
        await this.replaceWith(abs, key, entry, () => fsp.link(hardlinkTarget!, abs));
        this.written.add(key);
        break;
      case 'file': {
        if (this.reuseComplete && (await completeFromEarlierRun(abs, entry))) {
          this._reused++;
          this.written.add(key);
          break;
        }
        await this.ensureSpace(entry.sparse?.archiveBytes ?? entry.size, abs);
        if (wholeData) {
          await this.writeInBackground(parts, abs, key, entry, wholeData);
          this.written.add(key);
          break;
        }
        let fd = -1;
        await this.replaceWith(abs, key, entry, async () => {
          fd = await openFd(abs, CREATE_FLAGS, entry.mode & PERMISSION_BITS);
        });
        this.written.add(key);
        sink = this.sinkFor(fd, abs, key, entry, 0, null);
        break;
      }
    }
    // Its directory changed now (a small file's is recorded once it is written, a file itself when closed).
    if (!wholeData) this.changed(abs, false);
    this.remember(parts, type);
    return sink;
  }

  /** Sanitised components of the member's name; reports a stripped root. */
  private checkedParts(entry: EntryHeader): string[] {
    const verdict = sanitizeEntryPath(entry.name, this.limits, this.platform);
    if (!verdict.ok) throw new Skip(verdict.code, verdict.reason);
    if (verdict.strippedRoot !== null) {
      this.report(entry, 'ABSOLUTE_PATH', `the leading "${verdict.strippedRoot}" was removed`, false);
    }
    return verdict.parts;
  }

  /** A name already seen with another type (also through case folding or unicode normalisation) is refused. */
  private checkCollisions(parts: string[], type: SeenType): void {
    for (let i = 1; i <= parts.length; i++) {
      const want: SeenType = i === parts.length ? type : 'directory';
      const prev = this.seen.get(foldKey(parts.slice(0, i)));
      if (prev && prev !== want) {
        throw new Skip(
          'NAME_COLLISION',
          `"${parts.slice(0, i).join('/')}" would be a ${want}, but an earlier member made the same name (ignoring case and unicode form) a ${prev}`,
        );
      }
    }
  }

  private remember(parts: string[], type: SeenType): void {
    for (let i = 1; i <= parts.length; i++) {
      const k = foldKey(parts.slice(0, i));
      if (i < parts.length) {
        if (!this.seen.has(k)) this.seen.set(k, 'directory');
      } else {
        this.seen.set(k, type);
      }
    }
  }

  /** A hardlink may only point at a regular file this archive wrote, reached without crossing a link. */
  private async checkHardlinkTarget(entry: EntryHeader, parts: string[]): Promise<string> {
    const linkname = entry.linkname ?? '';
    const verdict = sanitizeEntryPath(linkname, this.limits, this.platform);
    if (!verdict.ok) throw new Skip('HARDLINK_TARGET', `the hardlink target ${JSON.stringify(linkname)} is refused: ${verdict.reason}`);
    // Stripped like the member names are (GNU tar and bsdtar do the same); it must still be a file of ours.
    if (verdict.strippedRoot !== null) {
      this.report(entry, 'ABSOLUTE_PATH', `the leading "${verdict.strippedRoot}" was removed from the hardlink target`, false);
    }
    const key = verdict.parts.join('/');
    if (key === parts.join('/')) throw new Skip('HARDLINK_TARGET', 'the hardlink points at itself');
    // After a restart the files written before it are not in `written`: a regular file inside the
    // destination, reached without links (checked below), is accepted then. The destination is this
    // job's own (preflight refuses a foreign one), so such a file was extracted by this archive.
    if (!this.written.has(key) && !this.resumed) {
      throw new Skip('HARDLINK_TARGET', `the hardlink target ${linkname} is not a file this archive extracted`);
    }
    const ok = await this.ensureParents(verdict.parts, false).then(
      () => true,
      (err) => {
        if (err instanceof Skip) return false;
        throw err;
      },
    );
    const abs = this.absolute(verdict.parts);
    await this.pendingFiles.get(foldKey(verdict.parts));
    const st = ok ? await fsp.lstat(abs).catch(() => null) : null;
    if (!st || !st.isFile()) throw new Skip('HARDLINK_TARGET', `the hardlink target ${linkname} is not a regular file reached without links`);
    return abs;
  }

  // --- file system steps ---------------------------------------------------------------------------

  private absolute(parts: readonly string[]): string {
    const abs = containedPath(this.root, parts);
    if (abs === null) throw new Skip('PATH_TRAVERSAL', 'the path resolves outside the destination');
    return abs;
  }

  /**
   * Makes sure every parent of `parts` is a real directory below the root, creating missing ones when
   * `create`. A link or a non-directory on the way skips the member: it is never followed.
   */
  private async ensureParents(parts: readonly string[], create: boolean): Promise<void> {
    for (let i = 1; i < parts.length; i++) {
      const key = parts.slice(0, i).join('/');
      if (this.dirs.has(key)) continue;
      const abs = this.absolute(parts.slice(0, i));
      let st = await fsp.lstat(abs).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (st === null) {
        if (!create) throw new Skip('THROUGH_LINK', `the directory ${key} does not exist`);
        try {
          await fsp.mkdir(abs, 0o777);
          this.changed(abs, false);
          this.dirs.add(key);
          continue;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          st = await fsp.lstat(abs);
        }
      }
      if (st.isSymbolicLink()) throw new Skip('THROUGH_LINK', `${key} is a symbolic link; the member would be written through it`);
      if (!st.isDirectory()) throw new Skip('THROUGH_LINK', `${key} is not a directory`);
      this.dirs.add(key);
    }
  }

  private async makeDirectory(abs: string, key: string, entry: EntryHeader): Promise<void> {
    this.dirMeta.set(key, { mode: entry.mode & PERMISSION_BITS & ~this.umask, mtime: entry.mtime });
    if (this.dirs.has(key)) return;
    try {
      // Owner-writable until the end, so a read-only directory can still be filled.
      await fsp.mkdir(abs, (entry.mode & PERMISSION_BITS) | 0o700);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await fsp.lstat(abs);
      if (!st.isDirectory()) {
        await fsp.unlink(abs);
        await fsp.mkdir(abs, (entry.mode & PERMISSION_BITS) | 0o700);
      }
    }
    this.dirs.add(key);
  }

  /**
   * Runs `make` (which creates a non-directory at `abs` exclusively). If something is already there it is
   * unlinked first, never opened or followed; an existing non-empty directory skips the member.
   */
  private async replaceWith(abs: string, key: string, entry: EntryHeader, make: () => Promise<void>): Promise<void> {
    this.forgetDirectory(key);
    try {
      await make();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = await fsp.lstat(abs);
    if (st.isDirectory()) {
      try {
        await fsp.rmdir(abs);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') {
          throw new Skip('EXISTING_DIRECTORY', `a non-empty directory already exists where this ${entry.type} would go`);
        }
        throw err;
      }
    } else {
      await fsp.unlink(abs);
    }
    await make();
  }

  /** Something other than a directory now lives at `key`: nothing below it may be trusted from the cache. */
  private forgetDirectory(key: string): void {
    this.dirMeta.delete(key);
    if (!this.dirs.delete(key)) return;
    const prefix = key + '/';
    for (const k of this.dirs) if (k.startsWith(prefix)) this.dirs.delete(k);
    for (const k of this.dirMeta.keys()) if (k.startsWith(prefix)) this.dirMeta.delete(k);
  }

  /** Creates, fills, times and closes a small file off the member's critical path (bounded in count and bytes). */
  private async writeInBackground(parts: string[], abs: string, key: string, entry: EntryHeader, data: Buffer[]): Promise<void> {
    const folded = foldKey(parts);
    const size = data.reduce((n, b) => n + b.length, 0);
    const job = (async () => {
      let fd = -1;
      await this.replaceWith(abs, key, entry, async () => {
        fd = await openFd(abs, CREATE_FLAGS, entry.mode & PERMISSION_BITS);
      });
      try {
        if (size > 0) await writevAll(fd, data, 0);
        this._bytesWritten += size;
        await promisify(fs.futimes)(fd, Date.now() / 1000, entry.mtime);
      } finally {
        await promisify(fs.close)(fd);
      }
      this.changed(abs, true);
    })().catch((err) => {
      if (err instanceof Skip) {
        try {
          this.report(entry, err.code, err.reason, true);
        } catch (strictErr) {
          this.backgroundError ??= strictErr as EngineError;
        }
        return;
      }
      this.backgroundError ??= this.ioError(err, entry.name, abs);
    });
    const tracked = job.finally(() => {
      this.pendingFileBytes -= size;
      if (this.pendingFiles.get(folded) === tracked) this.pendingFiles.delete(folded);
    });
    this.pendingFiles.set(folded, tracked);
    this.pendingFileBytes += size;
    while (this.pendingFiles.size >= MAX_PENDING_FILES || this.pendingFileBytes > MAX_PENDING_FILE_BYTES) {
      await Promise.race(this.pendingFiles.values());
    }
  }

  private sinkFor(fd: number, abs: string, key: string, entry: EntryHeader, startAt: number, handle: fs.promises.FileHandle | null): FileSink {
    let position = startAt;
    let syncing: Promise<void> | null = null;
    if (!handle) this.openFds.add(fd);
    const writer = this;
    return {
      path: abs,
      key,
      async write(buffers) {
        try {
          const n = await writevAll(fd, buffers, position);
          position += n;
          writer._bytesWritten += n;
        } catch (err) {
          if (syncing) await syncing;
          if (handle ? writer.openHandles.delete(handle) : writer.openFds.delete(fd)) {
            await (handle ? handle.close() : promisify(fs.close)(fd)).catch(() => undefined);
          }
          throw writer.ioError(err, entry.name, abs);
        }
      },
      seek(to) {
        position = to;
      },
      async truncate(size) {
        await promisify(fs.ftruncate)(fd, size).catch((err) => {
          throw writer.ioError(err, entry.name, abs);
        });
      },
      sync() {
        // Stopped: the descriptors are being closed and nothing will be resumed from this point.
        if (writer.aborted) return Promise.resolve();
        // The descriptor must stay open until the fsync is done: end() and abort() wait for it.
        const p = promisify(fs.fsync)(fd);
        syncing = p.catch(() => undefined);
        writer.pendingSyncs.add(syncing);
        void syncing.finally(() => writer.pendingSyncs.delete(syncing!));
        return p.catch((err) => {
          throw writer.ioError(err, entry.name, abs);
        });
      },
      async end() {
        if (syncing) await syncing;
        await writer.closeInBackground(fd, handle, entry.mtime, abs);
      },
    };
  }

  /** Restores the mtime and closes off the member's path; resolves once few enough closes are pending. */
  private async closeInBackground(fd: number, handle: fs.promises.FileHandle | null, mtime: number | null, abs: string): Promise<void> {
    if (handle ? !this.openHandles.delete(handle) : !this.openFds.delete(fd)) return; // already closed by abort()
    const p = (async () => {
      try {
        if (mtime !== null) await promisify(fs.futimes)(fd, Date.now() / 1000, mtime);
      } finally {
        if (handle) await handle.close();
        else await promisify(fs.close)(fd);
      }
      this.changed(abs, true);
    })().catch((err) => {
      this.closeError ??= err;
    });
    this.pendingCloses.add(p);
    void p.finally(() => this.pendingCloses.delete(p));
    if (this.pendingCloses.size >= MAX_PENDING_CLOSES) await Promise.race(this.pendingCloses);
    if (this.closeError) throw this.ioError(this.closeError, 'a file');
  }

  private async drainCloses(): Promise<void> {
    await Promise.all([...this.pendingCloses]);
    if (this.closeError) throw this.ioError(this.closeError, 'a file');
  }

  /** Refuses a member larger than the free space up front (a clear disk-full pause, not a half-written file). */
  private async ensureSpace(size: number, abs: string): Promise<void> {
    if (size <= this.freeBytes) {
      this.freeBytes -= size;
      return;
    }
    await this.refreshFreeSpace();
    if (size > this.freeBytes) throw new DiskFullError(abs, size - this.freeBytes);
    this.freeBytes -= size;
  }

  private async refreshFreeSpace(): Promise<void> {
    const statfs = (fsp as { statfs?: (p: string) => Promise<{ bavail: number; bsize: number }> }).statfs;
    if (!statfs) return;
    try {
      const s = await statfs(this.root);
      this.freeBytes = s.bavail * s.bsize;
    } catch {
      this.freeBytes = Number.POSITIVE_INFINITY;
    }
  }

  // --- reporting -----------------------------------------------------------------------------------

  /** A finding about the archive itself (the tar stage's): a warning, or in strict mode a fatal error. */
  note(entry: EntryHeader, code: EntryWarningCode, reason: string, skipped: boolean): void {
    this.report(entry, code, reason, skipped);
  }

  private report(entry: EntryHeader, code: EntryWarningCode, reason: string, skipped: boolean): void {
    const w: SkippedEntry = { entry: entry.name, code, reason };
    if (this.strict) {
      throw new ArchiveError('E_UNSAFE_ENTRY', `Unsafe archive member "${entry.name}": ${reason} (strict mode).`, {
        details: { entry: entry.name, warning: code, reason, offset: entry.offset },
      });
    }
    (skipped ? this.skipped : this.warnings).add(w);
    this.onWarning?.({ ...w, skipped });
  }

  private ioError(err: unknown, name: string, file?: string): EngineError {
    if (err instanceof EngineError) return err;
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ENOSPC') return new DiskFullError(file ?? e.path ?? this.root, undefined, { cause: err });
    return new EngineError('E_IO', `Writing "${name}" failed: ${e?.message ?? String(err)}`, {
      cause: err,
      details: { entry: name, path: file ?? e?.path, syscall: e?.syscall, errno: e?.code },
    });
  }
}

function depth(key: string): number {
  let n = 0;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 47) n++;
  return n;
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

/** writev until every byte is written (a short write is legal); returns the byte count. */
async function writevAll(fd: number, buffers: Buffer[], position: number): Promise<number> {
  let total = 0;
  for (const b of buffers) total += b.length;
  let done = 0;
  let bufs = buffers;
  while (done < total) {
    const { bytesWritten } = await writev(fd, bufs, position + done);
    done += bytesWritten;
    if (done < total) bufs = dropBytes(bufs, bytesWritten);
  }
  return total;
}

function dropBytes(buffers: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

async function lutimesIfPossible(abs: string, mtime: number): Promise<void> {
  try {
    await fsp.lutimes(abs, mtime, mtime);
  } catch {
    // Some platforms cannot time a link itself; the link works the same.
  }
}

/** The process umask, read without changing it where the runtime allows (worker threads cannot set it). */
function currentUmask(): number {
  try {
    return process.umask();
  } catch {
    return 0o022;
  }
}

/** A regular file (never a link) with the member's size and mtime: written whole by an earlier run. */
async function completeFromEarlierRun(abs: string, entry: EntryHeader): Promise<boolean> {
  const st = await fsp.lstat(abs).catch(() => null);
  // Within 2 ms: nanosecond and microsecond file systems keep what futimes set; coarser ones are rewritten.
  return !!st && st.isFile() && st.size === entry.size && Math.abs(st.mtimeMs / 1000 - entry.mtime) < 0.002;
}
