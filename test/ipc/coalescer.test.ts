// The progress coalescer: a burst of 100,000 chunk events becomes at most ~10 messages a second per
// job, the renderer's mirror of the chunk map ends exactly equal to the model, and terminal transitions
// are not delayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProgressCoalescer } from '../../electron/host/coalescer';
import { JobModel, emptyProgress, type JobRecord, type ModelChanges } from '../../electron/host/job-model';
import type { ChunkState } from '../../electron/engine/events';
import type { ChunkView, EventMessage } from '../../shared/contract';

const STATES: ChunkState[] = ['pending', 'fetching', 'staged', 'extracting', 'done', 'retrying', 'failed'];

function record(id: string): JobRecord {
  return {
    id,
    url: 'http://127.0.0.1/x.tar.gz',
    dest: '/tmp/x',
    output: null,
    state: 'downloading',
    pauseReason: null,
    error: null,
    createdAt: 0,
    updatedAt: 0,
    probe: null,
    progress: emptyProgress(),
    summary: null,
    options: { chunkSize: 1, window: 4, concurrency: 4, limitRate: null, retries: 8, format: 'auto', sha256: null, strict: false, force: false },
    warnings: 0,
    chunkMap: '',
  };
}

function setup(jobIds: string[]) {
  const models = new Map<string, JobModel>();
  const messages: Array<{ at: number; jobId: string; events: EventMessage[] }> = [];
  const source = { has: (id: string) => models.has(id), model: (id: string) => models.get(id)! };
  const coalescer = new ProgressCoalescer(source, (jobId, events) => messages.push({ at: performance.now(), jobId, events }));
  const changes: ModelChanges = coalescer;
  for (const id of jobIds) models.set(id, new JobModel(record(id), changes));
  return { models, messages, coalescer };
}

/** Applies the batches in order, like the renderer's store. */
function mirror(messages: Array<{ jobId: string; events: EventMessage[] }>, jobId: string): Map<number, ChunkView> {
  const chunks = new Map<number, ChunkView>();
  let lastSeq = 0;
  for (const m of messages) {
    if (m.jobId !== jobId) continue;
    for (const e of m.events) {
      if (e.channel !== 'chunkBatch') continue;
      assert.ok(e.payload.seq > lastSeq, 'sequence grows');
      lastSeq = e.payload.seq;
      for (const c of e.payload.chunks) chunks.set(c.index, c);
    }
  }
  return chunks;
}

function maxPerSecond(times: number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

test('a burst of 100,000 chunk events: <= 11 messages per second per job, final map exact', async () => {
  const { models, messages, coalescer } = setup(['job-a', 'job-b']);
  const a = models.get('job-a')!;
  const b = models.get('job-b')!;
  const CHUNKS = 2000;
  for (const m of [a, b])
    m.apply({
      type: 'probed',
      jobId: m.id,
      at: 1,
      finalUrl: 'x',
      size: CHUNKS * 1024,
      mode: 'ranged',
      etag: null,
      lastModified: null,
      chunkSize: 1024,
      chunkCount: CHUNKS,
      format: 'gzip',
    });
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const TOTAL = 100_000;
  const started = performance.now();
  // Spread over ~1.5 s in bursts, so several flush intervals see traffic.
  for (let sent = 0; sent < TOTAL; ) {
    for (let k = 0; k < 2500 && sent < TOTAL; k++, sent++) {
      const m = sent % 3 === 0 ? b : a;
      const index = rand(CHUNKS);
      m.apply({ type: 'chunk', jobId: m.id, at: sent, index, state: STATES[rand(STATES.length)]!, bytes: rand(1024), length: 1024 });
      if (sent % 10 === 0)
        m.apply({
          type: 'progress',
          jobId: m.id,
          at: sent,
          bytesTotal: null,
          bytesFetched: sent,
          bytesCommitted: sent,
          bytesConsumed: sent,
          bytesWritten: sent,
          downloadRate: 1,
          extractRate: 1,
          retries: 0,
        });
    }
    await sleep(35);
  }
  const burstMs = performance.now() - started;
  await sleep(250);
  for (const m of [a, b]) {
    const times = messages.filter((x) => x.jobId === m.id).map((x) => x.at);
    const perSecond = maxPerSecond(times);
    assert.ok(perSecond <= 11, `${m.id}: ${perSecond} messages in one second`);
    assert.ok(times.length >= Math.floor(burstMs / 100) - 2, `${m.id}: only ${times.length} messages over ${burstMs.toFixed(0)} ms`);
    const seen = mirror(messages, m.id);
    for (let i = 0; i < CHUNKS; i++) assert.deepEqual(seen.get(i), m.chunk(i), `chunk ${i} of ${m.id}`);
    const lastBatch = messages
      .filter((x) => x.jobId === m.id)
      .flatMap((x) => x.events)
      .filter((e) => e.channel === 'chunkBatch')
      .at(-1);
    assert.deepEqual(lastBatch?.payload.progress, m.progress(), 'the latest counters arrive');
  }
  assert.equal(coalescer.messagesSent, messages.length);
  coalescer.stop();
});

test('a terminal transition goes out at once, after the chunks still pending for that job', async () => {
  const { models, messages, coalescer } = setup(['job-c']);
  const m = models.get('job-c')!;
  m.apply({ type: 'probed', jobId: m.id, at: 1, finalUrl: 'x', size: 4096, mode: 'ranged', etag: null, lastModified: null, chunkSize: 1024, chunkCount: 4, format: 'tar' });
  await sleep(150);
  const before = messages.length;
  m.apply({ type: 'chunk', jobId: m.id, at: 2, index: 3, state: 'done', bytes: 1024, length: 1024 });
  m.apply({ type: 'job-state', jobId: m.id, at: 3, state: 'done' });
  // Synchronously: no timer was needed.
  assert.equal(messages.length, before + 1);
  const events = messages.at(-1)!.events;
  const channels = events.map((e) => e.channel);
  assert.ok(channels.indexOf('chunkBatch') < channels.indexOf('jobSnapshot'), channels.join(','));
  const snapshot = events.find((e) => e.channel === 'jobSnapshot');
  assert.equal(snapshot?.channel === 'jobSnapshot' && snapshot.payload.state, 'done');
  coalescer.stop();
});

test('attempt events are kept in order and capped per batch', async () => {
  const { models, messages, coalescer } = setup(['job-d']);
  const m = models.get('job-d')!;
  for (let i = 1; i <= 500; i++) m.apply({ type: 'attempt-started', jobId: m.id, at: i, index: 0, attempt: i, rangeStart: 0, rangeEnd: 9 });
  await sleep(150);
  const attempts = messages.flatMap((x) => x.events).filter((e) => e.channel === 'attempt');
  assert.ok(attempts.length <= 50, String(attempts.length));
  assert.equal(attempts.at(-1)?.channel === 'attempt' && attempts.at(-1)!.payload.attempt, 500);
  assert.equal(m.chunk(0)?.attempt, 500);
  assert.equal(m.chunkHistory(0).length, 20);
  coalescer.stop();
});
