// The hand-written gzip header parser (RFC 1952): optional fields, header CRC, restartable parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { parseGzipHeader } from '../../electron/engine/decode/gzip/header';
import { crc32, portableCrc32 } from '../../electron/engine/decode/gzip/crc32';
import { ArchiveError } from '../../electron/engine/errors';
import { gzipMember, randomBytes } from './gzip-fixtures';

const crc = (b: Buffer) => crc32(b, 0);

test('a header with FEXTRA, FNAME, FCOMMENT and FHCRC is parsed, and not before it is complete', () => {
  const member = gzipMember(
    Buffer.from('hello'),
    { extra: Buffer.from('AB\x02\x00xy', 'latin1'), name: 'snap\xe9.tar', comment: 'a comment', headerCrc: true },
    (d) => zlib.deflateRawSync(d),
    crc,
  );
  const expectedLength = 10 + 2 + 6 + 'snap\xe9.tar'.length + 1 + 'a comment'.length + 1 + 2;
  for (let n = 0; n < expectedLength; n++) assert.equal(parseGzipHeader(member.subarray(0, n), 0), undefined, `prefix of ${n} bytes`);
  const info = parseGzipHeader(member, 0)!;
  assert.equal(info.length, expectedLength);
  assert.equal(info.name, 'snap\xe9.tar');
  assert.equal(info.comment, 'a comment');
  assert.equal(info.mtime, 0x12345678);
  assert.equal(zlib.gunzipSync(member).toString(), 'hello', 'the fixture itself is valid gzip');
});

test('a wrong header CRC, reserved flags or another method are corrupt; other magic is not gzip', () => {
  const member = gzipMember(Buffer.from('x'), { name: 'n', headerCrc: true }, (d) => zlib.deflateRawSync(d), crc);
  const badCrc = Buffer.from(member);
  badCrc[12]! ^= 1; // the stored header CRC
  const codeOf = (bytes: Buffer) => {
    try {
      parseGzipHeader(bytes, 100);
      return 'ok';
    } catch (err) {
      assert.ok(err instanceof ArchiveError);
      return `${err.code}@${String(err.details.offset)}`;
    }
  };
  assert.equal(codeOf(badCrc), 'E_ARCHIVE_CORRUPT@112');
  assert.equal(codeOf(Buffer.from([0x1f, 0x8b, 8, 0x20])), 'E_ARCHIVE_CORRUPT@103');
  assert.equal(codeOf(Buffer.from([0x1f, 0x8b, 7])), 'E_ARCHIVE_CORRUPT@102');
  assert.equal(codeOf(Buffer.from('PK\x03\x04')), 'E_NOT_AN_ARCHIVE@100');
  assert.equal(codeOf(Buffer.from([0x1f, 0x9d])), 'E_NOT_AN_ARCHIVE@101');
});

test('the portable CRC-32 agrees with zlib and continues across pieces', () => {
  const data = randomBytes(100_001, 9);
  const whole = portableCrc32(data, 0);
  assert.equal(portableCrc32(data.subarray(50_000), portableCrc32(data.subarray(0, 50_000), 0)), whole);
  const native = (zlib as unknown as { crc32?: (d: Buffer, v?: number) => number }).crc32;
  if (native) assert.equal(native(data, 0), whole);
  assert.equal(crc32(data, 0), whole);
});
