// A finished job's summary while the window watches: the engine says 'done' (state) and then its summary;
// the state went out at once without the summary and nothing sent it later, so the window showed no
// summary until a reload. The last snapshot the window gets must carry it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressCoalescer } from '../../electron/host/coalescer';
import { JobModel, emptyProgress, type JobRecord } from '../../electron/host/job-model';
import type { EventMessage } from '../../shared/contract';
import { deltaFromJobView } from '../../renderer/src/store/contract-adapter';

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

test('a job that finishes while the window watches sends its summary (it came only after a reload)', () => {
  const sent: EventMessage[] = [];
  const models = new Map<string, JobModel>();
  const coalescer = new ProgressCoalescer({ has: (id) => models.has(id), model: (id) => models.get(id)! }, (_id, events) => sent.push(...events), { intervalMs: 60_000 });
  const model = new JobModel(record('j'), coalescer);
  models.set('j', model);
  const at = Date.now();
  // What Job.run emits at the end, in its order.
  model.apply({ type: 'job-state', state: 'done', jobId: 'j', at });
  model.apply({
    type: 'done',
    jobId: 'j',
    at,
    bytesTotal: 3_000,
    bytesFetched: 3_000,
    bytesWritten: 9_000,
    retries: 1,
    stallReplacements: 1,
    elapsedMs: 1_200,
    entries: 5,
    skipped: [],
    skippedTotal: 0,
    skippedByCode: {},
    sha256: null,
    mode: 'ranged',
    format: 'gzip',
  });
  const snapshots = sent.filter((m): m is Extract<EventMessage, { channel: 'jobSnapshot' }> => m.channel === 'jobSnapshot');
  const last = snapshots.at(-1);
  assert.ok(last, 'a snapshot went out');
  assert.equal(last.payload.state, 'done');
  assert.equal(last.payload.summary?.stallReplacements, 1);
  assert.equal(last.payload.summary?.entries, 5);
  // The window's store turns that snapshot into its finished summary.
  assert.equal(deltaFromJobView(last.payload, 1).done?.entries, 5);
  coalescer.stop();
});

test('a job with mirrors: each sources event reaches the window in a snapshot, and the summary’s final figures replace them', () => {
  const sent: EventMessage[] = [];
  const models = new Map<string, JobModel>();
  const coalescer = new ProgressCoalescer({ has: (id) => models.has(id), model: (id) => models.get(id)! }, (_id, events) => sent.push(...events), { intervalMs: 60_000 });
  const model = new JobModel(record('m'), coalescer);
  models.set('m', model);
  const source = (state: 'active' | 'benched', bytes: number) => ({
    host: 'http://127.0.0.1:1/x.tar.gz',
    role: 'mirror' as const,
    state,
    bytes,
    requests: 1,
    failures: 0,
    benchedUntil: null,
    rate: null,
    reason: null,
  });
  const primary = { ...source('active', 0), role: 'primary' as const };
  const at = Date.now();
  model.apply({ type: 'sources', jobId: 'm', at, sources: [primary, source('benched', 10)] });
  const snapshots = () => sent.filter((m): m is Extract<EventMessage, { channel: 'jobSnapshot' }> => m.channel === 'jobSnapshot');
  assert.equal(snapshots().at(-1)?.payload.sources?.[1]?.state, 'benched');
  assert.equal(deltaFromJobView(snapshots().at(-1)!.payload, 1).sources?.[1]?.bytes, 10);
  model.apply({
    type: 'done',
    jobId: 'm',
    at: at + 1,
    bytesTotal: 3_000,
    bytesFetched: 3_000,
    bytesWritten: 9_000,
    retries: 0,
    elapsedMs: 1_000,
    entries: 1,
    skipped: [],
    skippedTotal: 0,
    skippedByCode: {},
    sha256: null,
    mode: 'ranged',
    format: 'gzip',
    sources: [primary, source('benched', 2_000)],
  });
  assert.equal(snapshots().at(-1)?.payload.sources?.[1]?.bytes, 2_000, 'the final figures');
  coalescer.stop();
});
