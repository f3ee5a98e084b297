// Writes archive members into the destination without ever leaving it: every parent component is a real
// directory (checked with lstat, never followed), files are created with O_CREAT|O_EXCL|O_NOFOLLOW after
// unlinking whatever was there, links are checked before they are made, modes are masked, owners ignored.
// An unsafe member is reported and skipped, or, in strict mode, stops the extraction.
//
// This file sequences each member's steps; the steps live in writer/: where a member may go
// (path-policy), work off the member's path (background-io), what a checkpoint makes durable (durability),
// room on the disk (free-space), an earlier run's files (earlier-run), directory modes applied at the end
// (directory-meta), warnings and strict mode (member-reports), and the file system calls that put a member
// in place (member-steps, file-sink).
import { availableParallelism } from 'node:os';
import { EngineError } from '../errors';
import { EntryTally } from './entry-tally';
import type { EntryHeader, EntryWarningCode } from './extract-types';
import { bytePathFs as fsp, bytePathFsSync as fss, openFd } from './byte-path-fs';
import { checkSymlinkTarget, foldKey } from './safe-path';
import type { ExtractLimits } from './tar-limits';
import { BackgroundIo } from './writer/background-io';
import { DirectoryMeta } from './writer/directory-meta';
import { Durability } from './writer/durability';
import { EarlierRun } from './writer/earlier-run';
import { fileSink, type SinkServices } from './writer/file-sink';
import { LoopTurns } from './writer/loop-turns';
import { MemberReports } from './writer/member-reports';
import { CREATE_FLAGS, PERMISSION_BITS, currentUmask } from './writer/file-modes';
import { FreeSpace } from './writer/free-space';
import { existingDirectory, lutimesIfPossible, makeDirectory, replaceExisting } from './writer/member-steps';
import { CreationPool } from './writer/creation-pool';
import { PathPolicy, type SeenType } from './writer/path-policy';
import { Skip } from './writer/skip';
import { writeError } from './writer/write-error';
import type { FileSink, SafeWriterOptions, WriterState } from './writer/writer-types';

export type { EntryWarning, FileSink, SafeWriterOptions, WriterState } from './writer/writer-types';

/**
 * Threads creating small files at once: as many as cores, 2 to 4. On a 2-core VM over 29,000 files of
 * a real tree: on a file system where creation waits (ext4 right after a large tree was deleted; GNU tar
 * 12-18 s) 2 threads took 10.3-10.4 s and 4 took 10.7-11.4 s (one thread in the event loop: 17-19 s);
 * on a fresh ext4, where creation is cheap CPU, more threads than cores only compete with the loop.
 */
const CREATION_THREADS = Math.min(4, Math.max(2, availableParallelism()));

export class SafeWriter {
  private readonly root: string;
  private readonly limits: ExtractLimits;
  private readonly umask = currentUmask();
  /** Gives the event loop a turn now and then between members (their steps are synchronous). */
  private readonly turns = new LoopTurns();
  private readonly paths: PathPolicy;
  private readonly io: BackgroundIo;
  private readonly durability: Durability;
  private readonly space: FreeSpace;
  private readonly earlier: EarlierRun;
  /** Modes and mtimes of directory members, applied at the end (children would change them). */
  private readonly dirMeta: DirectoryMeta;
  private _bytesWritten = 0;
  private _entries = 0;
  private readonly reports: MemberReports;
  /** The first skipped and altered members, and counts per code (see entry-tally.ts). */
  readonly skipped: EntryTally;
  readonly warnings: EntryTally;
  private readonly sinks: SinkServices;
  /** Small files are created on these threads (started with the first one). */
  private readonly creation: CreationPool;

