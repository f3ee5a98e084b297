// The lz4 decoder against the real `lz4` tool: random, compressible and repetitive data in every frame
// variant (independent and linked blocks over many blocks, stored blocks, checksums, content size, legacy,
// several frames, skippable frames), fed in uneven slices; and xxHash32 against known vectors and lz4's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lz4Decoder } from '../../electron/engine/decode/lz4/lz4-decoder';
import { XxHash32, xxhash32 } from '../../electron/engine/decode/lz4/xxhash32';
import { incompressibleBytes, prng, textBytes } from '../helpers/archives';
import { drive, lz4Compress, lz4Decompress, skippableFrame } from '../helpers/lz4';

test('xxHash32 matches the reference vectors, for seeds 0 and 1 and every length up to a few stripes', () => {
  assert.equal(xxhash32(Buffer.alloc(0)), 0x02cc5d05);
  assert.equal(xxhash32(Buffer.from('a')), 0x550d7456);
  assert.equal(xxhash32(Buffer.from('abc')), 0x32d153ff);
  assert.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
  assert.equal(xxhash32(Buffer.alloc(0), 1), 0x0b2cb792);
  // Streaming in every split and through save/restore gives the one-shot digest (aligned and unaligned words).
  const data = incompressibleBytes(1, 'xxh', 200);
  for (let len = 0; len <= 70; len++) {
    const one = xxhash32(data, 0, 1, 1 + len);
    for (const cut of [0, 1, 3, 15, 16, 17, len]) {
      if (cut > len) continue;
      const h = new XxHash32().update(data, 1, 1 + cut);
      const restored = XxHash32.restore(JSON.parse(JSON.stringify(h.save())));
      assert.equal(restored.update(data, 1 + cut, 1 + len).digest(), one, `length ${len}, cut at ${cut}`);
    }
  }
});

test("xxHash32 equals lz4's content checksum of the same bytes", () => {
  const rand = prng(5);
  for (const len of [0, 1, 15, 16, 17, 1000, 65_536, 300_001]) {
    const data = Buffer.concat([textBytes(rand, len >> 1), incompressibleBytes(2, `c${len}`, len - (len >> 1))]);
    const frame = lz4Compress(data, []);
    // The frame ends with the end mark and the xxHash32 of the content (lz4 writes one by default).
    assert.equal(frame.readUInt32LE(frame.length - 4), xxhash32(data), `length ${len}`);
  }
});

/** Data that exercises every kind of sequence: long literals, long and short matches, overlaps of period 1..7. */
function mixedData(seed: number, bytes: number): Buffer {
  const rand = prng(seed);
  const parts: Buffer[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const kind = i % 4;
    const n = 1 + Math.floor(rand() * 90_000);
    const part =
      kind === 0
        ? incompressibleBytes(seed, `m${i}`, n)
        : kind === 1
          ? textBytes(rand, n)
          : kind === 2
            ? Buffer.alloc(n, Math.floor(rand() * 256))
            : Buffer.from(Array.from({ length: n }, (_, k) => (k % (1 + (i % 7))) * 37));
    parts.push(part);
    size += n;
  }
  return Buffer.concat(parts).subarray(0, bytes);
}

const CASES: Array<{ args: string[]; what: string }> = [
  { args: [], what: 'defaults (4 MiB independent blocks, content checksum)' },
  { args: ['-B4'], what: '64 KiB independent blocks' },
  { args: ['-B4', '-BD'], what: '64 KiB linked blocks' },
  { args: ['-B5', '-BD', '-BX'], what: '256 KiB linked blocks with block checksums' },
  { args: ['-9', '-B6', '-BD', '--content-size'], what: '1 MiB linked blocks, -9, content size' },
  { args: ['-1', '--no-frame-crc', '-B4'], what: 'no content checksum' },
  { args: ['-l'], what: 'legacy frame' },
];

for (const { args, what } of CASES) {
  test(`lz4 ${args.join(' ') || '(defaults)'}: ${what}, random, compressible and repetitive data decode as lz4 -d does`, () => {
    const inputs = [
      ['random', incompressibleBytes(3, 'rand', 1_500_000)],
      ['text', textBytes(prng(4), 2_000_000)],
      ['mixed', mixedData(6, 9_000_000)],
      ['empty', Buffer.alloc(0)],
      ['tiny', Buffer.from('x')],
    ] as const;
    for (const [label, data] of inputs) {
      const compressed = lz4Compress(data, args);
      const byTool = lz4Decompress(compressed);
      assert.ok(byTool.equals(data), `${label}: lz4 round trip`);
      const decoder = new Lz4Decoder();
      const { output } = drive(decoder, compressed, data.length + 1, 100_000, false);
      assert.equal(output.length, byTool.length, `${label}: length`);
      assert.ok(output.equals(byTool), `${label}: bytes`);
      assert.equal(decoder.position, compressed.length);
    }
  });
}

test('several frames, skippable frames between them and a legacy frame after a modern one decode as one stream', () => {
  const a = mixedData(8, 700_000);
  const b = textBytes(prng(9), 500_000);
  const c = incompressibleBytes(10, 'c', 300_000);
  const stream = Buffer.concat([
    skippableFrame(Buffer.from('meta')),
    lz4Compress(a, ['-B4', '-BD']),
    skippableFrame(Buffer.alloc(100_000, 1), 0xa),
    lz4Compress(b, ['--content-size']),
    lz4Compress(c, ['-l']),
    lz4Compress(a, ['-B5']),
  ]);
  const want = Buffer.concat([a, b, c, a]);
  assert.ok(lz4Decompress(stream).equals(want), 'lz4 itself reads the stream');
  const { output } = drive(new Lz4Decoder(), stream, 3, 50_000, false);
  assert.ok(output.equals(want));
});

test("declaredContentSize is the frame's content size when it states one", () => {
  const data = textBytes(prng(2), 300_000);
  const d = new Lz4Decoder();
  d.push(lz4Compress(data, ['--content-size']).subarray(0, 20));
  assert.equal(d.declaredContentSize, data.length);
  const plain = new Lz4Decoder();
  plain.push(lz4Compress(data, []).subarray(0, 20));
  assert.equal(plain.declaredContentSize, null);
});
