// The file system steps that put one member in place, once the path policy has allowed it: a directory
// made (or kept), and a non-directory created exclusively after removing whatever was there.
import { bytePathFs as fsp, bytePathFsSync as fss } from '../byte-path-fs';
import type { EntryHeader } from '../extract-types';
import { Skip } from './skip';

/**
 * Makes a directory (owner-writable until the end, so a read-only one can still be filled); a non-directory
 * there is replaced. The usual mkdir (and its lstat) are synchronous: see bytePathFsSync.
 */
export async function makeDirectory(abs: string, mode: number): Promise<void> {
  try {
    fss.mkdir(abs, mode | 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const st = fss.lstat(abs);
    if (!st.isDirectory()) {
      await fsp.unlink(abs);
      await fsp.mkdir(abs, mode | 0o700);
    }
  }
}

/**
 * Runs `make` (which creates a non-directory at `abs` exclusively). If something is already there it is
 * unlinked first, never opened or followed; an existing non-empty directory skips the member.
 */
export async function replaceExisting(abs: string, type: EntryHeader['type'], make: () => Promise<void>): Promise<void> {
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
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw existingDirectory(type);
      throw err;
    }
  } else {
    await fsp.unlink(abs);
  }
  await make();
}

export async function lutimesIfPossible(abs: string, mtime: number): Promise<void> {
  try {
    fss.lutimes(abs, mtime, mtime);
  } catch {
    // Some platforms cannot time a link itself; the link works the same.
  }
}

/** The member is skipped: a non-empty directory is where it would go (GNU tar refuses it too). */
export function existingDirectory(type: EntryHeader['type']): Skip {
  return new Skip('EXISTING_DIRECTORY', `a non-empty directory already exists where this ${type} would go`);
}