  private constructor(root: string, options: SafeWriterOptions) {
    this.root = root;
    this.limits = options.limits;
    const platform = options.platform ?? process.platform;
    const r = options.resumeFrom;
    this.reports = new MemberReports(options.strict ?? false, options.onWarning, r);
    this.skipped = this.reports.skipped;
    this.warnings = this.reports.warnings;
    this.durability = new Durability(root, platform, options.trackDurability ?? false, (err) => this.ioError(err, 'a file'));
    this.creation = new CreationPool(options.creationThreads ?? CREATION_THREADS, CREATE_FLAGS);
    this.io = new BackgroundIo(
      (abs) => this.durability.changed(abs, true),
      (err) => this.ioError(err, 'a file'),
      () => this.creation.flush(),
    );
    this.paths = new PathPolicy(root, options.limits, platform, r !== undefined, {
      report: (entry, code, reason, skipped) => this.reports.report(entry, code, reason, skipped),
      createdDirectory: (abs) => this.durability.changed(abs, false),
      pendingWrite: (folded) => this.io.pendingWrite(folded),
    });
    this.space = new FreeSpace(root);
    this.earlier = new EarlierRun(this.paths, options.reuseComplete ?? false, (err, name, file) => this.ioError(err, name, file));
    this.dirMeta = new DirectoryMeta(r?.dirMeta);
    this.sinks = {
      io: this.io,
      durability: this.durability,
      wrote: (n) => {
        this._bytesWritten += n;
      },
      ioError: (err, name, file) => this.ioError(err, name, file),
    };
    this._entries = r?.entries ?? 0;
    this._bytesWritten = r?.bytesWritten ?? 0;
  }

