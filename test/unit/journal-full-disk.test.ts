// A journal append cut short by a full disk left its bytes in the log; the next record followed them, and a
// restart's reader, stopping at the torn frame, never saw it (a whole run's staged chunks fetched again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, readJournal, type JournalRecord } from '../../electron/engine/staging/journal';
import { JOURNAL_FILE } from '../../electron/engine/state/layout';

type WriteFn = (this: fsp.FileHandle, buffer: Buffer, offset: number, length: number, position: number) => Promise<{ bytesWritten: number; buffer: Buffer }>;

/** The FileHandle class's prototype, whose write and truncate the journal calls. */
async function fileHandlePrototype(dir: string): Promise<{ write: WriteFn; truncate: (len?: number) => Promise<void> }> {
  const probe = await fsp.open(join(dir, 'probe'), 'w');
  await probe.close();
  return Object.getPrototypeOf(probe) as { write: WriteFn; truncate: (len?: number) => Promise<void> };
}

const staged = (index: number): JournalRecord => ({ t: 'staged', index, length: 1000 + index, crc: index * 7 });

async function withJournal(body: (journal: Journal, dir: string, proto: Awaited<ReturnType<typeof fileHandlePrototype>>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'journal-full-'));
  const proto = await fileHandlePrototype(dir);
  const realWrite = proto.write;
  const realTruncate = proto.truncate;
  const { journal } = await Journal.open(dir);
  try {
    await body(journal, dir, proto);
  } finally {
    proto.write = realWrite;
    proto.truncate = realTruncate;
    await journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The next write lands half its bytes, then fails with ENOSPC, as a write that fills the disk does. */
function failNextWriteHalfway(proto: { write: WriteFn }): void {
  const realWrite = proto.write;
  proto.write = async function (this: fsp.FileHandle, buffer, offset, length, position) {
    proto.write = realWrite;
    await realWrite.call(this, buffer, offset, Math.floor(length / 2), position);
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
}

test('regression: a journal append cut short by a full disk hid every later record', async () => {
  await withJournal(async (journal, dir, proto) => {
    await journal.append(staged(0));
    await journal.append(staged(1));
    failNextWriteHalfway(proto);
    await assert.rejects(journal.append(staged(2)), /ENOSPC/);
    await journal.append(staged(3));
    await journal.append(staged(4));
    const { records, validBytes, totalBytes } = await readJournal(join(dir, JOURNAL_FILE));
    assert.deepEqual(
      records.map((r) => (r as { index: number }).index),
      [0, 1, 3, 4],
    );
    assert.equal(validBytes, totalBytes, 'no torn bytes are left in the log');
  });
});

test('a failed append whose cut-off fails too is cut off before the next append', async () => {
  await withJournal(async (journal, dir, proto) => {
    await journal.append(staged(0));
    const realTruncate = proto.truncate;
    proto.truncate = async () => {
      proto.truncate = realTruncate;
      throw Object.assign(new Error('EIO: i/o error, ftruncate'), { code: 'EIO' });
    };
    failNextWriteHalfway(proto);
    await assert.rejects(journal.append(staged(1)), /ENOSPC/);
    await journal.append(staged(2));
    const { records, validBytes, totalBytes } = await readJournal(join(dir, JOURNAL_FILE));
    assert.deepEqual(
      records.map((r) => (r as { index: number }).index),
      [0, 2],
    );
    assert.equal(validBytes, totalBytes);
  });
});

test('a short write is continued, and appends made at once land whole and in order', async () => {
  await withJournal(async (journal, dir, proto) => {
    const realWrite = proto.write;
    let shortened = 0;
    proto.write = function (this: fsp.FileHandle, buffer, offset, length, position) {
      // Every write lands at most 5 bytes, as a write interrupted by a signal may.
      shortened++;
      return realWrite.call(this, buffer, offset, Math.min(length, 5), position);
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => journal.appendUnsynced(staged(i))));
    proto.write = realWrite;
    assert.ok(shortened > 6);
    const { records, validBytes, totalBytes } = await readJournal(join(dir, JOURNAL_FILE));
    assert.deepEqual(
      records.map((r) => (r as { index: number }).index),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(validBytes, totalBytes);
  });
});

test('a reopened journal appends after the records it keeps, dropping a torn tail', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-reopen-'));
  try {
    const first = await Journal.open(dir);
    await first.journal.append(staged(0));
    await first.journal.close();
    await fsp.appendFile(join(dir, JOURNAL_FILE), Buffer.from([9, 0, 0, 0, 1, 2]));
    const second = await Journal.open(dir);
    assert.equal(second.tornBytes, 6);
    await second.journal.append(staged(1));
    await second.journal.close();
    const { records } = await readJournal(join(dir, JOURNAL_FILE));
    assert.deepEqual(
      records.map((r) => (r as { index: number }).index),
      [0, 1],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
