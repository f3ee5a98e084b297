// The renderer's store, driven the way the bridge drives it: batches per job with a sequence number,
// sometimes late, sometimes twice, sometimes lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAppStore } from '../../renderer/src/store/store';
import { STATE_CODE } from '../../renderer/src/store/chunk-grid';
import { fieldErrors } from '../../renderer/src/store/field-errors';
import type { ChunkChange, JobDelta } from '../../renderer/src/store/model';
import type { JobView as JobViewPayload } from '../../shared/contract';
import { decodingLine } from '../../shared/resume-words';

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
    window: {
      capacity: 4,
      slots: [{ slot: 0, chunk: 0, state: 'staged', bytes: 64 * MiB, length: 64 * MiB }],
      inFlight: 1,
      staged: 1,
      stagedBytes: 64 * MiB,
      waitingOn: 'network',
    },
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
  const error = {
    code: 'E_HTTP_STATUS',
    message: 'HTTP 503 for bytes 0-67108863',
    retryable: true,
    causes: [{ code: 'E_UPSTREAM', message: 'Service Unavailable' }],
    details: { status: 503 },
  };
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
  assert.deepEqual(
    job.attempts.get(3)?.map((a) => [a.attempt, a.status, a.error?.causes[0]?.message, a.open]),
    [[1, 503, 'Service Unavailable', false]],
  );
  assert.equal(job.nextRetry.get(3)?.nextAt, 1250);
  const detail = job.detailVersion;
  s.applyBatch({
    jobId: JOB,
    seq: 3,
    at: 1300,
    attemptsStarted: [{ index: 3, attempt: 2, at: 1300, rangeStart: 3 * 64 * MiB, rangeEnd: 4 * 64 * MiB - 1 }],
    chunks: [chunk(3, 'fetching', MiB)],
  });
  s.applyBatch({ jobId: JOB, seq: 4, at: 1800, chunks: [chunk(3, 'staged', 64 * MiB)] });
  job = store.getState().jobs[JOB]!;
  assert.equal(job.nextRetry.has(3), false, 'a chunk that fetches again has no pending retry');
  const second = job.attempts.get(3)?.[1];
  assert.deepEqual([second?.open, second?.durationMs, second?.bytes, second?.error], [false, 500, 64 * MiB, null]);
  assert.ok(job.detailVersion > detail);
});

function contractJob(over: Partial<JobViewPayload> = {}): JobViewPayload {
  return {
    id: JOB,
    url: 'https://snapshots.example/node/x.tar.zst',
    dest: '/data/x',
    output: null,
    state: 'downloading',
    pauseReason: null,
    error: null,
    createdAt: 100,
    updatedAt: 100,
    probe: {
      finalUrl: 'https://snapshots.example/node/x.tar.zst',
      size: 4 * 64 * MiB,
      mode: 'ranged',
      etag: '"e"',
      lastModified: null,
      chunkSize: 64 * MiB,
      chunkCount: 4,
      format: 'zstd',
    },
    progress: { bytesTotal: 4 * 64 * MiB, bytesFetched: 0, bytesCommitted: 0, bytesConsumed: 0, bytesWritten: 0, downloadRate: 0, extractRate: 0, retries: 0 },
    summary: null,
    options: { chunkSize: 64 * MiB, window: 2, concurrency: 2, limitRate: null, retries: 8, format: 'auto', sha256: null, strict: false, force: false },
    warnings: 0,
    ...over,
  };
}

