// .tar.zst made by GNU tar's tree and the real zstd / pzstd, on this runtime (Node 20 has no zstd of its
// own): the same tree as tar -x, checkpoints on (our decoder) and off (streamed); checkpoints come from
// inside the frame; a cut, damaged or padded .tar.zst fails with a coded error, never a short tree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDecompressor } from '../../electron/engine/decode/decompress';
import { Extractor } from '../../electron/engine/extract/extractor';
import { assertTreesEqual, buildTree, extractReference, makeArchive } from '../helpers/archives';
import { extractBuffer } from '../hostile/harness';

let base: string;
let tar: Buffer;
let reference: string;

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'sm-zstd-extract-'));
  buildTree(join(base, 'tree'), { seed: 21, bytes: 4 * 1024 * 1024, maxFileBytes: 900 * 1024, incompressible: 0.4 });
  const tarPath = await makeArchive(join(base, 'tree'), join(base, 'a.tar'), 'tar');
  tar = readFileSync(tarPath);
  reference = join(base, 'ref');
  await extractReference(tarPath, reference);
});

after(() => rmSync(base, { recursive: true, force: true }));

const compress = (tool: string, args: string[], data: Buffer) => execFileSync(tool, [...args, '-c'], { input: data, maxBuffer: 1 << 30 });

const VARIANTS: Array<{ name: string; make: (t: Buffer) => Buffer }> = [
  { name: 'zstd -3', make: (t) => compress('zstd', ['-q', '-3'], t) },
  { name: 'zstd -19', make: (t) => compress('zstd', ['-q', '-19'], t) },
  { name: 'zstd --long=27 -T2', make: (t) => compress('zstd', ['-q', '-3', '--long=27', '-T2'], t) },
  { name: 'pzstd -p 2', make: (t) => compress('pzstd', ['-q', '-p', '2', '-3'], t) },
];

for (const [i, variant] of VARIANTS.entries()) {
  test(`.tar.zst, ${variant.name}: the same tree as tar -x, checkpoints on and off`, async () => {
    const archive = variant.make(tar);
    const dest = join(base, `out-${i}`);
    const { result, error } = await extractBuffer(archive, dest, {}, i + 5);
    assert.equal(error, null, error?.message);
    assert.equal(result!.format, 'zstd');
    assert.deepEqual(result!.skipped, []);
    assertTreesEqual(reference, dest);
    const off = join(base, `off-${i}`);
    const streamed = await extractBuffer(archive, off, { decompressor: createDecompressor, decompressorNote: 'off' }, i + 9);
    assert.equal(streamed.error, null, streamed.error?.message);
    assertTreesEqual(reference, off);
  });
}

test('a .tar.zst extraction is checkpointable: a checkpoint lands inside the single frame', async () => {
  const archive = compress('zstd', ['-q', '-3'], tar);
  const ex = new Extractor({ dest: join(base, 'cp'), format: 'auto' });
  const half = Math.floor(archive.length / 2);
  await new Promise<void>((resolve, reject) => ex.write(archive.subarray(0, half), (err) => (err ? reject(err) : resolve())));
  assert.equal(ex.checkpointUnsupportedReason, null);
  const cp = ex.checkpoint();
  ex.end(archive.subarray(half));
  const point = await cp;
  await ex.done();
  assert.ok(point, 'a checkpoint');
  assert.equal(point.decoder.format, 'zstd');
  assert.ok(point.compressedOffset > 0 && point.compressedOffset < archive.length);
  assert.equal((point.decoder.state as { phase: string }).phase, 'block');
});

test('a cut, a flipped byte or trailing garbage in a .tar.zst: a coded error with the offset, never a silent short tree', async () => {
  const archive = compress('zstd', ['-q', '-3'], tar);
  const cutAt = Math.floor(archive.length * 0.6);
  const cut = await extractBuffer(archive.subarray(0, cutAt), join(base, 'cut'));
  assert.equal(cut.error?.code, 'E_ARCHIVE_TRUNCATED');
  assert.equal(cut.error?.details.offset, cutAt);
  const flipped = Buffer.from(archive);
  flipped[Math.floor(archive.length * 0.3)]! ^= 0x10;
  const bad = await extractBuffer(flipped, join(base, 'flipped'));
  assert.ok(bad.error && ['E_ARCHIVE_CORRUPT', 'E_LIMIT_EXCEEDED', 'E_UNSAFE_ENTRY'].includes(bad.error.code), `${bad.error?.code}: ${bad.error?.message}`);
  const junk = await extractBuffer(Buffer.concat([archive, Buffer.from('not a zstd frame')]), join(base, 'junk'));
  assert.equal(junk.error?.code, 'E_TRAILING_GARBAGE');
  assert.equal(junk.error?.details.offset, archive.length);
  // The archive before the garbage is complete: written in full before the error.
  assertTreesEqual(reference, join(base, 'junk'));
});

test('regression: with checkpoints off on Node 22, two zstd frames back to back stopped after the first (its zstd stream ends at a frame end)', async () => {
  const half = Math.floor(tar.length / 2);
  const archive = Buffer.concat([compress('zstd', ['-q', '-3'], tar.subarray(0, half)), compress('zstd', ['-q', '-3'], tar.subarray(half))]);
  const dest = join(base, 'two-frames-off');
  const { error } = await extractBuffer(archive, dest, { decompressor: createDecompressor, decompressorNote: 'off' }, 3);
  assert.equal(error, null, error?.message);
  assertTreesEqual(reference, dest);
});
