// Files an earlier run of this job left in the destination: the member a checkpoint was taken inside,
// reopened to write the rest of it, and (without a checkpoint) regular files already complete, kept instead
// of written again.
import * as fs from 'node:fs';
import { ArchiveError } from '../../errors';
import { bytePathFs as fsp } from '../byte-path-fs';
import type { EntryHeader } from '../extract-types';
import { CREATE_FLAGS, O_NOFOLLOW, PERMISSION_BITS } from './file-modes';
import type { PathPolicy } from './path-policy';
import { Skip } from './skip';
import type { WriteErrorOf } from './write-error';

export interface ReopenedFile {
  handle: fs.promises.FileHandle;
  abs: string;
  parts: string[];
  key: string;
}

export class EarlierRun {
  private _reused = 0;

  constructor(
    private readonly paths: PathPolicy,
    /**
     * The earlier run extracted into this (then empty) destination and there is no checkpoint to continue
     * from: a file with the member's size and mtime is complete (see isComplete).
     */
    readonly reuseComplete: boolean,
    private readonly ioError: WriteErrorOf,
  ) {}

  /** Files found complete and kept. */
  get reused(): number {
    return this._reused;
  }

  /** Whether the file at `abs` is the member written whole by the earlier run; counted as reused if so. */
  async keepIfComplete(abs: string, entry: EntryHeader): Promise<boolean> {
    if (!(await completeFromEarlierRun(abs, entry))) return false;
    this._reused++;
    return true;
  }

  /**
   * Reopens a regular file this extraction was writing before a restart, truncated to `offset`, to write
   * the rest of its data. Links are not followed; the file must exist and be regular.
   */
  async reopen(entry: EntryHeader, offset: number, expectedKey: string | undefined): Promise<ReopenedFile> {
    const unsafe = (reason: string) => new ArchiveError('E_UNSAFE_ENTRY', `Cannot resume "${entry.name}": ${reason}.`, { details: { entry: entry.name, offset: entry.offset } });
    // Resolved again exactly as when it was begun (its warnings were reported then, and saved).
    const verdict = this.paths.sanitize(entry.name);
    if (!verdict.ok) throw unsafe(verdict.reason);
    const parts = verdict.parts;
    if (entry.type !== 'file') throw new ArchiveError('E_INTERNAL', `resumeFile needs a regular file, got ${entry.type}`);
    if (expectedKey !== undefined && parts.join('/') !== expectedKey) throw unsafe(`it resolves to ${parts.join('/')}, not ${expectedKey} as saved`);
    let abs: string;
    try {
      abs = this.paths.absolute(parts);
    } catch (err) {
      throw unsafe((err as Skip).reason);
    }
    try {
      await this.paths.ensureParents(parts, false);
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
        const copy = await copyPrefix(fd, abs, offset, entry);
        await fd.close();
        fd = copy;
      } else {
        await fd.truncate(offset);
      }
    } catch (err) {
      await fd.close().catch(() => undefined);
      throw this.ioError(err, entry.name, abs);
    }
    return { handle: fd, abs, parts, key: parts.join('/') };
  }
}

/** A new file holding the first `length` bytes of `from`, renamed over `abs` (which it unlinks from other names). */
async function copyPrefix(from: fs.promises.FileHandle, abs: string, length: number, entry: EntryHeader): Promise<fs.promises.FileHandle> {
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

/** A regular file (never a link) with the member's size and mtime: written whole by an earlier run. */
async function completeFromEarlierRun(abs: string, entry: EntryHeader): Promise<boolean> {
  const st = await fsp.lstat(abs).catch(() => null);
  // Within 2 ms: nanosecond and microsecond file systems keep what futimes set; coarser ones are rewritten.
  return !!st && st.isFile() && st.size === entry.size && Math.abs(st.mtimeMs / 1000 - entry.mtime) < 0.002;
}
