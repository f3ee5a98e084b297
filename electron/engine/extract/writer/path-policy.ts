// Where a member may go: its name sanitised, never a name an earlier member took with another type (after
// case folding and Unicode normalisation), every parent a real directory inside the destination (lstat,
// never followed), a hardlink only to a regular file this archive wrote. Refusals are Skips.
import { bytePathFs as fsp } from '../byte-path-fs';
import type { EntryHeader, EntryWarningCode } from '../extract-types';
import { containedPath, foldKey, foldedPrefixes, sanitizeEntryPath, type Rejection, type SafeRelativePath } from '../safe-path';
import type { ExtractLimits } from '../tar-limits';
import { Skip } from './skip';

export type SeenType = 'file' | 'directory' | 'symlink';

export interface PathPolicyHooks {
  /** A warning about the member (may throw in strict mode). */
  report(entry: EntryHeader, code: EntryWarningCode, reason: string, skipped: boolean): void;
  /** A missing parent directory was created (its parent's entries changed). */
  createdDirectory(abs: string): void;
  /** The small file still being written in the background on this folded name, if any. */
  pendingWrite(folded: string): Promise<void> | undefined;
}

export class PathPolicy {
  /** Relative paths verified (or created) as real directories during this run. */
  private readonly dirs = new Set<string>();
  /** Case- and normalisation-folded names already seen, with their type (kept small: archives hold millions). */
  private readonly seen = new Map<string, SeenType>();
  /** Regular files this archive wrote: the only valid hardlink targets. */
  private readonly written = new Set<string>();
  /** The last member's components and their folded prefixes (checkCollisions, then remember). */
  private lastParts: string[] | null = null;
  private lastFolded: string[] = [];

  constructor(
    private readonly root: string,
    private readonly limits: ExtractLimits,
    private readonly platform: NodeJS.Platform,
    /** Continuing after a restart: files written before it are valid hardlink targets (see checkHardlinkTarget). */
    private readonly resumed: boolean,
    private readonly hooks: PathPolicyHooks,
  ) {}

  /** The name's verdict, without reporting anything (a resumed member's warnings were reported when it began). */
  sanitize(name: string): SafeRelativePath | Rejection {
    return sanitizeEntryPath(name, this.limits, this.platform);
  }

  /** Sanitised components of the member's name; reports a stripped root. */
  checkedParts(entry: EntryHeader): string[] {
    const verdict = this.sanitize(entry.name);
    if (!verdict.ok) throw new Skip(verdict.code, verdict.reason);
    if (verdict.strippedRoot !== null) {
      this.hooks.report(entry, 'ABSOLUTE_PATH', `the leading "${verdict.strippedRoot}" was removed`, false);
    }
    return verdict.parts;
  }

  /** A name already seen with another type (also through case folding or unicode normalisation) is refused. */
  checkCollisions(parts: string[], type: SeenType): void {
    const keys = this.folded(parts);
    for (let i = 1; i <= parts.length; i++) {
      const want: SeenType = i === parts.length ? type : 'directory';
      const prev = this.seen.get(keys[i - 1]!);
      if (prev && prev !== want) {
        throw new Skip(
          'NAME_COLLISION',
          `"${parts.slice(0, i).join('/')}" would be a ${want}, but an earlier member made the same name (ignoring case and unicode form) a ${prev}`,
        );
      }
    }
  }

  remember(parts: string[], type: SeenType): void {
    const keys = this.folded(parts);
    for (let i = 1; i <= parts.length; i++) {
      const k = keys[i - 1]!;
      if (i < parts.length) {
        if (!this.seen.has(k)) this.seen.set(k, 'directory');
      } else {
        this.seen.set(k, type);
      }
    }
  }

  /** The folded prefixes of `parts`; the member's check and its record share one computation. */
  private folded(parts: string[]): string[] {
    if (parts !== this.lastParts) {
      this.lastParts = parts;
      this.lastFolded = foldedPrefixes(parts);
    }
    return this.lastFolded;
  }

  /** A regular file (or a hardlink to one) this archive wrote at `key`: a later hardlink may point at it. */
  wrote(key: string): void {
    this.written.add(key);
  }

  /** A hardlink may only point at a regular file this archive wrote, reached without crossing a link. */
  async checkHardlinkTarget(entry: EntryHeader, parts: string[]): Promise<string> {
    const linkname = entry.linkname ?? '';
    const verdict = this.sanitize(linkname);
    if (!verdict.ok) throw new Skip('HARDLINK_TARGET', `the hardlink target ${JSON.stringify(linkname)} is refused: ${verdict.reason}`);
    // Stripped like the member names are (GNU tar and bsdtar do the same); it must still be a file of ours.
    if (verdict.strippedRoot !== null) {
      this.hooks.report(entry, 'ABSOLUTE_PATH', `the leading "${verdict.strippedRoot}" was removed from the hardlink target`, false);
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
    await this.hooks.pendingWrite(foldKey(verdict.parts));
    const st = ok ? await fsp.lstat(abs).catch(() => null) : null;
    if (!st || !st.isFile()) throw new Skip('HARDLINK_TARGET', `the hardlink target ${linkname} is not a regular file reached without links`);
    return abs;
  }

  absolute(parts: readonly string[]): string {
    const abs = containedPath(this.root, parts);
    if (abs === null) throw new Skip('PATH_TRAVERSAL', 'the path resolves outside the destination');
    return abs;
  }

  /**
   * Makes sure every parent of `parts` is a real directory below the root, creating missing ones when
   * `create`. A link or a non-directory on the way skips the member: it is never followed.
   */
  async ensureParents(parts: readonly string[], create: boolean): Promise<void> {
    for (let i = 1; i < parts.length; i++) {
      const key = parts.slice(0, i).join('/');
      if (this.dirs.has(key)) continue;
      const abs = this.absolute(parts.slice(0, i));
      // A small file still being created on this name is there before we look (see creation-pool.ts).
      await this.hooks.pendingWrite(foldKey(parts.slice(0, i)));
      let st = await fsp.lstat(abs).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (st === null) {
        if (!create) throw new Skip('THROUGH_LINK', `the directory ${key} does not exist`);
        try {
          await fsp.mkdir(abs, 0o777);
          this.hooks.createdDirectory(abs);
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

  /** `key` is known to be a real directory (verified or made during this run). */
  isDirectory(key: string): boolean {
    return this.dirs.has(key);
  }

  markDirectory(key: string): void {
    this.dirs.add(key);
  }

  /**
   * Something other than a directory now lives at `key`: nothing below it may be trusted from the cache.
   * True when it was known as a directory (what was below it is forgotten too).
   */
  forgetDirectory(key: string): boolean {
    if (!this.dirs.delete(key)) return false;
    const prefix = key + '/';
    for (const k of this.dirs) if (k.startsWith(prefix)) this.dirs.delete(k);
    return true;
  }
}
