// Deterministic test trees, real archives made by GNU tar / pigz / zstd, GNU tar's own extraction as the
// reference, and a precise tree comparison. Same seed and size: the same tree, byte for byte.
import { createCipheriv, createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  createReadStream,
  readFileSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pipeline } from 'node:stream/promises';

const run = promisify(execFile);

// ---- Deterministic randomness ---------------------------------------------------------------------

/** mulberry32: a small, fast, seeded PRNG (floats in [0, 1)). */
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

/** Incompressible bytes, reproducible from (seed, label): AES-CTR over zeros, fast even for many MB. */
export function incompressibleBytes(seed: number, label: string, length: number): Buffer {
  const key = createHash('sha256').update(`${seed}:${label}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

const WORDS = (
  'block chain node state snapshot ledger height epoch validator peer shard index commit root hash ' +
  'account storage trie leaf branch header receipt log bloom gas fee nonce era slot finality vote ' +
  'the of and to in is it for on with as at by from this that be or are an'
).split(' ');

/** Compressible text: numbered lines of words, reproducible from the PRNG. */
export function textBytes(rand: () => number, length: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let n = 1; size < length; n++) {
    const count = 4 + Math.floor(rand() * 12);
    const words: string[] = [];
    for (let i = 0; i < count; i++) words.push(WORDS[Math.floor(rand() * WORDS.length)]!);
    const line = `${n} ${words.join(' ')}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, length);
}

// ---- Trees ------------------------------------------------------------------------------------------

export interface TreeOptions {
  seed?: number;
  /** Approximate total size of the regular files. */
  bytes?: number;
  /** Share of `bytes` that is incompressible binary (the rest is text). */
  incompressible?: number;
  /** Largest single file. */
  maxFileBytes?: number;
}

export interface TreeInfo {
  root: string;
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  bytes: number;
}

/** Fixed times: archives built from the same tree are identical. */
const FIXED_TIME = new Date('2024-01-02T03:04:05Z');

/**
 * Builds a tree with every kind of entry a snapshot may hold: text and incompressible files, empty files,
 * nested and empty directories, relative symlinks (to files and directories, one with a long target),
 * executable and private modes, names and paths over 100 characters, and a hardlink.
 */
export function buildTree(root: string, options: TreeOptions = {}): TreeInfo {
  const seed = options.seed ?? 1;
  const total = options.bytes ?? 2 * 1024 * 1024;
  const share = options.incompressible ?? 0.5;
  const maxFile = options.maxFileBytes ?? 8 * 1024 * 1024;
  const rand = prng(seed);
  const info: TreeInfo = { root, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, bytes: 0 };

  const dirs: string[] = [];
  const dir = (rel: string, mode = 0o755) => {
    mkdirSync(join(root, rel), { recursive: true });
    dirs.push(rel);
    info.dirs++;
    return { rel, mode };
  };
  const modes: Array<{ rel: string; mode: number }> = [];
  const file = (rel: string, content: Buffer, mode = 0o644) => {
    writeFileSync(join(root, rel), content);
    modes.push({ rel, mode });
    info.files++;
    info.bytes += content.length;
  };

  mkdirSync(root, { recursive: true });
  const dirModes = [
    dir('docs'),
    dir('docs/guide/chapter-one/section'),
    dir('data'),
    dir('data/blocks'),
    dir('logs'),
    dir('bin'),
    dir('empty-dir'),
    dir('nested/empty/deeper'),
    dir('private', 0o700),
  ];
  const longDir = `long/${'directory-with-a-rather-long-name-'.repeat(2)}end`;
  dirModes.push(dir(longDir));

  file('README.txt', textBytes(rand, 4_000));
  file('docs/guide/chapter-one/section/notes.txt', textBytes(rand, 20_000));
  file('empty.txt', Buffer.alloc(0));
  file('data/empty.bin', Buffer.alloc(0));
  file('bin/run.sh', Buffer.from('#!/bin/sh\necho "snapshot ready"\n'), 0o755);
  file('bin/tool', incompressibleBytes(seed, 'tool', 12_345), 0o755);
  file('private/key.pem', textBytes(rand, 1_000), 0o600);
  const longName = `${'a-file-name-longer-than-one-hundred-characters-'.repeat(3)}end.txt`;
  file(`long/${longName}`, textBytes(rand, 3_000));
  file(`${longDir}/${longName}`, textBytes(rand, 2_000));

  // The bulk: binary and text files of varied sizes until the budget is spent.
  let binaryLeft = Math.floor(total * share);
  let textLeft = total - binaryLeft;
  for (let i = 0; binaryLeft > 0; i++) {
    const size = Math.min(binaryLeft, Math.max(1, Math.floor(maxFile * (0.25 + 0.75 * rand()))));
    file(`data/blocks/block-${String(i).padStart(4, '0')}.bin`, incompressibleBytes(seed, `block-${i}`, size));
    binaryLeft -= size;
  }
  for (let i = 0; textLeft > 0; i++) {
    const size = Math.min(textLeft, Math.max(1, Math.floor(maxFile * (0.25 + 0.75 * rand()))));
    file(`logs/node-${String(i).padStart(3, '0')}.log`, textBytes(rand, size));
    textLeft -= size;
  }

  linkSync(join(root, 'README.txt'), join(root, 'docs/README-hardlink.txt'));
  info.hardlinks++;
  const links: Array<[string, string]> = [
    ['README-link', 'README.txt'],
    ['docs/data-link', '../data'],
    ['docs/guide/up-two', '../../bin/run.sh'],
    [`long/link-with-long-target`, `${longDir.slice('long/'.length)}/${longName}`],
  ];
  for (const [at, target] of links) {
    symlinkSync(target, join(root, at));
    info.symlinks++;
  }

  for (const { rel, mode } of modes) {
    chmodSync(join(root, rel), mode);
    utimesSync(join(root, rel), FIXED_TIME, FIXED_TIME);
  }
  // Deepest first, so setting a parent's time is not undone by creating inside it afterwards.
  for (const { rel, mode } of [...dirModes].reverse()) {
    chmodSync(join(root, rel), mode);
  }
  for (const rel of [...dirs].sort().reverse()) utimesSync(join(root, rel), FIXED_TIME, FIXED_TIME);
  return info;
}

