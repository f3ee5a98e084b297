// lz4 decoder points: decode while asking for a point before every input slice, then rebuild a decoder
// from each point's JSON state, feed it the file from the point's compressed offset, and compare the
// output byte for byte with the uninterrupted one. Independent and linked blocks, checksums, legacy,
// several frames with skippable frames between them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lz4DecoderFactory, Lz4Decoder } from '../../electron/engine/decode/lz4/lz4-decoder';
import type { Lz4State } from '../../electron/engine/decode/lz4/frame';
import type { DecoderPoint, ResumableDecoder } from '../../electron/engine/decode/resumable-decoder';
import { incompressibleBytes, prng, textBytes } from '../helpers/archives';
import { drive, lz4Compress, skippableFrame } from '../helpers/lz4';

const data = Buffer.concat([textBytes(prng(1), 1_200_000), incompressibleBytes(1, 'r', 300_000), textBytes(prng(2), 900_000)]);

const CASES: Array<{ what: string; stream: () => Buffer; minPoints: number }> = [
  { what: 'independent 64 KiB blocks', stream: () => lz4Compress(data, ['-B4']), minPoints: 20 },
  { what: 'linked 64 KiB blocks', stream: () => lz4Compress(data, ['-B4', '-BD']), minPoints: 20 },
  { what: 'linked 256 KiB blocks, block checksums, content size', stream: () => lz4Compress(data, ['-B5', '-BD', '-BX', '--content-size']), minPoints: 5 },
  { what: 'legacy frame', stream: () => lz4Compress(Buffer.concat([data, data, data, data]), ['-l']), minPoints: 1 },
  {
    what: 'frames and skippable frames back to back',
    stream: () =>
      Buffer.concat([
        skippableFrame(Buffer.from('x')),
        lz4Compress(data.subarray(0, 800_001), ['-B4', '-BD']),
        skippableFrame(Buffer.alloc(5000), 0xe),
        lz4Compress(data.subarray(800_001), ['-B4']),
      ]),
    minPoints: 20,
  },
];

for (const { what, stream, minPoints } of CASES) {
  test(`lz4 resume from every point (${what}) continues byte for byte`, async () => {
    const input = stream();
    const full = drive(new Lz4Decoder(), input, 7, 40_000, true);
    const points = full.points;
    assert.ok(points.length >= minPoints, `${points.length} points`);
    for (let i = 1; i < points.length; i++) assert.ok(points[i]!.compressedOffset >= points[i - 1]!.compressedOffset);
    const kinds = new Set(points.map((p) => (p.state as Lz4State).at));
    assert.ok(kinds.has('block'), 'points inside frames');
    let bytes = 0;
    for (const [i, p] of points.entries()) {
      const resumed = (await lz4DecoderFactory.create(JSON.parse(JSON.stringify(p)) as DecoderPoint)) as ResumableDecoder;
      assert.equal(resumed.position, p.compressedOffset);
      const rest = drive(resumed, input.subarray(p.compressedOffset), 100 + i, 30_000, i % 2 === 0, p.uncompressedOffset);
      const joined = Buffer.concat([full.output.subarray(0, p.uncompressedOffset), rest.output]);
      assert.equal(joined.length, full.output.length, `point ${i} at ${p.compressedOffset}: length`);
      assert.ok(joined.equals(full.output), `point ${i} at ${p.compressedOffset}: bytes`);
      // A resumed decoder's points are absolute in the file, like the first one's, and usable in turn.
      const q = rest.points[0];
      if (q) {
        const again = drive(
          await lz4DecoderFactory.create(JSON.parse(JSON.stringify(q)) as DecoderPoint),
          input.subarray(q.compressedOffset),
          i,
          50_000,
          false,
          q.uncompressedOffset,
        );
        assert.ok(Buffer.concat([full.output.subarray(0, q.uncompressedOffset), again.output]).equals(full.output), `a point of the resumed decoder (at ${q.compressedOffset})`);
      }
      bytes = Math.max(bytes, JSON.stringify(p.state).length);
    }
    console.log(`# ${what}: ${points.length} points, largest state ${bytes} bytes of JSON`);
  });
}

test('pointHere: a point between inputs when the last one ended on a block boundary, else null', () => {
  const input = lz4Compress(data, ['-B4', '-BD']);
  const d = new Lz4Decoder();
  assert.equal(d.pointHere()?.compressedOffset, 0, 'before the first frame');
  d.push(input.subarray(0, 5));
  assert.equal(d.pointHere(), null, 'inside the descriptor');
  d.push(input.subarray(5, 7));
  const first = d.pointHere();
  assert.equal(first?.compressedOffset, 7, 'at the first block');
  assert.equal((first!.state as Lz4State).at, 'block');
  d.push(input.subarray(7, 100));
  assert.equal(d.pointHere(), null, 'inside a block');
});

test('a damaged state is refused: a dictionary of the wrong size, a checksum state that does not cover the frame', async () => {
  const input = lz4Compress(data, ['-B4', '-BD']);
  const p = drive(new Lz4Decoder(), input, 3, 40_000, true).points.find((q) => (q.state as Lz4State).at === 'block' && (q.state as Lz4State).frameOutput > 100_000)!;
  const s = p.state as Lz4State;
  const bad1 = { ...p, state: { ...s, dictionary: Buffer.alloc(10).toString('base64') } };
  await assert.rejects(async () => lz4DecoderFactory.create(bad1), /dictionary/);
  const bad2 = { ...p, state: { ...s, hash: { ...s.hash!, total: s.hash!.total + 1 } } };
  await assert.rejects(async () => lz4DecoderFactory.create(bad2), /checksum state/);
});
