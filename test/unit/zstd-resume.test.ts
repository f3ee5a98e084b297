// Resuming mid-frame: a decoder rebuilt from any block-boundary point (after a JSON round trip), fed the
// file from the point's compressed offset, produces the rest of the output byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DecoderPoint } from '../../electron/engine/decode/resumable-decoder';
import { ZstdDecoder } from '../../electron/engine/decode/zstd/factory';
import { frameHeaderSize } from '../../electron/engine/decode/zstd/frame-header';
import type { ZstdPointState } from '../../electron/engine/decode/zstd/zstd-decoder';
import { compressWith, decodeZstd, mixedBytes, textBytes, walkFrames, zstdStdin } from './zstd-fixtures';

/** Resumes from an evenly spread sample of `points` and checks each tail against `expected`. */
function resumeAll(zst: Buffer, expected: Buffer, points: DecoderPoint[], samples: number): void {
  const step = Math.max(1, Math.floor(points.length / samples));
  for (let i = 0; i < points.length; i += step) {
    const point = points[i]!;
    const { output } = decodeZstd(zst, { resume: point, pieceBytes: 40_000 + i });
    const want = expected.subarray(point.uncompressedOffset);
    assert.equal(output.length, want.length, `point ${i} at ${point.compressedOffset}`);
    assert.ok(output.equals(want), `point ${i} at ${point.compressedOffset}: output differs`);
  }
}

const state = (p: DecoderPoint) => p.state as ZstdPointState;

for (const level of ['-3', '-19']) {
  test(`zstd ${level}: resuming from block boundaries inside one frame is byte-exact`, () => {
    const input = mixedBytes(2_500_000, 31);
    const zst = compressWith('zstd', [level, '-c'], input)!;
    // Small pieces and a request before each: a point at nearly every block boundary.
    const { output, points } = decodeZstd(zst, { checkpoints: true, pieceBytes: 8192 });
    assert.ok(output.equals(input));
    const inFrame = points.filter((p) => state(p).phase === 'block');
    assert.ok(inFrame.length >= 15, `${inFrame.length} points inside the frame`);
    // The reusable state is really exercised: Huffman weights and FSE tables carried in the points.
    assert.ok(inFrame.some((p) => state(p).block!.huffman !== null));
    assert.ok(inFrame.some((p) => Object.values(state(p).block!.tables).some((t) => t?.mode === 'fse')));
    assert.ok(inFrame.some((p) => state(p).block!.xxh64 !== null));
    resumeAll(zst, input, points, 25);
  });
}

test('resuming a --long=27 frame from stdin (no content size, history longer than a block) is byte-exact', () => {
  const part = mixedBytes(1_500_000, 41);
  const input = Buffer.concat([part, textBytes(50_000, 42), part]);
  const zst = zstdStdin('zstd', ['-3', '--long=27'], input);
  const { points } = decodeZstd(zst, { checkpoints: true, pieceBytes: 8_000, cuts: walkFrames(zst).blockEnds });
  const late = points.filter((p) => p.uncompressedOffset > part.length);
  assert.ok(late.length >= 3);
  // The history reaches back to the frame start: the second copy is decoded from the first one.
  assert.equal(Buffer.from(state(late[0]!).block!.history, 'base64').length, late[0]!.uncompressedOffset);
  resumeAll(zst, input, late, 4);
});

test('pzstd output: resuming at frame starts, inside frames and right after skippable frames is byte-exact', () => {
  const input = mixedBytes(9_000_000, 51);
  const zst = compressWith('pzstd', ['-p', '2', '-1', '-c'], input)!;
  // Pieces cut at every frame end: a request made there comes out after the next (skippable) frame.
  const { points } = decodeZstd(zst, { checkpoints: true, pieceBytes: 32_768, cuts: walkFrames(zst).ends });
  assert.ok(
    points.some((p) => state(p).phase === 'magic' && state(p).framesDone > 0),
    'a point between frames',
  );
  assert.ok(
    points.some((p) => state(p).phase === 'block' && state(p).framesDone > 0),
    'a point inside a later frame',
  );
  resumeAll(zst, input, points, 12);
});

test('a point is emitted at the next block boundary after the request, never mid-block', () => {
  const input = textBytes(1_000_000, 61);
  const zst = compressWith('zstd', ['-3', '-c'], input)!;
  const { points } = decodeZstd(zst, { checkpoints: true, pieceBytes: 1000 });
  // Each point's compressed offset is a block header: parse forward from the first block to check.
  const headerEnd = 4 + frameHeaderSize(zst[4]!);
  const boundaries = new Set<number>([headerEnd]);
  for (let p = headerEnd; ; ) {
    const h = zst.readUIntLE(p, 3);
    p += 3 + (((h >> 1) & 3) === 1 ? 1 : h >> 3);
    boundaries.add(p);
    if (h & 1) break;
  }
  for (const point of points) assert.ok(boundaries.has(point.compressedOffset) || point.compressedOffset === zst.length, `${point.compressedOffset} is not a block boundary`);
  assert.ok(points.length > 5);
});

test('pointHere between inputs: taken at arbitrary cuts (mid-block too), each resumes byte-exact', () => {
  const input = mixedBytes(1_500_000, 71);
  const zst = compressWith('zstd', ['-3', '-c'], input)!;
  const decoder = new ZstdDecoder();
  const points: DecoderPoint[] = [];
  let produced = 0;
  for (let at = 0, i = 0; at < zst.length; i++) {
    const next = Math.min(zst.length, at + 1_000 + ((i * 7919) % 12_000));
    for (const item of decoder.push(zst.subarray(at, next))) if (Buffer.isBuffer(item)) produced += item.length;
    at = next;
    const point = decoder.pointHere();
    // A point whenever output moved on since the last one; never the same point twice.
    const last = points[points.length - 1];
    if (!point) {
      assert.equal(produced, last?.uncompressedOffset ?? 0, `no point after the input ending at ${at}, though output moved`);
      continue;
    }
    assert.equal(point.uncompressedOffset, produced);
    assert.ok(point.compressedOffset <= at);
    assert.ok(!last || point.compressedOffset > last.compressedOffset);
    points.push(JSON.parse(JSON.stringify(point)) as DecoderPoint);
  }
  assert.ok(points.length >= 10, `${points.length} points (the file has 12 blocks)`);
  decoder.finish();
  resumeAll(zst, input, points, 10);
});