test('contract events: snapshot, chunk batch, window, attempts and errors land on the right job', () => {
  const store = createAppStore();
  const s = store.getState();
  assert.equal(s.ingest({ channel: 'jobSnapshot', payload: contractJob() }), JOB, 'a job met mid-way asks for its chunk map');
  const progress = { ...contractJob().progress, bytesFetched: 70 * MiB, downloadRate: 10 * MiB };
  assert.equal(
    s.ingest({
      channel: 'chunkBatch',
      payload: {
        jobId: JOB,
        seq: 1,
        at: 200,
        progress,
        chunks: [
          { index: 0, state: 'staged', bytes: 64 * MiB, length: 64 * MiB, attempt: 1, nextAt: null, errorCode: null },
          { index: 1, state: 'retrying', bytes: 6 * MiB, length: 64 * MiB, attempt: 1, nextAt: 1200, errorCode: 'E_HTTP_STATUS' },
        ],
      },
    }),
    null,
  );
  const slots = [
    { slot: 0, chunk: 0, state: 'staged' as const, bytes: 64 * MiB, length: 64 * MiB },
    { slot: 1, chunk: 1, state: 'fetching' as const, bytes: 6 * MiB, length: 64 * MiB },
  ];
  s.ingest({ channel: 'windowOccupancy', payload: { jobId: JOB, at: 210, capacity: 2, slots, inFlight: 1, staged: 1, stagedBytes: 64 * MiB, waitingOn: 'network' } });
  s.ingest({ channel: 'windowOccupancy', payload: { jobId: JOB, at: 150, capacity: 2, slots: [], inFlight: 0, staged: 0, stagedBytes: 0, waitingOn: 'extractor' } });
  const error = { code: 'E_HTTP_STATUS', message: 'HTTP 503', retryable: true, causes: [{ message: 'Service Unavailable' }], details: { status: 503 } };
  s.ingest({ channel: 'attempt', payload: { type: 'attempt-failed', jobId: JOB, at: 205, index: 1, attempt: 1, status: 503, bytes: 6 * MiB, durationMs: 80, error } });
  s.ingest({ channel: 'attempt', payload: { type: 'retry-scheduled', jobId: JOB, at: 205, index: 1, attempt: 2, delayMs: 1000, nextAt: 1205, reason: 'HTTP 503' } });
  s.ingest({ channel: 'jobSnapshot', payload: contractJob({ state: 'paused', pauseReason: 'offline', updatedAt: 300, progress: { ...progress, downloadRate: 0 } }) });
  s.ingest({ channel: 'jobSnapshot', payload: contractJob({ state: 'downloading', updatedAt: 250 }) });
  let job = store.getState().jobs[JOB]!;
  assert.equal(job.name, 'x.tar.zst');
  assert.equal(job.host, 'snapshots.example');
  assert.equal(job.grid.count, 4);
  assert.equal(job.grid.stateOf(0), 'staged');
  assert.equal(job.grid.stateOf(1), 'retrying');
  assert.equal(job.lastErrorCode.get(1), 'E_HTTP_STATUS');
  assert.equal(job.nextRetry.get(1)?.nextAt, 1205);
  assert.equal(job.window?.waitingOn, 'network', 'an older window report does not replace a newer one');
  assert.equal(job.attempts.get(1)?.[0]?.status, 503);
  assert.equal(job.progress.bytesFetched, 70 * MiB, 'the older snapshot (250) did not roll progress back');
  assert.deepEqual([job.state, job.reason], ['paused', 'offline'], 'the older snapshot (250) does not undo the pause (300)');

  s.ingest({ channel: 'jobError', payload: { jobId: JOB, at: 400, error: { code: 'E_RETRIES_EXHAUSTED', message: 'chunk 1 failed 9 times', retryable: false, causes: [error] } } });
  job = store.getState().jobs[JOB]!;
  assert.equal(job.state, 'paused', 'an error report alone does not end a paused job');
  assert.equal(job.error?.causes[0]?.message, 'HTTP 503');
  s.ingest({ channel: 'jobSnapshot', payload: contractJob({ state: 'failed', updatedAt: 401, error: job.error }) });
  assert.equal(store.getState().jobs[JOB]!.state, 'failed');
  assert.equal(store.getState().jobs[JOB]!.error?.code, 'E_RETRIES_EXHAUSTED');
  s.ingest({ channel: 'jobRemoved', payload: { jobId: JOB } });
  assert.equal(store.getState().jobs[JOB], undefined);
  assert.equal(store.getState().selectedJobId, null);
});

test('a full job detail replaces the map and later batches continue from it', () => {
  const store = createAppStore();
  const s = store.getState();
  const chunks = [0, 1, 2, 3].map((index) => ({
    index,
    state: index < 2 ? ('done' as const) : ('pending' as const),
    bytes: 0,
    length: 64 * MiB,
    attempt: 0,
    nextAt: null,
    errorCode: null,
  }));
  s.loadDetail({ ...contractJob(), chunks, window: null, seq: 9 }, 9);
  s.ingest({ channel: 'chunkBatch', payload: { jobId: JOB, seq: 9, at: 500, progress: contractJob().progress, chunks: [{ ...chunks[0]!, state: 'failed' }] } });
  s.ingest({ channel: 'chunkBatch', payload: { jobId: JOB, seq: 10, at: 510, progress: contractJob().progress, chunks: [{ ...chunks[2]!, state: 'fetching', bytes: MiB }] } });
  const job = store.getState().jobs[JOB]!;
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => job.grid.stateOf(i)),
    ['done', 'done', 'fetching', 'pending'],
  );
});

