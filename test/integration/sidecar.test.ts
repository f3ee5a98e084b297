// Checksums published beside the file, looked up on a real origin (the fault server on 127.0.0.1): found,
// missing, oversized, slow, and SUMS lists naming several files; and a CLI run that verifies what it found.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { createDispatcher } from '../../electron/engine/transfer/http';
import { lookupSidecar } from '../../electron/engine/checksum/sidecar';
import { chooseChecksums } from '../../electron/engine/checksum/checksum-choice';
import { parseGetArgs } from '../../electron/cli';
import { cliPath } from './harness';

let server: FaultServer;
const dispatcher = createDispatcher({ connections: 4, connectTimeoutMs: 2_000, idleTimeoutMs: 2_000 });
const body = randomBytes(300_000);
const sha = createHash('sha256').update(body).digest('hex');
const md5 = createHash('md5').update(body).digest('hex');
const other = 'f'.repeat(64);

before(async () => {
  server = await FaultServer.start();
});
after(async () => {
  await dispatcher.destroy();
  await server.close();
});

test('a <url>.sha256 with a sha256sum line and a <url>.md5 with a bare digest are found', async () => {
  await server.serve('/a/snap.tar.gz', body);
  await server.serve('/a/snap.tar.gz.sha256', Buffer.from(`${sha}  snap.tar.gz\n`));
  await server.serve('/a/snap.tar.gz.md5', Buffer.from(`${md5.toUpperCase()}\n`));
  const found = await lookupSidecar(server.url('/a/snap.tar.gz?X-Amz-Signature=secret'), { dispatcher });
  assert.equal(found?.sha256, sha);
  assert.equal(found?.md5, md5);
  assert.match(found!.source, /\/a\/snap\.tar\.gz\.sha256\?…/);
  assert.doesNotMatch(found!.source, /secret/, 'the query string is not shown');
});

test('nothing published: every lookup is a 404 and the answer is none', async () => {
  await server.serve('/b/snap.tar', body);
  const before = server.requests.length;
  assert.equal(await lookupSidecar(server.url('/b/snap.tar'), { dispatcher }), null);
  const lookups = server.requests.slice(before);
  assert.deepEqual(lookups.map((r) => r.path).sort(), ['/b/MD5SUMS', '/b/SHA256SUMS', '/b/snap.tar.md5', '/b/snap.tar.sha256', '/b/snap.tar.sha256sum']);
  assert.ok(lookups.every((r) => r.status === 404 && r.method === 'GET'));
});

test('an oversized sidecar (with or without a Content-Length) is not read and not used', async () => {
  const big = Buffer.concat([Buffer.from(`${sha}  snap.tar\n`), Buffer.alloc(100 * 1024, 0x20)]);
  await server.serve('/c/snap.tar.sha256', big);
  await server.serve('/c/snap.tar.md5', big, { contentLength: false });
  const started = server.requests.length;
  assert.equal(await lookupSidecar(server.url('/c/snap.tar'), { dispatcher, maxBytes: 64 * 1024 }), null);
  const sent = server.requests.slice(started).find((r) => r.path === '/c/snap.tar.sha256')!;
  assert.equal(sent.status, 200);
  // The chunked one is read only until it passes the bound.
  const chunked = server.requests.slice(started).find((r) => r.path === '/c/snap.tar.md5')!;
  assert.equal(chunked.status, 200);
});

test('SHA256SUMS and MD5SUMS lists naming several files give the entry of this file; a per-file sidecar naming several files and not this one gives none', async () => {
  const list = [`${'1'.repeat(64)}  other.tar`, `${sha} *./snap-2.tar.lz4`, `${'2'.repeat(64)}  snap-3.tar.lz4`, '# a comment', ''].join('\n');
  await server.serve('/d/SHA256SUMS', Buffer.from(list));
  await server.serve('/d/MD5SUMS', Buffer.from(`MD5 (snap-2.tar.lz4) = ${md5}\nMD5 (snap-1.tar.lz4) = ${'3'.repeat(32)}\n`));
  const found = await lookupSidecar(server.url('/d/snap-2.tar.lz4'), { dispatcher });
  assert.deepEqual({ sha256: found?.sha256, md5: found?.md5 }, { sha256: sha, md5 });
  assert.match(found!.source, /SHA256SUMS.*MD5SUMS/);
  await server.serve('/e/snap.tar.sha256', Buffer.from(`${'1'.repeat(64)}  a.tar\n${'2'.repeat(64)}  b.tar\n`));
  assert.equal(await lookupSidecar(server.url('/e/snap.tar'), { dispatcher }), null);
});

