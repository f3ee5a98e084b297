// Regression tests, one per way the extraction used to differ from GNU tar's (silently, or failing an
// archive GNU tar extracts). Archives are made by GNU tar / bsdtar where they write the case, by hand
// (test/hostile/tar-builder.ts) where no tool does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sanitizeEntryPath } from '../../electron/engine/extract/safe-path';
import { DEFAULT_LIMITS } from '../../electron/engine/extract/tar-limits';
import { extractBuffer, listTree, sandbox } from '../hostile/harness';
import { paxRecord, tarArchive, tarHeader, tarMember, type RawEntry } from '../hostile/tar-builder';

const file = (name: string, data = `content of ${name}\n`): RawEntry => ({ name, data });

/** A header block with `bytes` at `at`, checksum recomputed. */
function patched(e: RawEntry, edits: Array<[number, Buffer]>): Buffer {
  const block = tarHeader(e);
  for (const [at, bytes] of edits) bytes.copy(block, at);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of block) sum += x;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}
const padded = (data: string | Buffer) => {
  const b = Buffer.from(data);
  return Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
};

function sparseSource(dir: string): { path: string; content: Buffer } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'holes.bin');
  const fd = openSync(path, 'w');
  // Six regions (more than the four an old GNU header holds), and a hole at the end.
  for (let i = 0; i < 6; i++) writeSync(fd, Buffer.alloc(4096, 0x41 + i), 0, 4096, i * 128 * 1024);
  ftruncateSync(fd, 1 << 20);
  closeSync(fd);
  return { path, content: readFileSync(path) };
}

async function extractSparse(flags: string[], tool = 'tar'): Promise<void> {
  const box = await sandbox();
  try {
    const { content } = sparseSource(join(box.base, 'src'));
    const archivePath = join(box.base, 'a.tar');
    execFileSync(tool, [...flags, '-cf', archivePath, '-C', join(box.base, 'src'), 'holes.bin']);
    // A member after the sparse one: a misread map would lose it.
    const withAfter = appendMember(readFileSync(archivePath), file('after-the-sparse-member'));
    const o = await extractBuffer(withAfter, box.dest, { strict: true });
    assert.equal(o.error, null, o.error?.message);
    assert.deepEqual(await listTree(box.dest), ['after-the-sparse-member', 'holes.bin']);
    const out = join(box.dest, 'holes.bin');
    assert.equal(statSync(out).size, 1 << 20, 'the real size');
    assert.ok(readFileSync(out).equals(content), 'data at the right offsets, zeros between');
    assert.ok(lstatSync(out).blocks * 512 < 256 * 1024, `the holes stay holes (${lstatSync(out).blocks} blocks allocated)`);
  } finally {
    await box.cleanup();
  }
}

/** The archive with one more member before its end-of-archive blocks (found by scanning for them). */
function appendMember(archive: Buffer, e: RawEntry): Buffer {
  let end = 0;
  for (let at = 0; at + 1024 <= archive.length; ) {
    if (archive.subarray(at, at + 1024).every((x) => x === 0)) {
      end = at;
      break;
    }
    const size = parseInt(
      archive
        .toString('latin1', at + 124, at + 136)
        .replace(/\0.*$/, '')
        .trim() || '0',
      8,
    );
    const type = String.fromCharCode(archive[at + 156]!);
    let next = at + 512;
    if (type === 'S') {
      let ext = archive[at + 482] !== 0;
      while (ext) {
        ext = archive[next + 504] !== 0;
        next += 512;
      }
    }
    at = next + Math.ceil(size / 512) * 512;
  }
  return Buffer.concat([archive.subarray(0, end), tarMember(e), Buffer.alloc(1024)]);
}

for (const v of ['0.0', '0.1', '1.0']) {
  test(`regression: a pax sparse ${v} member (tar --posix --sparse) extracts at its real size with its holes, not as GNUSparseFile.N/ with the map`, async () => {
    await extractSparse(['--posix', '--sparse', `--sparse-version=${v}`]);
  });
}

test("regression: a sparse member from bsdtar's pax writer extracts at its real size with its holes", async () => {
  await extractSparse(['--format', 'pax', '--read-sparse'], 'bsdtar');
});

for (const f of ['gnu', 'oldgnu']) {
  test(`regression: an old GNU sparse member (type S, --format=${f}) with extension headers is extracted, and the member after it is not lost`, async () => {
    await extractSparse([`--format=${f}`, '--sparse']);
  });
}

