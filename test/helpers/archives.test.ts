// Self-tests of the archive helpers: trees are reproducible, every archive kind round-trips through GNU
// tar, and compareTrees notices each kind of difference it claims to.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  rmSync,
  writeFileSync,
  chmodSync,
  unlinkSync,
  symlinkSync,
  mkdirSync,
  copyFileSync,
  readFileSync,
  lstatSync,
  readlinkSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildTree, makeArchive, extractReference, compareTrees, assertTreesEqual, sha256File, prng, incompressibleBytes, type ArchiveKind } from './archives';

const work = mkdtempSync(join(tmpdir(), 'archives-'));
after(() => rmSync(work, { recursive: true, force: true }));
const small = { seed: 7, bytes: 600_000, maxFileBytes: 150_000 };

test('the PRNG and incompressible bytes are reproducible and differ by seed', () => {
  const a = prng(1);
  const b = prng(1);
  const c = prng(2);
  const xs = [a(), a(), a()];
  assert.deepEqual(xs, [b(), b(), b()]);
  assert.notDeepEqual(xs, [c(), c(), c()]);
  assert.ok(incompressibleBytes(1, 'x', 4096).equals(incompressibleBytes(1, 'x', 4096)));
  assert.ok(!incompressibleBytes(1, 'x', 4096).equals(incompressibleBytes(2, 'x', 4096)));
});

test('buildTree makes every kind of entry, the same for the same seed', async () => {
  const one = join(work, 'tree-one');
  const two = join(work, 'tree-two');
  const info = buildTree(one, small);
  buildTree(two, small);
  assert.deepEqual(compareTrees(one, two), []);
  assert.ok(info.files >= 10 && info.symlinks >= 3 && info.hardlinks === 1 && info.dirs >= 8, JSON.stringify(info));
  assert.ok(Math.abs(info.bytes - small.bytes) < 100_000, `bytes ${info.bytes}`);
  assert.equal(lstatSync(join(one, 'bin/run.sh')).mode & 0o777, 0o755);
  assert.equal(lstatSync(join(one, 'private')).mode & 0o777, 0o700);
  assert.equal(lstatSync(join(one, 'empty.txt')).size, 0);
  assert.equal(readlinkSync(join(one, 'docs/data-link')), '../data');
  assert.equal(lstatSync(join(one, 'README.txt')).ino, lstatSync(join(one, 'docs/README-hardlink.txt')).ino);
  const long = (await import('node:fs')).readdirSync(join(one, 'long')).find((n) => n.length > 100);
  assert.ok(long, 'a name over 100 characters');
  // Same tree, same archive bytes.
  const ta = await makeArchive(one, join(work, 'one.tar'), 'tar');
  const tb = await makeArchive(two, join(work, 'two.tar'), 'tar');
  assert.equal(await sha256File(ta), await sha256File(tb));
  const other = join(work, 'tree-other');
  buildTree(other, { ...small, seed: 8 });
  assert.ok(compareTrees(one, other).some((d) => d.kind === 'content' || d.kind === 'size'));
});

test('every archive kind extracts with GNU tar to the source tree', async () => {
  const tree = join(work, 'tree-kinds');
  buildTree(tree, small);
  const kinds: ArchiveKind[] = ['tar', 'tar.gz', 'tar.gz-pigz', 'tar.gz-multi', 'tar.zst', 'tar.lz4', 'tar.lz4-linked'];
  for (const kind of kinds) {
    for (const format of ['gnu', 'pax'] as const) {
      const archive = await makeArchive(tree, join(work, `kinds-${format}.${kind}`), kind, { format });
      const out = join(work, `out-${format}-${kind}`);
      await extractReference(archive, out);
      assertTreesEqual(tree, out);
    }
  }
  const multi = readFileSync(join(work, 'kinds-gnu.tar.gz-multi'));
  let members = 0;
  for (let i = multi.indexOf(Buffer.from([0x1f, 0x8b, 0x08])); i >= 0; i = multi.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), i + 1)) members++;
  assert.ok(members >= 3, `expected 3 gzip members, saw ${members} headers`);
  assert.ok(gunzipSync(multi).equals(readFileSync(join(work, 'kinds-gnu.tar'))));
  const zst = readFileSync(join(work, 'kinds-gnu.tar.zst'));
  assert.equal(zst.readUInt32LE(0), 0xfd2fb528, 'zstd frame magic');
  const dotted = await makeArchive(tree, join(work, 'dotted.tar'), 'tar', { dotPrefix: true });
  await extractReference(dotted, join(work, 'out-dotted'));
  assertTreesEqual(tree, join(work, 'out-dotted'));
});

test('compareTrees reports each kind of difference precisely', () => {
  const a = join(work, 'cmp-a');
  const b = join(work, 'cmp-b');
  buildTree(a, small);
  buildTree(b, small);
  // content: one byte flipped in the middle of a file
  const victim = join(b, 'docs/guide/chapter-one/section/notes.txt');
  const fd = openSync(victim, 'r+');
  writeSync(fd, Buffer.from('#'), 0, 1, 1234);
  closeSync(fd);
  chmodSync(join(b, 'bin/run.sh'), 0o644);
  unlinkSync(join(b, 'docs/data-link'));
  symlinkSync('../logs', join(b, 'docs/data-link'));
  unlinkSync(join(b, 'empty.txt'));
  writeFileSync(join(b, 'surprise.txt'), 'x');
  unlinkSync(join(b, 'data/empty.bin'));
  mkdirSync(join(b, 'data/empty.bin'));
  unlinkSync(join(b, 'docs/README-hardlink.txt'));
  copyFileSync(join(b, 'README.txt'), join(b, 'docs/README-hardlink.txt'));
  writeFileSync(join(b, 'bin/tool'), 'short');
  chmodSync(join(b, 'bin/tool'), 0o755);

  const diffs = compareTrees(a, b);
  const find = (kind: string, path: string) => diffs.find((d) => d.kind === kind && d.path === path);
  assert.deepEqual(find('content', 'docs/guide/chapter-one/section/notes.txt')?.actual, 'differs at byte 1234');
  assert.deepEqual(find('mode', 'bin/run.sh'), { path: 'bin/run.sh', kind: 'mode', expected: '0o755', actual: '0o644' });
  assert.deepEqual(find('symlink', 'docs/data-link'), { path: 'docs/data-link', kind: 'symlink', expected: '../data', actual: '../logs' });
  assert.ok(find('missing', 'empty.txt'));
  assert.ok(find('extra', 'surprise.txt'));
  assert.deepEqual(find('type', 'data/empty.bin'), { path: 'data/empty.bin', kind: 'type', expected: 'file', actual: 'dir' });
  assert.ok(find('hardlink', 'README.txt'));
  assert.ok(find('size', 'bin/tool'));
  assert.equal(diffs.length, 9, JSON.stringify(diffs, null, 1));
  assert.throws(() => assertTreesEqual(a, b), /trees differ \(9\)/);
  assert.equal(compareTrees(a, b, { hardlinks: false, ignore: (p) => p !== 'README.txt' }).length, 0);
});
