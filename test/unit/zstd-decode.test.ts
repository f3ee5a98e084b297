// Decoding: byte-identical to `zstd -d` for what the real tools write, with checkpoints asked for
// throughout (asking must never change the output).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xxhash64 } from 'hash-wasm';
import { XxHash64 } from '../../electron/engine/decode/zstd/xxhash64';
import { compressWith, decodeZstd, mixedBytes, randomBytes, skippableFrame, textBytes, walkFrames, zstdDecode, zstdStdin } from './zstd-fixtures';

const data = mixedBytes(3_000_000, 7);

for (const args of [['-1'], ['-3'], ['-19'], ['-3', '-T2'], ['-3', '--no-check']]) {
  test(`zstd ${args.join(' ')} output decodes byte-identically to zstd -d (checkpoints asked throughout)`, () => {
    const zst = compressWith('zstd', [...args, '-c'], data)!;
    const walk = walkFrames(zst);
    assert.ok(walk.blocks.compressed > 5, `${walk.blocks.compressed} compressed blocks`);
    const { output, points } = decodeZstd(zst, { checkpoints: true, pieceBytes: 50_000 });
    assert.ok(output.equals(zstdDecode(zst)));
    assert.ok(output.equals(data));
    assert.ok(points.filter((p) => (p.state as { phase: string }).phase === 'block').length > 5, 'points inside the frame');
  });
}

test('zstd --long=27 from stdin (a 128 MiB window, matches 9 MiB back) decodes byte-identically', () => {
  // 9 MiB of noise twice: the second copy is only reachable through the long window.
  const noise = randomBytes(9 * 1024 * 1024, 3);
  const input = Buffer.concat([noise, textBytes(200_000, 4), noise]);
  const zst = zstdStdin('zstd', ['-3', '--long=27'], input);
  assert.ok(zst.length < input.length * 0.6, `long matches used: ${zst.length} of ${input.length}`);
  const { output } = decodeZstd(zst, { pieceBytes: 1 << 20 });
  assert.ok(output.equals(input));
});

test('pzstd -p 2 output (skippable frame before each zstd frame) decodes byte-identically', () => {
  const input = mixedBytes(12_000_000, 9);
  const zst = compressWith('pzstd', ['-p', '2', '-3', '-c'], input)!;
  const walk = walkFrames(zst);
  assert.ok(walk.frames >= 2 && walk.skippable >= 2, `${walk.frames} frames, ${walk.skippable} skippable`);
  const { output, points } = decodeZstd(zst, { checkpoints: true, pieceBytes: 256 * 1024 });
  assert.ok(output.equals(input));
  assert.ok(points.some((p) => (p.state as { framesDone: number }).framesDone >= 1));
});

test('frames back to back, skippable frames first and between, and empty frames make one stream', () => {
  const a = textBytes(300_000, 1);
  const b = mixedBytes(400_000, 2);
  const empty = compressWith('zstd', ['-3', '-c'], Buffer.alloc(0))!;
  const parts = [
    skippableFrame(Buffer.from('first')),
    compressWith('zstd', ['-3', '-c'], a)!,
    empty,
    skippableFrame(Buffer.alloc(0), 15),
    compressWith('zstd', ['-9', '-c'], b)!,
    empty,
  ];
  const zst = Buffer.concat(parts);
  assert.deepEqual({ frames: walkFrames(zst).frames, skippable: walkFrames(zst).skippable }, { frames: 4, skippable: 2 });
  for (const pieceBytes of [1, 3, 4096, zst.length]) {
    const { output } = decodeZstd(zst, { pieceBytes, checkpoints: pieceBytes > 1000 });
    assert.ok(output.equals(Buffer.concat([a, b])), `pieces of ${pieceBytes}`);
  }
  assert.equal(decodeZstd(empty).output.length, 0);
});

test('incompressible data (raw blocks) and runs of one byte (RLE blocks) decode', () => {
  const noise = randomBytes(700_000, 5);
  const run = Buffer.alloc(600_000, 0x61);
  const input = Buffer.concat([noise, run, textBytes(1000, 6), Buffer.alloc(300_000)]);
  const zst = compressWith('zstd', ['-3', '-c'], input)!;
  const walk = walkFrames(zst);
  assert.ok(walk.blocks.raw >= 3, `${walk.blocks.raw} raw blocks`);
  assert.ok(walk.blocks.rle >= 3, `${walk.blocks.rle} RLE blocks`);
  assert.ok(decodeZstd(zst, { checkpoints: true }).output.equals(input));
});

test('declaredContentSize is the frame content size of a single-frame file, null when unstated', () => {
  const input = textBytes(123_456, 8);
  assert.equal(decodeZstd(compressWith('zstd', ['-3', '-c'], input)!).decoder.declaredContentSize, 123_456);
  assert.equal(decodeZstd(zstdStdin('zstd', ['-3'], input)).decoder.declaredContentSize, null);
});

test('xxHash64 matches a reference implementation at every length and across split updates and save/restore', async () => {
  const buf = randomBytes(5000, 11);
  for (let n = 0; n <= 300; n += n < 70 ? 1 : 23) {
    const whole = new XxHash64();
    whole.update(buf, 0, n);
    const expected = await xxhash64(buf.subarray(0, n));
    assert.equal(whole.digest().toString(16).padStart(16, '0'), expected, `length ${n}`);
    // Split at an odd point, saved and restored through JSON in between.
    const cut = Math.floor(n / 3);
    const first = new XxHash64();
    first.update(buf, 0, cut);
    const second = new XxHash64(JSON.parse(JSON.stringify(first.save())));
    second.update(buf, cut, n);
    assert.equal(second.digest().toString(16).padStart(16, '0'), expected, `length ${n} split at ${cut}`);
  }
});
