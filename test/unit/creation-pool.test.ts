// Small files created on the pool's threads: the order of members on one name still holds, what was at a
// name is replaced (a non-empty directory skips the member), byte names reach the kernel as bytes, a
// failure carries its errno, and the threads end with the writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafeWriter } from '../../electron/engine/extract/safe-writer';
import { CreationPool } from '../../electron/engine/extract/writer/creation-pool';
import { CREATE_FLAGS } from '../../electron/engine/extract/writer/file-modes';
import { decodeNameBytes } from '../../electron/engine/extract/byte-names';
import { DEFAULT_LIMITS } from '../../electron/engine/extract/tar-limits';
import type { EntryHeader } from '../../electron/engine/extract/extract-types';
import { sandbox } from '../hostile/harness';

const member = (name: string, type: EntryHeader['type'] = 'file', linkname: string | null = null): EntryHeader => ({
  name,
  type,
  rawType: type,
  size: 0,
  mode: type === 'directory' ? 0o755 : 0o640,
  mtime: 1_600_000_000,
  linkname,
  offset: 0,
});

async function small(writer: SafeWriter, name: string, text: string): Promise<void> {
  await writer.begin({ ...member(name), size: Buffer.byteLength(text) }, [Buffer.from(text)]);
}

test('thousands of small files over several threads: every byte, mode and mtime in place', async () => {
  const box = await sandbox();
  try {
    const writer = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS, creationThreads: 3 });
    for (let i = 0; i < 3000; i++) await small(writer, `d${i % 7}/f${i}`, `file ${i} `.repeat(1 + (i % 50)));
    await writer.finish();
    assert.equal(writer.entries, 3000);
    for (const i of [0, 1, 999, 2999]) {
      const path = join(box.dest, `d${i % 7}/f${i}`);
      assert.equal(await readFile(path, 'utf8'), `file ${i} `.repeat(1 + (i % 50)));
      const st = await stat(path);
      assert.equal(st.mtimeMs, 1_600_000_000_000);
      assert.equal(st.mode & 0o777, 0o640 & ~process.umask());
    }
    const counted = (await Promise.all([...Array(7).keys()].map((d) => readdir(join(box.dest, `d${d}`))))).flat().length;
    assert.equal(counted, 3000);
  } finally {
    await box.cleanup();
  }
});

test('members on one name keep the archive order: the last of a file written twice, a hardlink to a file still being created, a file then a path through it', async () => {
  const box = await sandbox();
  try {
    const warnings: string[] = [];
    const writer = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS, creationThreads: 4, onWarning: (w) => warnings.push(`${w.entry}:${w.code}`) });
    await small(writer, 'twice', 'first');
    await small(writer, 'twice', 'second');
    await small(writer, 'target', 'linked');
    await writer.begin(member('hard', 'hardlink', 'target'));
    // GNU tar: `f` stays a file and `f/x` fails with "Not a directory".
    await small(writer, 'f', 'a file');
    await small(writer, 'f/x', 'under a file');
    await writer.finish();
    assert.equal(await readFile(join(box.dest, 'twice'), 'utf8'), 'second');
    assert.equal(await readFile(join(box.dest, 'hard'), 'utf8'), 'linked');
    assert.equal((await stat(join(box.dest, 'hard'))).ino, (await stat(join(box.dest, 'target'))).ino);
    assert.equal(await readFile(join(box.dest, 'f'), 'utf8'), 'a file');
    assert.deepEqual(warnings, ['f/x:NAME_COLLISION']);
  } finally {
    await box.cleanup();
  }
});

test('a small file where a non-empty directory is: skipped with EXISTING_DIRECTORY, the directory kept; an empty one is replaced', async () => {
  const box = await sandbox();
  try {
    await mkdir(join(box.dest, 'full'));
    await writeFile(join(box.dest, 'full/keep'), 'kept');
    await mkdir(join(box.dest, 'empty'));
    const warnings: string[] = [];
    const writer = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS, onWarning: (w) => warnings.push(`${w.entry}:${w.code}`) });
    await small(writer, 'full', 'would replace a tree');
    await small(writer, 'empty', 'replaces an empty folder');
    await writer.finish();
    assert.deepEqual(warnings, ['full:EXISTING_DIRECTORY']);
    assert.equal(await readFile(join(box.dest, 'full/keep'), 'utf8'), 'kept');
    assert.equal(await readFile(join(box.dest, 'empty'), 'utf8'), 'replaces an empty folder');
  } finally {
    await box.cleanup();
  }
});

test('a small file with a non-UTF-8 name is created on a thread with exactly its bytes', { skip: process.platform !== 'linux' && 'byte names' }, async () => {
  const box = await sandbox();
  try {
    const raw = Buffer.from([0xe6, 0xf5, 0xc4, 0x2e, 0x74, 0x78, 0x74]); // KOI8-R bytes, not UTF-8
    const writer = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS });
    await small(writer, decodeNameBytes(raw), 'koi8');
    await writer.finish();
    const names = await readdir(box.dest, { encoding: 'buffer' });
    assert.deepEqual(names, [raw]);
  } finally {
    await box.cleanup();
  }
});

test('a creation that fails on its thread rejects with the errno, code and syscall of the failure', async () => {
  const box = await sandbox();
  const pool = new CreationPool(2, CREATE_FLAGS);
  try {
    await assert.rejects(
      pool.create(join(box.dest, 'missing-dir/f'), 0o644, 0, [Buffer.from('x')]),
      (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.syscall === 'open' && e.errno !== undefined,
    );
    assert.equal(await pool.create(join(box.dest, 'ok'), 0o644, 0, [Buffer.from('y')]), 'created');
  } finally {
    await pool.close();
    await box.cleanup();
  }
});

test('the writer stops its threads: finished or aborted, none is left running', async () => {
  const box = await sandbox();
  try {
    const writer = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS, creationThreads: 2 });
    await small(writer, 'one', '1');
    await writer.finish();
    const aborted = await SafeWriter.open({ dest: join(box.dest, 'second'), limits: DEFAULT_LIMITS, creationThreads: 2 });
    await small(aborted, 'two', '2');
    await aborted.abort();
    const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
    const workers = handles.filter((h) => h.constructor?.name === 'Worker' || h.constructor?.name === 'MessagePort');
    assert.equal(workers.length, 0, 'no creation thread or its port is left');
    await assert.rejects((aborted as unknown as { creation: CreationPool }).creation.create(join(box.dest, 'late'), 0o644, 0, []), /stopped/);
  } finally {
    await box.cleanup();
  }
});
