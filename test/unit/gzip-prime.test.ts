// The inflatePrime emulation: empty deflate blocks that shift a stream to any bit offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { primeBytes } from '../../electron/engine/decode/gzip/prime';
import { randomBytes, textBytes } from './gzip-fixtures';

/** The stream's bits moved up by `shift` bits, with `junk` in the low bits of the first byte. */
function shiftBits(stream: Buffer, shift: number, junk: number): Buffer {
  const out = Buffer.alloc(stream.length + 1);
  for (let i = 0; i < stream.length; i++) {
    out[i] |= (stream[i]! << shift) & 0xff;
    out[i + 1] |= stream[i]! >>> (8 - shift);
  }
  out[0] |= junk & ((1 << shift) - 1);
  return out;
}

test('a stream starting at any bit offset of its first byte inflates after the primed prefix', () => {
  const data = Buffer.concat([textBytes(50_000, 3), randomBytes(5_000, 4)]);
  const dictionary = textBytes(32_768, 5);
  const deflated = zlib.deflateRawSync(data, { dictionary, level: 6 });
  for (let bitOffset = 0; bitOffset < 8; bitOffset++) {
    const shifted = bitOffset === 0 ? deflated : shiftBits(deflated, bitOffset, 0b1010101);
    const fed = Buffer.concat([primeBytes(bitOffset, shifted[0]!), shifted.subarray(bitOffset === 0 ? 0 : 1)]);
    const inflated = zlib.inflateRawSync(fed, { dictionary });
    assert.ok(inflated.equals(data), `bit offset ${bitOffset}`);
  }
});

test('the primed prefix is empty blocks only: it inflates to nothing', () => {
  for (let bitOffset = 1; bitOffset < 8; bitOffset++) {
    // The byte's remaining bits start a final empty fixed block (1, 01, 0000000): BFINAL=1, BTYPE=01.
    const bits = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    const stream = Buffer.alloc(4);
    bits.forEach((bit, i) => (stream[(i + bitOffset) >> 3] |= bit << ((i + bitOffset) & 7)));
    const fed = Buffer.concat([primeBytes(bitOffset, stream[0]!), stream.subarray(1)]);
    assert.equal(zlib.inflateRawSync(fed).length, 0, `bit offset ${bitOffset}`);
  }
});

test('bit offsets outside 0..7 are refused', () => {
  assert.throws(() => primeBytes(8, 0), RangeError);
  assert.throws(() => primeBytes(-1, 0), RangeError);
  assert.equal(primeBytes(0, 0xff).length, 0);
});