  /** Creates the destination if needed and resolves it once: all later checks are relative to its real path. */
  static async open(options: SafeWriterOptions): Promise<SafeWriter> {
    try {
      await fsp.mkdir(options.dest, { recursive: true });
      const root = await fsp.realpath(options.dest);
      const st = await fsp.stat(root);
      if (!st.isDirectory()) throw new Error(`${options.dest} is not a directory`);
      const writer = new SafeWriter(root, options);
      await writer.space.refresh();
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
    return this.earlier.reused;
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
    if (this.io.error) throw this.io.error;
    await this.turns.maybe();
    try {
      const sink = await this.create(entry, wholeData);
      this._entries++;
      return sink;
    } catch (err) {
      if (err instanceof Skip) {
        this.reports.report(entry, err.code, err.reason, true);
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
    const { handle, abs, parts, key } = await this.earlier.reopen(entry, offset, expectedKey);
    this.paths.wrote(key);
    this.paths.remember(parts, 'file');
    return fileSink(this.sinks, handle.fd, abs, key, entry, offset, handle);
  }

  /** Waits for the members begun so far to be fully written, timed and closed (background work included). */
  settle(): Promise<void> {
    return this.io.settle();
  }

  /**
   * Makes the members completed so far durable: fsyncs the files completed and the directories changed
   * since the last call, as recorded at the moment of the call (call it when settled, see settle()); work
   * begun afterwards may go on meanwhile. (The member still being written is synced through its sink.)
   */
  syncCompleted(): Promise<void> {
    return this.durability.syncCompleted();
  }

  /** The state a checkpoint keeps (see WriterState); call when settled. */
  state(): WriterState {
    return {
      entries: this._entries,
      bytesWritten: this._bytesWritten,
      ...this.reports.saved(),
      dirMeta: this.dirMeta.saved(),
    };
  }

  /** Waits for background closes, then applies directory modes and mtimes, deepest first. */
  async finish(): Promise<void> {
    await this.settle();
    await this.durability.idle();
    const refused = (key: string, problem: string) => this.reports.metadataRefused(key, problem);
    await this.creation.close();
    await this.dirMeta.apply(this.paths, refused, (err, key) => this.ioError(err, key));
  }

  /** Stops: waits for files being closed so no descriptor leaks. Errors are dropped (a failure is already being reported). */
  async abort(): Promise<void> {
    this.durability.stop();
    await Promise.allSettled(this.durability.pending());
    await this.io.abort(this.durability.pending());
    await this.creation.close();
  }

  // --- members -------------------------------------------------------------------------------------

  private async create(entry: EntryHeader, wholeData: Buffer[] | null): Promise<FileSink | null> {
    if (entry.type === 'other') {
      throw new Skip('UNSUPPORTED_TYPE', `${entry.rawType} members are not extracted`);
    }
    const parts = this.paths.checkedParts(entry);
    if (parts.length === 0) {
      if (entry.type === 'directory') return null; // `./`: the destination itself, whose mode we leave alone
      throw new Skip('BAD_NAME', 'the member names the destination itself');
    }
    const type: SeenType = entry.type === 'directory' ? 'directory' : entry.type === 'symlink' ? 'symlink' : 'file';
    this.paths.checkCollisions(parts, type);
    if (entry.type === 'symlink') {
      const problem = checkSymlinkTarget(parts, entry.linkname ?? '', this.limits.maxPathBytes);
      if (problem) throw new Skip(problem.code, problem.reason);
    }
    let hardlinkTarget: string | null = null;
    if (entry.type === 'hardlink') hardlinkTarget = await this.paths.checkHardlinkTarget(entry, parts);
    if ((entry.type === 'file' || entry.type === 'directory') && entry.mode & 0o7000) {
      this.reports.report(entry, 'MODE_MASKED', `setuid/setgid/sticky bits (${(entry.mode & 0o7000).toString(8)}) were dropped`, false);
    }
    await this.paths.ensureParents(parts, true);
    const abs = this.paths.absolute(parts);
    const key = parts.join('/');
    await this.io.pendingWrite(foldKey(parts));
    let sink: FileSink | null = null;
    switch (entry.type) {
      case 'directory':
        this.dirMeta.set(key, entry.mode & PERMISSION_BITS & ~this.umask, entry.mtime);
        if (this.paths.isDirectory(key)) break;
        await makeDirectory(abs, entry.mode & PERMISSION_BITS);
        this.paths.markDirectory(key);
        break;
      case 'symlink':
        await this.replaceWith(abs, key, entry, async () => fss.symlink(entry.linkname!, abs));
        await lutimesIfPossible(abs, entry.mtime);
        break;
      case 'hardlink':
        await this.replaceWith(abs, key, entry, () => fsp.link(hardlinkTarget!, abs));
        this.paths.wrote(key);
        break;
      case 'file': {
        if (this.earlier.reuseComplete && (await this.earlier.keepIfComplete(abs, entry))) {
          this.paths.wrote(key);
          break;
        }
        await this.space.reserve(entry.sparse?.archiveBytes ?? entry.size, abs);
        if (wholeData) {
          await this.writeInBackground(parts, abs, key, entry, wholeData);
          this.paths.wrote(key);
          break;
        }
        let fd = -1;
        await this.replaceWith(abs, key, entry, async () => {
          fd = await openFd(abs, CREATE_FLAGS, entry.mode & PERMISSION_BITS);
        });
        this.paths.wrote(key);
        sink = fileSink(this.sinks, fd, abs, key, entry, 0, null);
        break;
      }
    }
    // Its directory changed now (a small file's is recorded once it is written, a file itself when closed).
    if (!wholeData) this.durability.changed(abs, false);
    this.paths.remember(parts, type);
    return sink;
  }

  /**
   * Creates a non-directory at `key` (see replaceExisting; without `make`, the caller creates it so);
   * what the caches knew below it is forgotten.
   */
  private replaceWith(abs: string, key: string, entry: EntryHeader): void;
  private replaceWith(abs: string, key: string, entry: EntryHeader, make: () => Promise<void>): Promise<void>;
  private replaceWith(abs: string, key: string, entry: EntryHeader, make?: () => Promise<void>): Promise<void> | undefined {
    this.dirMeta.delete(key);
    if (this.paths.forgetDirectory(key)) this.dirMeta.deleteBelow(key);
    return make ? replaceExisting(abs, entry.type, make) : undefined;
  }

  /**
   * Creates, fills, times and closes a small file on the creation pool's threads, through BackgroundIo.write
   * (its name waits meanwhile: a later member on it, or below it, waits for it).
   */
  private writeInBackground(parts: string[], abs: string, key: string, entry: EntryHeader, data: Buffer[]): Promise<void> {
    const size = data.reduce((n, b) => n + b.length, 0);
    this.replaceWith(abs, key, entry);
    const write = async () => {
      const outcome = await this.creation.create(abs, entry.mode & PERMISSION_BITS, entry.mtime, data);
      if (outcome === 'existing-directory') throw existingDirectory(entry.type);
      this._bytesWritten += size;
      this.durability.changed(abs, true);
    };
    const failed = (err: unknown): EngineError | null => {
      if (!(err instanceof Skip)) return this.ioError(err, entry.name, abs);
      try {
        this.reports.report(entry, err.code, err.reason, true);
        return null;
      } catch (strictErr) {
        return strictErr as EngineError;
      }
    };
    return this.io.write(foldKey(parts), size, write, failed);
  }

  // --- reporting -----------------------------------------------------------------------------------

  /** A finding about the archive itself (the tar stage's): a warning, or in strict mode a fatal error. */
  note(entry: EntryHeader, code: EntryWarningCode, reason: string, skipped: boolean): void {
    this.reports.report(entry, code, reason, skipped);
  }

  private ioError(err: unknown, name: string, file?: string): EngineError {
    return writeError(err, name, this.root, file);
  }
}
