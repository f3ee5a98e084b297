// Checksums as providers publish them (hex, sha256sum/md5sum lines, BSD lines), the resumable digest set
// against the real coreutils tools, and the sinks' inline digests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseChecksumArg, parseChecksumLine } from '../../electron/engine/checksum/checksum-text';
import { digestResumeProblem, ResumableDigests } from '../../electron/engine/checksum/digest-set';
import { ResumableSha256 } from '../../electron/engine/checksum/resumable-hash';
import { verifyDigests } from '../../electron/engine/checksum/verify';
import { IntegrityError, UsageError } from '../../electron/engine/errors';
import { exitCodeFor } from '../../electron/cli';
import { OutputFileSink } from '../../electron/engine/job/sinks';
import { resolveOptions } from '../../electron/engine/job/job-options';

function tool(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8' }).trim();
}

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'checksums-'));
  const data = randomBytes(3 * 1024 * 1024 + 12345);
  writeFileSync(join(dir, 'snap shot.tar'), data);
  return {
    dir,
    data,
    sha256: tool('sha256sum', ['snap shot.tar'], dir).slice(0, 64),
    md5: tool('md5sum', ['snap shot.tar'], dir).slice(0, 32),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test('a pasted sha256sum / md5sum line (text and binary mode) and a BSD --tag line give the digest', () => {
  const f = fixture();
  try {
    const lines = {
      sha256: [tool('sha256sum', ['snap shot.tar'], f.dir), tool('sha256sum', ['-b', 'snap shot.tar'], f.dir), tool('sha256sum', ['--tag', 'snap shot.tar'], f.dir)],
      md5: [tool('md5sum', ['snap shot.tar'], f.dir), tool('md5sum', ['-b', 'snap shot.tar'], f.dir), tool('md5sum', ['--tag', 'snap shot.tar'], f.dir)],
    };
    assert.match(lines.sha256[1]!, / \*snap shot\.tar$/, 'binary mode writes " *name"');
    assert.match(lines.sha256[2]!, /^SHA256 \(snap shot\.tar\) = /);
    for (const line of lines.sha256) assert.equal(parseChecksumArg(line, 'sha256'), f.sha256, line);
    for (const line of lines.md5) assert.equal(parseChecksumArg(line, 'md5'), f.md5, line);
    assert.equal(parseChecksumLine(lines.md5[0]!)!.name, 'snap shot.tar');
    assert.equal(parseChecksumArg(f.sha256.toUpperCase() + '\n', 'sha256'), f.sha256, 'upper case and a trailing newline');
  } finally {
    f.cleanup();
  }
});

test('a checksum of the wrong kind, length or shape is a usage error that names the problem', () => {
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
  const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const cases: Array<[string, 'sha256' | 'md5', RegExp]> = [
    [md5, 'sha256', /32 hexadecimal digits, which is an MD5; give it with --md5/],
    [sha, 'md5', /which is a SHA-256; give it with --sha256/],
    [`MD5 (a.tar) = ${md5}`, 'sha256', /MD5 line .*give it with --md5/],
    ['da39a3ee5e6b4b0d3255bfef95601890afd80709', 'sha256', /a SHA-1; only SHA-256 and MD5/],
    ['abc', 'sha256', /64 hexadecimal/],
    ['not a checksum at all!', 'md5', /is not a checksum/],
    [`${sha}  a.tar\n${sha}  b.tar`, 'sha256', /several lines/],
    ['   ', 'md5', /is empty/],
    [`${'g'.repeat(32)}  x`, 'md5', /is not a checksum/],
  ];
  for (const [text, kind, message] of cases) {
    assert.throws(
      () => parseChecksumArg(text, kind),
      (err: unknown) => err instanceof UsageError && message.test(err.message),
      `${kind}: ${text}`,
    );
  }
});

test('the digest set in one pass, from chunk files, and resumed from a saved state mid-stream equals sha256sum and md5sum', async () => {
  const f = fixture();
  try {
    const one = await ResumableDigests.create(['sha256', 'md5']);
    one.update(f.data);
    assert.deepEqual(one.digest(), { sha256: f.sha256, md5: f.md5 });

    // Staged chunk files as the job has them, hashed up to an odd offset, saved (through JSON, as a checkpoint
    // is), then continued by a new set in a later "run".
    const chunkSize = 256 * 1024 + 7;
    const pathOf = (i: number) => join(f.dir, `chunk-${i}.bin`);
    for (let i = 0; i * chunkSize < f.data.length; i++) writeFileSync(pathOf(i), f.data.subarray(i * chunkSize, (i + 1) * chunkSize));
    const first = await ResumableDigests.create(['md5', 'sha256']);
    const cut = 5 * chunkSize + 1234;
    await first.advanceTo(cut, chunkSize, pathOf);
    assert.equal(first.position, cut);
    const saved = JSON.parse(JSON.stringify(first.save()));
    assert.equal(saved.sha256.position, cut);
    assert.equal(saved.md5.position, cut);
    const second = await ResumableDigests.create(['sha256', 'md5'], saved);
    assert.equal(second.position, cut);
    await second.advanceTo(cut + 100, chunkSize, pathOf);
    second.update(f.data.subarray(cut + 100));
    assert.deepEqual(second.digest(), { sha256: f.sha256, md5: f.md5 });
  } finally {
    f.cleanup();
  }
});

test('a checkpoint written before MD5 (sha256 {state, position} alone) still resumes SHA-256, and says it cannot resume MD5', async () => {
  const data = randomBytes(200_000);
  const old = await ResumableSha256.create();
  old.update(data.subarray(0, 77_777));
  const oldCheckpoint = JSON.parse(JSON.stringify({ version: 1, savedAt: 0, extract: {}, sha256: old.save() }));
  assert.equal(digestResumeProblem(oldCheckpoint, ['sha256']), null);
  assert.match(digestResumeProblem(oldCheckpoint, ['sha256', 'md5'])!, /no MD5 state/);
  const set = await ResumableDigests.create(['sha256'], oldCheckpoint);
  set.update(data.subarray(77_777));
  const whole = await ResumableSha256.create();
  whole.update(data);
  const wholeDigest = whole.digest();
  assert.equal(set.digest().sha256, wholeDigest);
  // And the other way: what the set saves is what ResumableSha256 (the job's current user) loads.
  const again = await ResumableDigests.create(['sha256', 'md5']);
  again.update(data.subarray(0, 1000));
  const back = await ResumableSha256.create(again.save().sha256);
  back.update(data.subarray(1000));
  assert.equal(back.digest(), wholeDigest);
  await assert.rejects(ResumableDigests.create(['sha256', 'md5'], { sha256: { state: old.save().state, position: 1 }, md5: { state: 'x', position: 2 } }), /different positions/);
});

test('a mismatch is an IntegrityError (exit 4) that names the digest and the part', () => {
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
  verifyDigests({ md5, sha256: null }, { md5: md5.toUpperCase() });
  assert.throws(
    () => verifyDigests({ md5 }, { md5: '0'.repeat(32), sha256: 'f'.repeat(64) }, 'part 2 (b.tar.lz4)'),
    (err: unknown) =>
      err instanceof IntegrityError && /^MD5 mismatch for part 2 \(b\.tar\.lz4\): expected d41d/.test(err.message) && err.details.digest === 'md5' && exitCodeFor(err) === 4,
  );
  assert.throws(
    () => verifyDigests({ sha256: 'a'.repeat(64) }, { md5 }),
    (err: unknown) => err instanceof IntegrityError && /SHA-256 .* was not computed/.test(err.message),
  );
});

test('the output sink hashes SHA-256 and MD5 inline, also of the bytes a resumed run keeps', async () => {
  const f = fixture();
  try {
    const out = join(f.dir, 'out.bin');
    const a = await OutputFileSink.open(out, 0, ['sha256', 'md5']);
    await a.write(f.data.subarray(0, 1_000_000));
    await a.abort();
    const b = await OutputFileSink.open(out, 1_000_000, ['md5', 'sha256']);
    await b.write(f.data.subarray(1_000_000));
    const result = await b.finish();
    assert.equal(result.sha256, f.sha256);
    assert.equal(result.md5, f.md5);
    const legacy = await OutputFileSink.open(join(f.dir, 'legacy.bin'), 0, true);
    await legacy.write(f.data);
    const r2 = await legacy.finish();
    assert.equal(r2.sha256, f.sha256);
    assert.equal(r2.md5, undefined, 'true is SHA-256 alone, as before');
  } finally {
    f.cleanup();
  }
});

test('a job accepts a pasted sha256sum line and a BSD MD5 line', () => {
  const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const base = { url: 'https://example.org/a.tar', dest: '/tmp/x', stateDir: '/tmp/.x' };
  assert.equal(resolveOptions({ ...base, sha256: `${sha} *a.tar` }).sha256, sha);
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
  assert.equal(resolveOptions({ ...base, md5: `MD5 (a.tar) = ${md5}` }).md5, md5);
});
