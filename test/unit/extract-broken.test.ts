// Broken inputs: each one ends in a clear, coded ArchiveError that names the offset where it was found,
// and whatever was complete before the damage is still written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { extractBuffer, listTree, sandbox, strayPaths } from '../hostile/harness';
import { tarArchive, tarMember } from '../hostile/tar-builder';
import { Extractor, type ExtractOptions } from '../../electron/engine/extract/extractor';

const members = [
  { name: 'one.txt', data: 'first file\n' },
  { name: 'dir/', type: '5' },
  { name: 'dir/two.bin', data: Buffer.alloc(5000, 7) },
];
const tar = tarArchive(members);
/** Where the end-of-archive blocks start: the archive cut here ends exactly after its last member. */
const lastMemberEnd = tar.length - 1024;

async function run(input: Buffer, options: Partial<ExtractOptions> = {}) {
  const box = await sandbox();
  try {
    const outcome = await extractBuffer(input, box.dest, options);
    assert.deepEqual(await strayPaths(box), []);
    return { ...outcome, tree: await listTree(box.dest) };
  } finally {
    await box.cleanup();
  }
}

function expectError(o: { error: { code: string; details: Record<string, unknown> } | null }, code: string, offset?: number): void {
  assert.ok(o.error, `expected ${code}, got success`);
  assert.equal(o.error.code, code);
  assert.equal(typeof o.error.details.offset, 'number', 'the error names an offset');
  if (offset !== undefined) assert.equal(o.error.details.offset, offset);
}

test('sanity: the intact archive extracts, as plain tar and as gzip', async () => {
  for (const input of [tar, zlib.gzipSync(tar)]) {
    const o = await run(input);
    assert.equal(o.error, null, o.error?.message);
    assert.deepEqual(o.tree, ['dir', 'dir/two.bin', 'one.txt']);
  }
});

test('an empty body is E_NOT_AN_ARCHIVE at offset 0', async () => {
  const o = await run(Buffer.alloc(0));
  expectError(o, 'E_NOT_AN_ARCHIVE', 0);
  assert.match(o.error!.message, /empty/);
});

test('an HTML error page served with 200 is E_NOT_AN_ARCHIVE and says it looks like HTML', async () => {
  const page = Buffer.from('<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>oops</body></html>\n'.repeat(20));
  const o = await run(page);
  expectError(o, 'E_NOT_AN_ARCHIVE', 0);
  assert.match(o.error!.message, /HTML page \("502 Bad Gateway"\)/);
  const short = await run(Buffer.from('<html>no</html>'));
  expectError(short, 'E_NOT_AN_ARCHIVE', 0);
});

test('bzip2 data is E_FORMAT_UNSUPPORTED', async () => {
  expectError(await run(Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(600, 1)])), 'E_FORMAT_UNSUPPORTED', 0);
});

test('zstd: extracted on every runtime (our own decoder where Node has none), and a cut frame is E_ARCHIVE_TRUNCATED', async () => {
  const frame = execFileSync('zstd', ['-q', '-c'], { input: tar });
  const o = await run(frame);
  assert.equal(o.error, null, o.error?.message);
  assert.deepEqual(o.tree, ['dir', 'dir/two.bin', 'one.txt']);
  expectError(await run(frame.subarray(0, frame.length - 5)), 'E_ARCHIVE_TRUNCATED');
});

test('a requested format that does not match the data is refused', async () => {
  expectError(await run(tar, { format: 'gzip' }), 'E_NOT_AN_ARCHIVE', 0);
});

test('a truncated gzip stream is E_ARCHIVE_TRUNCATED at its length', async () => {
  const gz = zlib.gzipSync(tar);
  const cut = gz.subarray(0, gz.length - 20);
  expectError(await run(cut), 'E_ARCHIVE_TRUNCATED', cut.length);
});

test('a tar cut exactly at an entry boundary, without end-of-archive blocks, is E_ARCHIVE_TRUNCATED (plain and gzip)', async () => {
  for (const input of [tar.subarray(0, lastMemberEnd), zlib.gzipSync(tar.subarray(0, lastMemberEnd))]) {
    const o = await run(input);
    expectError(o, 'E_ARCHIVE_TRUNCATED', lastMemberEnd);
    assert.match(o.error!.message, /without the end-of-archive blocks/);
    // Every member before the cut is complete and was written.
    assert.deepEqual(o.tree, ['dir', 'dir/two.bin', 'one.txt']);
  }
});

