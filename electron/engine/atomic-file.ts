// Crash-safe small files: write a temp file, fsync it, rename over the target, fsync the directory. The
// previous generation is kept as `<name>.prev`, so a torn or corrupt current file still leaves a good one.
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: string | Buffer, options: { keepPrevious?: boolean } = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await fsp.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (options.keepPrevious) {
    await fsp.copyFile(path, `${path}.prev`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  await fsp.rename(tmp, path);
  await fsyncDir(dir);
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
  for (const candidate of [path, `${path}.prev`]) {
    try {
      const value: unknown = JSON.parse(await fsp.readFile(candidate, 'utf8'));
      if (validate(value)) return value;
    } catch {
      // missing or torn: try the previous generation
    }
  }
  return null;
}
