// What a tree holds (type, permission bits, size, content hash, link target, mtime), and the differences
// between two trees. Every extraction in the benchmark is checked against GNU tar's tree this way.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join } from 'node:path';

export interface ManifestEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  size: number;
  sha1?: string;
  link?: string;
  mtime: number;
}

export type Manifest = Record<string, ManifestEntry>;

async function hashFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha1');
  if (size < 1 << 20) return hash.update(await fsp.readFile(path)).digest('hex');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Walks `root` (not following links); paths are relative with '/' separators. */
export async function buildManifest(root: string): Promise<Manifest> {
  const manifest: Manifest = {};
  const pending: Array<Promise<void>> = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fsp.readdir(join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      const abs = join(root, path);
      const st = await fsp.lstat(abs);
      const base = { mode: st.mode & 0o7777, size: 0, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        manifest[path] = { type: 'dir', ...base };
        await walk(path);
      } else if (st.isSymbolicLink()) {
        manifest[path] = { type: 'symlink', ...base, link: await fsp.readlink(abs) };
      } else if (st.isFile()) {
        const entry: ManifestEntry = { type: 'file', ...base, size: st.size };
        manifest[path] = entry;
        pending.push(hashFile(abs, st.size).then((h) => void (entry.sha1 = h)));
        // Bounded parallelism: small files are many, large ones are read in 1 MiB pieces.
        if (pending.length >= 8) await Promise.all(pending.splice(0));
      } else {
        manifest[path] = { type: 'other', ...base };
      }
    }
  };
  await walk('');
  await Promise.all(pending);
  return manifest;
}

export interface TreeDiff {
  /** Content, type, mode or link differences, missing and extra entries: the result is wrong. */
  errors: string[];
  /** Modification times that differ (reported, not fatal: the format keeps them to the second). */
  mtimeDiffs: number;
}

/** Compares `actual` against the `expected` reference; at most `limit` messages are kept. */
export function diffManifests(expected: Manifest, actual: Manifest, limit = 10): TreeDiff {
  const errors: string[] = [];
  let mtimeDiffs = 0;
  const note = (msg: string) => {
    if (errors.length < limit) errors.push(msg);
    else if (errors.length === limit) errors.push('...');
  };
  for (const [path, want] of Object.entries(expected)) {
    const got = actual[path];
    if (!got) {
      note(`missing ${path}`);
      continue;
    }
    if (got.type !== want.type) note(`${path}: ${got.type}, expected ${want.type}`);
    else if (want.type === 'file' && (got.size !== want.size || got.sha1 !== want.sha1)) note(`${path}: content differs`);
    else if (want.type === 'symlink' && got.link !== want.link) note(`${path}: link to ${got.link}, expected ${want.link}`);
    if (want.type !== 'symlink' && got.mode !== want.mode) note(`${path}: mode ${got.mode.toString(8)}, expected ${want.mode.toString(8)}`);
    if (want.type !== 'symlink' && got.mtime !== want.mtime) mtimeDiffs++;
  }
  for (const path of Object.keys(actual)) if (!expected[path]) note(`unexpected ${path}`);
  return { errors, mtimeDiffs };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