// ---- Archives ---------------------------------------------------------------------------------------

export type ArchiveKind =
  /** Plain tar (GNU format). */
  | 'tar'
  /** `tar -czf` (GNU tar through gzip). */
  | 'tar.gz'
  /** GNU tar through pigz (one gzip member, made in parallel). */
  | 'tar.gz-pigz'
  /** Several gzip members concatenated (like `cat a.gz b.gz`): a valid gzip stream. */
  | 'tar.gz-multi'
  /** GNU tar through zstd: one frame. */
  | 'tar.zst'
  /** GNU tar through `pzstd -p 2`: a skippable frame before each of several zstd frames. */
  | 'tar.zst-pzstd'
  /** GNU tar through lz4 (independent blocks, content checksum: its defaults). */
  | 'tar.lz4'
  /** GNU tar through `lz4 -BD` (linked blocks: each may reach into the previous 64 KiB of output). */
  | 'tar.lz4-linked';

export interface ArchiveOptions {
  /** 'gnu' (default: ././@LongLink for long names) or 'pax' (extended headers). */
  format?: 'gnu' | 'pax';
  /** For tar.gz-multi: how many members (default 3). */
  members?: number;
  /** Archive `./` and `./name` entries (like `tar -C dir .`) instead of bare names. */
  dotPrefix?: boolean;
  /** For tar.lz4*: more arguments to lz4, e.g. ['-B4'] for 64 KiB blocks. */
  lz4Args?: string[];
}

function tarCreateArgs(tree: string, options: ArchiveOptions): string[] {
  const names = options.dotPrefix ? ['.'] : readdirSync(tree).sort();
  return [
    `--format=${options.format ?? 'gnu'}`,
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    `--mtime=@${Math.floor(FIXED_TIME.getTime() / 1000)}`,
    ...(options.format === 'pax' ? ['--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'] : []),
    '-C',
    tree,
    '--',
    ...names,
  ];
}

/** Archives `tree` into `out` with the real tools. Returns `out`. */
export async function makeArchive(tree: string, out: string, kind: ArchiveKind, options: ArchiveOptions = {}): Promise<string> {
  const create = tarCreateArgs(tree, options);
  const big = { maxBuffer: 64 * 1024 * 1024 };
  switch (kind) {
    case 'tar':
      await run('tar', ['-cf', out, ...create], big);
      break;
    case 'tar.gz':
      await run('tar', ['-czf', out, ...create], big);
      break;
    case 'tar.gz-pigz':
      await run('tar', ['--use-compress-program=pigz -n', '-cf', out, ...create], big);
      break;
    case 'tar.zst':
      await run('tar', ['--use-compress-program=zstd -q', '-cf', out, ...create], big);
      break;
    case 'tar.zst-pzstd':
      await run('tar', ['--use-compress-program=pzstd -q -p 2', '-cf', out, ...create], big);
      break;
    case 'tar.lz4':
    case 'tar.lz4-linked': {
      const lz4 = ['lz4 -q', ...(kind === 'tar.lz4-linked' ? ['-BD'] : []), ...(options.lz4Args ?? [])].join(' ');
      await run('tar', [`--use-compress-program=${lz4}`, '-cf', out, ...create], big);
      break;
    }
    case 'tar.gz-multi': {
      const plain = `${out}.tar`;
      await run('tar', ['-cf', plain, ...create], big);
      gzipMembers(plain, out, options.members ?? 3);
      await run('rm', ['-f', plain]);
      break;
    }
  }
  return out;
}