test('regression: a GNU long name whose 100th byte is "/" is a file, not "a directory that declares data"', async () => {
  for (const format of ['gnu', 'posix']) {
    const box = await sandbox();
    try {
      const src = join(box.base, 'src');
      const dir = 'd'.repeat(99);
      mkdirSync(join(src, dir), { recursive: true });
      writeFileSync(join(src, dir, 'file.txt'), 'mine\n');
      const archivePath = join(box.base, 'a.tar');
      execFileSync('tar', [`--format=${format}`, '-cf', archivePath, '-C', src, dir]);
      const o = await extractBuffer(readFileSync(archivePath), box.dest);
      assert.equal(o.error, null, `${format}: ${o.error?.message}`);
      assert.equal(readFileSync(join(box.dest, dir, 'file.txt'), 'utf8'), 'mine\n');
    } finally {
      await box.cleanup();
    }
  }
});

test('regression: non-UTF-8 names (KOI8-R, Latin-1, pax hdrcharset=BINARY) keep their bytes; two a lossy decoder would merge stay two files', async () => {
  const koi8 = Buffer.from([0xd0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]);
  const one = Buffer.from([0xe0, 0xe1]);
  const two = Buffer.from([0xe2, 0xe3]);
  const cp866 = Buffer.from([0xaf, 0xe0, 0xa8, 0xa2, 0xa5, 0xe2]);
  const named = (name: Buffer, data: string) => Buffer.concat([patched({ name: 'x', data }, [[0, Buffer.concat([name, Buffer.alloc(1)])]]), padded(data)]);
  const pathRecord = Buffer.concat([Buffer.from(' path='), cp866, Buffer.from('\n')]);
  const paxBody = Buffer.concat([paxRecord('hdrcharset', 'BINARY'), Buffer.from(String(pathRecord.length + 2)), pathRecord]);
  const archive = Buffer.concat([
    named(koi8, 'koi8\n'),
    named(one, 'one\n'),
    named(two, 'two\n'),
    tarMember({ name: 'PaxHeaders/x', type: 'x', data: paxBody }),
    tarMember(file('placeholder', 'cp866\n')),
    Buffer.alloc(1024),
  ]);
  const box = await sandbox();
  try {
    const o = await extractBuffer(archive, box.dest, { strict: true });
    assert.equal(o.error, null, o.error?.message);
    const names = readdirSync(box.dest, { encoding: 'buffer' })
      .map((n) => n.toString('hex'))
      .sort();
    assert.deepEqual(names, [koi8, one, two, cp866].map((n) => n.toString('hex')).sort());
    const read = (n: Buffer) => readFileSync(Buffer.concat([Buffer.from(box.dest + '/'), n]), 'utf8');
    assert.deepEqual([read(koi8), read(one), read(two), read(cp866)], ['koi8\n', 'one\n', 'two\n', 'cp866\n']);
  } finally {
    await box.cleanup();
  }
});

test('regression: where names must be Unicode (macOS, Windows), a non-UTF-8 name is skipped with NAME_ENCODING, never converted', () => {
  const name = Buffer.from([0x63, 0x61, 0x66, 0xe9]).toString('latin1'); // not how the framer decodes: only for contrast
  assert.equal(sanitizeEntryPath(name, DEFAULT_LIMITS, 'darwin').ok, true, 'a valid Unicode string is kept');
  const raw = 'caf\udce9'; // the framer's lossless decoding of the Latin-1 bytes
  for (const platform of ['darwin', 'win32'] as const) {
    const v = sanitizeEntryPath(raw, DEFAULT_LIMITS, platform);
    assert.equal(v.ok ? 'ok' : v.code, 'NAME_ENCODING', platform);
  }
  assert.equal(sanitizeEntryPath(raw, DEFAULT_LIMITS, 'linux').ok, true);
});

test('regression: numeric fields read as GNU tar reads them: a size of leading NULs is 0, base-256 sizes work, a blank size skips the member', async () => {
  const b256 = Buffer.alloc(12);
  b256[0] = 0x80;
  b256.writeUIntBE(5, 6, 6);
  const archive = Buffer.concat([
    // Old reading: "00000012" after the NULs made 10 bytes of data, swallowing the next header.
    patched({ name: 'nul-size' }, [[124, Buffer.from('\0\0\0\x0000000012')]]),
    tarMember(file('after-nul-size')),
    patched({ name: 'b256', size: 0 }, [[124, b256]]),
    padded('five!'),
    patched({ name: 'blank-size' }, [[124, Buffer.alloc(12, 0x20)]]),
    tarMember(file('after-blank-size')),
    Buffer.alloc(1024),
  ]);
  const box = await sandbox();
  try {
    const o = await extractBuffer(archive, box.dest);
    assert.equal(o.error, null, o.error?.message);
    assert.deepEqual(await listTree(box.dest), ['after-blank-size', 'after-nul-size', 'b256', 'nul-size']);
    assert.equal(statSync(join(box.dest, 'nul-size')).size, 0);
    assert.equal(readFileSync(join(box.dest, 'b256'), 'utf8'), 'five!');
    assert.deepEqual(
      o.result!.skipped.map((s) => [s.entry, s.code]),
      [['blank-size', 'BAD_HEADER']],
    );
  } finally {
    await box.cleanup();
  }
});

