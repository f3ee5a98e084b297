// The chunk the consumer needs next is handed over in memory as it arrives: its part file keeps only the
// prefix that was on disk, the bytes reach the consumer once and in order, and a consumer that falls behind
// gets them from the tail file (then memory again) without the writer ever waiting on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkTap } from '../../electron/engine/staging/chunk-tap';
import { StagingArea } from '../../electron/engine/staging/staging';

const MiB = 1024 * 1024;

function pieces(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function withStaging(fn: (staging: StagingArea) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sm-tap-'));
  try {
    const staging = new StagingArea(dir);
    await staging.init();
    await fn(staging);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wakes on the tap's news, or after a few milliseconds. */
function newsWaiter(): { announce: () => void; changed: () => Promise<void> } {
  let wake: (() => void) | null = null;
  return {
    announce: () => wake?.(),
    changed: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
  };
}

test('the chunk the consumer has caught up with is handed over in memory: its part file keeps only the prefix on disk', async () => {
  await withStaging(async (staging) => {
    const data = randomBytes(6 * MiB);
    const part = await staging.openPart(0);
    for (const p of pieces(data.subarray(0, 2 * MiB), 64 * 1024)) await part.write(p);
    await part.flush();
    assert.equal(part.onDisk, 2 * MiB);
    const news = newsWaiter();
    const tap = new ChunkTap(data.length, staging.tailPath(0), news.announce);
    assert.ok(part.divert(tap));
    assert.equal(tap.start, 2 * MiB, 'the hand-over starts where the bytes on disk end');
    const read = (async () => {
      const got: Buffer[] = [];
      for await (const p of tap.pieces(news.changed)) got.push(p);
      return Buffer.concat(got);
    })();
    for (const p of pieces(data.subarray(2 * MiB), 64 * 1024)) await part.write(p);
    await part.flush();
    assert.ok(part.tapped);
    assert.equal(part.committed, data.length, 'a retry would continue after the bytes handed over');
    assert.deepEqual(await read, data.subarray(2 * MiB));
    await part.close();
    assert.equal(statSync(staging.partPath(0)).size, 2 * MiB, 'nothing after the prefix was written to the part');
    assert.equal(existsSync(staging.tailPath(0)), false, 'a consumer that kept up needed no tail file');
  });
});

test('a consumer that falls behind gets the rest from the tail file and then memory again, in order, and never holds the writer back', async () => {
  await withStaging(async (staging) => {
    const data = randomBytes(5 * MiB + 12_345);
    const part = await staging.openPart(3);
    const news = newsWaiter();
    const tap = new ChunkTap(data.length, staging.tailPath(3), news.announce, 256 * 1024);
    assert.ok(part.divert(tap));
    assert.equal(tap.start, 0);
    const all = pieces(data, 50_000);
    // The consumer reads nothing yet: every write still completes.
    for (const p of all.slice(0, 40)) await part.write(p);
    await part.flush();
    assert.ok(tap.spilled > 0, 'past the limit the bytes went to the tail file');
    assert.ok(tap.spilled <= data.length);
    const got: Buffer[] = [];
    const read = (async () => {
      for await (const p of tap.pieces(news.changed)) got.push(p);
    })();
    // Then it keeps up: the rest goes to memory again (with a stretch of the tail read in between).
    for (const p of all.slice(40)) {
      await part.write(p);
      await new Promise((r) => setImmediate(r));
    }
    await part.flush();
    await read;
    assert.deepEqual(Buffer.concat(got), data);
    assert.ok(tap.spilled < data.length, `only part of the chunk went to the tail (${tap.spilled} bytes)`);
    await part.close();
    assert.equal(statSync(staging.partPath(3)).size, 0);
    await staging.remove(3);
    assert.equal(existsSync(staging.tailPath(3)), false, 'the tail goes with the chunk');
  });
});

test('a hand-over asked for while a write is under way starts once that write has landed', async () => {
  await withStaging(async (staging) => {
    const data = randomBytes(3 * MiB);
    const part = await staging.openPart(1);
    const news = newsWaiter();
    const tap = new ChunkTap(data.length, staging.tailPath(1), news.announce);
    // A full megabyte starts a write; the hand-over is asked for before it lands.
    const writing = part.write(data.subarray(0, MiB));
    assert.ok(part.divert(tap));
    assert.equal(tap.start, null, 'not started while bytes are neither on disk nor in hand');
    await writing;
    assert.equal(tap.start, MiB);
    assert.equal(part.divert(new ChunkTap(data.length, staging.tailPath(1), news.announce)), false, 'one hand-over per part');
    const read = (async () => {
      const got: Buffer[] = [];
      for await (const p of tap.pieces(news.changed)) got.push(p);
      return Buffer.concat(got);
    })();
    await part.write(data.subarray(MiB));
    await part.flush();
    assert.deepEqual(await read, data.subarray(MiB));
    await part.close();
    assert.equal(statSync(staging.partPath(1)).size, MiB);
  });
});

test('a part that holds its whole chunk hands nothing over and is staged as before', async () => {
  await withStaging(async (staging) => {
    const data = randomBytes(2 * MiB);
    const part = await staging.openPart(2);
    const news = newsWaiter();
    const tap = new ChunkTap(data.length, staging.tailPath(2), news.announce);
    const writing = part.write(data);
    assert.ok(part.divert(tap));
    await writing;
    await part.flush();
    assert.equal(tap.start, null);
    assert.equal(part.tapped, false);
    await staging.commit(2, part);
    assert.equal(statSync(staging.stagedPath(2)).size, data.length);
  });
});

test('a tail file an earlier run left is removed when the staging area opens', async () => {
  await withStaging(async (staging) => {
    const part = await staging.openPart(5);
    const tap = new ChunkTap(4 * MiB, staging.tailPath(5), () => undefined, 1);
    assert.ok(part.divert(tap));
    await part.write(randomBytes(100_000));
    await part.flush();
    await part.close();
    assert.ok(existsSync(staging.tailPath(5)));
    await new StagingArea(staging.dir).init();
    assert.equal(existsSync(staging.tailPath(5)), false);
    assert.ok(existsSync(staging.partPath(5)), 'the part (its prefix) stays for the restart');
  });
});

test('a tail write that fails keeps only the bytes that landed: the range goes on from there, and the consumer gets every byte once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-tap-full-'));
  const small = join(dir, 'small');
  try {
    mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small], { stdio: 'ignore' });
  } catch {
    t.skip('cannot mount a small tmpfs here (needs root)');
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  try {
    const filler = join(small, 'filler');
    writeFileSync(filler, Buffer.alloc(1700 * 1024));
    const staging = new StagingArea(join(small, 'state'));
    await staging.init();
    const data = randomBytes(1536 * 1024);
    const part = await staging.openPart(0);
    const news = newsWaiter();
    const tap = new ChunkTap(data.length, staging.tailPath(0), news.announce, 1);
    assert.ok(part.divert(tap));
    // 1 MiB gathered, then written: only about 300 KiB fit (the chunk fits once the filler is gone).
    let failed: unknown = null;
    let sent = 0;
    for (const p of pieces(data, 64 * 1024)) {
      try {
        await part.write(p);
        sent += p.length;
      } catch (err) {
        failed = err;
        break;
      }
    }
    assert.equal((failed as NodeJS.ErrnoException | null)?.code, 'E_DISK_FULL', String(failed));
    const landed = statSync(staging.tailPath(0)).size;
    assert.ok(landed < sent, `${landed} of ${sent} bytes landed`);
    assert.equal(part.committed, landed, 'the next attempt asks for the bytes after those on disk');
    rmSync(filler);
    const got: Buffer[] = [];
    const read = (async () => {
      for await (const p of tap.pieces(news.changed)) got.push(p);
    })();
    for (const p of pieces(data.subarray(part.committed), 64 * 1024)) await part.write(p);
    await part.flush();
    await read;
    assert.deepEqual(Buffer.concat(got), data);
    await part.close();
  } finally {
    try {
      execFileSync('umount', [small]);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