/** Splits `input` into `members` pieces at offsets that are not block-aligned, and gzips each. */
function gzipMembers(input: string, out: string, members: number): void {
  const tar = readFileSync(input);
  const step = Math.ceil(tar.length / members);
  const parts: Buffer[] = [];
  for (let i = 0; i < members; i++) {
    const start = i === 0 ? 0 : Math.min(tar.length, i * step + 777);
    const end = Math.min(tar.length, (i + 1) * step + 777);
    if (start < end) parts.push(gzipSync(tar.subarray(start, end)));
  }
  writeFileSync(out, Buffer.concat(parts));
}

/**
 * GNU tar's own extraction of `archive` into `dest`: the reference tree. tar detects gzip and zstd itself;
 * lz4 it does not recognise when reading, so a file whose first frame (after skippable ones) is lz4 goes
 * through `lz4 -d`, and one whose zstd frame follows skippable ones (pzstd's) through `zstd -d`.
 */
export async function extractReference(archive: string, dest: string): Promise<void> {
  mkdirSync(dest, { recursive: true });
  const kind = framedKind(archive);
  const program = kind === 'lz4' ? ['--use-compress-program=lz4 -d'] : kind === 'zstd-after-skippable' ? ['--use-compress-program=zstd -d'] : [];
  await run('tar', [...program, '-xf', archive, '-C', dest], { maxBuffer: 16 * 1024 * 1024 });
}

function framedKind(path: string): 'lz4' | 'zstd-after-skippable' | null {
  const fd = openSync(path, 'r');
  try {
    const word = Buffer.alloc(8);
    let at = 0;
    // Skippable frames (magic 0x184D2A5n and a size) are read past, however long.
    while (readSync(fd, word, 0, 8, at) === 8 && (word.readUInt32LE(0) & 0xfffffff0) >>> 0 === 0x184d2a50) at += 8 + word.readUInt32LE(4);
    const magic = readSync(fd, word, 0, 4, at) === 4 ? word.readUInt32LE(0) : 0;
    if (magic === 0x184d2204 || magic === 0x184c2102) return 'lz4';
    return at > 0 && magic === 0xfd2fb528 ? 'zstd-after-skippable' : null;
  } finally {
    closeSync(fd);
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

// ---- Comparison -------------------------------------------------------------------------------------

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface TreeDifference {
  path: string;
  kind: 'missing' | 'extra' | 'type' | 'mode' | 'size' | 'content' | 'symlink' | 'hardlink';
  expected?: string | number;
  actual?: string | number;
}

export interface CompareOptions {
  /** Mode bits compared on files and directories (default 0o777). */
  modeMask?: number;
  /** Compare which files share an inode (default true). */
  hardlinks?: boolean;
  /** Relative paths (posix separators) to leave out, e.g. a state folder. */
  ignore?: (path: string) => boolean;
}

function entryType(mode: number): EntryType {
  const t = mode & 0o170000;
  return t === 0o100000 ? 'file' : t === 0o040000 ? 'dir' : t === 0o120000 ? 'symlink' : 'other';
}

function walk(root: string, ignore: (p: string) => boolean): Map<string, Stats> {
  const out = new Map<string, Stats>();
  const visit = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (ignore(child)) continue;
      const st = lstatSync(join(root, child));
      out.set(child, st);
      if (st.isDirectory()) visit(child);
    }
  };
  visit('');
  return out;
}

