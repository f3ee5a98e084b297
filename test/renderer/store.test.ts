// The renderer's store, driven the way the bridge drives it: batches per job with a sequence number,
// sometimes late, sometimes twice, sometimes lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAppStore } from '../../renderer/src/store/store';
import { STATE_CODE } from '../../renderer/src/store/chunk-grid';
import type { ChunkChange, JobDelta } from '../../renderer/src/store/model';
import type { EngineEvent } from '../../electron/engine/events';

const MiB = 1024 * 1024;
const JOB = 'job-1';

function probe(chunkCount: number, chunkSize = 64 * MiB) {
  return { finalUrl: 'https://snapshots.example/x.tar.zst', size: chunkCount * chunkSize, mode: 'ranged' as const, chunkSize, chunkCount, format: 'zstd' as const };
}

function chunk(index: number, state: ChunkChange['state'], bytes = 0, length = 64 * MiB): ChunkChange {
  return { index, state, bytes, length };
}

function loaded(chunkCount = 8) {
  const store = createAppStore();
  store.getState().loadJob({ id: JOB, url: 'https://snapshots.example/x.tar.zst', dest: '/data/x' }, 0, { at: 1, probe: probe(chunkCount), state: { state: 'downloading' } });
  return store;
}

test('in-order batches move chunks through their states and keep the window and progress', () => {
  const store = loaded();
  const s = store.getState();
  s.applyBatch({ jobId: JOB, seq: 1, at: 10, chunks: [chunk(0, 'fetching', 16 * MiB), chunk(1, 'fetching', 0)] });
  s.applyBatch({
    jobId: JOB,
    seq: 2,
    at: 20,
    chunks: [chunk(0, 'staged', 64 * MiB), chunk(1, 'fetching', 32 * MiB)],
    window: { capacity: 4, slots: [{ slot: 0, chunk: 0, state: 'staged', bytes: 64 * MiB, length: 64 * MiB }], inFlight: 1, staged: 1, stagedBytes: 64 * MiB, waitingOn: 'network' },
    progress: { bytesFetched: 96 * MiB, downloadRate: 50 * MiB, extractRate: 0 },
  });
  const job = store.getState().jobs[JOB]!;
  assert.equal(job.grid.stateOf(0), 'staged');
  assert.equal(job.grid.stateOf(1), 'fetching');
  assert.equal(job.grid.fill[1], 128, 'half a chunk fetched is drawn half filled');
  assert.equal(job.grid.tally[STATE_CODE.pending], 6);
  assert.equal(job.window?.waitingOn, 'network');
  assert.equal(job.progress.bytesFetched, 96 * MiB);
  assert.equal(job.lastSeq, 2);
  assert.equal(job.samples.length, 1);
});

test('a duplicate batch is applied once, even when its copy differs', () => {
  const store = loaded();
  const s = store.getState();
  s.applyBatch({ jobId: JOB, seq: 1, at: 10, chunks: [chunk(0, 'fetching', MiB)] });
  s.applyBatch({ jobId: JOB, seq: 2, at: 20, chunks: [chunk(0, 'done', 64 * MiB)] });
  const before = store.getState().jobs[JOB]!;
  s.applyBatch({ jobId: JOB, seq: 1, at: 10, chunks: [chunk(0, 'fetching', MiB)] });
  s.applyBatch({ jobId: JOB, seq: 2, at: 20, chunks: [chunk(0, 'done', 64 * MiB)] });
  const after = store.getState().jobs[JOB]!;
  assert.equal(after, before, 'a dropped batch leaves the job view untouched');
  assert.equal(after.grid.stateOf(0), 'done');
  assert.equal(store.getState().stats.dropped, 2);
  assert.equal(store.getState().stats.applied, 2);
});

test('an out-of-order batch waits for the one before it, so a late older state never wins', () => {
  const store = loaded();
  const s = store.getState();
  s.applyBatch({ jobId: JOB, seq: 1, at: 10, chunks: [chunk(0, 'fetching', MiB)] });
  // seq 3 overtakes seq 2: chunk 0 is done in 3, still fetching in 2.
  s.applyBatch({ jobId: JOB, seq: 3, at: 30, chunks: [chunk(0, 'done', 64 * MiB), chunk(2, 'fetching', MiB)] });
  let job = store.getState().jobs[JOB]!;
  assert.equal(job.lastSeq, 1, 'seq 3 is held until seq 2 arrives');
  assert.equal(job.grid.stateOf(2), 'pending');
  s.applyBatch({ jobId: JOB, seq: 2, at: 20, chunks: [chunk(0, 'fetching', 40 * MiB), chunk(1, 'fetching', MiB)] });
  job = store.getState().jobs[JOB]!;
  assert.equal(job.lastSeq, 3);
  assert.equal(job.grid.stateOf(0), 'done', 'the newer state of chunk 0 is the one that stays');
  assert.equal(job.grid.stateOf(1), 'fetching');
  assert.equal(job.grid.stateOf(2), 'fetching');
  assert.equal(job.needsResync, false);
});

