// The top bar's total throughput, from the store as the bridge fills it: the download rates of the jobs that
// are downloading, added up; a paused job's last rate and a finished job's do not count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAppStore } from '../../renderer/src/store/store';
import { totalRate } from '../../renderer/src/store/total-rate';
import type { JobState } from '../../renderer/src/store/model';

const MiB = 1024 * 1024;

function job(store: ReturnType<typeof createAppStore>, id: string, state: JobState, downloadRate: number): void {
  const size = 8 * 64 * MiB;
  const probe = { finalUrl: `https://snapshots.example/${id}.tar.zst`, size, mode: 'ranged' as const, chunkSize: 64 * MiB, chunkCount: 8, format: 'zstd' as const };
  store.getState().loadJob({ id, url: `https://snapshots.example/${id}.tar.zst`, dest: `/data/${id}` }, 0, { at: 1, probe, state: { state: 'downloading' } });
  store.getState().applyBatch({ jobId: id, seq: 1, at: 10, chunks: [], progress: { bytesFetched: MiB, downloadRate, extractRate: 0 } });
  if (state !== 'downloading') store.getState().applyBatch({ jobId: id, seq: 2, at: 20, chunks: [], state: { state } });
}

test('total throughput: the running jobs’ rates added up; paused and done jobs left out', () => {
  const store = createAppStore();
  assert.deepEqual(totalRate(store.getState().jobs), { running: 0, bytesPerSecond: 0 });
  job(store, 'a', 'downloading', 40 * MiB);
  job(store, 'b', 'downloading', 12 * MiB);
  job(store, 'c', 'paused', 30 * MiB);
  job(store, 'd', 'done', 25 * MiB);
  assert.equal(store.getState().jobs['c']?.state, 'paused');
  assert.deepEqual(totalRate(store.getState().jobs), { running: 2, bytesPerSecond: 52 * MiB });
  // One of them pauses: the total follows.
  store.getState().applyBatch({ jobId: 'a', seq: 2, at: 30, chunks: [], state: { state: 'paused', reason: 'user' } });
  assert.deepEqual(totalRate(store.getState().jobs), { running: 1, bytesPerSecond: 12 * MiB });
});
