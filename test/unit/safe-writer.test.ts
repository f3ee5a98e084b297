// The safe writer's resume path: the rest of a member is written straight into the file it left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { SafeWriter } from '../../electron/engine/extract/safe-writer';
import { syncFileSystem } from '../../electron/engine/extract/filesystem-sync';
import { DEFAULT_LIMITS } from '../../electron/engine/extract/tar-limits';
import type { EntryHeader } from '../../electron/engine/extract/extract-types';
import { sandbox, strayPaths } from '../hostile/harness';

const header = (name: string, size: number): EntryHeader => ({
  name,
  type: 'file',
  rawType: 'file',
  size,
  mode: 0o640,
  mtime: 1_600_000_000,
  linkname: null,
  offset: 0,
});

test('resumeFile truncates to the saved offset and writes the rest of the member', async () => {
  const box = await sandbox();
  try {
    const first = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS });
    const sink = await first.begin(header('dir/data.bin', 10));
    await sink!.write([Buffer.from('0123456')]);
    await sink!.sync();
    await sink!.end();
    await first.finish();
    // After a restart: the checkpoint said 4 bytes were durable.
    const second = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS });
    const rest = await second.resumeFile(header('dir/data.bin', 10), 4);
    await rest.write([Buffer.from('4567'), Buffer.from('89')]);
    await rest.end();
    await second.finish();
    assert.equal(await readFile(join(box.dest, 'dir/data.bin'), 'utf8'), '0123456789');
    assert.equal(second.bytesWritten, 6);
  } finally {
    await box.cleanup();
  }
});

test('resumeFile refuses a file that became a symlink, or sits under one', async () => {
  const box = await sandbox();
  try {
    await writeFile(join(box.outside, 'target'), 'keep');
    await symlink(join(box.outside, 'target'), join(box.dest, 'f'));
    await symlink(box.outside, join(box.dest, 'd'));
    const writer = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS });
    await assert.rejects(writer.resumeFile(header('f', 10), 0), (e: { code: string }) => e.code === 'E_IO' || e.code === 'E_UNSAFE_ENTRY');
    await assert.rejects(writer.resumeFile(header('d/target', 10), 0), (e: { code: string }) => e.code === 'E_UNSAFE_ENTRY');
    assert.equal(await readFile(join(box.outside, 'target'), 'utf8'), 'keep');
    assert.deepEqual(await strayPaths(box, ['outside/target']), []);
  } finally {
    await box.cleanup();
  }
});

test('a checkpoint makes many completed files durable with one syncfs, or file by file where sync -f is missing', async () => {
  const box = await sandbox();
  const saved = process.env.SNAPSHOT_MANAGER_NO_SYNCFS;
  try {
    let syncfsHere = false;
    try {
      execFileSync('sync', ['-f', box.dest]);
      syncfsHere = process.platform === 'linux';
    } catch {
      syncfsHere = false;
    }
    assert.equal(await syncFileSystem(box.dest), syncfsHere, 'syncfs is used exactly where `sync -f` works');
    for (const noSyncfs of [false, true]) {
      if (noSyncfs) process.env.SNAPSHOT_MANAGER_NO_SYNCFS = '1';
      else delete process.env.SNAPSHOT_MANAGER_NO_SYNCFS;
      if (noSyncfs) assert.equal(await syncFileSystem(box.dest), false);
      const writer = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS, trackDurability: true });
      // Enough files for one syncfs to be chosen over per-file fsyncs (where sync -f works).
      for (let i = 0; i < 70; i++) {
        // Small files go whole (written in the background), the others through a sink.
        const whole = i % 2 === 0 ? [Buffer.from('abc')] : null;
        const sink = await writer.begin(header(`run-${noSyncfs}/f${i}.txt`, 3), whole);
        assert.equal(sink === null, whole !== null);
        if (sink) {
          await sink.write([Buffer.from('abc')]);
          await sink.end();
        }
      }
      await writer.settle();
      await writer.syncCompleted();
      await writer.finish();
      for (const i of [68, 69]) assert.equal(await readFile(join(box.dest, `run-${noSyncfs}/f${i}.txt`), 'utf8'), 'abc');
    }
    assert.deepEqual(await strayPaths(box), []);
  } finally {
    if (saved === undefined) delete process.env.SNAPSHOT_MANAGER_NO_SYNCFS;
    else process.env.SNAPSHOT_MANAGER_NO_SYNCFS = saved;
    await box.cleanup();
  }
});

test('regression: a checkpoint fsync asked for after the extraction was stopped failed with EBADF, unhandled', async () => {
  // A job that fails mid-chunk stops its extractor while a checkpoint is being taken: the file's descriptor
  // is closed by abort(), then the checkpoint asks the member's sink for its fsync.
  const box = await sandbox();
  try {
    const writer = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS, trackDurability: true });
    const sink = (await writer.begin(header('big', 10)))!;
    await sink.write([Buffer.from('12345')]);
    await writer.abort();
    await sink.sync(); // nothing is left to make durable: resolves, never EBADF
  } finally {
    await box.cleanup();
  }
});

test('on resume, directory mode and mtime are applied through a symlinked parent (outside the destination)', { skip: process.platform === 'win32' && 'symlinks' }, async () => {
  const box = await sandbox();
  try {
    const { mkdir, chmod, stat } = await import('node:fs/promises');
    // Before the checkpoint the archive made `top/sub`; between runs `top` became a link to a folder outside.
    await mkdir(join(box.outside, 'sub'));
    await chmod(join(box.outside, 'sub'), 0o755);
    const before = await stat(join(box.outside, 'sub'));
    await symlink(box.outside, join(box.dest, 'top'));
    const warnings: string[] = [];
    const writer = await SafeWriter.open({
      dest: box.dest,
      limits: DEFAULT_LIMITS,
      resumeFrom: { entries: 2, bytesWritten: 0, skipped: [], warnings: [], dirMeta: [['top/sub', 0o700, 1_000_000]] },
      onWarning: (w) => warnings.push(`${w.code} ${w.entry}`),
    });
    await writer.finish();
    const after = await stat(join(box.outside, 'sub'));
    assert.equal(after.mode & 0o777, 0o755, 'the folder outside kept its mode');
    assert.equal(after.mtimeMs, before.mtimeMs, 'and its mtime');
    assert.deepEqual(warnings, ['THROUGH_LINK top/sub']);
  } finally {
    await box.cleanup();
  }
});