test('a batch lost for good does not freeze the view: held batches apply and a resync is asked', () => {
  const store = loaded(64);
  const s = store.getState();
  let resync = false;
  // seq 1 never arrives.
  for (let seq = 2; seq <= 40 && !resync; seq++) resync = s.applyBatch({ jobId: JOB, seq, at: seq, chunks: [chunk(seq, 'done', 64 * MiB)] });
  assert.equal(resync, true);
  const job = store.getState().jobs[JOB]!;
  assert.equal(job.needsResync, true);
  assert.ok(job.lastSeq > 30);
  for (let i = 2; i <= job.lastSeq; i++) assert.equal(job.grid.stateOf(i), 'done', `chunk ${i}`);
  assert.equal(store.getState().stats.resyncs, 1);
});

test('a full snapshot supersedes older batches and releases the newer ones it was waiting for', () => {
  const store = loaded();
  const s = store.getState();
  s.applyBatch({ jobId: JOB, seq: 7, at: 70, chunks: [chunk(5, 'fetching', MiB)] });
  s.applyBatch({ jobId: JOB, seq: 5, at: 50, chunks: [chunk(4, 'failed')] });
  s.loadJob({ id: JOB, url: 'https://snapshots.example/x.tar.zst' }, 6, {
    at: 60,
    probe: probe(8),
    state: { state: 'paused', reason: 'suspend' },
    chunks: [chunk(0, 'done', 64 * MiB), chunk(1, 'done', 64 * MiB)],
  });
  const job = store.getState().jobs[JOB]!;
  assert.equal(job.lastSeq, 7);
  assert.equal(job.state, 'paused');
  assert.equal(job.reason, 'suspend');
  assert.equal(job.grid.stateOf(4), 'pending', 'seq 5 is older than the snapshot and is not applied');
  assert.equal(job.grid.stateOf(5), 'fetching', 'seq 7 follows the snapshot and is applied');
  assert.equal(job.grid.tally[STATE_CODE.done], 2);
});

test('attempts, failures and retries are kept per chunk for the inspector', () => {
  const store = loaded();
  const s = store.getState();
  const error = { code: 'E_HTTP_STATUS', message: 'HTTP 503 for bytes 0-67108863', retryable: true, causes: [{ code: 'E_UPSTREAM', message: 'Service Unavailable' }], details: { status: 503 } };
  s.applyBatch({ jobId: JOB, seq: 1, at: 100, attemptsStarted: [{ index: 3, attempt: 1, at: 100, rangeStart: 3 * 64 * MiB, rangeEnd: 4 * 64 * MiB - 1 }] });
  s.applyBatch({
    jobId: JOB,
    seq: 2,
    at: 250,
    chunks: [chunk(3, 'retrying', 0)],
    attemptsFailed: [{ index: 3, attempt: 1, at: 250, status: 503, bytes: 0, durationMs: 150, error }],
    retries: [{ index: 3, attempt: 2, delayMs: 1000, nextAt: 1250, reason: 'HTTP 503' }],
  });
  let job = store.getState().jobs[JOB]!;
  assert.deepEqual(job.attempts.get(3)?.map((a) => [a.attempt, a.status, a.error?.causes[0]?.message, a.open]), [[1, 503, 'Service Unavailable', false]]);
  assert.equal(job.nextRetry.get(3)?.nextAt, 1250);
  const detail = job.detailVersion;
  s.applyBatch({ jobId: JOB, seq: 3, at: 1300, attemptsStarted: [{ index: 3, attempt: 2, at: 1300, rangeStart: 3 * 64 * MiB, rangeEnd: 4 * 64 * MiB - 1 }], chunks: [chunk(3, 'fetching', MiB)] });
  s.applyBatch({ jobId: JOB, seq: 4, at: 1800, chunks: [chunk(3, 'staged', 64 * MiB)] });
  job = store.getState().jobs[JOB]!;
  assert.equal(job.nextRetry.has(3), false, 'a chunk that fetches again has no pending retry');
  const second = job.attempts.get(3)?.[1];
  assert.deepEqual([second?.open, second?.durationMs, second?.bytes, second?.error], [false, 500, 64 * MiB, null]);
  assert.ok(job.detailVersion > detail);
});

