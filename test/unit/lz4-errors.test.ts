// Broken lz4 input gives the right coded error with the offset where the damage is, never a silent short
// output: cut mid-block / mid-frame, a flipped byte, bad block, content and header checksums, a bad match
// offset, a wrong content size, a wrong magic, trailing garbage; and no output from a block that fails its checksum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../electron/engine/errors';
import { Lz4Decoder } from '../../electron/engine/decode/lz4/lz4-decoder';
import { xxhash32 } from '../../electron/engine/decode/lz4/xxhash32';
import { incompressibleBytes, prng, textBytes } from '../helpers/archives';
import { drive, lz4Compress } from '../helpers/lz4';

function decodeError(input: Buffer, seed = 1): { error: EngineError; outputBytes: number } {
  let outputBytes = 0;
  const d = new Lz4Decoder();
  try {
    const rand = prng(seed);
    for (let at = 0; at < input.length; ) {
      const n = 1 + Math.floor(rand() * 30_000);
      for (const item of d.push(input.subarray(at, at + n))) if (Buffer.isBuffer(item)) outputBytes += item.length;
      at += n;
    }
    d.finish();
  } catch (err) {
    assert.ok(err instanceof EngineError, String(err));
    return { error: err, outputBytes };
  }
  assert.fail('the broken input decoded without an error');
}

/** Offsets of each block's size field in a frame with a 3-byte descriptor (FLG, BD, HC), up to the end mark. */
function blockOffsets(frame: Buffer): number[] {
  const flg = frame[4]!;
  let at = 4 + 3 + (flg & 8 ? 8 : 0);
  const out: number[] = [];
  for (;;) {
    const v = frame.readUInt32LE(at);
    if (v === 0) return out;
    out.push(at);
    at += 4 + (v & 0x7fffffff) + (flg & 0x10 ? 4 : 0);
  }
}

const data = Buffer.concat([textBytes(prng(3), 600_000), incompressibleBytes(3, 'e', 200_000), textBytes(prng(4), 400_000)]);

test('cut mid-block, mid-descriptor, before the end mark and inside the content checksum: E_ARCHIVE_TRUNCATED at the cut', () => {
  const frame = lz4Compress(data, ['-B4']);
  const blocks = blockOffsets(frame);
  for (const cut of [5, 6, blocks[3]! + 2, blocks[3]! + 900, frame.length - 6, frame.length - 2]) {
    const { error } = decodeError(frame.subarray(0, cut));
    assert.equal(error.code, 'E_ARCHIVE_TRUNCATED', `cut at ${cut}: ${error.message}`);
    assert.equal(error.details.offset, cut);
  }
});

test('a flipped byte in a block with a block checksum: E_ARCHIVE_CORRUPT at that block, none of its output emitted', () => {
  const frame = lz4Compress(data, ['-B4', '-BX']);
  const blocks = blockOffsets(frame);
  const broken = Buffer.from(frame);
  broken[blocks[5]! + 40]! ^= 0x10;
  const { error, outputBytes } = decodeError(broken);
  assert.equal(error.code, 'E_ARCHIVE_CORRUPT');
  assert.equal(error.details.offset, blocks[5]);
  assert.ok(outputBytes <= 5 * 65536, `${outputBytes} bytes emitted: nothing past the 5 good blocks`);
});

test('a flipped byte in a block without block checksums: E_ARCHIVE_CORRUPT in that block or at the content checksum', () => {
  const frame = lz4Compress(data, ['-B4']);
  const blocks = blockOffsets(frame);
  for (const [k, bit] of [
    [2, 0x01],
    [4, 0x80],
    [7, 0x08],
    [9, 0x40],
  ] as const) {
    const broken = Buffer.from(frame);
    broken[blocks[k]! + 4 + 17]! ^= bit;
    const { error } = decodeError(broken, k);
    assert.equal(error.code, 'E_ARCHIVE_CORRUPT', error.message);
    const at = error.details.offset as number;
    assert.ok((at >= blocks[k]! && at < blocks[k + 1]!) || at === frame.length - 4, `block ${k}: offset ${at}`);
  }
});

test('a wrong content checksum: E_ARCHIVE_CORRUPT at the checksum, after all the output', () => {
  const frame = Buffer.from(lz4Compress(data, []));
  frame[frame.length - 1]! ^= 0xff;
  const { error } = decodeError(frame);
  assert.equal(error.code, 'E_ARCHIVE_CORRUPT');
  assert.equal(error.details.offset, frame.length - 4);
});

test('a wrong header checksum: E_ARCHIVE_CORRUPT at the checksum byte, nothing emitted', () => {
  const frame = Buffer.from(lz4Compress(data, ['--content-size']));
  frame[4 + 2 + 8]! ^= 0x01; // FLG BD, 8 bytes of content size, then HC
  const { error, outputBytes } = decodeError(frame);
  assert.equal(error.code, 'E_ARCHIVE_CORRUPT');
  assert.equal(error.details.offset, 14);
  assert.equal(outputBytes, 0);
});

