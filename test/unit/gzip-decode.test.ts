// Decoding: byte-identical to zlib for what real tools write, on both inflater engines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { crc32 } from '../../electron/engine/decode/gzip/crc32';
import { probeNativeInflater } from '../../electron/engine/decode/gzip/native-inflater';
import { compressWith, decodeAll, gzipMember, mixedBytes, randomBytes, resumeFrom, textBytes } from './gzip-fixtures';

const engines = ['native', 'portable'] as const;
const crc = (b: Buffer) => crc32(b, 0);
const data = mixedBytes(1_500_000, 11);

test('the native inflater can be stepped block by block on this runtime', () => {
  assert.deepEqual(probeNativeInflater(), { ok: true });
});

for (const level of [1, 6, 9]) {
  test(`gzip -${level} output decodes byte-identically (both engines, checkpoints on)`, () => {
    const gz = compressWith('gzip', [`-${level}`, '-c'], data);
    for (const engine of engines) {
      const { output, checkpoints, decoder, requests } = decodeAll(gz, { engine, every: 100_000, pieceBytes: 32_768 });
      assert.ok(output.equals(zlib.gunzipSync(gz)), engine);
      assert.ok(requests >= 5 && checkpoints.length >= requests - 1, `${engine}: ${checkpoints.length} checkpoints for ${requests} requests`);
      assert.equal(decoder.stats.membersCompleted, 1);
    }
  });
}

test('pigz output (blocks with empty alignment blocks) and pigz -i (independent blocks) decode', () => {
  for (const args of [
    ['-6', '-c'],
    ['-i', '-9', '-c'],
    ['-1', '-b', '32', '-c'],
  ]) {
    const gz = compressWith('pigz', args, data);
    for (const engine of engines) {
      const { output, checkpoints, requests } = decodeAll(gz, { engine, every: 100_000, pieceBytes: 32_768 });
      assert.ok(output.equals(zlib.gunzipSync(gz)), `${args.join(' ')} ${engine}`);
      assert.ok(requests >= 5 && checkpoints.length >= requests - 1, `${args.join(' ')} ${engine}: ${checkpoints.length} checkpoints for ${requests} requests`);
    }
  }
});

test('multi-member streams, empty members and every optional header field decode', () => {
  const deflate = (d: Buffer) => zlib.deflateRawSync(d, { level: 6 });
  const parts = [textBytes(60_000, 1), Buffer.alloc(0), randomBytes(20_000, 2), textBytes(1, 3), Buffer.alloc(0)];
  const gz = Buffer.concat([
    gzipMember(parts[0]!, { name: 'a.tar' }, deflate, crc),
    gzipMember(parts[1]!, {}, deflate, crc),
    gzipMember(parts[2]!, { extra: Buffer.from('SM\x04\x00abcd', 'latin1'), comment: 'part 3', headerCrc: true }, deflate, crc),
    gzipMember(parts[3]!, { name: 'n', comment: 'c', extra: Buffer.alloc(0), headerCrc: true }, deflate, crc),
    zlib.gzipSync(parts[4]!),
  ]);
  for (const engine of engines) {
    for (const pieceBytes of [1, 7, 65_536, gz.length]) {
      const { output, decoder } = decodeAll(gz, { engine, pieceBytes });
      assert.ok(output.equals(Buffer.concat(parts)), `${engine}, pieces of ${pieceBytes}`);
      assert.equal(decoder.stats.membersCompleted, 5);
    }
  }
});

test('a member start is a free checkpoint: asked before it, it comes exactly there', () => {
  const a = textBytes(10_000, 4);
  const b = textBytes(20_000, 5);
  const gz = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]);
  for (const engine of engines) {
    // Asking after each piece: the tiny members end before any block boundary is reached mid-member.
    const { checkpoints } = decodeAll(gz, { engine, pieceBytes: 1, every: 1 });
    const starts = checkpoints.filter((c) => c.compressedOffset === c.memberStart);
    assert.deepEqual(
      starts.map((c) => [c.memberIndex, c.memberStart, c.uncompressedOffset, c.dictionary]),
      [[1, zlib.gzipSync(a).length, a.length, '']],
      engine,
    );
  }
});

test('incompressible data (stored blocks) decodes and checkpoints', () => {
  const random = randomBytes(1_500_000, 77);
  const gz = zlib.gzipSync(random, { level: 6 });
  for (const engine of engines) {
    const { output, checkpoints, requests } = decodeAll(gz, { engine, every: 100_000, pieceBytes: 50_003 });
    assert.ok(output.equals(random), engine);
    assert.ok(requests >= 5 && checkpoints.length >= requests - 1, `${engine}: ${checkpoints.length} checkpoints for ${requests} requests`);
    assert.ok(checkpoints.every((c) => c.bitOffset >= 0 && c.bitOffset < 8));
  }
});

test('one byte at a time on a small file, and the whole file in one push', () => {
  const small = textBytes(40_000, 8);
  const gz = compressWith('gzip', ['-9', '-c'], small)!;
  for (const engine of engines) {
    const byteByByte = decodeAll(gz, { engine, pieceBytes: 1, every: 5_000 });
    assert.ok(byteByByte.output.equals(small), `${engine} byte by byte`);
    for (const checkpoint of byteByByte.checkpoints) {
      assert.ok(resumeFrom(gz, checkpoint, { engine, pieceBytes: 1 }).output.equals(small.subarray(checkpoint.uncompressedOffset)), `${engine} resumed byte by byte`);
    }
  }
  const big = compressWith('gzip', ['-6', '-c'], data);
  for (const engine of engines) {
    const { output, checkpoints } = decodeAll(big, { engine, pieceBytes: big.length });
    assert.ok(output.equals(data), `${engine} one push`);
    assert.equal(checkpoints.length, 0);
  }
});
