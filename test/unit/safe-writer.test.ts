// The safe writer's resume path: the rest of a member is written straight into the file it left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafeWriter } from '../../electron/engine/safe-writer';
import { DEFAULT_LIMITS } from '../../electron/engine/tar-limits';
import type { EntryHeader } from '../../electron/engine/extract-types';
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
