// Broken zstd files: each fault has its code and the file offset where it was found; corruption is
// never silent while the frame carries a checksum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZstdDecoder } from '../../electron/engine/decode/zstd/factory';
import { compressWith, decodeError, decodeZstd, mixedBytes, rawFrame, textBytes, zstdDecode } from './zstd-fixtures';

const data = mixedBytes(1_200_000, 21);

test('a file cut mid-block is E_ARCHIVE_TRUNCATED at the cut, and so is one cut before its checksum', () => {
  const zst = compressWith('zstd', ['-3', '-c'], data)!;
  for (const cut of [10, Math.floor(zst.length / 2), zst.length - 5, zst.length - 4, zst.length - 1]) {
    const err = decodeError(zst.subarray(0, cut));
    assert.equal(err?.code, 'E_ARCHIVE_TRUNCATED', `cut at ${cut}: ${err?.message}`);
    assert.equal(err?.details?.offset, cut);
  }
});

test('a flipped byte anywhere after the header is always caught (checksum or decoder), never silent', () => {
  const zst = compressWith('zstd', ['-3', '-c'], data)!;
  const codes = new Set<string>();
  for (let i = 0; i < 120; i++) {
    const at = 20 + Math.floor(((zst.length - 21) * i) / 120);
    const bad = Buffer.from(zst);
    bad[at] ^= 1 << (i % 8);
    const err = decodeError(bad);
    assert.ok(err, `flip at ${at} went unnoticed`);
    assert.ok(['E_ARCHIVE_CORRUPT', 'E_ARCHIVE_TRUNCATED', 'E_TRAILING_GARBAGE'].includes(err.code!), `flip at ${at}: ${err.code} ${err.message}`);
    assert.equal(typeof err.details?.offset, 'number');
    codes.add(err.code!);
  }
  assert.ok(codes.has('E_ARCHIVE_CORRUPT'));
});

test('a wrong content checksum is E_ARCHIVE_CORRUPT at the checksum field, after all the output', () => {
  const zst = Buffer.from(compressWith('zstd', ['-3', '-c'], data)!);
  zst[zst.length - 2] ^= 0xff;
  const decoder = new ZstdDecoder();
  const out = decoder.push(zst).filter(Buffer.isBuffer) as Buffer[];
  assert.ok(Buffer.concat(out).equals(data), "the frame's data comes out before the error");
  assert.throws(
    () => decoder.finish(),
    (e: Error & { code?: string; details?: { offset?: number } }) => {
      assert.equal(e.code, 'E_ARCHIVE_CORRUPT');
      assert.match(e.message, /checksum mismatch/);
      assert.equal(e.details?.offset, zst.length - 4);
      return true;
    },
  );
});

test('wrong magic: at the start E_ARCHIVE_CORRUPT at 0; after a complete frame E_TRAILING_GARBAGE at the frame end', () => {
  const zst = compressWith('zstd', ['-3', '-c'], textBytes(100_000, 1))!;
  const start = Buffer.from(zst);
  start[1] ^= 0x40;
  assert.deepEqual(pick(decodeError(start)), { code: 'E_ARCHIVE_CORRUPT', offset: 0 });
  const garbage = Buffer.concat([zst, Buffer.from('not a frame, just trailing bytes')]);
  assert.deepEqual(pick(decodeError(garbage)), { code: 'E_TRAILING_GARBAGE', offset: zst.length });
  const short = Buffer.concat([zst, Buffer.from([0, 1])]);
  assert.deepEqual(pick(decodeError(short)), { code: 'E_TRAILING_GARBAGE', offset: zst.length });
  const cutMagic = Buffer.concat([zst, Buffer.from([0x28, 0xb5])]);
  assert.deepEqual(pick(decodeError(cutMagic)), { code: 'E_ARCHIVE_TRUNCATED', offset: cutMagic.length });
});

test('a window over the limit is refused up front with the memory it needs, and decodes once allowed', () => {
  const content = textBytes(5000, 2);
  // Window descriptor exponent 18: windowLog 28 = 256 MiB, which zstd -d also refuses by default.
  const frame = rawFrame(content, { windowDescriptor: 18 << 3 });
  assert.throws(() => zstdDecode(frame));
  assert.ok(zstdDecode(frame, ['--memory=256MB']).equals(content));
  const err = decodeError(frame);
  assert.equal(err?.code, 'E_WINDOW_TOO_LARGE');
  assert.equal(err?.details?.windowBytes, 256 * 1024 * 1024);
  assert.equal(err?.details?.offset, 0);
  assert.match(err!.message, /256\.0 MiB window, about 288\.0 MiB of memory.*Allow it with --zstd-max-window 256M.*--memory=256MB/);
  assert.ok(decodeZstd(frame, { maxWindowBytes: 256 * 1024 * 1024 }).output.equals(content));
  // --long=27 frames (exactly 128 MiB) are accepted by default; so is a large window over a small
  // stated content size, which needs only that much memory (zstd -d agrees).
  assert.ok(decodeZstd(rawFrame(content, { windowDescriptor: 17 << 3 })).output.equals(content));
  const sized = rawFrame(content, { windowDescriptor: 18 << 3, contentSize: true });
  assert.ok(zstdDecode(sized).equals(content));
  assert.ok(decodeZstd(sized).output.equals(content));
});

test('a frame that needs a dictionary is refused with E_FORMAT_UNSUPPORTED naming it', () => {
  const err = decodeError(rawFrame(textBytes(1000, 3), { windowDescriptor: 0, dictId: 0x12345 }));
  assert.equal(err?.code, 'E_FORMAT_UNSUPPORTED');
  assert.equal(err?.details?.dictionaryId, 0x12345);
  assert.match(err!.message, /dictionary/);
});

test('a reserved block type is E_ARCHIVE_CORRUPT at the block, and the decoder stays failed', () => {
  const frame = Buffer.from(rawFrame(textBytes(1000, 4), { windowDescriptor: 0, contentSize: true }));
  const blockAt = 4 + 1 + 1 + 2;
  frame[blockAt] = (frame[blockAt]! & ~6) | 6;
  const decoder = new ZstdDecoder();
  assert.throws(
    () => decoder.push(frame),
    (e: Error & { code?: string; details?: { offset?: number } }) => e.code === 'E_ARCHIVE_CORRUPT' && e.details?.offset === blockAt,
  );
  assert.throws(() => decoder.finish(), /reserved type/);
});

function pick(err: (Error & { code?: string; details?: Record<string, unknown> }) | undefined): { code?: string; offset?: unknown } {
  return { ...(err?.code !== undefined ? { code: err.code } : {}), ...(err?.details?.offset !== undefined ? { offset: err.details.offset } : {}) };
}
