// "Downloaded" is bytes received and kept: it moves while a chunk arrives, not a whole chunk at a time
// (it read 0 B while 89 MiB of a first chunk had arrived).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Job } from '../../electron/engine/job/job';
import type { EngineEvent } from '../../electron/engine/events';
import { FaultServer } from '../../harness/fault-server';
import { makeTarGz, tempDir } from '../ipc/helpers';

const MiB = 1024 * 1024;

test('bytesCommitted counts the received prefix of a chunk still arriving (was 0 until the chunk was whole)', async () => {
  const dirs = tempDir('downloaded');
  const origin = await FaultServer.start();
  try {
    const { archive } = await makeTarGz(1, 3 * MiB);
    const url = await origin.serve('/snap.tar.gz', archive);
    // One chunk holds the whole file, fetched at 1 MiB/s: the first seconds are all "mid-chunk".
    const job = new Job({
      url,
      dest: join(dirs.path, 'dest'),
      stateDir: join(dirs.path, 'state'),
      chunkSize: 4 * MiB,
      window: 2,
      concurrency: 1,
      limitRate: MiB,
      progressIntervalMs: 100,
    });
    const midChunk: number[] = [];
    let chunkStaged = false;
    job.on('event', (e: EngineEvent) => {
      if (e.type === 'chunk' && e.index === 0 && (e.state === 'staged' || e.state === 'extracting' || e.state === 'done')) chunkStaged = true;
      if (e.type === 'progress' && !chunkStaged) midChunk.push(e.bytesCommitted);
    });
    await job.run();
    const moving = midChunk.filter((b) => b > 0);
    assert.ok(moving.length >= 3, `Downloaded moved before the chunk was whole (saw ${midChunk.join(', ')})`);
    assert.ok(
      moving.every((b, i) => i === 0 || b >= moving[i - 1]!),
      'it never goes back',
    );
    // All of it may be received (and counted) a moment before the chunk's file is renamed to staged.
    assert.ok(Math.max(...moving) <= archive.length, 'and never exceeds the size');
    assert.ok(moving.filter((b) => b < archive.length).length >= 3, `readings strictly mid-chunk (saw ${midChunk.join(', ')})`);
  } finally {
    await origin.close();
    dirs.cleanup();
  }
});