test('a sidecar that stalls costs its timeout, not the job', async () => {
  await server.serve('/f/snap.tar.sha256', Buffer.from(`${sha}  snap.tar\n`));
  await server.serve('/f/snap.tar.md5', Buffer.from(`${md5}  snap.tar\n`));
  server.setPlan((r) => (r.path === '/f/snap.tar.sha256' ? { kind: 'stall' } : undefined));
  try {
    const t0 = Date.now();
    const found = await lookupSidecar(server.url('/f/snap.tar'), { dispatcher, timeoutMs: 300 });
    assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
    assert.deepEqual(found, { md5, source: server.url('/f/snap.tar.md5') });
  } finally {
    server.setPlan(() => undefined);
  }
});

test('explicit checksums win over a sidecar; one that disagrees is a warning', () => {
  const sidecar = { sha256: other, md5, source: 'https://x/a.sha256' };
  const c = chooseChecksums({ sha256: sha }, sidecar);
  assert.equal(c.sha256, sha);
  assert.equal(c.md5, md5);
  assert.deepEqual(
    c.warnings.map((w) => w.code),
    ['SIDECAR_DISAGREES', 'SIDECAR_USED'],
  );
  const noMd5 = chooseChecksums({}, { md5, source: 's' }, ['sha256']);
  assert.equal(noMd5.md5, null);
  assert.deepEqual(
    noMd5.warnings.map((w) => w.code),
    ['SIDECAR_UNUSED'],
  );
  assert.equal(parseGetArgs(['https://example.org/a.tar', '--dest', '/tmp/x', '--no-sidecar']).sidecar, false);
  assert.equal(parseGetArgs(['https://example.org/a.tar', '--dest', '/tmp/x']).sidecar, true);
});

test('get verifies the SHA-256 a sidecar publishes: a wrong one is exit 4, --no-sidecar skips it, an explicit --sha256 wins with a warning', async () => {
  await server.serve('/g/snap.bin', body);
  await server.serve('/g/snap.bin.sha256', Buffer.from(`${other}  snap.bin\n`));
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-cli-'));
  try {
    // Not spawnSync: the origin runs in this process and must keep answering.
    const run = (name: string, extra: string[]) =>
      new Promise<{ code: number | null; lines: Array<Record<string, unknown>> }>((resolve) => {
        const child = spawn(process.execPath, [cliPath, 'get', server.url('/g/snap.bin'), '--output', join(dir, name), '--chunk-size', '64K', '--json', ...extra]);
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) =>
          resolve({
            code,
            lines: out
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as Record<string, unknown>),
          }),
        );
      });
    const wrong = await run('a.bin', []);
    assert.equal(wrong.code, 4);
    assert.equal(wrong.lines[0]!.code, 'SIDECAR_USED');
    assert.match(String(wrong.lines.at(-1)!.message), /SHA-256 mismatch/);
    const skipped = await run('b.bin', ['--no-sidecar']);
    assert.equal(skipped.code, 0);
    assert.ok(!skipped.lines.some((l) => String(l.code ?? '').startsWith('SIDECAR')));
    const explicit = await run('c.bin', ['--sha256', sha]);
    assert.equal(explicit.code, 0, JSON.stringify(explicit.lines.at(-1)));
    assert.equal(explicit.lines[0]!.code, 'SIDECAR_DISAGREES');
    assert.equal(explicit.lines.at(-1)!.sha256, sha);
    assert.ok(readdirSync(dir).includes('c.bin'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
