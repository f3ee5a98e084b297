// Crash-safe small files: write a temp file, fsync it, rename over the target, fsync the directory. The
// previous generation is kept as `<name>.prev` (from the first save on: a file written once would otherwise
// have none), so a torn or corrupt current file still leaves a good one. Files are owner-only (0600): they
// may hold URLs with signatures, or headers.
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: string | Buffer, options: { keepPrevious?: boolean } = {}): Promise<void> {
  const dir = dirname(path);
  if (options.keepPrevious) {
    const kept = await fsp.copyFile(path, `${path}.prev`).then(
      () => fsp.chmod(`${path}.prev`, 0o600).then(() => true),
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        return false;
      },
    );
    // The first save: this generation is also the previous one, so damage to the only copy loses nothing.
    if (!kept) await replaceFile(`${path}.prev`, data);
  }
  await replaceFile(path, data);
  await fsyncDir(dir);
}

let tmpSerial = 0;

/** Temp file (0600) + fsync + rename over `path`. */
async function replaceFile(path: string, data: string | Buffer): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.${tmpSerial++}.tmp`);
  const handle = await fsp.open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmp, path);
}

export async function fsyncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename durable; some platforms (Windows) refuse to open a directory: skip there.
  const handle = await fsp.open(dir, 'r').catch(() => null);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL/EPERM on filesystems without directory sync: nothing more can be done.
  } finally {
    await handle.close();
  }
}

/** Reads JSON written by writeFileAtomic, falling back to the previous generation when the current one is bad. */
export async function readJsonWithFallback<T>(path: string, validate: (value: unknown) => value is T): Promise<T | null> {
  return (await readJsonGenerations(path, validate)).value;
}

/**
 * The newest valid generation, and whether any generation exists at all: a file that is there but cannot
 * be read (`value` null, `present` true) is damage to report, not the absence of a file.
 */
export async function readJsonGenerations<T>(path: string, validate: (value: unknown) => value is T): Promise<{ value: T | null; present: boolean; problem: string | null }> {
  let present = false;
  let problem: string | null = null;
  for (const candidate of [path, `${path}.prev`]) {
    try {
      const text = await fsp.readFile(candidate, 'utf8');
      present = true;
      const value: unknown = JSON.parse(text);
      if (validate(value)) return { value, present, problem: null };
      problem ??= `${basename(candidate)} is not a valid record`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      present = true;
      problem ??= `${basename(candidate)}: ${(err as Error).message}`;
    }
  }
  return { value: null, present, problem };
}