test('regression: an absolute hardlink target is stripped like the member name (GNU tar, bsdtar), and must still be a file of this archive', async () => {
  const archive = tarArchive([
    file('f'),
    { name: '/abs/l', type: '1', linkname: '/f' },
    { name: 'l2', type: '1', linkname: '//f' },
    { name: 'l3', type: '1', linkname: '/etc/passwd' },
  ]);
  const box = await sandbox();
  try {
    const o = await extractBuffer(archive, box.dest);
    assert.equal(o.error, null, o.error?.message);
    const ino = statSync(join(box.dest, 'f')).ino;
    assert.equal(statSync(join(box.dest, 'abs/l')).ino, ino);
    assert.equal(statSync(join(box.dest, 'l2')).ino, ino);
    assert.deepEqual(
      o.result!.skipped.map((s) => [s.entry, s.code]),
      [['l3', 'HARDLINK_TARGET']],
    );
    assert.ok(o.result!.warnings.some((w) => w.entry === 'l2' && w.code === 'ABSOLUTE_PATH'));
  } finally {
    await box.cleanup();
  }
});

test('regression: a stray byte in the second end-of-archive block is a warning (GNU tar exits 0), not a failed job', async () => {
  const end = Buffer.alloc(1024);
  end[700] = 1;
  const box = await sandbox();
  try {
    const o = await extractBuffer(Buffer.concat([tarMember(file('only')), end]), box.dest);
    assert.equal(o.error, null, o.error?.message);
    assert.deepEqual(
      o.result!.warnings.map((w) => w.code),
      ['END_OF_ARCHIVE'],
    );
    assert.deepEqual(await listTree(box.dest), ['only']);
  } finally {
    await box.cleanup();
  }
});

test('regression: an archive without end-of-archive blocks still fails, and the message says every member was written', async () => {
  const box = await sandbox();
  try {
    const o = await extractBuffer(Buffer.concat([tarMember(file('one')), tarMember(file('two'))]), box.dest);
    assert.equal(o.error?.code, 'E_ARCHIVE_TRUNCATED');
    assert.match(o.error!.message, /Every member up to there \(2 in all\) was extracted completely/);
    assert.deepEqual(await listTree(box.dest), ['one', 'two']);
  } finally {
    await box.cleanup();
  }
});

test('regression: an old-style hardlink with a declared size and no data extracts (not "truncated"), like GNU tar', async () => {
  const archive = Buffer.concat([tarMember(file('target')), tarHeader({ name: 'old-link', type: '1', linkname: 'target', size: 5 }), tarMember(file('after')), Buffer.alloc(1024)]);
  const box = await sandbox();
  try {
    const o = await extractBuffer(archive, box.dest);
    assert.equal(o.error, null, o.error?.message);
    assert.equal(statSync(join(box.dest, 'old-link')).ino, statSync(join(box.dest, 'target')).ino);
    assert.equal(readFileSync(join(box.dest, 'after'), 'utf8'), 'content of after\n');
  } finally {
    await box.cleanup();
  }
});

test('regression: malformed pax records (NUL in a key, no newline, bad length) warn, and fail under --strict', async () => {
  const nulKey = tarMember({ name: 'PaxHeaders/a', type: 'x', data: Buffer.concat([paxRecord('mtime', '1500000000'), Buffer.from('12 b\0d=vvv\n')]) });
  const noNewline = tarMember({ name: 'PaxHeaders/b', type: 'x', data: Buffer.from('12 path=abc ') });
  const badLength = tarMember({ name: 'PaxHeaders/c', type: 'x', data: Buffer.from('99 path=nope\n') });
  for (const [label, record] of [
    ['NUL in a key', nulKey],
    ['missing newline', noNewline],
    ['bad length', badLength],
  ] as const) {
    const archive = Buffer.concat([record, tarMember(file('member')), Buffer.alloc(1024)]);
    const box = await sandbox();
    try {
      const o = await extractBuffer(archive, box.dest);
      assert.equal(o.error, null, `${label}: ${o.error?.message}`);
      assert.deepEqual(
        o.result!.warnings.map((w) => [w.entry, w.code]),
        [['member', 'PAX_MALFORMED']],
        label,
      );
      assert.deepEqual(await listTree(box.dest), ['member'], label);
      const strictBox = await sandbox();
      try {
        const s = await extractBuffer(archive, strictBox.dest, { strict: true });
        assert.equal(s.error?.code, 'E_UNSAFE_ENTRY', label);
      } finally {
        await strictBox.cleanup();
      }
    } finally {
      await box.cleanup();
    }
  }
});