test('raw engine events fold into one batch with the last state of each chunk', () => {
  const store = loaded();
  const at = 1000;
  const events: EngineEvent[] = [
    { type: 'chunk', jobId: JOB, at, index: 0, state: 'fetching', bytes: 0, length: 64 * MiB },
    { type: 'chunk', jobId: JOB, at: at + 1, index: 1, state: 'fetching', bytes: 0, length: 64 * MiB },
    { type: 'chunk', jobId: JOB, at: at + 2, index: 0, state: 'staged', bytes: 64 * MiB, length: 64 * MiB },
    { type: 'chunk', jobId: 'other', at: at + 2, index: 2, state: 'failed', bytes: 0, length: 64 * MiB },
    { type: 'job-state', jobId: JOB, at: at + 3, state: 'paused', reason: 'offline' },
    { type: 'warning', jobId: JOB, at: at + 4, code: 'E_UNSAFE_ENTRY', message: 'absolute path skipped', entry: '/etc/passwd' },
  ];
  store.getState().applyEvents(JOB, 1, events);
  const job = store.getState().jobs[JOB]!;
  assert.equal(job.grid.stateOf(0), 'staged');
  assert.equal(job.grid.stateOf(1), 'fetching');
  assert.equal(job.grid.stateOf(2), 'pending', "another job's events are not applied here");
  assert.equal(job.state, 'paused');
  assert.equal(job.reason, 'offline');
  assert.equal(job.skipped, 1);
});

test('done marks every chunk done and frees the window', () => {
  const store = loaded(1000);
  store.getState().applyBatch({
    jobId: JOB,
    seq: 1,
    at: 5000,
    window: { capacity: 2, slots: [{ slot: 0, chunk: 998, state: 'extracting', bytes: 1, length: 1 }, { slot: 1, chunk: 999, state: 'staged', bytes: 1, length: 1 }], inFlight: 0, staged: 2, stagedBytes: 2, waitingOn: 'extractor' },
  });
  store.getState().applyBatch({
    jobId: JOB,
    seq: 2,
    at: 6000,
    done: { bytesTotal: 1000, bytesFetched: 1000, bytesWritten: 4000, retries: 3, elapsedMs: 5000, entries: 12, skipped: [{ entry: '../x', code: 'E_UNSAFE_ENTRY', reason: 'escapes the destination' }], sha256: null, mode: 'ranged', format: 'zstd' },
  });
  const job = store.getState().jobs[JOB]!;
  assert.equal(job.state, 'done');
  assert.equal(job.grid.tally[STATE_CODE.done], 1000);
  assert.deepEqual(job.window?.slots.map((s) => s.state), ['free', 'free']);
  assert.equal(job.window?.waitingOn, 'none');
  assert.equal(job.skipped, 1);
  assert.equal(job.progress.retries, 3);
});

test('a 100,000-chunk job takes 1,000 changes per batch quickly and reports only changed cells', () => {
  const count = 100_000;
  const store = loaded(count);
  const grid = store.getState().jobs[JOB]!.grid;
  assert.equal(grid.drainDirty(), 'all', 'a new grid is drawn whole once');
  const batches = 200;
  const perBatch = 1000;
  const states: ChunkChange['state'][] = ['fetching', 'staged', 'extracting', 'done', 'retrying'];
  const deltas: JobDelta[] = [];
  for (let b = 0; b < batches; b++) {
    const chunks: ChunkChange[] = [];
    for (let k = 0; k < perBatch; k++) {
      const index = (b * 7919 + k * 104_729) % count;
      chunks.push(chunk(index, states[(b + k) % states.length]!, ((b + k) % 64) * MiB));
    }
    deltas.push({ jobId: JOB, seq: b + 1, at: 1000 + b * 100, chunks, progress: { bytesFetched: b * perBatch, downloadRate: 1e9, extractRate: 5e8 } });
  }
  const expected = new Uint8Array(count);
  for (const d of deltas) for (const c of d.chunks!) expected[c.index] = STATE_CODE[c.state];

  const started = performance.now();
  let drawn = 0;
  for (const d of deltas) {
    store.getState().applyBatch(d);
    const dirty = grid.drainDirty();
    assert.notEqual(dirty, 'all');
    drawn += (dirty as number[]).length;
  }
  const elapsed = performance.now() - started;
  const job = store.getState().jobs[JOB]!;
  assert.equal(job.lastSeq, batches);
  assert.deepEqual(Buffer.from(job.grid.states).equals(Buffer.from(expected)), true, 'the grid matches the last state of every chunk');
  assert.equal(job.grid.tally.reduce((a, b) => a + b, 0), count);
  assert.ok(drawn <= batches * perBatch && drawn > batches * perBatch * 0.5, `dirty cells ${drawn}`);
  const perBatchMs = elapsed / batches;
  console.log(`100,000-chunk job: ${batches} batches of ${perBatch} changes in ${elapsed.toFixed(1)} ms (${perBatchMs.toFixed(3)} ms per batch)`);
  // 10 batches a second leave 100 ms each; the store must take a small part of that.
  assert.ok(perBatchMs < 10, `${perBatchMs} ms per batch`);
});
