// What the add form can know about a destination before a job exists: whether it can be used (a file
// where a folder is wanted, a folder that is not empty, not writable, a read-only file system) and how
// much space is free next to the snapshot's size. Read-only: nothing is created, unlike the engine's
// preflight, which runs when the job starts.
import { constants, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { freeBytes } from '../engine/space/space-wait';

export interface DestinationProblem {
  code: 'E_DEST_NOT_EMPTY' | 'E_DEST_NOT_WRITABLE';
  message: string;
}

export interface DestinationReport {
  /** Null when the destination can be used as asked. */
  problem: DestinationProblem | null;
  freeBytes: number | null;
}

/** The nearest existing folder at or above `path` (what a new destination would be created in). */
async function nearestExisting(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    const st = await fsp.stat(p).catch(() => null);
    if (st) return p;
    if (dirname(p) === p) return p;
  }
}

async function writableProblem(dir: string): Promise<DestinationProblem | null> {
  try {
    await fsp.access(dir, constants.W_OK | constants.X_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'it is on a read-only file system' : code === 'EACCES' || code === 'EPERM' ? 'this user may not write there' : `it cannot be written (${code})`;
    return { code: 'E_DEST_NOT_WRITABLE', message: `${dir} cannot be used: ${why}. Choose another destination${code === 'EROFS' ? '' : ' or fix its permissions'}.` };
  }
}

export async function checkDestination(path: string, options: { downloadOnly: boolean; force: boolean }): Promise<DestinationReport> {
  const free = await freeBytes(path);
  const st = await fsp.stat(path).catch(() => null);
  if (options.downloadOnly) {
    if (st && !st.isFile()) return { problem: { code: 'E_DEST_NOT_WRITABLE', message: `${path} exists and is not a regular file; give a file name.` }, freeBytes: free };
    if (st && st.size > 0 && !options.force) {
      return {
        problem: { code: 'E_DEST_NOT_EMPTY', message: `${path} already exists. Choose another name, or tick “Extract into a non-empty folder (or over an existing file)”.` },
        freeBytes: free,
      };
    }
    return { problem: await writableProblem(await nearestExisting(dirname(path))), freeBytes: free };
  }
  if (st && !st.isDirectory()) return { problem: { code: 'E_DEST_NOT_WRITABLE', message: `${path} exists and is not a folder; choose a folder.` }, freeBytes: free };
  if (st && !options.force) {
    const entries = await fsp.readdir(path).catch(() => [] as string[]);
    if (entries.length > 0) {
      return {
        problem: {
          code: 'E_DEST_NOT_EMPTY',
          message: `${path} is not empty (${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}). Choose an empty folder, or tick “Extract into a non-empty folder (or over an existing file)”.`,
        },
        freeBytes: free,
      };
    }
  }
  return { problem: await writableProblem(st ? path : await nearestExisting(path)), freeBytes: free };
}