test('done marks every chunk done and frees the window', () => {
  const store = loaded(1000);
  store.getState().applyBatch({
    jobId: JOB,
    seq: 1,
    at: 5000,
    window: {
      capacity: 2,
      slots: [
        { slot: 0, chunk: 998, state: 'extracting', bytes: 1, length: 1 },
        { slot: 1, chunk: 999, state: 'staged', bytes: 1, length: 1 },
      ],
      inFlight: 0,
      staged: 2,
      stagedBytes: 2,
      waitingOn: 'extractor',
    },
  });
  store.getState().applyBatch({
    jobId: JOB,
    seq: 2,
    at: 6000,
    done: {
      bytesTotal: 1000,
      bytesFetched: 1000,
      bytesWritten: 4000,
      retries: 3,
      elapsedMs: 5000,
      entries: 12,
      skipped: [{ entry: '../x', code: 'E_UNSAFE_ENTRY', reason: 'escapes the destination' }],
      sha256: null,
      mode: 'ranged',
      format: 'zstd',
    },
  });
  const job = store.getState().jobs[JOB]!;
  assert.equal(job.state, 'done');
  assert.equal(job.grid.tally[STATE_CODE.done], 1000);
  assert.deepEqual(
    job.window?.slots.map((s) => s.state),
    ['free', 'free'],
  );
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
  assert.equal(
    job.grid.tally.reduce((a, b) => a + b, 0),
    count,
  );
  assert.ok(drawn <= batches * perBatch && drawn > batches * perBatch * 0.5, `dirty cells ${drawn}`);
  const perBatchMs = elapsed / batches;
  console.log(`100,000-chunk job: ${batches} batches of ${perBatch} changes in ${elapsed.toFixed(1)} ms (${perBatchMs.toFixed(3)} ms per batch)`);
  // 10 batches a second leave 100 ms each; the store must take a small part of that.
  assert.ok(perBatchMs < 10, `${perBatchMs} ms per batch`);
});

test("the host's validation issues land next to their fields", () => {
  const error = {
    code: 'E_VALIDATION',
    message: 'Invalid addJob request: url: an absolute http:// or https:// URL; dest: the path must be absolute',
    retryable: false,
    causes: [],
    details: {
      issues: [
        { path: 'url', message: 'an absolute http:// or https:// URL' },
        { path: 'dest', message: 'the path must be absolute' },
        { path: '', message: 'exactly one of dest or output' },
      ],
    },
  };
  assert.deepEqual(fieldErrors(error), { url: 'An absolute http:// or https:// URL.', dest: 'The path must be absolute.', form: 'Exactly one of dest or output.' });
  assert.deepEqual(fieldErrors({ code: 'E_DEST_NOT_EMPTY', message: '/data is not empty', retryable: false, causes: [] }), { dest: '/data is not empty' });
  assert.deepEqual(fieldErrors({ code: 'E_INTERNAL', message: 'boom', retryable: false, causes: [] }), {});
});

test('a snapshot with the detected format and resume mode lands on the job, and reads as the window shows it', () => {
  const store = createAppStore();
  const s = store.getState();
  s.ingest({ channel: 'jobSnapshot', payload: contractJob() });
  assert.equal(store.getState().jobs[JOB]!.decoding, null, 'unknown until the engine has read the first bytes');
  s.ingest({ channel: 'jobSnapshot', payload: contractJob({ updatedAt: 200, decoding: { format: 'zstd', resume: 'block', reason: null } }) });
  const job = store.getState().jobs[JOB]!;
  assert.deepEqual(job.decoding, { format: 'zstd', resume: 'block', reason: null });
  assert.equal(decodingLine(job.decoding!), 'tar.zst, resumable at any block');
  assert.equal(decodingLine({ format: 'lz4', resume: 'block', reason: null }), 'tar.lz4, resumable at any block');
  assert.equal(decodingLine({ format: 'zstd', resume: 'frame', reason: null }), 'tar.zst, resumable at frame starts');
  assert.equal(
    decodingLine({ format: 'gzip', resume: 'none', reason: 'checkpoints are turned off for this job' }),
    'tar.gz, restarts from the beginning (checkpoints are turned off for this job)',
  );
  assert.equal(decodingLine({ format: 'raw', resume: 'chunk', reason: null }), 'raw file, resumable at any chunk');
});
