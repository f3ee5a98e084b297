// Format detection of lz4 (frame and legacy magic) and of skippable frames in front of lz4 or zstd data
// (pzstd writes one first): the real format is found behind them, more bytes are awaited when they run
// past the head, and what follows them must be a frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError } from '../../electron/engine/errors';
import { detectFormat } from '../../electron/engine/decode/format-detect';
import { lz4Compress, skippableFrame } from '../helpers/lz4';

const tarish = Buffer.alloc(4096, 0x41);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ArchiveError);
    return err.code;
  }
  return 'none';
}

test('lz4 frames and legacy frames are lz4; skippable frames in front are looked past', () => {
  assert.deepEqual(detectFormat(lz4Compress(tarish, []), false), { format: 'lz4' });
  assert.deepEqual(detectFormat(lz4Compress(tarish, ['-l']), false), { format: 'lz4' });
  const behind = Buffer.concat([skippableFrame(Buffer.alloc(100)), skippableFrame(Buffer.alloc(3), 0xf), lz4Compress(tarish, ['-BD'])]);
  assert.deepEqual(detectFormat(behind, false), { format: 'lz4' });
  assert.deepEqual(detectFormat(behind.subarray(0, 50), false), { needMore: true }, 'the first skippable frame is not yet past');
  assert.equal(
    code(() => detectFormat(behind.subarray(0, 50), true)),
    'E_ARCHIVE_TRUNCATED',
  );
  assert.equal(
    code(() => detectFormat(Buffer.concat([skippableFrame(Buffer.alloc(10)), Buffer.alloc(600, 0x3c)]), false)),
    'E_NOT_AN_ARCHIVE',
  );
  const huge = Buffer.alloc(16);
  huge.writeUInt32LE(0x184d2a50, 0);
  huge.writeUInt32LE(64 * 1024 * 1024, 4);
  assert.equal(
    code(() => detectFormat(huge, false)),
    'E_FORMAT_UNSUPPORTED',
    'no archive starts with 64 MiB of skippable frames',
  );
});

test('pzstd output (a skippable frame, then zstd frames) is zstd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-pzstd-'));
  try {
    writeFileSync(join(dir, 'a'), Buffer.concat([tarish, Buffer.alloc(300_000, 7)]));
    execFileSync('pzstd', ['-q', '-p', '2', join(dir, 'a'), '-o', join(dir, 'a.zst')]);
    const zst = readFileSync(join(dir, 'a.zst'));
    assert.equal(zst.readUInt32LE(0) & 0xfffffff0, 0x184d2a50, 'pzstd writes a skippable frame first');
    assert.deepEqual(detectFormat(zst, false), { format: 'zstd' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