/** The first offset at which two files differ, or -1 when their bytes are equal. */
function firstDifference(a: string, b: string): number {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const ba = Buffer.allocUnsafe(1 << 20);
    const bb = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; ; ) {
      const na = readSync(fa, ba, 0, ba.length, pos);
      const nb = readSync(fb, bb, 0, bb.length, pos);
      const n = Math.min(na, nb);
      if (ba.subarray(0, n).equals(bb.subarray(0, n)) === false) {
        for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return pos + i;
      }
      if (na !== nb) return pos + n;
      if (na === 0) return -1;
      pos += na;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/**
 * Every difference between the `expected` and `actual` trees: missing or extra entries, entry types,
 * mode bits, sizes, the first differing byte of a file, symlink targets, and (optionally) which files
 * are hardlinked together. An empty list means the trees are identical.
 */
export function compareTrees(expected: string, actual: string, options: CompareOptions = {}): TreeDifference[] {
  const mask = options.modeMask ?? 0o777;
  const ignore = options.ignore ?? (() => false);
  const a = walk(expected, ignore);
  const b = walk(actual, ignore);
  const diffs: TreeDifference[] = [];
  for (const [path, sa] of a) {
    const sb = b.get(path);
    if (!sb) {
      diffs.push({ path, kind: 'missing', expected: entryType(sa.mode) });
      continue;
    }
    const ta = entryType(sa.mode);
    const tb = entryType(sb.mode);
    if (ta !== tb) {
      diffs.push({ path, kind: 'type', expected: ta, actual: tb });
      continue;
    }
    if (ta === 'symlink') {
      const la = readlinkSync(join(expected, path));
      const lb = readlinkSync(join(actual, path));
      if (la !== lb) diffs.push({ path, kind: 'symlink', expected: la, actual: lb });
      continue;
    }
    if ((sa.mode & mask) !== (sb.mode & mask)) {
      diffs.push({ path, kind: 'mode', expected: octal(sa.mode & mask), actual: octal(sb.mode & mask) });
    }
    if (ta === 'file') {
      if (sa.size !== sb.size) diffs.push({ path, kind: 'size', expected: Number(sa.size), actual: Number(sb.size) });
      else {
        const at = firstDifference(join(expected, path), join(actual, path));
        if (at >= 0) diffs.push({ path, kind: 'content', expected: `bytes equal up to ${at}`, actual: `differs at byte ${at}` });
      }
    }
  }
  for (const [path, sb] of b) if (!a.has(path)) diffs.push({ path, kind: 'extra', actual: entryType(sb.mode) });
  if (options.hardlinks ?? true) diffs.push(...hardlinkDifferences(a, b));
  return diffs;
}

/** Groups of paths sharing an inode must be the same groups on both sides. */
function hardlinkDifferences(a: Map<string, Stats>, b: Map<string, Stats>): TreeDifference[] {
  const groups = (m: Map<string, Stats>) => {
    const byInode = new Map<string, string[]>();
    for (const [path, st] of m) {
      if (!st.isFile() || st.nlink < 2) continue;
      const key = `${st.dev}:${st.ino}`;
      byInode.set(key, [...(byInode.get(key) ?? []), path]);
    }
    const partner = new Map<string, string>();
    for (const paths of byInode.values())
      for (const p of paths)
        partner.set(
          p,
          paths
            .filter((x) => x !== p)
            .sort()
            .join(','),
        );
    return partner;
  };
  const ga = groups(a);
  const gb = groups(b);
  const diffs: TreeDifference[] = [];
  for (const path of new Set([...ga.keys(), ...gb.keys()])) {
    if (!a.has(path) || !b.has(path)) continue;
    const ea = ga.get(path) ?? '';
    const eb = gb.get(path) ?? '';
    if (ea !== eb) diffs.push({ path, kind: 'hardlink', expected: ea || '(not linked)', actual: eb || '(not linked)' });
  }
  return diffs.sort((x, y) => x.path.localeCompare(y.path));
}

function octal(n: number): string {
  return `0o${n.toString(8).padStart(3, '0')}`;
}

export function formatDifferences(diffs: TreeDifference[], max = 30): string {
  const lines = diffs.slice(0, max).map((d) => {
    const parts = [`${d.kind}: ${d.path}`];
    if (d.expected !== undefined) parts.push(`expected ${d.expected}`);
    if (d.actual !== undefined) parts.push(`actual ${d.actual}`);
    return parts.join('  ');
  });
  if (diffs.length > max) lines.push(`... and ${diffs.length - max} more`);
  return lines.join('\n');
}

/** Throws with every difference listed when the trees differ. */
export function assertTreesEqual(expected: string, actual: string, options: CompareOptions = {}): void {
  const diffs = compareTrees(expected, actual, options);
  if (diffs.length > 0) {
    throw new Error(`trees differ (${diffs.length}):\n${formatDifferences(diffs)}`);
  }
}
