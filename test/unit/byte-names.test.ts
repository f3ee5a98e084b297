// Names decoded losslessly: any bytes come back exactly, and two different byte strings never decode to
// the same name (what a U+FFFD decoder gets wrong).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNameBytes, encodeNameBytes, hasRawBytes, nameByteLength } from '../../electron/engine/extract/byte-names';
import { prng } from '../helpers/archives';

test('byte names: random byte strings round-trip exactly and stay distinct', () => {
  const rand = prng(5);
  const seen = new Map<string, string>();
  for (let i = 0; i < 20000; i++) {
    const len = 1 + Math.floor(rand() * 12);
    // Mostly high bytes, with valid UTF-8 sequences mixed in (non-BMP ones too).
    const parts: Buffer[] = [];
    while (Buffer.concat(parts).length < len) {
      const r = rand();
      if (r < 0.5) parts.push(Buffer.of(0x80 + Math.floor(rand() * 128)));
      else if (r < 0.7) parts.push(Buffer.from(String.fromCodePoint(0x10000 + Math.floor(rand() * 0x1000))));
      else if (r < 0.8) parts.push(Buffer.from('é'));
      else parts.push(Buffer.of(0x20 + Math.floor(rand() * 95)));
    }
    const bytes = Buffer.concat(parts);
    const name = decodeNameBytes(bytes);
    assert.ok(encodeNameBytes(name).equals(bytes), bytes.toString('hex'));
    assert.equal(nameByteLength(name), bytes.length);
    const prev = seen.get(name);
    if (prev !== undefined) assert.equal(prev, bytes.toString('hex'), 'two byte strings decoded to one name');
    seen.set(name, bytes.toString('hex'));
  }
});

test('byte names: valid UTF-8 decodes as itself; only invalid bytes are escaped', () => {
  assert.equal(decodeNameBytes(Buffer.from('café ☃ 𝄞')), 'café ☃ 𝄞');
  assert.equal(hasRawBytes('café ☃ 𝄞'), false);
  // Overlong, surrogate and truncated sequences are not UTF-8.
  for (const hex of ['c0af', 'eda080', 'e282', 'f4908080', 'ff']) {
    const name = decodeNameBytes(Buffer.from(hex, 'hex'));
    assert.equal(hasRawBytes(name), true, hex);
    assert.equal(encodeNameBytes(name).toString('hex'), hex);
  }
});
