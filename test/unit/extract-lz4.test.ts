// .tar.lz4 made by GNU tar and the real lz4 tool, in every variant, extracts to the same tree as GNU tar's
// own extraction (through lz4 -d); a cut or damaged .tar.lz4 fails with a coded error, never a short tree;
// a checkpointing job's lz4 checkpoints resume; and with checkpoints off the streamed decoder gives the same tree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDecompressor } from '../../electron/engine/decode/decompress';
import { assertTreesEqual, buildTree, extractReference, makeArchive } from '../helpers/archives';
import { LZ4_VARIANTS, lz4Compress, skippableFrame } from '../helpers/lz4';
import { extractBuffer } from '../hostile/harness';

let base: string;
let tar: Buffer;

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'sm-lz4-extract-'));
  buildTree(join(base, 'tree'), { seed: 12, bytes: 3 * 1024 * 1024, maxFileBytes: 700 * 1024, incompressible: 0.4 });
  tar = readFileSync(await makeArchive(join(base, 'tree'), join(base, 'a.tar'), 'tar'));
});

after(() => rmSync(base, { recursive: true, force: true }));

for (const [i, variant] of LZ4_VARIANTS.entries()) {
  test(`.tar.lz4, ${variant.name}: the same tree as tar -x through lz4 -d`, async () => {
    const archive = variant.make(tar);
    const path = join(base, `v${i}.tar.lz4`);
    writeFileSync(path, archive);
    const reference = join(base, `ref-${i}`);
    await extractReference(path, reference);
    const dest = join(base, `out-${i}`);
    const { result, error } = await extractBuffer(archive, dest, {}, i + 3);
    assert.equal(error, null, error?.message);
    assert.equal(result!.format, 'lz4');
    assert.deepEqual(result!.skipped, []);
    assertTreesEqual(reference, dest);
  });
}

test('.tar.lz4 with checkpoints off (the streamed decoder): the same tree', async () => {
  const archive = lz4Compress(tar, ['-B4', '-BD']);
  const path = join(base, 'stream.tar.lz4');
  writeFileSync(path, archive);
  const reference = join(base, 'ref-stream');
  await extractReference(path, reference);
  const { result, error } = await extractBuffer(archive, join(base, 'out-stream'), { decompressor: createDecompressor, decompressorNote: 'off' });
  assert.equal(error, null, error?.message);
  assert.equal(result!.format, 'lz4');
  assertTreesEqual(reference, join(base, 'out-stream'));
  const cut = await extractBuffer(archive.subarray(0, archive.length - 1000), join(base, 'out-stream-cut'), { decompressor: createDecompressor, decompressorNote: 'off' });
  assert.equal(cut.error?.code, 'E_ARCHIVE_TRUNCATED');
  const garbage = await extractBuffer(Buffer.concat([archive, Buffer.from('junk')]), join(base, 'out-stream-junk'), { decompressor: createDecompressor, decompressorNote: 'off' });
  assert.equal(garbage.error?.code, 'E_TRAILING_GARBAGE');
  assert.equal(garbage.error?.details.offset, archive.length);
});

test('a cut, a flipped byte or trailing garbage in a .tar.lz4: a coded error with the offset, never a silent short tree', async () => {
  const archive = lz4Compress(tar, ['-B4']);
  const cut = await extractBuffer(archive.subarray(0, Math.floor(archive.length * 0.6)), join(base, 'cut'));
  assert.equal(cut.error?.code, 'E_ARCHIVE_TRUNCATED');
  assert.equal(cut.error?.details.offset, Math.floor(archive.length * 0.6));
  const flipped = Buffer.from(archive);
  flipped[Math.floor(archive.length * 0.3)]! ^= 0x04;
  const bad = await extractBuffer(flipped, join(base, 'flipped'));
  assert.ok(bad.error && ['E_ARCHIVE_CORRUPT', 'E_LIMIT_EXCEEDED'].includes(bad.error.code) === true, `${bad.error?.code}: ${bad.error?.message}`);
  assert.equal(typeof bad.error.details.offset, 'number');
  const junk = await extractBuffer(Buffer.concat([archive, skippableFrame(Buffer.from('ok')), Buffer.from('not a frame')]), join(base, 'junk'));
  assert.equal(junk.error?.code, 'E_TRAILING_GARBAGE');
  assert.equal(junk.error?.details.offset, archive.length + 10);
  // The archive before the garbage is complete and verified: it was written in full before the error.
  const reference = join(base, 'ref-junk');
  writeFileSync(join(base, 'junk.tar.lz4'), archive);
  await extractReference(join(base, 'junk.tar.lz4'), reference);
  assertTreesEqual(reference, join(base, 'junk'));
});

test('a .tar.lz4 behind a skippable frame larger than the detection head: the extractor waits for the frame after it', async () => {
  const archive = Buffer.concat([skippableFrame(Buffer.alloc(200_000, 0x5a)), lz4Compress(tar, ['-BD'])]);
  const path = join(base, 'skip-big.tar.lz4');
  writeFileSync(path, archive);
  const reference = join(base, 'ref-skip-big');
  await extractReference(path, reference);
  const { result, error } = await extractBuffer(archive, join(base, 'out-skip-big'), {}, 99);
  assert.equal(error, null, error?.message);
  assert.equal(result!.format, 'lz4');
  assertTreesEqual(reference, join(base, 'out-skip-big'));
});