/** A frame around hand-made blocks: FLG 0x60 (version 1, independent blocks), BD 0x40 (64 KiB), flags added. */
function handFrame(blocks: Buffer[], flg = 0x60, contentSize: number | null = null): Buffer {
  const desc = [flg | (contentSize !== null ? 8 : 0), 0x40];
  const cs = Buffer.alloc(contentSize !== null ? 8 : 0);
  if (contentSize !== null) cs.writeBigUInt64LE(BigInt(contentSize));
  const d = Buffer.concat([Buffer.from(desc), cs]);
  const hc = (xxhash32(d) >>> 8) & 0xff;
  const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18]), d, Buffer.from([hc])];
  for (const b of blocks) {
    const size = Buffer.alloc(4);
    size.writeUInt32LE(b.length);
    parts.push(size, b);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

test('a match offset before the start of the output, an offset of 0, a literal run past the block: E_ARCHIVE_CORRUPT at the field', () => {
  // Token 0x10: one literal, a 4-byte match; offset 5 reaches before the single byte decoded so far.
  const far = handFrame([Buffer.from([0x10, 0x61, 0x05, 0x00, 0x50, 0x61, 0x62, 0x63, 0x64, 0x65])]);
  let { error } = decodeError(far);
  assert.equal(error.code, 'E_ARCHIVE_CORRUPT');
  assert.equal(error.details.offset, 7 + 4 + 2, 'the offset field, after the token and the literal');
  const zero = handFrame([Buffer.from([0x10, 0x61, 0x00, 0x00, 0x50, 0x61, 0x62, 0x63, 0x64, 0x65])]);
  ({ error } = decodeError(zero));
  assert.equal(error.code, 'E_ARCHIVE_CORRUPT');
  assert.equal(error.details.offset, 13);
  const long = handFrame([Buffer.from([0x90, 0x61, 0x62])]);
  ({ error } = decodeError(long));
  assert.equal(error.code, 'E_ARCHIVE_CORRUPT');
  assert.equal(error.details.offset, 12);
  // The same well-formed block decodes (the frames above differ only in the broken field).
  const good = handFrame([Buffer.from([0x10, 0x61, 0x01, 0x00, 0x50, 0x61, 0x62, 0x63, 0x64, 0x65])]);
  assert.equal(drive(new Lz4Decoder(), good, 1, 5, false).output.toString(), 'aaaaaabcde');
});

test('a frame holding fewer or more bytes than its declared content size: E_ARCHIVE_CORRUPT', () => {
  const block = Buffer.from([0x50, 0x61, 0x62, 0x63, 0x64, 0x65]); // five literals
  assert.equal(drive(new Lz4Decoder(), handFrame([block], 0x60, 5), 1, 7, false).output.toString(), 'abcde');
  let { error } = decodeError(handFrame([block], 0x60, 6));
  assert.equal(error.code, 'E_ARCHIVE_CORRUPT');
  assert.equal(error.details.offset, 7 + 8 + 4 + 6, 'at the end mark');
  ({ error } = decodeError(handFrame([block], 0x60, 4)));
  assert.equal(error.code, 'E_ARCHIVE_CORRUPT');
  assert.equal(error.details.offset, 15, 'at the block that overflows it');
});

test('a wrong magic at the start is not an archive; after a complete frame it is trailing garbage, reported after the output', () => {
  const frame = lz4Compress(data, []);
  let { error } = decodeError(Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x19]), frame.subarray(4)]));
  assert.equal(error.code, 'E_NOT_AN_ARCHIVE');
  assert.equal(error.details.offset, 0);
  let outputBytes;
  ({ error, outputBytes } = decodeError(Buffer.concat([frame, Buffer.from([0x04, 0x22, 0x4d, 0x19]), frame.subarray(4)])));
  assert.equal(error.code, 'E_TRAILING_GARBAGE');
  assert.equal(error.details.offset, frame.length);
  assert.equal(outputBytes, data.length, 'the complete frame was delivered');
  ({ error, outputBytes } = decodeError(Buffer.concat([frame, Buffer.from('garbage after the frame\n')])));
  assert.equal(error.code, 'E_TRAILING_GARBAGE');
  assert.equal(error.details.offset, frame.length);
  assert.equal(outputBytes, data.length);
  ({ error } = decodeError(Buffer.concat([frame, Buffer.from([0, 0])])));
  assert.equal(error.code, 'E_TRAILING_GARBAGE', 'two stray bytes, fewer than a magic');
  assert.equal(error.details.offset, frame.length);
});
