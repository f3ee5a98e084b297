// Directory members' modes and mtimes, applied at the very end: the children written meanwhile would change
// the mtimes, and a read-only directory could not be filled. Kept in a checkpoint, so a resumed run applies
// the ones an earlier run recorded.
import { bytePathFs as fsp } from '../byte-path-fs';
import type { PathPolicy } from './path-policy';
import { Skip } from './skip';
import type { WriteErrorOf } from './write-error';

export class DirectoryMeta {
  private readonly meta = new Map<string, { mode: number; mtime: number }>();

  /** `saved`: relative path, mode and mtime of each, as WriterState keeps them. */
  constructor(saved: Array<[string, number, number]> = []) {
    for (const [key, mode, mtime] of saved) this.meta.set(key, { mode, mtime });
  }

  set(key: string, mode: number, mtime: number): void {
    this.meta.set(key, { mode, mtime });
  }

  delete(key: string): void {
    this.meta.delete(key);
  }

  /** Everything below `key` (which is no longer a directory). */
  deleteBelow(key: string): void {
    const prefix = key + '/';
    for (const k of this.meta.keys()) if (k.startsWith(prefix)) this.meta.delete(k);
  }

  saved(): Array<[string, number, number]> {
    return [...this.meta].map(([key, m]) => [key, m.mode, m.mtime]);
  }

  /**
   * Applies them deepest first. A directory whose path now crosses a link (replaced since an earlier run)
   * is left alone and reported through `refused`; one gone since, or no longer a directory, is skipped.
   */
  async apply(paths: PathPolicy, refused: (key: string, reason: string) => void, ioError: WriteErrorOf): Promise<void> {
    const keys = [...this.meta.keys()].sort((a, b) => depth(b) - depth(a));
    for (const key of keys) {
      const meta = this.meta.get(key)!;
      const parts = key.split('/');
      const abs = paths.absolute(parts);
      // After a resume these directories were made by an earlier run: a parent replaced by a link since
      // would send chmod/utimes outside the destination. Every component is checked (lstat, never followed).
      const problem = await paths.ensureParents(parts, false).then(
        () => null,
        (err) => {
          if (err instanceof Skip) return err.reason;
          throw ioError(err, key);
        },
      );
      if (problem !== null) {
        refused(key, problem);
        continue;
      }
      try {
        const st = await fsp.lstat(abs);
        if (!st.isDirectory()) continue;
        await fsp.chmod(abs, meta.mode);
        await fsp.utimes(abs, meta.mtime, meta.mtime);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw ioError(err, key);
      }
    }
  }
}

function depth(key: string): number {
  let n = 0;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 47) n++;
  return n;
}
