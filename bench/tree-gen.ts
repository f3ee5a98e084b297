// Generates a folder that looks like a node's database directory: a few large SST-like binaries, many
// LevelDB-sized tables, JSON and log text, thousands of small files, a symlink, an empty folder and an
// executable. Binary content is mostly incompressible (as compressed database blocks are); text compresses
// several times over, so the archive exercises both the inflate and the write paths.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';

/** Shares of the tree's bytes by kind (the rest are large SST-like files). */
const SHARES = { tables: 0.2, text: 0.2, small: 0.04 } as const;
const BLOCK = 4096;

/** Deterministic small PRNG (mulberry32) so names and sizes repeat across machines. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Database-block-like bytes: each 4 KiB block is 3 KiB random and 1 KiB repeated, so gzip gains ~20%. */
export function binaryContent(size: number): Buffer {
  const out = randomBytes(size);
  for (let off = 0; off + BLOCK <= size; off += BLOCK) out.copy(out, off + 3072, off, off + 1024);
  return out;
}

const WORDS = ['height', 'hash', 'parent', 'txs', 'gas', 'validator', 'timestamp', 'state_root', 'receipts', 'nonce', 'fee', 'memo'];

/** JSON-lines text with hex hashes and repeated keys: compresses about 3x with gzip -6. */
export function textContent(size: number, rand: () => number): Buffer {
  const parts: string[] = [];
  let length = 0;
  let height = Math.floor(rand() * 1e7);
  while (length < size) {
    const hash = randomBytes(16).toString('hex');
    const word = WORDS[Math.floor(rand() * WORDS.length)]!;
    const line = `{"height":${height++},"hash":"${hash}","${word}":${Math.floor(rand() * 1e6)},"ok":true,"note":"${word} ${word} applied"}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/** Bytes the compressed archive is expected to take per byte of tree (measured on samples). */
export function expectedRatio(): number {
  const rand = prng(7);
  const bin = binaryContent(1 << 20);
  const text = textContent(1 << 20, rand);
  const rb = deflateRawSync(bin, { level: 6 }).length / bin.length;
  const rt = deflateRawSync(text, { level: 6 }).length / text.length;
  const textShare = SHARES.text + SHARES.small;
  return rb * (1 - textShare) + rt * textShare;
}

export interface TreeStats {
  files: number;
  bytes: number;
}

/** Writes a tree of about `totalBytes` under `root` (which must not exist yet). */
export async function generateTree(root: string, totalBytes: number, seed = 1): Promise<TreeStats> {
  const rand = prng(seed);
  const stats: TreeStats = { files: 0, bytes: 0 };
  const write = async (path: string, data: Buffer, mode = 0o644) => {
    await fsp.writeFile(path, data, { mode });
    stats.files++;
    stats.bytes += data.length;
  };
  const dirs = ['data/state.db', 'data/blockstore.db', 'data/snapshots', 'data/wal', 'config', 'data/empty'];
  for (const d of dirs) await fsp.mkdir(join(root, d), { recursive: true });

  // Small files first: thousands of 1-12 KiB JSON documents, spread over sub-folders.
  let small = 0;
  for (let i = 0; small < totalBytes * SHARES.small; i++) {
    const dir = join(root, 'data/snapshots', `h${String(Math.floor(i / 500)).padStart(4, '0')}`);
    if (i % 500 === 0) await fsp.mkdir(dir, { recursive: true });
    const size = 1024 + Math.floor(rand() * 11 * 1024);
    await write(join(dir, `${String(i).padStart(7, '0')}.json`), textContent(size, rand));
    small += size;
  }
  // LevelDB-sized tables of 2 MiB.
  for (let i = 0, bytes = 0; bytes < totalBytes * SHARES.tables; i++) {
    const size = 2 * 1024 * 1024 - Math.floor(rand() * 64 * 1024);
    await write(join(root, 'data/blockstore.db', `${String(100000 + i)}.ldb`), binaryContent(size));
    bytes += size;
  }
  // Text: logs and a WAL-ish journal in 16 MiB pieces.
  for (let i = 0, bytes = 0; bytes < totalBytes * SHARES.text; i++) {
    const size = Math.min(16 * 1024 * 1024, Math.ceil(totalBytes * SHARES.text - bytes));
    await write(join(root, 'data/wal', `${String(i).padStart(6, '0')}.log`), textContent(size, rand));
    bytes += size;
  }
  // Large SST-like files of up to 64 MiB fill the rest.
  for (let i = 0; stats.bytes < totalBytes; i++) {
    const size = Math.min(64 * 1024 * 1024, Math.max(4096, totalBytes - stats.bytes));
    await write(join(root, 'data/state.db', `${String(200000 + i)}.sst`), binaryContent(size));
  }
  await write(join(root, 'data/state.db/CURRENT'), Buffer.from('MANIFEST-000042\n'));
  await write(join(root, 'config/node.toml'), textContent(3000, rand));
  await write(join(root, 'config/start.sh'), Buffer.from('#!/bin/sh\nexec node --datadir ./data "$@"\n'), 0o755);
  await fsp.symlink('state.db/CURRENT', join(root, 'data/CURRENT.link'));
  return stats;
}
