// A member's data goes out as several positional writes in flight: a checkpoint's fsync covers every byte
// issued before it, and a write that fails in flight fails the member (disk full: the job's pause) with its
// descriptor closed, never left to write into a reused one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { mkdirSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { slowWrites } from '../helpers/slow-writes';
import { SafeWriter } from '../../electron/engine/extract/safe-writer';
import { DEFAULT_LIMITS } from '../../electron/engine/extract/tar-limits';
import type { EntryHeader } from '../../electron/engine/extract/extract-types';
import { canMountTmpfs } from '../e2e/helpers/tmpfs';
import { sandbox } from '../hostile/harness';

const MiB = 1024 * 1024;

const header = (name: string, size: number): EntryHeader => ({
  name,
  type: 'file',
  rawType: 'file',
  size,
  mode: 0o644,
  mtime: 1_600_000_000,
  linkname: null,
  offset: 0,
});

const batch = (i: number) => [Buffer.alloc(MiB / 2, i), Buffer.alloc(MiB / 2, i + 100)];
const openFds = () => readdirSync('/proc/self/fd').length;

test('writes in flight have all landed when a checkpoint fsync resolves, and end() closes after the last', async () => {
  const box = await sandbox();
  try {
    const writer = await SafeWriter.open({ dest: box.dest, limits: DEFAULT_LIMITS });
    const sink = (await writer.begin(header('big.bin', 12 * MiB)))!;
    // What the file holds at the moment its fsync is asked for: that is what the fsync makes durable.
    const sizesAtFsync: number[] = [];
    const realFsync = fs.fsync;
    (fs as { fsync: typeof fs.fsync }).fsync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      sizesAtFsync.push(fs.fstatSync(fd).size);
      realFsync(fd, cb);
    }) as typeof fs.fsync;
    slowWrites.delayMs = 30;
    try {
      for (let i = 0; i < 8; i++) await sink.write(batch(i));
      await sink.sync();
    } finally {
      (fs as { fsync: typeof fs.fsync }).fsync = realFsync;
      slowWrites.delayMs = 0;
    }
    assert.deepEqual(sizesAtFsync, [8 * MiB], 'the fsync came after every write issued before it');
    const expected = Buffer.concat([...Array(8).keys()].flatMap(batch));
    assert.ok((await readFile(join(box.dest, 'big.bin'))).equals(expected), 'every byte issued before the fsync is in the file');
    for (let i = 8; i < 12; i++) await sink.write(batch(i));
    await sink.end();
    await writer.finish();
    assert.ok((await readFile(join(box.dest, 'big.bin'))).equals(Buffer.concat([...Array(12).keys()].flatMap(batch))));
    assert.equal(writer.bytesWritten, 12 * MiB);
  } finally {
    await box.cleanup();
  }
});

test('a write that fails in flight (disk full) fails the member as E_DISK_FULL and closes its descriptor', { skip: canMountTmpfs() }, async () => {
  const box = await sandbox();
  const small = join(box.dest, 'small');
  mkdirSync(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small]);
  try {
    const writer = await SafeWriter.open({ dest: small, limits: DEFAULT_LIMITS });
    const before = openFds();
    // The header says 1 MiB (the free-space check passes); the data goes on past the 2 MiB disk.
    const sink = (await writer.begin(header('grows.bin', MiB)))!;
    const failure = await (async () => {
      for (let i = 0; i < 16; i++) await sink.write(batch(i));
      await sink.end();
    })().then(
      () => null,
      (err: { code?: string }) => err,
    );
    assert.equal(failure?.code, 'E_DISK_FULL', `failed with ${JSON.stringify(failure)}`);
    await writer.abort();
    assert.equal(openFds(), before, 'no descriptor of the member is left open');
  } finally {
    execFileSync('umount', [small]);
    await box.cleanup();
  }
});