test('a tar cut inside a member is E_ARCHIVE_TRUNCATED naming the member', async () => {
  const o = await run(tar.subarray(0, lastMemberEnd - 3000));
  expectError(o, 'E_ARCHIVE_TRUNCATED', lastMemberEnd - 3000);
  assert.match(o.error!.message, /dir\/two\.bin/);
});

test('a tar cut inside a header is E_ARCHIVE_TRUNCATED', async () => {
  expectError(await run(tar.subarray(0, 1024 + 100)), 'E_ARCHIVE_TRUNCATED', 1024 + 100);
});

test('a bad gzip CRC is E_ARCHIVE_CORRUPT', async () => {
  const gz = Buffer.from(zlib.gzipSync(tar));
  gz[gz.length - 8]! ^= 0xff;
  const o = await run(gz);
  expectError(o, 'E_ARCHIVE_CORRUPT');
  assert.match(o.error!.message, /CRC/);
});

test('a bad gzip ISIZE is E_ARCHIVE_CORRUPT', async () => {
  const gz = Buffer.from(zlib.gzipSync(tar));
  gz[gz.length - 4]! ^= 0x01;
  const o = await run(gz);
  expectError(o, 'E_ARCHIVE_CORRUPT');
  assert.match(o.error!.message, /ISIZE/);
});

test('corrupt deflate data is E_ARCHIVE_CORRUPT', async () => {
  const big = tarArchive([{ name: 'r.bin', data: Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251)) }]);
  const gz = Buffer.from(zlib.gzipSync(big));
  for (let i = 100; i < 140; i++) gz[i]! ^= 0x5a;
  expectError(await run(gz), 'E_ARCHIVE_CORRUPT');
});

test('trailing garbage after the gzip stream is E_TRAILING_GARBAGE at the end of the stream', async () => {
  const gz = zlib.gzipSync(tar);
  const o = await run(Buffer.concat([gz, Buffer.from('<html>proxy footer</html>')]));
  // zlib reports how far it read only per output buffer: the offset is a lower bound here.
  expectError(o, 'E_TRAILING_GARBAGE');
  assert.ok((o.error!.details.offset as number) <= gz.length);
  const zeros = await run(Buffer.concat([gz, Buffer.alloc(100)]));
  expectError(zeros, 'E_TRAILING_GARBAGE', gz.length);
});

test('data after the end-of-archive blocks is E_TRAILING_GARBAGE; zero padding is not', async () => {
  const garbage = Buffer.concat([tar, Buffer.from('not part of the archive')]);
  const o = await run(garbage);
  expectError(o, 'E_TRAILING_GARBAGE', tar.length);
  assert.deepEqual(o.tree, ['dir', 'dir/two.bin', 'one.txt']);
  // A valid member after the end marker is not extracted (GNU tar stops there too), and is reported.
  const appended = await run(Buffer.concat([tar, tarMember({ name: 'after-end', data: 'x' })]));
  expectError(appended, 'E_TRAILING_GARBAGE', tar.length);
  assert.ok(!appended.tree.includes('after-end'));
  const padded = await run(Buffer.concat([tar, Buffer.alloc(10240 - (tar.length % 10240))]));
  assert.equal(padded.error, null);
});

test('a multi-member gzip stream (pigz -i, concatenated members) extracts whole', async () => {
  const split = 1536;
  const gz = Buffer.concat([zlib.gzipSync(tar.subarray(0, split)), zlib.gzipSync(tar.subarray(split))]);
  const box = await sandbox();
  try {
    const o = await extractBuffer(gz, box.dest);
    assert.equal(o.error, null, o.error?.message);
    assert.deepEqual(await readFile(join(box.dest, 'dir/two.bin')), Buffer.alloc(5000, 7));
  } finally {
    await box.cleanup();
  }
});

test('regression: a header split across two writes is framed at its true offset (not where its second piece began)', async () => {
  const many = tarArchive(Array.from({ length: 40 }, (_, i) => ({ name: `d/f${i}`, data: 'y'.repeat(i * 37) })));
  const box = await sandbox();
  try {
    const ex = new Extractor({ dest: box.dest, format: 'auto' });
    // 100-byte writes: nearly every header straddles two of them.
    for (let i = 0; i < many.length; i += 100) ex.write(many.subarray(i, i + 100));
    ex.end();
    const result = await ex.done();
    assert.equal(result.entries, 40);
    assert.equal(await readFile(join(box.dest, 'd/f39'), 'utf8'), 'y'.repeat(39 * 37));
  } finally {
    await box.cleanup();
  }
});
