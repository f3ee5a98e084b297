// Manifests of parts in the shapes providers publish, and the mistakes in them named by line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectShape, parseManifest } from '../../electron/engine/parts/manifest';
import { loadManifest } from '../../electron/engine/parts/manifest-source';
import { UsageError } from '../../electron/engine/errors';

const M1 = '0123456789abcdef0123456789abcdef';
const M2 = 'fedcba9876543210fedcba9876543210';
const S1 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function usage(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof UsageError && message.test(err.message), String(message));
}

test('the BNB Chain CSV shape: filename,URL,md5,size with quoted fields, a BOM and CRLF', () => {
  const csv =
    '\uFEFFfilename,URL,md5,size\r\n' +
    `geth-1.tar.lz4,https://snap.example/geth-1.tar.lz4,${M1},536870912000\r\n` +
    `"geth, part 2.tar.lz4","https://snap.example/geth-2.tar.lz4?sig=x",${M2.toUpperCase()},"1024"\r\n` +
    '\r\n';
  assert.equal(detectShape(csv), 'csv');
  const parts = parseManifest(csv, { source: 'bsc.csv' });
  assert.equal(parts.length, 2);
  assert.deepEqual(parts[0], {
    index: 0,
    url: 'https://snap.example/geth-1.tar.lz4',
    name: 'geth-1.tar.lz4',
    md5: M1,
    sha256: null,
    size: 536870912000,
    sizeExact: true,
    where: 'line 2',
  });
  assert.equal(parts[1]!.name, 'geth, part 2.tar.lz4');
  assert.equal(parts[1]!.md5, M2);
  assert.equal(parts[1]!.url, 'https://snap.example/geth-2.tar.lz4?sig=x');
  const other = parseManifest(`Name,Download,SHA256\na.tar,https://x.example/a.tar,${S1}\n`);
  assert.equal(other[0]!.sha256, S1);
  assert.equal(other[0]!.md5, null);
});

test('a plain list of URLs with md5:/sha256: tokens, comments and blank lines', () => {
  const list = [
    '# parts of the snapshot',
    '',
    `https://x.example/p1.tar.gz md5:${M1}`,
    `https://x.example/p2.tar   sha256:${S1}  # second`,
    'https://x.example/p3.tar.lz4',
    '',
  ].join('\n');
  assert.equal(detectShape(list), 'list');
  const parts = parseManifest(list);
  assert.deepEqual(
    parts.map((p) => [p.url.split('/').pop(), p.md5, p.sha256, p.where]),
    [
      ['p1.tar.gz', M1, null, 'line 3'],
      ['p2.tar', null, S1, 'line 4'],
      ['p3.tar.lz4', null, null, 'line 5'],
    ],
  );
});

test('a JSON list of {url, md5?, sha256?, size?}, and an object holding one under "parts"', () => {
  const json = JSON.stringify([
    { url: 'https://x.example/a.tar', md5: M1, size: 10 },
    { url: 'https://x.example/b.tar', sha256: S1 },
  ]);
  const parts = parseManifest(json);
  assert.deepEqual(
    parts.map((p) => [p.md5, p.sha256, p.size, p.where]),
    [
      [M1, null, 10, 'entry 1'],
      [null, S1, null, 'entry 2'],
    ],
  );
  assert.equal(parseManifest(JSON.stringify({ parts: [{ url: 'https://x.example/c.tar' }] }))[0]!.url, 'https://x.example/c.tar');
});

test('relative URLs resolve against the manifest URL, and are refused in a manifest read from a file', () => {
  const parts = parseManifest('file,url\na,part-1.tar\nb,../other/part-2.tar\n', { base: 'https://x.example/snap/2024/manifest.csv?sig=1' });
  assert.deepEqual(
    parts.map((p) => p.url),
    ['https://x.example/snap/2024/part-1.tar', 'https://x.example/snap/other/part-2.tar'],
  );
  usage(() => parseManifest('part-1.tar\n', { source: '/tmp/m.txt' }), /\/tmp\/m\.txt, line 1: "part-1\.tar" is a relative URL/);
});

test('bad manifests are refused naming the line: no URL column, a bad hex, duplicate URLs, extra fields, bad tokens, bad JSON', () => {
  usage(() => parseManifest('filename,md5,size\na.tar,' + M1 + ',1\n', { source: 'm.csv' }), /m\.csv, line 1: no column of the header .* names the URL/);
  usage(() => parseManifest(`a.tar,https://x.example/a.tar,${M1},10\n`, { source: 'm.csv' }), /line 1: the first row is data, not a header/);
  usage(() => parseManifest(`url,md5\nhttps://x.example/a.tar,${M1}\nhttps://x.example/b.tar,12345\n`, { source: 'm.csv' }), /m\.csv, line 3: the MD5 "12345" is not a MD5/);
  usage(() => parseManifest(`url,md5\nhttps://x.example/a.tar,${S1}\n`), /line 2: the MD5 .*which is a SHA-256/);
  usage(
    () => parseManifest('https://x.example/a.tar\n# c\nhttps://x.example/b.tar\nhttps://x.example/a.tar\n', { source: 'l' }),
    /l, line 4: https:\/\/x\.example\/a\.tar is listed twice \(also line 1\)/,
  );
  usage(() => parseManifest('url,size\nhttps://x.example/a.tar,1,2\n'), /line 2: 3 fields, but the header names 2 columns/);
  usage(() => parseManifest('url,size\nhttps://x.example/a.tar,lots\n'), /line 2: the size "lots" is not a number of bytes/);
  usage(() => parseManifest('https://x.example/a.tar crc:1234\n'), /line 1: "crc:1234" is not md5:<hex>/);
  usage(() => parseManifest('ftp://x.example/a.tar\n'), /line 1: Unsupported scheme/);
  usage(() => parseManifest('[{"url": "https://x.example/a.tar"}, {"md5": "x"}]', { source: 'm.json' }), /m\.json, entry 2: no "url"/);
  usage(() => parseManifest('[{"url": "https://x.example/a.tar",]'), /not valid JSON/);
  usage(() => parseManifest('# nothing\n\n'), /lists no parts/);
  usage(() => parseManifest('url\n"https://x.example/a.tar\n'), /quoted field opened on line 2 is never closed/);
});

test('a manifest file is read and parsed; a missing one is a usage error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
  try {
    writeFileSync(join(dir, 'm.txt'), `https://x.example/a.tar md5:${M1}\n`);
    const { parts, source } = await loadManifest(join(dir, 'm.txt'));
    assert.equal(parts[0]!.md5, M1);
    assert.equal(source, join(dir, 'm.txt'));
    await assert.rejects(loadManifest(join(dir, 'nope.csv')), /cannot be read \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
